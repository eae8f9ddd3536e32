"""scale, bounds, implied and the energy model: the seed arguments through the CLI, with real numbers."""

from __future__ import annotations

import json

import pytest

from inferwall.render import Format
from inferwall.core.economics import series_125, user_base
from inferwall.core.energy import IDLE_POWER_FRACTION, energy_of, phase_power_w
from cli_helpers import run, run_json

SEED = ["--params", "1.6T", "--precision", "fp8", "--gpus", "20", "--flops", "3e15", "--bandwidth", "3TB/s", "--ideal"]
A100_280B = ["--params", "280B", "--gpu", "a100", "--precision", "bf16"]

FORMATS = [f.value for f in Format]


# --------------------------------------------------------------------------- scale


def test_user_base_is_concurrent_times_1440_over_minutes():
    assert user_base(1000, 10) == 144_000
    assert user_base(1, 1440) == 1


def test_scale_user_base_through_the_cli(capsys):
    rows, _ = run_json(capsys, "scale", *SEED, "--batch", "1000", "--minutes-per-user-day", "10")
    assert rows[0]["concurrent_users"] == 1000 and rows[0]["user_base"] == 144_000
    rows, _ = run_json(capsys, "scale", *SEED, "--batch", "500", "--dp", "2", "--gpus", "40", "--minutes-per-user-day", "30")
    assert rows[0]["concurrent_users"] == 1000 and rows[0]["user_base"] == 48_000  # replicas multiply the users


def test_scale_seed_reproduction(capsys):
    """The seed: 1.6T params in 8-bit on 20 GPUs of 3e15 FLOP/s and 3 TB/s, ideal: 0.2% at batch 1, 20% at 100."""
    rows, err = run_json(capsys, "scale", *SEED, "--batch", "1,100")
    by_batch = {r["batch"]: r for r in rows}
    assert by_batch[1]["utilization"] == pytest.approx(0.002, rel=1e-3)
    assert by_batch[100]["utilization"] == pytest.approx(0.20, rel=1e-3)
    # memory-bound: the step (one user's time per token) does not grow with the batch, the cost per token falls 100x
    assert by_batch[1]["step_time_s"] == pytest.approx(1.6e12 / 20 / 3e12, rel=1e-6)
    assert by_batch[100]["step_time_s"] == pytest.approx(by_batch[1]["step_time_s"], rel=1e-6)
    assert by_batch[1]["bound"] == by_batch[100]["bound"] == "memory"
    assert by_batch[1]["usd_per_million_output_tokens"] / by_batch[100]["usd_per_million_output_tokens"] == pytest.approx(100, rel=1e-6)
    assert "memory-bound at 0.2% utilization" in err


def test_scale_matches_estimate(capsys):
    """Every number in a scale row is the estimate's number at that batch."""
    rows, _ = run_json(capsys, "scale", "-m", "llama-3.1-70b", "--gpus", "8", "--batch", "64")
    est, _ = run_json(capsys, "estimate", "-m", "llama-3.1-70b", "--gpus", "8", "--batch", "64")
    r = rows[0]
    assert r["step_time_s"] == pytest.approx(est["latency"]["tpot_s"], rel=1e-12)
    assert r["ttft_s"] == pytest.approx(est["latency"]["ttft_s"], rel=1e-12)
    assert r["utilization"] == pytest.approx(est["decode"]["utilization"], rel=1e-12)
    assert r["output_tokens_per_s"] == pytest.approx(est["throughput"]["output_tokens_per_s"], rel=1e-12)
    assert r["usd_per_million_output_tokens"] == pytest.approx(est["cost"]["usd_per_million_output_tokens"], rel=1e-12)
    assert r["user_tokens_per_s"] == pytest.approx(1 / r["step_time_s"])


def test_scale_default_range_runs_to_the_largest_batch_that_fits(capsys):
    rows, err = run_json(capsys, "scale", "-m", "llama-3.1-70b", "--gpus", "8")
    est, _ = run_json(capsys, "estimate", "-m", "llama-3.1-70b", "--gpus", "8")
    top = est["memory"]["max_batch"]
    assert [r["batch"] for r in rows] == series_125(top)
    assert rows[0]["batch"] == 1 and rows[-1]["batch"] == top and "largest batch that fits" in rows[-1]["marks"]
    assert all(r["fits"] for r in rows)
    costs = [r["usd_per_million_output_tokens"] for r in rows]
    assert costs == sorted(costs, reverse=True)  # economies of scale
    assert "memory capacity" in err or "compute-bound" in err


def test_series_125():
    assert series_125(1) == [1]
    assert series_125(100) == [1, 2, 5, 10, 20, 50, 100]
    assert series_125(1098) == [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 1098]


def test_scale_target_utilization(capsys):
    rows, err = run_json(capsys, "scale", *SEED, "--batch", "1", "--target-utilization", "50%")
    hit = [r for r in rows if "reaches 50% utilization" in r["marks"]]
    assert len(hit) == 1 and hit[0]["batch"] == 250  # ideal and memory-bound: utilization = batch x 0.2%
    assert hit[0]["utilization"] == pytest.approx(0.5)
    assert hit[0]["user_base"] == 250 * 144
    below, _ = run_json(capsys, "scale", *SEED, "--batch", "249")
    assert below[0]["utilization"] < 0.5
    assert "50% utilization needs batch 250" in err and "36,000" in err


def test_scale_unreachable_target_says_so(capsys):
    code, out, err = run(capsys, "scale", "-m", "llama-3.1-8b", "--batch", "1", "--mfu", "0.3", "--target-utilization", "0.9", "-f", "json")
    assert code == 0 and "out of reach" in err


def test_scale_interactivity_floor(capsys):
    rows, err = run_json(capsys, "scale", "-m", "llama-3.1-70b", "--gpus", "8", "--per-user-tokens-per-s", "30")
    last = [r for r in rows if "last batch at >= 30" in r["marks"]]
    assert len(last) == 1
    for r in rows:
        assert (r["user_tokens_per_s"] >= 30) == (r["batch"] <= last[0]["batch"]), r
        assert ("slower than 30" in r["marks"]) == (r["batch"] > last[0]["batch"])
    nxt, _ = run_json(capsys, "scale", "-m", "llama-3.1-70b", "--gpus", "8", "--batch", str(last[0]["batch"] + 1))
    assert nxt[0]["user_tokens_per_s"] < 30


def test_scale_energy_column_is_the_energy_model(capsys):
    rows, _ = run_json(capsys, "scale", "-m", "llama-3.1-8b", "--batch", "1,64")
    from inferwall.catalog import load_catalog
    from inferwall.core import estimate
    from inferwall.inputs import Options, build

    for r in rows:
        resolved = build(Options(model="llama-3.1-8b", batch=r["batch"]), load_catalog(None))
        e = energy_of(estimate(resolved.scenario))
        assert r["joules_per_output_token"] == pytest.approx(e.joules_per_output_token, rel=1e-12)
    assert rows[1]["joules_per_output_token"] < rows[0]["joules_per_output_token"] / 10  # batching amortizes energy too


def test_energy_model_by_hand(capsys):
    """Seed example at batch 1 on H100-class TDP (700 W): memory-bound at 100% bandwidth -> full TDP."""
    from inferwall.catalog import load_catalog
    from inferwall.core import estimate
    from inferwall.inputs import Options, build

    resolved = build(Options(params="1.6T", precision="fp8", gpus=20, flops="3e15", bandwidth="3TB/s", ideal=True),
                     load_catalog(None))
    est = estimate(resolved.scenario)
    e = energy_of(est)
    assert e.tdp_w_per_gpu == 700
    assert e.decode_power_w_per_gpu == pytest.approx(700)  # bandwidth utilization 1
    steps = est.scenario.workload.output_tokens - 1
    assert e.joules_per_output_token == pytest.approx(700 * 20 * steps * est.decode.time_s / 256)
    assert phase_power_w(700, est.decode, 0.3) == pytest.approx(700)
    idle = phase_power_w(1000, type(est.decode)(**{**est.decode.__dict__, "utilization": 0.0, "bandwidth_utilization": 0.0}))
    assert idle == pytest.approx(1000 * IDLE_POWER_FRACTION)


def test_energy_without_tdp_is_none_with_a_note(capsys):
    rows, err = run_json(capsys, "scale", "-m", "llama-3.1-8b", "--gpu", "tpu-v5e", "--batch", "1")
    assert rows[0]["joules_per_output_token"] is None and "no TDP" in err


# --------------------------------------------------------------------------- bounds


def test_bounds_seed_280b_a100(capsys):
    """280B active parameters in 16-bit on one A100: ~560 forward passes/s FLOP-bound against ~4 bandwidth-bound."""
    d, err = run_json(capsys, "bounds", *A100_280B, "--ideal")
    assert d["compute_forward_passes_per_s"] == pytest.approx(312e12 / (2 * 280e9))
    assert round(d["compute_forward_passes_per_s"], -1) == 560
    assert d["memory_forward_passes_per_s"] == pytest.approx(2.039e12 / 560e9)
    assert round(d["memory_forward_passes_per_s"]) == 4
    e = d["estimate"]
    # ideal, batch 1, memory-bound: the estimate sits exactly on the bandwidth bound
    assert e["decode_tokens_per_s"] == pytest.approx(d["memory_forward_passes_per_s"], rel=1e-9)
    assert e["multiple_of_memory_bound"] == pytest.approx(1.0) and e["bound"] == "memory"
    assert e["critical_batch"] in (153, 154)  # the bounds' ratio, 153.0
    assert "FLOP-bound: 557.1" in err


def test_bounds_calibrated_estimate_lies_between(capsys):
    d, _ = run_json(capsys, "bounds", "-m", "llama-3.1-70b", "--gpus", "8", "--batch", "64")
    e = d["estimate"]
    assert d["memory_forward_passes_per_s"] < e["decode_tokens_per_s"] < d["compute_forward_passes_per_s"]
    assert e["fraction_of_compute_bound"] == pytest.approx(e["decode_tokens_per_s"] / d["compute_forward_passes_per_s"])
    fleet, _ = run_json(capsys, "bounds", "-m", "llama-3.1-70b", "--gpus", "16", "--tp", "8", "--batch", "64")
    assert fleet["compute_forward_passes_per_s_all_replicas"] == pytest.approx(2 * d["compute_forward_passes_per_s"])
    assert fleet["compute_forward_passes_per_s_per_gpu"] == pytest.approx(d["compute_forward_passes_per_s_per_gpu"])


def test_forward_passes_per_s_means_per_replica_in_every_command(capsys):
    """One key, one meaning (issue 15 §22): estimate's bounds section and the bounds command agree on
    compute_forward_passes_per_s with two replicas; the fleet's figure has its own name."""
    args = ("-m", "llama-3.1-70b", "--gpus", "16", "--tp", "8", "--batch", "64")
    est, _ = run_json(capsys, "estimate", *args)
    b, _ = run_json(capsys, "bounds", *args)
    assert est["scenario"]["dp"] == 2
    for key in ("compute_forward_passes_per_s", "memory_forward_passes_per_s"):
        assert b[key] == pytest.approx(est["bounds"][key], rel=1e-12)
        assert b[f"{key}_all_replicas"] == pytest.approx(2 * est["bounds"][key], rel=1e-12)
    code, out, err = run(capsys, "estimate", *args, "--explain")
    assert "GPUs per replica × peak" in err and "GPUs × peak" not in err


def test_bounds_names_decode_tokens_apart_from_output_tokens(capsys):
    """bounds' decode tokens/s leaves out prefill and estimate's output tokens/s includes it (issue 14 item 8):
    both appear, named apart, and the latter equals estimate's throughput exactly."""
    args = ("-m", "llama-3.1-70b", "--gpus", "8", "--batch", "64")
    est, _ = run_json(capsys, "estimate", *args)
    b, _ = run_json(capsys, "bounds", *args)
    e = b["estimate"]
    assert "tokens_per_s" not in e
    assert e["output_tokens_per_s"] == pytest.approx(est["throughput"]["output_tokens_per_s"], rel=1e-12)
    assert e["decode_tokens_per_s"] == pytest.approx(64 / est["decode"]["step_time_s"], rel=1e-12)
    assert e["decode_tokens_per_s"] > e["output_tokens_per_s"]  # prefill takes time that decoding does not
    code, out, err = run(capsys, "bounds", *args, "-f", "table")
    assert "decode tokens/s (decode steps only" in out and "output tokens/s with prefill" in out


# --------------------------------------------------------------------------- implied


def test_implied_seed_reproduction(capsys):
    """$4.9 per million tokens on 128 A100s at $1/hour: ~57 tokens/s per GPU, ~10% of the FLOP bound (280B)."""
    d, err = run_json(capsys, "implied", "--usd-per-million-tokens", "4.9", *A100_280B, "--gpus", "128",
                      "--tp", "8", "--price", "1")
    assert d["tokens_per_s_per_gpu"] == pytest.approx(1e6 / 3600 / 4.9)
    assert round(d["tokens_per_s_per_gpu"]) == 57
    assert d["fraction_of_compute_bound"] == pytest.approx(0.10, abs=0.005)
    assert d["tokens_per_s"] == pytest.approx(128 * d["tokens_per_s_per_gpu"])
    assert d["multiple_of_memory_bound"] == pytest.approx(d["tokens_per_s_per_gpu"] / (2.039e12 / 560e9))
    # the batch inferwall needs: the estimate at that batch reaches the rate, one less does not
    b = d["batch_needed"]
    at, _ = run_json(capsys, "estimate", *A100_280B, "--gpus", "128", "--tp", "8", "--price", "1", "--batch", str(b))
    below, _ = run_json(capsys, "estimate", *A100_280B, "--gpus", "128", "--tp", "8", "--price", "1", "--batch", str(b - 1))
    assert at["throughput"]["output_tokens_per_s"] >= d["tokens_per_s"] > below["throughput"]["output_tokens_per_s"]
    assert "10.2% of the FLOP bound" in err


def test_implied_needs_a_price(capsys):
    code, out, err = run(capsys, "implied", "--usd-per-million-tokens", "2", "-m", "llama-3.1-8b", "--gpu", "mi300x")
    assert code == 2 and out == "" and "give --price" in err and len(err.strip().splitlines()) == 1


# --------------------------------------------------------------------------- conventions


@pytest.mark.parametrize("argv", [
    ["scale", "-m", "llama-3.1-8b", "--batch", "1,8"],
    ["bounds", "-m", "llama-3.1-8b"],
    ["implied", "--usd-per-million-tokens", "1", "-m", "llama-3.1-8b"],
])
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders(capsys, argv, fmt):
    code, out, err = run(capsys, *argv, "-f", fmt)
    assert code == 0 and out.strip(), err
    assert "…" not in out
    if fmt == "json":
        json.loads(out)


def test_piped_default_is_tsv(capsys):
    code, out, _ = run(capsys, "scale", "-m", "llama-3.1-8b", "--batch", "1")
    assert out.splitlines()[0].startswith("batch\tconcurrent_users\tuser_base")


@pytest.mark.parametrize("argv, needle", [
    (["scale", "-m", "llama-3.1-8b", "--target-utilization", "150%"], "--target-utilization: must be in (0, 1]"),
    (["scale", "-m", "llama-3.1-8b", "--batch", "0"], "--batch: must be >= 1"),
    (["scale", "-m", "llama-3.1-8b", "--batch", "1,x"], "--batch"),
    (["scale", "-m", "llama-3.1-8b", "--minutes-per-user-day", "0"], "--minutes-per-user-day: must be > 0"),
    (["scale", "-m", "llama-3.1-8b", "--per-user-tokens-per-s", "-1"], "--per-user-tokens-per-s: must be > 0"),
    (["scale", "-m", "llama-3.1-8b", "--idle-power", "2"], "--idle-power"),
    (["scale", "-m", "lama-3.1-8b"], "unknown model 'lama-3.1-8b'"),
    (["bounds", "-m", "llama-3.1-8b", "--gpu", "h1000"], "unknown GPU 'h1000'"),
    (["bounds"], "no model: give --model"),
    (["implied", "-m", "llama-3.1-8b"], "Missing option '--usd-per-million-tokens'"),
    (["implied", "-m", "llama-3.1-8b", "--usd-per-million-tokens", "cheap"], "--usd-per-million-tokens: cannot parse 'cheap'"),
    (["implied", "-m", "llama-3.1-8b", "--usd-per-million-tokens", "-3"], "--usd-per-million-tokens: must be a positive"),
])
def test_bad_input_is_one_line_exit_2(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    assert code == 2, err
    assert out == ""
    assert needle in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_economics_core_is_standard_library_only():
    import subprocess
    import sys

    code = ("import inferwall.core.economics, inferwall.core.trend, inferwall.core.planner, inferwall.core.energy\n"
            "import sys, json; print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    mods = {m.split(".")[0] for m in json.loads(out.stdout.splitlines()[-1])}
    assert not mods & {"typer", "rich", "yaml", "click", "pydantic", "matplotlib"}
