"""The CLI: output, formats, exit codes and one-line errors. In-process through ``main(argv)``."""

from __future__ import annotations

import csv
import io
import json

import pytest

from cli_helpers import run

SEED = ["estimate", "--params", "1.6T", "--precision", "fp8", "--gpus", "20", "--flops", "3e15",
        "--bandwidth", "3TB/s", "--ideal"]


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("inferwall 0.")


def test_seed_example_json(capsys):
    code, out, err = run(capsys, *SEED, "--format", "json")
    assert code == 0
    data = json.loads(out)  # stdout is pure JSON: no log line in front
    assert data["decode"]["memory_time_s"] == pytest.approx(0.026667, rel=1e-3)
    assert data["decode"]["compute_time_s"] == pytest.approx(5.333e-5, rel=1e-3)
    assert data["decode"]["utilization"] == pytest.approx(0.002, rel=1e-6)
    assert data["scenario"]["tp"] == 20 and data["scenario"]["gpus"] == 20
    assert "assuming a dense model" in err


def test_seed_example_batch_100(capsys):
    code, out, _ = run(capsys, *SEED, "--batch", "100", "-f", "json")
    assert json.loads(out)["decode"]["utilization"] == pytest.approx(0.20, rel=1e-6)


def test_seed_280b_bounds(capsys):
    code, out, _ = run(capsys, "estimate", "--params", "280B", "--gpu", "a100", "--precision", "bf16", "--ideal", "-f", "json")
    b = json.loads(out)["bounds"]
    assert b["compute_forward_passes_per_s"] == pytest.approx(557, rel=0.01)
    assert round(b["memory_forward_passes_per_s"]) == 4


def test_json_has_the_contract_keys(capsys):
    code, out, _ = run(capsys, "estimate", "-m", "llama-3.1-70b", "--gpus", "8", "-f", "json")
    d = json.loads(out)
    for key in ("model", "params", "active_params", "gpu", "gpus", "tp", "pp", "dp", "batch", "input_tokens",
                "output_tokens", "weights_dtype", "kv_dtype", "compute_dtype", "price_usd_per_gpu_hour", "mfu", "mbu"):
        assert key in d["scenario"]
    for key in ("flops", "bytes", "arithmetic_intensity", "compute_time_s", "memory_time_s", "comm_time_s", "time_s",
                "bound", "utilization"):
        assert key in d["prefill"]
    for key in ("step_time_s", "bandwidth_utilization", "bound"):
        assert key in d["decode"]
    assert set(d["memory"]) >= {"weights_bytes_per_gpu", "kv_cache_bytes_per_gpu", "total_bytes_per_gpu",
                                "capacity_bytes_per_gpu", "fits", "max_batch", "min_gpus"}
    assert set(d["latency"]) == {"ttft_s", "tpot_s", "e2e_s"}
    assert set(d["throughput"]) == {"output_tokens_per_s", "input_tokens_per_s", "requests_per_s"}
    assert set(d["cost"]) == {"usd_per_hour", "usd_per_million_output_tokens", "usd_per_million_input_tokens",
                              "usd_per_million_tokens_blended"}
    assert set(d["bounds"]) == {"compute_forward_passes_per_s", "memory_forward_passes_per_s"}
    assert d["memory"]["fits"] is True and d["memory"]["min_gpus"] == 2
    assert d["scenario"]["gpu"] == "nvidia-h100-sxm-80gb"


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "tsv", "markdown", "yaml"])
def test_every_format_renders(capsys, fmt):
    code, out, _ = run(capsys, "estimate", "-m", "llama-3.1-8b", "-f", fmt)
    assert code == 0 and out.strip()
    if fmt == "csv":
        rows = dict(csv.reader(io.StringIO(out)))
        assert rows["decode.bound"] == "memory"
    if fmt == "tsv":
        rows = dict(line.split("\t") for line in out.splitlines())
        assert float(rows["latency.tpot_s"]) > 0
    if fmt == "table":
        assert "Time per phase" in out and "…" not in out
    if fmt == "yaml":
        import yaml

        assert yaml.safe_load(out)["scenario"]["model"] == "llama-3.1-8b"


def test_piped_default_is_tsv(capsys):
    code, out, _ = run(capsys, "estimate", "-m", "llama-3.1-8b")
    assert out.splitlines()[0] == "key\tvalue"


def test_table_never_truncates_numbers(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    code, out, _ = run(capsys, "estimate", "-m", "llama-3.1-405b", "--gpus", "16", "--batch", "max", "-f", "table")
    assert code == 0 and "…" not in out


def test_batch_max_uses_the_largest_batch_that_fits(capsys):
    code, out, _ = run(capsys, "estimate", "-m", "llama-3.1-70b", "--gpus", "8", "--batch", "max", "-f", "json")
    d = json.loads(out)
    # the engine runs the smallest of the KV-cache fit and its cap on running requests, and says which binds
    assert d["scenario"]["batch"] == min(d["memory"]["max_batch"], d["scenario"]["max_running_requests"]) > 100
    assert d["memory"]["fits"] is True and "binds" in d["sources"]["batch"]
    code, out, _ = run(capsys, "estimate", "-m", "llama-3.1-70b", "--gpus", "8", "--batch", "max", "--batching",
                       "static", "-f", "json")
    d = json.loads(out)  # a static batch is limited by memory alone
    assert d["scenario"]["batch"] == d["memory"]["max_batch"] > 100


def test_fp8_on_a100_falls_back_with_a_note_or_errors_when_explicit(capsys):
    code, out, err = run(capsys, "estimate", "-m", "llama-3.1-8b", "--gpu", "a100", "--precision", "fp8", "-f", "json")
    assert code == 0 and json.loads(out)["scenario"]["compute_dtype"] == "bf16"
    assert "weight-only" in err
    code, out, err = run(capsys, "estimate", "-m", "llama-3.1-8b", "--gpu", "a100", "--compute", "fp8")
    assert code == 2 and out == "" and "no fp8 compute" in err


def test_unknown_price_is_never_invented(capsys):
    code, out, err = run(capsys, "estimate", "-m", "llama-3.1-8b", "--gpu", "mi300x", "-f", "json")
    d = json.loads(out)
    assert d["cost"]["usd_per_hour"] is None and "give --price" in err
    code, out, _ = run(capsys, "estimate", "-m", "llama-3.1-8b", "--gpu", "mi300x", "--price", "$2/h", "-f", "json")
    assert json.loads(out)["cost"]["usd_per_hour"] == 2.0


def test_hf_config_and_model_yaml_paths(capsys, tmp_path):
    code, out, _ = run(capsys, "estimate", "-m", "tests/configs/llama-3.1-8b.json", "-f", "json")
    assert code == 0 and json.loads(out)["scenario"]["params"] == pytest.approx(8.03e9, rel=0.01)
    path = tmp_path / "tiny.yaml"
    path.write_text("id: tiny\nnum_layers: 2\nhidden_size: 256\nnum_attention_heads: 4\nnum_kv_heads: 4\n"
                    "intermediate_size: 512\nvocab_size: 1000\n")
    code, out, _ = run(capsys, "estimate", "-m", str(path), "-f", "json")
    assert code == 0 and json.loads(out)["scenario"]["model"] == "tiny"


@pytest.mark.parametrize("argv, needle", [
    (["estimate", "-m", "llama-3.1-8b", "--gpu", "h1000"], "unknown GPU 'h1000'; did you mean h100"),
    (["estimate", "-m", "lama-3.1-8b"], "unknown model 'lama-3.1-8b'; did you mean"),
    (["estimate", "-m", "llama-3.1-8b", "--gpus", "0"], "--gpus: must be >= 1"),
    (["estimate", "-m", "llama-3.1-8b", "--batch", "-3"], "--batch"),
    (["estimate", "-m", "llama-3.1-8b", "--bandwidth", "fast"], "--bandwidth: cannot parse 'fast'"),
    (["estimate", "-m", "llama-3.1-8b", "--memory", "80XB"], "unknown unit"),
    (["estimate", "-m", "llama-3.1-70b", "--gpus", "8", "--tp", "4", "--dp", "4"], "tp x pp x dp = 4 x 1 x 4 = 16, but --gpus is 8"),
    (["estimate", "-m", "llama-3.1-8b", "--precision", "fp7"], "unknown dtype 'fp7'"),
    (["estimate", "-m", "llama-3.1-70b", "--tp", "3"], "tp=3 does not divide the 64 attention heads"),
    (["estimate"], "no model: give --model"),
    (["estimate", "-m", "llama-3.1-8b", "--format", "xml"], "Invalid value"),
    (["estimate", "-m", "llama-3.1-8b", "--bogus"], "No such option"),
    (["estimate", "-m", "/nonexistent/config.json"], "no such file"),
])
def test_bad_input_is_one_line_exit_2(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert needle in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_unexpected_errors_exit_3_without_traceback(capsys, monkeypatch):
    import inferwall.core as core

    def boom(*a, **k):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(core, "estimate", boom)
    code, out, err = run(capsys, "estimate", "-m", "llama-3.1-8b")
    assert code == 3 and "Internal error: RuntimeError: kaboom" in err and "Traceback" not in err


def test_env_and_config_precedence(capsys, monkeypatch, tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text("estimate:\n  gpu: a100\n  price: 1.5\n")
    monkeypatch.setenv("INFERWALL_CONFIG", str(cfg))
    code, out, _ = run(capsys, "estimate", "-m", "llama-3.1-8b", "-f", "json")
    sc = json.loads(out)["scenario"]
    assert sc["gpu"] == "nvidia-a100-80gb-sxm" and sc["price_usd_per_gpu_hour"] == 1.5
    monkeypatch.setenv("INFERWALL_GPU", "h200")
    code, out, _ = run(capsys, "estimate", "-m", "llama-3.1-8b", "-f", "json")
    assert json.loads(out)["scenario"]["gpu"] == "nvidia-h200-sxm-141gb"
    code, out, _ = run(capsys, "estimate", "-m", "llama-3.1-8b", "--gpu", "l40s", "-f", "json")
    assert json.loads(out)["scenario"]["gpu"] == "nvidia-l40s"


def test_user_catalog_overrides_with_a_note(capsys, tmp_path):
    extra = tmp_path / "mine.yaml"
    extra.write_text("accelerators:\n  - id: nvidia-h100-sxm-80gb\n    aliases: [h100]\n    memory: {capacity: 80GiB, bandwidth: 4TB/s}\n"
                     "    compute: {bf16: 1000TFLOPS}\n")
    code, out, err = run(capsys, "estimate", "-m", "llama-3.1-8b", "--catalog", str(extra), "-f", "json")
    assert code == 0 and json.loads(out)["scenario"]["memory_bandwidth_bytes_per_s_per_gpu"] == 4e12
    assert "overrides the entry" in err


def test_bad_catalog_names_file_entry_and_field(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("accelerators:\n  - id: mygpu\n    memory: {capacity: 80GiB, bandwidth: -3TB/s}\n")
    code, out, err = run(capsys, "estimate", "-m", "llama-3.1-8b", "--catalog", str(bad))
    assert code == 2 and f"{bad}: mygpu.memory.bandwidth: must be > 0" in err


@pytest.mark.parametrize("cmd", ["gpus", "models"])
def test_catalog_listings(capsys, cmd):
    code, out, _ = run(capsys, cmd, "-f", "json")
    rows = json.loads(out)
    assert code == 0 and len(rows) >= 30
    code, out, _ = run(capsys, cmd, "llama" if cmd == "models" else "h100", "-f", "tsv")
    lines = out.splitlines()
    assert len(lines) > 1 and all(("llama" if cmd == "models" else "h100") in line.lower() for line in lines[1:])
