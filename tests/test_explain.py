"""--explain: the derivation with the estimate's own numbers, where each input came from, what would move it."""

from __future__ import annotations

import json

from inferwall.units import seconds
from cli_helpers import run

SEED = ["estimate", "--params", "1.6T", "--precision", "fp8", "--gpus", "20", "--flops", "3e15",
        "--bandwidth", "3TB/s", "--ideal"]


def test_seed_derivation_substitutes_the_numbers(capsys):
    code, out, err = run(capsys, *SEED, "--explain", "-f", "json")
    assert code == 0
    data = json.loads(out)  # data stays on stdout, the derivation goes to stderr
    assert "memory time = bytes per GPU / (bandwidth × efficiency) = 8.000e+10 B / (3.000e+12 B/s × 1) = **26.7 ms**" in err
    assert seconds(data["decode"]["compute_time_s"]) == "53.3 µs" and "**53.3 µs**" in err
    assert "utilization" in err and "**0.2%**" in err
    assert "from batch ≈ 500 it is **compute-bound**" in err  # 3e15 / 3e12 x 1 byte / 2 FLOPs per weight
    assert "flag --params" in err and "flag --flops" in err and "--ideal implies --engine ideal" in err
    assert "engine ideal: the pure roofline" in err


def test_markdown_explain_is_the_whole_output(capsys):
    code, out, err = run(capsys, "estimate", "-m", "llama-3.1-70b", "--gpus", "8", "--batch", "64", "--explain",
                         "-f", "markdown")
    assert code == 0 and out.startswith("# How inferwall estimated llama-3.1-70b")
    assert "catalog llama-3.1-70b (specs/models.yaml)" in out
    assert "gpu source: [checked] stas00/ml-engineering" in out  # the catalog entry's cited source
    assert "kernel physics for hopper (specs/kernels.yaml) with engine vllm" in out
    assert "## Batching: continuous (in-flight), engine vllm" in out
    assert "expected error: **±" in out  # the calibration band of its regime
    assert "## What would move the bottleneck" in out
    code, data, _ = run(capsys, "estimate", "-m", "llama-3.1-70b", "--gpus", "8", "--batch", "64", "-f", "json")
    d = json.loads(data)["decode"]
    assert f"**{seconds(d['step_time_s'])}**" in out
    assert f"**{d['bound']}** binds" in out


def test_without_explain_stderr_has_no_derivation(capsys):
    code, out, err = run(capsys, *SEED, "-f", "json")
    assert "How inferwall estimated" not in err
