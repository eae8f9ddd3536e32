"""trend: the Memory Wall projection, the critical batch and the year a configuration changes bottleneck."""

from __future__ import annotations


import pytest

from inferwall.render import Format
from inferwall.core.trend import TrendRates, catalog_ratios, project_accelerator
from inferwall.core.types import Accelerator
from cli_helpers import run, run_json

SEED = ["--params", "1.6T", "--precision", "fp8", "--gpus", "20", "--flops", "3e15", "--bandwidth", "3TB/s", "--ideal"]

FORMATS = [f.value for f in Format]


def test_project_accelerator_rates():
    acc = Accelerator(id="x", memory_bytes=80e9, bandwidth_bytes_per_s=2e12, peak_flops={"bf16": 1e15, "fp8": 2e15},
                      scale_up_bytes_per_s=450e9, scale_out_bytes_per_s=50e9)
    later = project_accelerator(acc, 4)
    assert later.peak_flops == {"bf16": pytest.approx(9e15), "fp8": pytest.approx(18e15)}
    assert later.bandwidth_bytes_per_s == pytest.approx(2e12 * 1.6**2)
    assert later.scale_up_bytes_per_s == pytest.approx(450e9 * 1.4**2)
    assert later.scale_out_bytes_per_s == pytest.approx(50e9 * 1.4**2)
    assert later.memory_bytes == acc.memory_bytes
    assert project_accelerator(acc, 0) == acc
    assert TrendRates(flops=2.0, period_years=1.0).factor(2.0, 3) == pytest.approx(8.0)


def test_ridge_point_grows_at_the_memory_wall_rate(capsys):
    rows, _ = run_json(capsys, "trend", "-m", "llama-3.1-70b", "--gpus", "8", "--batch", "64", "--years", "10")
    assert [r["years_ahead"] for r in rows] == list(range(11))
    base = rows[0]["ridge_flops_per_byte"]
    assert base == pytest.approx(989.5e12 / 3.35e12)
    for r in rows:
        assert r["ridge_flops_per_byte"] == pytest.approx(base * (3.0 / 1.6) ** (r["years_ahead"] / 2), rel=1e-9)
        assert r["year"] == 2022 + r["years_ahead"]  # year 0 is the GPU's release year


def test_growth_flags_override_the_rates(capsys):
    rows, err = run_json(capsys, "trend", *SEED, "--years", "4", "--flops-growth", "1.6", "--start-year", "2030")
    assert all(r["ridge_flops_per_byte"] == pytest.approx(1000) for r in rows)  # FLOPs and bandwidth in step
    assert rows[0]["year"] == 2030 and rows[-1]["year"] == 2034
    assert "stays memory-bound" in err


def test_flip_year_is_where_the_critical_batch_crosses_the_batch(capsys):
    """Seed model at batch 1000: compute-bound today (critical batch 500); the ridge point outruns the batch and
    the configuration turns memory-bound in the year the critical batch first exceeds 1000."""
    rows, err = run_json(capsys, "trend", *SEED, "--batch", "1000", "--years", "10")
    assert rows[0]["critical_batch"] == 500 and rows[0]["bound"] == "compute"
    crit = [r["critical_batch"] for r in rows]
    assert crit == sorted(crit)  # FLOPs outgrow bandwidth, so the critical batch only grows
    for r in rows:
        assert (r["bound"] == "compute") == (r["critical_batch"] <= r["batch"]), r
    flip = next(r for r in rows if r["bound"] != rows[0]["bound"])
    assert flip["critical_batch"] > 1000 and all(r["critical_batch"] <= 1000 for r in rows if r["year"] < flip["year"])
    assert flip["year"] == 2025
    assert f"changes bottleneck in {flip['year']}: compute-bound until then, memory-bound" in err
    # utilization at a fixed batch falls once memory binds; the time per token still improves
    assert rows[-1]["utilization"] < rows[flip["years_ahead"] - 1]["utilization"]
    assert rows[-1]["tpot_s"] < rows[0]["tpot_s"]


def test_memory_bound_configuration_never_flips(capsys):
    rows, err = run_json(capsys, "trend", *SEED, "--batch", "100", "--years", "6")
    assert all(r["bound"] == "memory" for r in rows)
    assert all(r["critical_batch"] > 100 for r in rows)
    assert "stays memory-bound throughout" in err


def test_from_catalog_lists_real_ops_per_byte(capsys):
    rows, _ = run_json(capsys, "trend", "-m", "llama-3.1-8b", "--years", "3", "--from-catalog")
    real = {r["source"]: r for r in rows if r["source"] != "projection"}
    assert real["nvidia-h100-sxm-80gb"]["ridge_flops_per_byte"] == pytest.approx(989.5e12 / 3.35e12)
    assert real["nvidia-h100-sxm-80gb"]["year"] == 2022
    assert real["nvidia-a100-80gb-sxm"]["ridge_flops_per_byte"] == pytest.approx(312e12 / 2.039e12)
    assert real["nvidia-v100-sxm2-32gb"]["ridge_flops_per_byte"] == pytest.approx(125e12 / 0.9e12)  # fp16 only
    assert real["apple-m2-ultra"]["ridge_flops_per_byte"] == pytest.approx(27.2e12 / 0.8e12)  # Apple's GPU FLOP/s
    assert "intel-xeon-gold-6242" not in real  # no 16-bit FLOP/s listed
    years = [r["year"] for r in rows]
    assert years == sorted(years)
    assert sum(r["source"] == "projection" for r in rows) == 4


def test_catalog_ratios_skip_entries_without_year_or_flops():
    accs = [Accelerator(id="a", memory_bytes=1, bandwidth_bytes_per_s=1e12, peak_flops={"fp16": 1e14}, release_year=2019),
            Accelerator(id="b", memory_bytes=1, bandwidth_bytes_per_s=1e12, peak_flops={"bf16": 1e14}),
            Accelerator(id="c", memory_bytes=1, bandwidth_bytes_per_s=1e12, peak_flops={"fp8": 1e14}, release_year=2020)]
    points = catalog_ratios(accs)
    assert [(p.gpu, p.ops_per_byte) for p in points] == [("a", pytest.approx(100.0))]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders(capsys, fmt):
    code, out, err = run(capsys, "trend", "-m", "llama-3.1-8b", "--years", "2", "--from-catalog", "-f", fmt)
    assert code == 0 and out.strip() and "…" not in out, err


@pytest.mark.parametrize("argv, needle", [
    (["trend", "-m", "llama-3.1-8b", "--years", "-1"], "--years: must be between 0 and 100"),
    (["trend", "-m", "llama-3.1-8b", "--flops-growth", "0"], "--flops-growth: must be > 0"),
    (["trend", "-m", "llama-3.1-8b", "--period", "-2"], "--period: must be > 0"),
    (["trend", "-m", "llama-3.1-8b", "--years", "ten"], "Invalid value"),
    (["trend", "-m", "llama-3.1-8b", "--gpu", "h1000"], "unknown GPU 'h1000'"),
])
def test_bad_input_is_one_line_exit_2(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and needle in err, err
    assert len(err.strip().splitlines()) == 1


def test_the_roofline_ratio_grows_at_the_memory_wall_rate_apart_from_fixed_costs(capsys):
    """Issue 14 item 9: with calibrated fixed costs held, the full estimate drifts towards its fixed costs, but the
    paper's argument is the roofline: memory time over compute time grows (3.0/1.6)^(y/2), and trend says so."""
    rows, err = run_json(capsys, "trend", "-m", "llama-3.1-70b", "--gpus", "8", "--batch", "64", "--years", "10")
    base = rows[0]["memory_to_compute"]
    assert base == pytest.approx(rows[0]["memory_time_s"] / rows[0]["compute_time_s"])
    for r in rows:
        assert r["memory_to_compute"] == pytest.approx(base * (3.0 / 1.6) ** (r["years_ahead"] / 2), rel=1e-6)
        assert r["roofline_bound"] == ("memory" if r["memory_to_compute"] > 1 else "compute")
    # the full estimate, with today's fixed costs, is not bound by the roofline's term in later years
    assert any(r["bound"] != r["roofline_bound"] for r in rows)
    assert "On the roofline alone (apart from fixed costs), a decode step at batch 64 is memory-bound throughout" in err
    assert "held at today's values" in err


def test_the_roofline_flip_is_reported_when_it_happens(capsys):
    """Seed model at batch 1000 with --ideal has no fixed costs: the roofline and the estimate flip together."""
    rows, err = run_json(capsys, "trend", *SEED, "--batch", "1000", "--years", "10")
    flip = next(r for r in rows if r["roofline_bound"] != rows[0]["roofline_bound"])
    assert flip["year"] == 2025 and flip["roofline_bound"] == "memory"
    assert "compute-bound until 2025, memory-bound from then" in err


def test_fixed_costs_can_be_scaled_with_a_stated_assumption(capsys):
    held, _ = run_json(capsys, "trend", "-m", "llama-3.1-70b", "--gpus", "8", "--batch", "64", "--years", "10")
    scaled, err = run_json(capsys, "trend", "-m", "llama-3.1-70b", "--gpus", "8", "--batch", "64", "--years", "10",
                           "--fixed-cost-speedup", "3")
    assert scaled[0]["tpot_s"] == pytest.approx(held[0]["tpot_s"])
    assert scaled[-1]["tpot_s"] < held[-1]["tpot_s"]
    assert [r["memory_to_compute"] for r in scaled] == pytest.approx([r["memory_to_compute"] for r in held])
    assert "3x faster every 2 years" in err
    assert scaled[-1]["bound"] != "overhead"  # with fixed costs shrinking as fast as FLOP/s, memory binds again
