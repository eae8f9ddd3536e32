"""plan: every configuration it returns meets its objectives when re-checked with ``estimate``."""

from __future__ import annotations

import json

import pytest

from inferwall.render import Format
from inferwall.core.planner import Demand, Objectives, SearchOptions, plan
from inferwall.core.types import CoreError
from cli_helpers import run, run_json

BASE = ["plan", "-m", "llama-3.1-70b", "--output-tokens-per-s", "10000", "--max-ttft", "2s", "--max-tpot", "50ms"]

FORMATS = [f.value for f in Format]


def recheck(capsys, model: list[str], row: dict, extra: list[str] = ()) -> dict:
    """The plan's configuration, run through ``inferwall estimate`` as a user would type it."""
    argv = ["estimate", *model, "--gpu", row["gpu"], "--tp", str(row["tp"]), "--pp", str(row["pp"]),
            "--dp", str(row["replicas"]), "--ep", str(row["ep"]), "--batch", str(row["batch"]),
            "--weights", row["weights_dtype"], "--kv", row["kv_dtype"], "--compute", row["compute_dtype"], *extra]
    est, _ = run_json(capsys, *argv)
    return est


def test_default_search_results_meet_their_objectives(capsys):
    rows, err = run_json(capsys, *BASE)
    assert len(rows) == 5 and [r["rank"] for r in rows] == [1, 2, 3, 4, 5]
    costs = [r["usd_per_hour"] for r in rows]
    assert costs == sorted(costs)  # cost is non-decreasing down the list
    for r in rows:
        est = recheck(capsys, ["-m", "llama-3.1-70b"], r)
        assert est["memory"]["fits"] is True
        assert est["latency"]["ttft_s"] <= 2.0 and est["latency"]["tpot_s"] <= 0.05
        assert est["throughput"]["output_tokens_per_s"] >= 10000
        assert est["cost"]["usd_per_hour"] == pytest.approx(r["usd_per_hour"])
        assert est["scenario"]["gpus"] == r["gpus"] == r["replicas"] * r["gpus_per_replica"]
        assert r["ttft_s"] == pytest.approx(est["latency"]["ttft_s"]) and r["tpot_s"] == pytest.approx(est["latency"]["tpot_s"])
        assert r["binds"] in ("memory", "max-ttft", "max-tpot", "demand")
        assert r["batch"] <= r["batch_limit"]
    assert "skipped" in err and "without a price" in err and "searched" in err


def test_binding_constraint_is_real(capsys):
    """One batch past the limit breaks the constraint the plan names."""
    rows, _ = run_json(capsys, *BASE, "--top", "3")
    for r in rows:
        if r["batch_limited_by"] not in ("max-ttft", "max-tpot"):
            continue
        past = dict(r, batch=r["batch_limit"] + 1, replicas=1)
        est = recheck(capsys, ["-m", "llama-3.1-70b"], past)
        key, cap = ("ttft_s", 2.0) if r["batch_limited_by"] == "max-ttft" else ("tpot_s", 0.05)
        assert est["latency"][key] > cap


def test_users_and_requests_demands(capsys):
    rows, _ = run_json(capsys, "plan", "-m", "llama-3.1-8b", "--users", "500", "--max-tpot", "30ms",
                       "--gpus-from", "h100,a100,l40s", "--top", "3")
    for r in rows:
        assert r["replicas"] * r["batch"] >= 500
        est = recheck(capsys, ["-m", "llama-3.1-8b"], r)
        assert est["latency"]["tpot_s"] <= 0.03
    rows, _ = run_json(capsys, "plan", "-m", "llama-3.1-8b", "--requests-per-s", "20", "--input-tokens", "512",
                       "--output-tokens", "128", "--max-ttft", "1s", "--gpus-from", "h100,l4", "--top", "3")
    for r in rows:
        est = recheck(capsys, ["-m", "llama-3.1-8b"], r, ["--input-tokens", "512", "--output-tokens", "128"])
        assert est["throughput"]["requests_per_s"] >= 20 and est["latency"]["ttft_s"] <= 1.0


def test_max_gpus_and_gpus_from(capsys):
    free, _ = run_json(capsys, *BASE, "--gpus-from", "h100,h200")
    assert {r["gpu"] for r in free} <= {"nvidia-h100-sxm-80gb", "nvidia-h200-sxm-141gb"}
    cap = free[0]["gpus"] - 1  # a cap below the cheapest plan's GPU count...
    rows, _ = run_json(capsys, *BASE, "--max-gpus", str(cap), "--gpus-from", "h100,h200")
    assert rows and all(r["gpus"] <= cap for r in rows)  # ...changes the answer
    assert rows[0]["usd_per_hour"] > free[0]["usd_per_hour"]
    code, _, err = run(capsys, *BASE, "--max-gpus", "2", "--gpus-from", "h100,h200")
    assert code == 1 and "max-gpus" in err


def test_price_flag_brings_unpriced_gpus_in(capsys):
    code, out, err = run(capsys, *BASE, "--gpus-from", "mi300x")
    assert code == 2 and "no price" in err and "--price" in err
    rows, _ = run_json(capsys, *BASE, "--gpus-from", "mi300x", "--price", "2")
    assert rows and rows[0]["gpu"] == "amd-mi300x" and rows[0]["usd_per_hour"] == pytest.approx(2 * rows[0]["gpus"])


def test_pareto_frontier(capsys):
    rows, err = run_json(capsys, *BASE, "--pareto")
    assert len(rows) >= 2
    speeds = [r["user_tokens_per_s"] for r in rows]
    costs = [r["usd_per_million_output_tokens"] for r in rows]
    assert speeds == sorted(speeds, reverse=True) and costs == sorted(costs, reverse=True)
    assert len(set(costs)) == len(costs)  # strictly cheaper as it gets slower
    cheapest, _ = run_json(capsys, *BASE, "--top", "1")
    assert costs[-1] <= cheapest[0]["usd_per_million_output_tokens"] + 1e-12
    for r in rows[:: max(1, len(rows) // 3)]:
        est = recheck(capsys, ["-m", "llama-3.1-70b"], r)
        assert est["latency"]["ttft_s"] <= 2.0 and est["latency"]["tpot_s"] <= 0.05
    assert "Pareto frontier" in err


def test_infeasible_objectives_exit_1(capsys):
    code, out, err = run(capsys, "plan", "-m", "llama-3.1-405b", "--output-tokens-per-s", "1000", "--max-tpot", "1ms",
                         "-f", "json")
    assert code == 1 and json.loads(out) == []
    assert "No configuration serves 1,000 output tokens/s" in err and "max-tpot" in err


def test_core_plan_rejects_bad_demands():
    with pytest.raises(CoreError):
        plan([], Demand())
    with pytest.raises(CoreError):
        plan([], Demand(output_tokens_per_s=1, concurrent_users=2))
    with pytest.raises(CoreError):
        plan([], Demand(output_tokens_per_s=1), Objectives(), SearchOptions(top=0))


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders(capsys, fmt):
    code, out, err = run(capsys, "plan", "-m", "llama-3.1-8b", "--output-tokens-per-s", "2000", "--gpus-from",
                         "h100,l4", "--top", "2", "-f", fmt)
    assert code == 0 and out.strip() and "…" not in out, err


@pytest.mark.parametrize("argv, needle", [
    (["plan", "-m", "llama-3.1-8b"], "give exactly one demand"),
    (["plan", "-m", "llama-3.1-8b", "--users", "10", "--requests-per-s", "2"], "give exactly one demand"),
    (["plan", "-m", "llama-3.1-8b", "--users", "2.5"], "--users: must be a whole number"),
    (["plan", "-m", "llama-3.1-8b", "--users", "10", "--max-tpot", "fast"], "--max-tpot: cannot parse 'fast'"),
    (["plan", "-m", "llama-3.1-8b", "--users", "10", "--max-ttft", "0"], "--max-ttft: must be a positive"),
    (["plan", "-m", "llama-3.1-8b", "--users", "10", "--gpus-from", "h1000"], "unknown GPU 'h1000'"),
    (["plan", "-m", "llama-3.1-8b", "--users", "10", "--precision", "fp7"], "--precision: unknown dtype 'fp7'"),
    (["plan", "-m", "llama-3.1-8b", "--users", "10", "--max-gpus", "0"], "--max-gpus: must be >= 1"),
    (["plan", "-m", "llama-3.1-8b", "--users", "10", "--top", "0"], "--top: must be >= 1"),
    (["plan", "-m", "nope", "--users", "10"], "unknown model 'nope'"),
    (["plan", "-m", "llama-3.1-8b", "--users", "10", "--gpu", "h100"], "No such option"),
])
def test_bad_input_is_one_line_exit_2(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and needle in err, err
    assert len(err.strip().splitlines()) == 1
