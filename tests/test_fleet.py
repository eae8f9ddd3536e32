"""``inferwall fleet``: the seed's bounds and user base, the fleet's day re-derived from ``estimate``, every flag's
effect, ``--generations``, the example files and bad input (one line, exit 2)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from cli_helpers import run, run_json

ROOT = Path(__file__).resolve().parents[1]
FLEETS = ROOT / "specs" / "fleets"
HOURS = 24.0


def write(tmp_path: Path, text: str, name: str = "fleet.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


SMALL = """
accelerators: {h100: 64, mi300x: {count: 24, price: 2.5}}
workload: {model: llama-3.1-8b, input_tokens: 1024, output_tokens: 256, per_user_tokens_per_s: 30}
utilization: [0.2, 0.6, 1.0, 0.6]
pue: 1.25
minutes_per_user_day: 20
"""


@pytest.fixture()
def small(tmp_path):
    return write(tmp_path, SMALL)


def recheck(capsys, gpu: str, model: dict, extra=()) -> dict:
    """One replica of a fleet's placement, run through ``inferwall estimate`` as a user would type it."""
    est, _ = run_json(capsys, "estimate", "-m", model["model"], "--gpu", gpu, "--tp", model["tp"], "--pp", model["pp"],
                      "--ep", model["ep"], "--batch", model["batch"], "--input-tokens", model["input_tokens"],
                      "--output-tokens", model["output_tokens"], *extra)
    return est


# --------------------------------------------------------------------------- the seed's numbers


def test_seed_bounds_280b_active_16bit_on_one_a100(capsys):
    """The seed: 312 TFLOP/s / (2 x 280e9 FLOPs) ~ 560 forward passes/s; 2 TB/s / 560 GB ~ 4/s."""
    record, _ = run_json(capsys, "fleet", str(FLEETS / "seed-a100.yaml"))
    total = record["total"]
    assert total["flop_bound_tokens_per_s"] == pytest.approx(312e12 / (2 * 280e9), rel=1e-6)
    assert total["flop_bound_tokens_per_s"] == pytest.approx(560, rel=0.01)  # "about 560 forward passes per second"
    from inferwall.catalog import load_catalog

    a100 = load_catalog().gpu(record["by_accelerator"][0]["gpu"]).accelerator
    assert a100.peak_flops["bf16"] == 312e12  # the seed's "312 teraflop per second"
    a100_bandwidth = a100.bandwidth_bytes_per_s  # the SXM4 80GB's 2.039 TB/s; the seed rounds it to 2000 GB/s
    assert total["bandwidth_bound_tokens_per_s"] == pytest.approx(a100_bandwidth / (2 * 280e9), rel=1e-6)
    assert round(total["bandwidth_bound_tokens_per_s"]) == 4  # "only enough for 4 forward passes"
    # 560 GB of weights do not fit one 80 GB card: the fleet serves nothing, and says so
    assert total["output_tokens_per_day"] == 0 and total["gpus_serving"] == 0
    assert "needs 8 GPUs" in record["by_accelerator"][0]["unserved"][0]


def test_seed_user_base_144k(capsys):
    """1,000 concurrent users at 10 minutes a day is 1000 x 1440 / 10 = 144,000 users."""
    record, _ = run_json(capsys, "fleet", str(FLEETS / "seed-users.yaml"))
    total = record["total"]
    model = record["by_accelerator"][0]["models"][0]
    assert model["replicas"] * model["running"] == 1000 == total["concurrent_users_peak"]
    assert total["user_base"] == pytest.approx(144_000)
    # the same arithmetic at another minutes-per-day
    again, _ = run_json(capsys, "fleet", str(FLEETS / "seed-users.yaml"), "--minutes-per-user-day", "30")
    assert again["total"]["user_base"] == pytest.approx(1000 * 1440 / 30)


# --------------------------------------------------------------------------- the day from estimate()


def test_fleet_is_replicas_of_the_estimate(capsys, small):
    record, _ = run_json(capsys, "fleet", small)
    mean = (0.2 + 0.6 + 1.0 + 0.6) / 4
    assert record["operation"]["utilization_mean"] == pytest.approx(mean)
    for t in record["by_accelerator"]:
        (m,) = t["models"]
        est = recheck(capsys, t["gpu"], m)
        assert m["tpot_s"] == pytest.approx(est["latency"]["tpot_s"]) and m["tpot_s"] <= 1 / 30
        assert m["gpus"] == m["replicas"] * m["gpus_per_replica"] <= t["count"]
        assert t["count"] - m["gpus"] < m["gpus_per_replica"]  # whole replicas: less than one left over
        per_replica = est["throughput"]["output_tokens_per_s"]
        assert t["output_tokens_per_s"] == pytest.approx(m["replicas"] * per_replica)
        assert t["output_tokens_per_day"] == pytest.approx(m["replicas"] * per_replica * 86400 * mean)
        assert t["input_tokens_per_day"] == pytest.approx(m["replicas"] * est["throughput"]["input_tokens_per_s"]
                                                          * 86400 * mean)
        # bounds: per GPU from estimate's bounds, times the GPUs
        n = m["gpus_per_replica"]
        assert t["flop_bound_tokens_per_s"] == pytest.approx(
            t["count"] * est["bounds"]["compute_forward_passes_per_s"] / n)
        assert t["bandwidth_bound_tokens_per_s"] < t["output_tokens_per_s"] < t["flop_bound_tokens_per_s"]
        assert t["fraction_of_flop_bound"] == pytest.approx(t["output_tokens_per_s"] / t["flop_bound_tokens_per_s"])
        assert 0 < t["position_between_bounds"] < 1
        # users: requests in flight, at the peak slice; the user base from the day's mean
        assert t["concurrent_users_peak"] == pytest.approx(m["replicas"] * m["running"] * 1.0)
        assert t["user_base"] == pytest.approx(m["replicas"] * m["running"] * mean * 1440 / 20)
        # energy: busy replicas at the estimate's J/token, the rest idle at 30 % of TDP; PUE on top
        e = est["energy"]
        busy_w = m["replicas"] * (e["joules_per_output_token"] * per_replica
                                  + e["joules_per_input_token"] * est["throughput"]["input_tokens_per_s"])
        idle_w = 0.3 * e["tdp_w_per_gpu"]
        joules = 86400 * (mean * busy_w + (t["count"] - mean * m["gpus"]) * idle_w)
        assert t["device_mwh_per_day"] == pytest.approx(joules / 3.6e9)
        assert t["facility_mwh_per_day"] == pytest.approx(1.25 * t["device_mwh_per_day"])
        tokens = t["output_tokens_per_day"] + t["input_tokens_per_day"]
        assert t["tokens_per_mwh"] == pytest.approx(tokens / t["facility_mwh_per_day"])
        # cost: every GPU all day at its price
        assert t["gpu_usd_per_day"] == pytest.approx(t["count"] * t["price_usd_per_gpu_hour"] * HOURS)
        assert t["usd_per_million_tokens_blended"] == pytest.approx(t["usd_per_day"] / tokens * 1e6)
    mi300x = record["by_accelerator"][1]
    assert mi300x["price_usd_per_gpu_hour"] == 2.5  # the file's own price for it
    total = record["total"]
    for key in ("output_tokens_per_day", "input_tokens_per_day", "device_mwh_per_day", "usd_per_day",
                "flop_bound_tokens_per_s", "concurrent_users_peak", "user_base"):
        assert total[key] == pytest.approx(sum(t[key] for t in record["by_accelerator"])), key


def test_zero_utilization_is_idle_power_and_full_cost(capsys, small):
    record, _ = run_json(capsys, "fleet", small, "--utilization", "0")
    for t in record["by_accelerator"]:
        assert t["output_tokens_per_day"] == 0 and t["user_base"] == 0
        assert t["device_mwh_per_day"] == pytest.approx(t["count"] * 0.3 * t["tdp_w"] * HOURS / 1e6)
        assert t["gpu_usd_per_day"] == pytest.approx(t["count"] * t["price_usd_per_gpu_hour"] * HOURS)
        assert t["usd_per_million_tokens_blended"] is None  # no tokens: no price per token


def test_tokens_scale_with_mean_utilization_users_with_peak(capsys, small):
    flat, _ = run_json(capsys, "fleet", small, "--utilization", "0.5")
    shaped, _ = run_json(capsys, "fleet", small, "--utilization", "0.2,0.8")
    assert shaped["total"]["output_tokens_per_day"] == pytest.approx(flat["total"]["output_tokens_per_day"])
    assert shaped["total"]["concurrent_users_peak"] == pytest.approx(flat["total"]["concurrent_users_peak"] * 0.8 / 0.5)
    full, _ = run_json(capsys, "fleet", small, "--utilization", "100%")
    assert full["total"]["output_tokens_per_day"] == pytest.approx(2 * flat["total"]["output_tokens_per_day"])


def test_mix_follows_the_traffic_shares(capsys, tmp_path):
    path = write(tmp_path, """
accelerators: {h100: 4096, h200: 2048}
workload:
  models: {llama-3.1-70b: 0.25, llama-3.1-8b: 0.75}
  input_tokens: 1024
  output_tokens: 256
  per_user_tokens_per_s: 20
""")
    record, _ = run_json(capsys, "fleet", path)
    for t in record["by_accelerator"]:
        by_model = {m["model"]: m for m in t["models"]}
        share = by_model["llama-3.1-70b"]["requests_per_s"] / t["requests_per_s"]
        assert share == pytest.approx(0.25, abs=0.02)  # whole replicas round the split a little
        assert sum(m["gpus_allotted"] for m in t["models"]) == pytest.approx(t["count"])
        for m in t["models"]:
            assert m["gpus"] <= m["gpus_allotted"] + m["gpus_per_replica"]
    assert record["workload"]["models"] == [{"model": "llama-3.1-70b", "share": 0.25},
                                            {"model": "llama-3.1-8b", "share": 0.75}]


# --------------------------------------------------------------------------- every flag has an effect


@pytest.mark.parametrize("flag, value, key", [
    ("--per-user-tokens-per-s", "60", "output_tokens_per_day"),
    ("--max-tpot", "15ms", "output_tokens_per_day"),
    ("--max-ttft", "30ms", "output_tokens_per_day"),
    ("--minutes-per-user-day", "5", "user_base"),
    ("--utilization", "0.9", "output_tokens_per_day"),
    ("--pue", "1.5", "facility_mwh_per_day"),
    ("--electricity-usd-per-kwh", "0.1", "usd_per_day"),
    ("--price", "h100=1,mi300x=1", "usd_per_day"),
    ("--model", "llama-3.1-70b", "output_tokens_per_day"),
    ("--input-tokens", "4096", "input_tokens_per_day"),
    ("--precision", "fp8", "output_tokens_per_day"),
    ("--engine", "trtllm", "output_tokens_per_day"),
])
def test_every_flag_changes_the_result(capsys, small, flag, value, key):
    base, _ = run_json(capsys, "fleet", small)
    changed, _ = run_json(capsys, "fleet", small, flag, value)
    assert changed["total"][key] != pytest.approx(base["total"][key]), flag


def test_price_precedence(capsys, tmp_path):
    path = write(tmp_path, """
accelerators: {h100: {count: 8, price: 1.5}, h200: 8, a100: 8}
workload: {model: llama-3.1-8b}
price: "h200=4"
""")
    record, err = run_json(capsys, "fleet", path, "--price", "a100=0.5")
    prices = {t["gpu"]: t["price_usd_per_gpu_hour"] for t in record["by_accelerator"]}
    assert prices == {"nvidia-h100-sxm-80gb": 1.5, "nvidia-h200-sxm-141gb": 4.0, "nvidia-a100-80gb-sxm": 0.5}
    flat, _ = run_json(capsys, "fleet", path, "--price", "2")  # the flag beats the file for every type
    assert {t["price_usd_per_gpu_hour"] for t in flat["by_accelerator"]} == {2.0}


def test_missing_price_empties_costs_and_says_so(capsys, tmp_path):
    path = write(tmp_path, "accelerators: {h20: 8}\nworkload: {model: llama-3.1-8b}\n")
    record, err = run_json(capsys, "fleet", path)
    assert record["total"]["usd_per_day"] is None and record["total"]["output_tokens_per_day"] > 0
    assert "no price for nvidia-h20" in err and "--price h20=PRICE" in err


def test_no_target_and_no_utilization_are_noted(capsys, tmp_path):
    path = write(tmp_path, "accelerators: {h100: 8}\nworkload: {model: llama-3.1-8b}\n")
    _, err = run_json(capsys, "fleet", path)
    assert "no latency target" in err and "no utilization given" in err and "no PUE given" in err


# --------------------------------------------------------------------------- formats


@pytest.mark.parametrize("fmt", ["tsv", "csv", "markdown", "table", "yaml", "jsonl"])
def test_formats(capsys, small, fmt):
    code, out, err = run(capsys, "fleet", small, "-f", fmt)
    assert code == 0, err
    if fmt in ("tsv", "csv"):
        sep = "\t" if fmt == "tsv" else ","
        lines = out.splitlines()
        assert lines[0].split(sep)[:3] == ["gpu", "count", "layout"]
        assert [line.split(sep)[0] for line in lines[1:]] == ["nvidia-h100-sxm-80gb", "amd-mi300x", "total"]
    elif fmt == "table":
        assert "total" in out and "The fleet makes" in err
    assert "Traceback" not in err


# --------------------------------------------------------------------------- --generations


def test_generations_table(capsys):
    rows, err = run_json(capsys, "fleet", "--generations")
    assert [(r["gpu"], r["precision"]) for r in rows] == [
        (g, p) for g in ("nvidia-a100-80gb-sxm", "nvidia-h100-sxm-80gb", "nvidia-h200-sxm-141gb", "nvidia-b200")
        for p in ("16-bit", "fp8")]
    by = {(r["gpu"], r["precision"]): r for r in rows}
    a100, b200 = by["nvidia-a100-80gb-sxm", "16-bit"], by["nvidia-b200", "16-bit"]
    assert a100["tokens_growth"] == 1 and a100["flops_growth"] == 1
    assert b200["flops_growth"] == pytest.approx(b200["peak_flops_per_gpu"] / a100["peak_flops_per_gpu"])
    assert b200["tokens_growth"] == pytest.approx(b200["output_tokens_per_s_per_gpu"]
                                                  / a100["output_tokens_per_s_per_gpu"])
    for r in rows:
        assert r["tpot_s"] <= 0.05 + 1e-12  # the default target, 20 tokens/s per user
        assert r["fraction_of_flop_bound"] < 1
        if r["precision"] == "fp8":
            sixteen = by[r["gpu"], "16-bit"]
            assert r["fp8_gain"] == pytest.approx(r["output_tokens_per_s_per_gpu"]
                                                  / sixteen["output_tokens_per_s_per_gpu"])
    assert by["nvidia-a100-80gb-sxm", "fp8"]["compute_dtype"] == "bf16"  # A100 has no FP8 math
    assert "The seed says ~20x against ~8x" in err and "FP8 over 16-bit" in err


def test_generations_rows_are_estimates(capsys):
    rows, _ = run_json(capsys, "fleet", "--generations", "--gpus-from", "h100")
    for r in rows:
        est, _ = run_json(capsys, "estimate", "-m", "deepseek-v3", "--gpu", r["gpu"], "--tp", r["tp"], "--pp", r["pp"],
                          "--ep", r["ep"], "--batch", r["batch"], "-i", "7168", "-o", "1024",
                          "--precision", "bf16" if r["precision"] == "16-bit" else "fp8")
        assert r["output_tokens_per_s_per_gpu"] == pytest.approx(est["throughput"]["output_tokens_per_s"]
                                                                 / r["gpus_per_replica"])


def test_generations_flags(capsys):
    fast, _ = run_json(capsys, "fleet", "--generations", "--gpus-from", "h100,b200", "--per-user-tokens-per-s", "50")
    slow, _ = run_json(capsys, "fleet", "--generations", "--gpus-from", "h100,b200")
    assert all(r["tpot_s"] <= 0.02 + 1e-12 for r in fast)
    assert fast[0]["batch"] < slow[0]["batch"]
    kimi, _ = run_json(capsys, "fleet", "--generations", "--gpus-from", "h100", "--model", "kimi-k2")
    assert kimi[0]["output_tokens_per_s_per_gpu"] != slow[0]["output_tokens_per_s_per_gpu"]


# --------------------------------------------------------------------------- the example files


@pytest.mark.parametrize("path", sorted(FLEETS.glob("*.yaml")), ids=lambda p: p.name)
def test_example_fleets_run_and_cite_their_counts(capsys, path):
    record, _ = run_json(capsys, "fleet", str(path))
    assert record["by_accelerator"]
    sources = " ".join(record["fleet"]["sources"]).lower()
    assert "[checked]" in sources or "illustrative" in sources, path.name


# --------------------------------------------------------------------------- bad input


BAD = [
    ("accelerators: {h1000: 8}\nworkload: {model: llama-3.1-8b}\n",
     "fleet.yaml:1: accelerators.h1000: unknown GPU 'h1000'; did you mean"),
    ("accelerators: {h100: -8}\nworkload: {model: llama-3.1-8b}\n",
     "fleet.yaml:1: accelerators.h100: the count must be >= 0, got -8"),
    ("accelerators: {h100: 8.5}\nworkload: {model: llama-3.1-8b}\n", "the count must be a whole number"),
    ("accelerators: {h100: many}\nworkload: {model: llama-3.1-8b}\n", "accelerators.h100: cannot parse 'many'"),
    ("accelerators: {h100: 8}\nworkload:\n  models: {llama-3.1-8b: 0.5, llama-3.1-70b: 0.4}\n",
     "fleet.yaml:3: workload.models: the traffic shares sum to 0.9 (0.5 + 0.4), not 1"),
    ("accelerators: {h100: 8}\nworkload:\n  models: {llama-3.1-8b: 1.5}\n", "must be in [0, 1], got 1.5"),
    ("accelerators: {h100: 8}\nworkload: {model: llama-3.1-8b}\nutilisation: 0.5\n",
     "fleet.yaml:3: utilisation: unknown key 'utilisation'; did you mean utilization?"),
    ("accelerators: {h100: 8}\nworkload: {model: llama-3.1-8b, gpu: h200}\n",
     "workload.gpu: not a workload field: the accelerators list sets the hardware"),
    ("accelerators: {h100: 8}\nworkload: {model: llama-3.1-8b, batch: 8}\n",
     "workload.batch: not a workload field: the planner chooses the batch"),
    ("accelerators: {h100: 8}\nworkload: {model: llama-3.1-8b, input_tokenz: 8}\n",
     "workload.input_tokenz: unknown field 'input_tokenz'; did you mean input_tokens"),
    ("accelerators: {h100: 8, nvidia-h100-sxm-80gb: 8}\nworkload: {model: llama-3.1-8b}\n", "listed twice"),
    ("accelerators: {h100: 8}\nworkload: {model: llama-3.1-8b}\nutilization: [0.5, 1.2]\n",
     "utilization.1: must be in [0, 1], got 1.2"),
    ("accelerators: {h100: 8}\nworkload: {model: llama-3.1-8b, per_user_tokens_per_s: 20, max_tpot: 50ms}\n",
     "give per_user_tokens_per_s or max_tpot, not both"),
    ("accelerators: {h100: 8}\nworkload: {model: llama-3.1-8b}\npue: 0.8\n", "pue: must be >= 1"),
    ("accelerators: {h100: 8}\nworkload: {model: nope-7b}\n", "fleet.yaml:2: workload.model: unknown model 'nope-7b'"),
    ("accelerators: {h100: 8}\n", "workload: missing"),
    ("accelerators: {}\nworkload: {model: llama-3.1-8b}\n", "accelerators: empty"),
    ("accelerators: [h100]\nworkload: {model: llama-3.1-8b}\n", "accelerators: expected a mapping"),
    ("accelerators: {h100: 8\nworkload: x\n", "invalid YAML"),
    ("- just\n- a list\n", "expected a mapping"),
    ("accelerators: {h100: 8}\naccelerators: {h200: 8}\nworkload: {model: llama-3.1-8b}\n", "duplicate key"),
    ("accelerators: {h100: &a 8}\nworkload: {model: llama-3.1-8b}\n", "anchors"),
    ("accelerators: {h100: 8}\nworkload: {model: llama-3.1-8b, precision: fp7}\n", "unknown dtype 'fp7'"),
    ("accelerators: {h100: {count: 8, price: cheap}}\nworkload: {model: llama-3.1-8b}\n",
     "accelerators.h100.price: cannot parse 'cheap' as dollars per GPU-hour"),
    ("accelerators: {h100: {count: 8, prise: 2}}\nworkload: {model: llama-3.1-8b}\n",
     "accelerators.h100.prise: unknown field 'prise'; did you mean price?"),
]


@pytest.mark.parametrize("text, message", BAD)
def test_bad_fleet_files(capsys, tmp_path, text, message):
    path = write(tmp_path, text)
    code, out, err = run(capsys, "fleet", path)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert message in err.replace(str(tmp_path) + "/", ""), err


@pytest.mark.parametrize("argv, message", [
    (["fleet"], "give a fleet file"),
    (["fleet", "--generations", "x.yaml"], "--generations takes no fleet file"),
    (["fleet", "--generations", "--pue", "1.2"], "--pue: a fleet file's option"),
    (["fleet", "--generations", "--precision", "fp8"], "--generations compares 16-bit with FP8 itself"),
    (["fleet", "--generations", "--gpus-from", "h1000"], "unknown GPU 'h1000'"),
    (["fleet", "specs/fleets/seed-users.yaml", "--gpus-from", "h100"], "--gpus-from goes with --generations"),
    (["fleet", "specs/fleets/seed-users.yaml", "--utilization", "2"], "--utilization: expected a number >= 0 and <= 1"),
    (["fleet", "specs/fleets/seed-users.yaml", "--max-tpot", "fast"], "--max-tpot: cannot parse 'fast'"),
    (["fleet", "specs/fleets/seed-users.yaml", "--per-user-tokens-per-s", "0"], "expected a number > 0"),
    (["fleet", "specs/fleets/seed-users.yaml", "--price", "h1000=2"], "unknown GPU 'h1000'"),
    (["fleet", "missing.yaml"], "missing.yaml: no such file"),
])
def test_bad_flags(capsys, monkeypatch, argv, message):
    monkeypatch.chdir(ROOT)
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert message in err, err


def test_a_type_too_small_for_one_replica_is_noted_not_an_error(capsys, tmp_path):
    path = write(tmp_path, "accelerators: {h100: 1, h200: 16}\nworkload: {model: llama-3.1-405b}\n")
    record, err = run_json(capsys, "fleet", path)
    h100, h200 = record["by_accelerator"]
    assert h100["models"] == [] and h100["unserved"] and h100["flop_bound_tokens_per_s"] > 0
    assert h200["models"] and record["total"]["output_tokens_per_day"] == h200["output_tokens_per_day"]
    assert "serves none of the models" in err
    # the idle type's GPU-hours are paid, and split between input and output tokens like the serving type's
    total = record["total"]
    assert total["usd_per_day"] == pytest.approx(h100["gpu_usd_per_day"] + h200["gpu_usd_per_day"])
    paid = (total["usd_per_million_output_tokens"] * total["output_tokens_per_day"]
            + total["usd_per_million_input_tokens"] * total["input_tokens_per_day"]) / 1e6
    assert paid == pytest.approx(total["usd_per_day"])
    share = lambda t: t["usd_per_million_output_tokens"] * t["output_tokens_per_day"] / 1e6 / t["usd_per_day"]  # noqa: E731
    assert share(total) == pytest.approx(share(h200))


def test_params_flag_replaces_the_files_model(capsys):
    record, _ = run_json(capsys, "fleet", str(FLEETS / "seed-users.yaml"), "--params", "70B", "--ideal")
    assert record["by_accelerator"][0]["models"][0]["model"] == "70B-params"


def test_core_fleet_rejects_bad_operation():
    from inferwall.core.fleet import Operation, fleet
    from inferwall.core.types import CoreError

    for op in (Operation(utilization=(1.5,)), Operation(pue=0.5), Operation(minutes_per_user_day=0),
               Operation(utilization=())):
        with pytest.raises(CoreError):
            fleet([], op)
    empty = fleet([], Operation())
    assert empty.total.gpus == 0 and empty.total.user_base == 0
    assert math.isclose(empty.total.output_tokens_per_day, 0)


def test_environment_does_not_change_a_fleet_file(capsys, monkeypatch, small):
    """Like a plan file for check, a fleet file means the same on every machine: INFERWALL_PRICE and
    INFERWALL_ENGINE are not read (INFERWALL_FORMAT still is), and the help names no such variable."""
    base, _ = run_json(capsys, "fleet", small)
    monkeypatch.setenv("INFERWALL_PRICE", "0.01")
    monkeypatch.setenv("INFERWALL_ENGINE", "trtllm")
    same, _ = run_json(capsys, "fleet", small)
    assert same == base
    code, out, _ = run(capsys, "fleet", "--help")
    assert code == 0 and "INFERWALL_PRICE" not in out and "INFERWALL_ENGINE" not in out
