"""The load model in check, plan, scale, compare and schema (issue 12)."""

from __future__ import annotations

import json

import pytest

from cli_helpers import run, run_json
from inferwall.plans import ASSERTION_BY_NAME

PLAN = """\
defaults:
  model: llama-3.1-8b
  gpu: h100
  input_tokens: 1024~30%
  output_tokens: 256
scenarios:
  light:
    request_rate: 4
    assert:
      max_ttft_p99_s: 2s
      max_tpot_p90_s: 50ms
      max_e2e_p50_s: 30s
      max_load_utilization: 50%
  overloaded:
    request_rate: 400
    assert:
      max_ttft_p99_s: 2s
"""


def write(tmp_path, text, name="plan.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_check_asserts_percentiles_and_fails_past_saturation(capsys, tmp_path):
    code, out, err = run(capsys, "check", write(tmp_path, PLAN), "-f", "json")
    assert code == 1
    results = {(r["scenario"], r["assertion"]): r for r in json.loads(out)["results"]}
    light = results[("light", "max_ttft_p99_s")]
    est, _ = run_json(capsys, "estimate", "-m", "llama-3.1-8b", "--gpu", "h100", "-i", "1024~30%", "-o", "256",
                      "--request-rate", "4")
    assert light["passed"] is True and light["actual"] == pytest.approx(est["latency"]["ttft_p99_s"])
    assert results[("light", "max_load_utilization")]["actual"] == pytest.approx(est["load"]["utilization"])
    assert light["bound"] == f"load: {est['load']['limited_by']}"
    over = results[("overloaded", "max_ttft_p99_s")]
    assert over["passed"] is False and over["actual"] is None and "the queue grows without bound" in over["detail"]
    assert "overloaded: max_ttft_p99_s: the queue grows without bound" in err


def test_check_threshold_below_the_actual_fails(capsys, tmp_path):
    plan = PLAN.replace("max_tpot_p90_s: 50ms", "max_tpot_p90_s: 1ms").split("  overloaded:")[0]
    code, out, _ = run(capsys, "check", write(tmp_path, plan), "-f", "json")
    failed = [r for r in json.loads(out)["results"] if not r["passed"]]
    assert code == 1 and [r["assertion"] for r in failed] == ["max_tpot_p90_s"]


@pytest.mark.parametrize("text, needle", [
    ("scenarios:\n  a:\n    model: llama-3.1-8b\n    assert: {max_ttft_p99_s: 1}\n",
     "scenarios.a.assert.max_ttft_p99_s: latency.ttft_p99_s exists under a request rate; give the scenario "
     "request_rate"),
    ("scenarios:\n  a:\n    model: llama-3.1-8b\n    request_rate: 0\n    assert: {max_ttft_p99_s: 1}\n",
     ":4: scenarios.a.request_rate: the request rate must be > 0"),
    ("scenarios:\n  a:\n    model: llama-3.1-8b\n    request_rate: 2\n    arrival: bursty:0\n"
     "    assert: {max_ttft_p99_s: 1}\n", ":5: scenarios.a.arrival: the coefficient of variation must be in (0, 100]"),
    ("scenarios:\n  a:\n    model: llama-3.1-8b\n    request_rate: 2\n    assert: {max_ttft_p95_s: 1}\n",
     "unknown assertion 'max_ttft_p95_s'; did you mean max_ttft_s or max_ttft_p50_s?"),
])
def test_check_bad_load_plans_exit_2(capsys, tmp_path, text, needle):
    code, out, err = run(capsys, "check", write(tmp_path, text))
    assert code == 2 and out == "" and needle in err, err


def test_schema_has_the_load_fields_and_assertions(capsys):
    code, out, _ = run(capsys, "schema", "plan")
    schema = json.loads(out)
    fields = schema["$defs"]["scenario"]["properties"]
    assert {"request_rate", "arrival", "simulate", "seed"} <= set(fields)
    assert fields["simulate"]["type"] == "boolean"
    assert {"type": "string", "minLength": 1} in fields["input_tokens"]["anyOf"]  # distributions are text
    assertions = schema["$defs"]["assertions"]["properties"]
    for name in ("ttft", "tpot", "e2e"):
        for q in ("p50", "p90", "p99"):
            assert f"max_{name}_{q}_s" in assertions
            assert ASSERTION_BY_NAME[f"max_{name}_{q}_s"].metric == f"latency.{name}_{q}_s"
    assert "max_load_utilization" in assertions and "min_saturation_request_rate" in assertions


# ----------------------------------------------------------------------------- plan

PLAN_RATE = ["plan", "-m", "llama-3.1-8b", "--request-rate", "30", "--max-ttft", "p99=500ms", "--max-tpot",
             "p90=30ms", "--gpus-from", "h100,h200,l40s", "--top", "3"]


def recheck(capsys, row, rate, extra=()):
    argv = ["estimate", "-m", "llama-3.1-8b", "--gpu", row["gpu"], "--tp", str(row["tp"]), "--pp", str(row["pp"]),
            "--dp", str(row["replicas"]), "--weights", row["weights_dtype"], "--kv", row["kv_dtype"],
            "--compute", row["compute_dtype"], "--request-rate", str(rate), *extra]
    return run_json(capsys, *argv)[0]


def test_plan_sizes_replicas_with_queueing_and_one_fewer_breaks_an_objective(capsys):
    rows, err = run_json(capsys, *PLAN_RATE)
    assert rows and "sized with the queueing model" in err
    assert [r["usd_per_hour"] for r in rows] == sorted(r["usd_per_hour"] for r in rows)
    for r in rows:
        est = recheck(capsys, r, 30)
        assert est["latency"]["ttft_p99_s"] <= 0.5 and est["latency"]["tpot_p90_s"] <= 0.03
        assert r["ttft_p99_s"] == pytest.approx(est["latency"]["ttft_p99_s"])
        assert r["request_rate_per_replica"] == pytest.approx(30 / r["replicas"])
        assert est["load"]["saturated"] is False and r["load_utilization"] < 1
        if r["replicas"] > 1:  # one replica fewer breaks what the plan says binds
            fewer = recheck(capsys, {**r, "replicas": r["replicas"] - 1}, 30)
            lat = fewer["latency"]
            broken = (fewer["load"]["saturated"] or lat["ttft_p99_s"] > 0.5 or lat["tpot_p90_s"] > 0.03)
            assert broken, r
            if r["binds"] == "max-ttft p99":
                assert lat["ttft_p99_s"] > 0.5
            elif r["binds"] == "max-tpot p90":
                assert lat["tpot_p90_s"] > 0.03
            else:
                assert r["binds"].startswith("saturation") and fewer["load"]["saturated"]


def test_requests_per_s_is_an_alias_of_request_rate(capsys):
    rows, _ = run_json(capsys, *PLAN_RATE)
    alias = [x if x != "--request-rate" else "--requests-per-s" for x in PLAN_RATE]
    same, _ = run_json(capsys, *alias)
    assert same == rows
    code, _, err = run(capsys, *PLAN_RATE, "--requests-per-s", "30")
    assert code == 2 and "alias of --request-rate; give one" in err


def test_plan_output_demand_with_percentiles_converts_to_a_rate(capsys):
    rows, err = run_json(capsys, "plan", "-m", "llama-3.1-8b", "--output-tokens-per-s", "5120", "-o", "256",
                         "--max-ttft", "p99=1s", "--gpus-from", "h100", "--top", "1")
    assert rows[0]["requests_per_s"] == pytest.approx(20)  # 5120 tokens/s / 256 tokens per request
    assert rows[0]["ttft_p99_s"] <= 1


@pytest.mark.parametrize("argv, needle", [
    (["--users", "100", "--max-ttft", "p99=1s"], "give --request-rate (or --output-tokens-per-s) instead of --users"),
    (["--request-rate", "10", "--max-ttft", "p95=1s"], "unknown percentile 'p95'"),
    (["--request-rate", "0", "--max-ttft", "p99=1s"], "the request rate must be > 0"),
    (["--request-rate", "10", "--max-tpot", "p90=fast"], "--max-tpot p90"),
    (["--request-rate", "10", "--pareto"], "drop --pareto"),
])
def test_plan_bad_load_input_exits_2(capsys, argv, needle):
    code, out, err = run(capsys, "plan", "-m", "llama-3.1-8b", "--gpus-from", "h100", *argv)
    assert code == 2 and out == "" and needle in err, err


def test_plan_objectives_no_rate_can_meet_exit_1(capsys):
    code, _, err = run(capsys, "plan", "-m", "llama-3.1-8b", "--request-rate", "10", "--max-tpot", "p90=100us",
                       "--gpus-from", "h100")
    assert code == 1 and "max-tpot p90 at any rate" in err


# ----------------------------------------------------------------------------- scale and compare


def test_scale_over_request_rates(capsys):
    rows, err = run_json(capsys, "scale", "-m", "llama-3.1-8b", "--request-rate", "2..64")
    assert [r["request_rate"] for r in rows] == [2, 4, 8, 16, 32, 64]
    assert "saturates at" in err
    under = [r for r in rows if not r["saturated"]]
    over = [r for r in rows if r["saturated"]]
    assert under and over and all(r["ttft_p99_s"] is None for r in over)
    p99 = [r["ttft_p99_s"] for r in under]
    assert p99 == sorted(p99)
    single, _ = run_json(capsys, "estimate", "-m", "llama-3.1-8b", "--request-rate", "8")
    row = next(r for r in rows if r["request_rate"] == 8)
    assert row["ttft_p99_s"] == pytest.approx(single["latency"]["ttft_p99_s"])
    assert row["utilization"] == pytest.approx(single["load"]["utilization"])


def test_scale_request_rate_refuses_batch_options(capsys):
    code, _, err = run(capsys, "scale", "-m", "llama-3.1-8b", "--request-rate", "4", "--batch", "8")
    assert code == 2 and "goes with batches" in err


def test_compare_table_has_a_load_section(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")
    code, out, _ = run(capsys, "compare", "-m", "llama-3.1-8b", "--request-rate", "4,400", "-f", "table")
    assert code == 0 and "TTFT p50 / p90 / p99" in out and "saturation rate" in out
