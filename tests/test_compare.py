"""``inferwall compare``: columns equal estimate's values; every flag takes a list and has an effect."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from inferwall.fields import FIELDS
from cli_helpers import run

GPUS = ["h100", "h200", "mi300x", "b200"]
ISSUE = ["compare", "--model", "llama-3.1-70b", "--gpu", ",".join(GPUS), "--gpus", "8", "--batch", "64"]


def estimate_json(capsys, gpu):
    code, out, _ = run(capsys, "estimate", "--model", "llama-3.1-70b", "--gpu", gpu, "--gpus", "8", "--batch", "64",
                       "-f", "json")
    assert code == 0
    return json.loads(out)


def test_json_columns_equal_estimate_json(capsys):
    code, out, err = run(capsys, *ISSUE, "-f", "json")
    assert code == 0
    records = json.loads(out)
    assert len(records) == 4
    for gpu, record in zip(GPUS, records):
        assert record == estimate_json(capsys, gpu)
    assert "note [mi300x]: no price for amd-mi300x" in err


def test_tsv_is_estimate_tsv_side_by_side(capsys):
    code, out, _ = run(capsys, *ISSUE)  # piped: TSV
    lines = [line.split("\t") for line in out.splitlines()]
    assert lines[0] == ["key", *GPUS]
    table = {row[0]: row[1:] for row in lines[1:]}
    for i, gpu in enumerate(GPUS):
        code, est, _ = run(capsys, "estimate", "--model", "llama-3.1-70b", "--gpu", gpu, "--gpus", "8", "--batch", "64")
        for key, value in (line.split("\t") for line in est.splitlines()[1:]):
            assert table[key][i] == value, (gpu, key)
    assert float(table["latency.tpot_s"][0]) > float(table["latency.tpot_s"][3])  # b200 is faster than h100


def test_csv_markdown_jsonl_yaml(capsys):
    code, out, _ = run(capsys, *ISSUE, "-f", "csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["key", *GPUS] and all(len(r) == 5 for r in rows)
    code, out, _ = run(capsys, *ISSUE, "-f", "markdown")
    assert out.startswith("| key | h100 | h200 | mi300x | b200 |\n|---|")
    code, out, _ = run(capsys, *ISSUE, "-f", "jsonl")
    assert [json.loads(line)["scenario"]["gpu"] for line in out.splitlines()] == [
        "nvidia-h100-sxm-80gb", "nvidia-h200-sxm-141gb", "amd-mi300x", "nvidia-b200"]
    code, out, _ = run(capsys, *ISSUE, "-f", "yaml")
    import yaml

    assert len(yaml.safe_load(out)) == 4


def test_table_highlights_differences(capsys, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    code, out, _ = run(capsys, "compare", "-m", "llama-3.1-8b", "--gpu", "h100,h200", "-f", "table")
    assert code == 0 and "…" not in out
    lines = out.splitlines()
    gpu_line = next(line for line in lines if "nvidia-h200" in line)
    model_line = next(line for line in lines if "llama-3.1-8b" in line)
    assert "\x1b[1;33m" in gpu_line  # differs: bold yellow
    assert "\x1b[1;33m" not in model_line  # same in both columns


def test_table_is_never_truncated(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    code, out, _ = run(capsys, *ISSUE, "-f", "table")
    assert code == 0 and "…" not in out and "nvidia-h200-sxm-141gb" in out and "$ per M output tokens" in out


def test_several_lists_combine(capsys):
    code, out, _ = run(capsys, "compare", "-m", "llama-3.1-8b", "--gpu", "h100,h200", "--batch", "1,8")
    assert out.splitlines()[0].split("\t") == ["key", "gpu=h100 batch=1", "gpu=h100 batch=8", "gpu=h200 batch=1",
                                               "gpu=h200 batch=8"]


def test_too_many_columns(capsys):
    code, out, err = run(capsys, "compare", "-m", "llama-3.1-8b", "--batch", "1..100:1")
    assert code == 2 and out == "" and "use 'inferwall sweep'" in err


def test_bad_value_is_one_line_exit_2(capsys):
    code, out, err = run(capsys, "compare", "-m", "llama-3.1-8b", "--gpu", "h100,h1000")
    assert code == 2 and out == "" and "unknown GPU 'h1000'; did you mean h100" in err
    assert len(err.strip().splitlines()) == 1


# Every estimate flag takes a list in compare and changes the result.
ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "tests" / "configs"
SHAPE = {"--layers": "32", "--heads": "32", "--kv-heads": "8", "--head-dim": "128"}


def bare(without: str = "", *extra: str) -> list[str]:
    """A --params model with an attention shape, leaving out one shape flag."""
    return ["--params", "7B", *[x for k, v in SHAPE.items() if k != without for x in (k, v)], *extra]

VALUES = {
    "model": ([], "llama-3.1-8b,llama-3.1-70b"),
    "params": ([], "7B,70B"),
    "active_params": (["--params", "70B"], "7B,13B"),
    "layers": (bare("--layers"), "16,32"),
    "hidden": (bare("", "--gpus", "2"), "2048,4096"),
    "heads": (bare("--heads"), "32,64"),
    "kv_heads": (bare("--kv-heads"), "8,32"),
    "head_dim": (bare("--head-dim"), "64,128"),
    "gpu": (["-m", "llama-3.1-8b"], "h100,h200"),
    "flops": (["-m", "llama-3.1-8b"], "500TFLOPS,1000TFLOPS"),
    "bandwidth": (["-m", "llama-3.1-8b"], "2TB/s,3TB/s"),
    "memory": (["-m", "llama-3.1-8b"], "40GB,80GB"),
    "price": (["-m", "llama-3.1-8b"], "1,$2/h"),
    "link_bandwidth": (["-m", "llama-3.1-70b", "--gpus", "8"], "100GB/s,900GB/s"),
    "gpus": (["-m", "llama-3.1-8b"], "1,2"),
    "tp": (["-m", "llama-3.1-70b", "--gpus", "8"], "4,8"),
    "pp": (["-m", "llama-3.1-70b"], "1,2"),
    "dp": (["-m", "llama-3.1-8b"], "1,2"),
    "ep": (["-m", "mixtral-8x7b", "--gpus", "8"], "1,2"),
    "batch": (["-m", "llama-3.1-8b"], "1,max"),
    "input_tokens": (["-m", "llama-3.1-8b"], "128,256"),
    "output_tokens": (["-m", "llama-3.1-8b"], "64,128"),
    "precision": (["-m", "llama-3.1-8b"], "bf16,fp8"),
    "weights": (["-m", "llama-3.1-8b"], "bf16,int4"),
    "kv": (["-m", "llama-3.1-8b"], "bf16,fp8"),
    "compute": (["-m", "llama-3.1-8b", "--precision", "fp8"], "bf16,fp8"),
    "mfu": (["-m", "llama-3.1-8b"], "0.3,0.6"),
    "mbu": (["-m", "llama-3.1-8b"], "0.5,80%"),
    "link_efficiency": (["-m", "llama-3.1-70b", "--gpus", "8"], "0.5,0.9"),
    "overhead": (["-m", "llama-3.1-8b"], "0,2ms"),
    "layer_overhead": (["-m", "llama-3.1-8b"], "0,50us"),
    "collective_latency": (["-m", "llama-3.1-70b", "--gpus", "8"], "1us,50us"),
    "reserve": (["-m", "llama-3.1-8b"], "1GiB,4GiB"),
    "memory_fraction": (["-m", "llama-3.1-8b"], "0.8,0.9"),
    "engine": (["-m", "llama-3.1-8b", "--batch", "64"], "vllm,trtllm"),
    "engine_file": (["-m", "llama-3.1-8b", "--batch", "64"],
                    f"{CONFIGS}/engine-slow-host.yaml,{ROOT}/specs/engines/sglang.yaml"),
    "batching": (["-m", "llama-3.1-8b", "--batch", "64"], "continuous,static"),
    "num_requests": (["-m", "llama-3.1-8b", "--batch", "max"], "300,3000"),
    "max_running_requests": (["-m", "llama-3.1-8b", "--batch", "max"], "64,256"),
    "cuda_graph_max_batch": (["-m", "llama-3.2-1b", "--gpu", "b200", "--batch", "2"], "1,512"),
    "chunked_prefill": (["-m", "llama-3.1-8b", "--batch", "8", "-i", "16384"], "on,off"),
    "token_budget": (["-m", "llama-3.1-8b", "--batch", "32", "-i", "4096"], "2048,8192"),
    "quant": (["-m", "llama-3.1-8b"], "modelopt-fp8,awq-int4"),
}


def _results(record):
    return {k: v for k, v in record.items() if k not in ("sources", "notes")}


@pytest.mark.parametrize("f", [f for f in FIELDS if not f.is_switch], ids=lambda f: f.name)
def test_every_flag_takes_a_list_and_has_an_effect(capsys, f):
    base, values = VALUES[f.name]
    code, out, err = run(capsys, "compare", *base, f.flag, values, "-f", "json")
    assert code == 0, err
    first, second = json.loads(out)
    assert _results(first) != _results(second), f.flag


def test_ideal_switch_applies_to_every_column(capsys):
    code, out, _ = run(capsys, "compare", "-m", "llama-3.1-8b", "--gpu", "h100,h200", "--ideal", "-f", "json")
    assert all(r["scenario"]["mfu"] == 1.0 and r["scenario"]["host_per_iteration_s"] == 0
               and r["scenario"]["engine"] == "ideal" for r in json.loads(out))
