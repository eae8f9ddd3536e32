"""Calibration: the shipped fit, the parameters it moved, the error bands, and `inferwall calibrate` on user rows.

The shared rows run through the same path as `inferwall estimate` (Options -> build -> estimate); nothing here is a
stored prediction. Accuracy guards are regressions bounds around the figures docs/validation.md reports, not the
targets themselves (those are printed by `python scripts/calibrate.py`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml

from cli_helpers import run
from inferwall.calibration.fit import Predictor, band_coverage, error_bands, shipped_state, summary
from inferwall.calibration.rows import (BATCH1, FTL, MAXT_15, MAXT_19, STATIC, Resolver, cases_from_rows,
                                        trtllm_bench_limits, vllm_bench_rows)
from inferwall.catalog import load_catalog, profiles

from shared_data import CALIBRATION, CALIBRATION_V19, needs, require

REPO = Path(__file__).resolve().parents[1]
FILES = [CALIBRATION, CALIBRATION_V19]
needs_data = needs(CALIBRATION)  # and CALIBRATION_V19 beside it
# Regression bounds: the shipped medians (docs/validation.md) plus slack for honest changes elsewhere.
BOUNDS = {MAXT_15: 14.0, MAXT_19: 14.0, FTL: 14.0, BATCH1: 8.0, STATIC: 20.0}


@pytest.fixture(scope="module")
def shipped():
    for f in FILES:
        require(f)
    catalog = load_catalog()
    cases, skipped = [], []
    for f in FILES:
        c, s = cases_from_rows(yaml.safe_load(f.read_text(encoding="utf-8")), catalog, f.name)
        cases += c
        skipped += s
    state = shipped_state(("trtllm", "trtllm-cpp", "gptfast"))
    return catalog, cases, skipped, Predictor(catalog).evaluate(cases, state)


@needs_data
@pytest.mark.parametrize("group", list(BOUNDS))
def test_shipped_medians_stay_near_the_documented_figures(shipped, group):
    _, _, _, results = shipped
    rows = [r for r in results if r.case.group == group]
    assert rows, group
    s = summary(rows)
    assert s["median_pct"] <= BOUNDS[group], f"{group}: median {s['median_pct']:.1f} %"
    assert 0.8 <= s["bias"] <= 1.25, f"{group}: bias {s['bias']:.2f}"


@needs_data
def test_every_row_is_predicted_or_skipped_with_a_reason(shipped):
    _, cases, skipped, results = shipped
    rows = sum(len(yaml.safe_load(f.read_text(encoding="utf-8"))) for f in FILES)
    assert len(cases) + len(skipped) == rows
    assert all(s.reason for s in skipped)
    assert all(math.isfinite(r.predicted) and r.predicted > 0 for r in results)
    # the v0.19 table is expressed in full: TensorRT-LLM's ModelOpt checkpoints on H100, H200 and B200
    assert sum(1 for r in results if r.case.group == MAXT_19) == 134


@needs_data
def test_error_bands_are_honest_on_the_calibration_rows(shipped):
    _, _, _, results = shipped
    bands = error_bands(results)
    coverage = band_coverage(results, bands)
    assert 0.75 <= coverage <= 0.9  # p80 bands: about 80 % of errors inside
    assert any(b["regime"].startswith("max-throughput, fp8, NVIDIA") for b in bands)


def test_shipped_calibration_stays_inside_the_priors_boxes():
    data = yaml.safe_load((REPO / "specs" / "calibrated.yaml").read_text(encoding="utf-8"))
    table = profiles.load_kernels(calibrated=False)
    moved = 0
    for arch, keys in data["kernels"].items():
        for key, node in keys.items():
            prior = table.architectures[arch][key]
            assert prior.box[0] <= node["value"] <= prior.box[1], (arch, key)
            assert node["prior"] == prior.value and "fitted" in node
            moved += 1
    for engine, keys in data["engines"].items():
        base = profiles.load_engine_prior(engine)
        for key, node in keys.items():
            assert base.params[key].box[0] <= node["value"] <= base.params[key].box[1], (engine, key)
            moved += 1
    assert 0 < moved <= 60  # few physical parameters, never per row
    assert set(data["error_bands"]) >= {"vllm", "trtllm", "sglang"}


def test_the_loaded_tables_carry_the_shipped_values():
    data = yaml.safe_load((REPO / "specs" / "calibrated.yaml").read_text(encoding="utf-8"))
    arch, keys = next(iter(data["kernels"].items()))
    key, node = next(iter(keys.items()))
    param = profiles.load_kernels().architectures[arch][key]
    assert param.value == node["value"] and param.fitted


def test_source_spellings_resolve_through_the_catalog():
    r = Resolver(load_catalog())
    assert r.gpu("H100 80GB HBM3") == "nvidia-h100-sxm-80gb"
    assert r.gpu("A100-SXM4-80GB") == "nvidia-a100-80gb-sxm"
    assert r.gpu("A100-PCIE-80GB") == "nvidia-a100-80gb-pcie"
    assert r.gpu("Intel Gaudi 2") == "intel-gaudi2"
    assert r.model("Llama 3.1 70B Instruct (nvidia/Llama-3.1-70B-Instruct-FP8)") == "llama-3.1-70b"
    assert r.model("LLaMA 7B (Llama-2-7b per build notes)") == "llama-2-7b"
    assert r.model("meta-llama/Llama-3.1-8B-Instruct") == "llama-3.1-8b"
    with pytest.raises(LookupError, match="not in the catalog"):
        r.model("Totally Unknown 3B")


def test_trtllm_bench_sizing_follows_its_rule():
    # specs/engines/trtllm.yaml bench_rules, Llama 3.1 70B FP8 on one H100 at 128/128: 0.95 x (80 GiB - 70.55 GB)
    # / (160 KiB per token x 256) = 229.8 requests -> rounded up to 32s: 256 (NVML's 79.65 GiB gives the
    # documented 224); tokens min(256 x 2, 32768) -> at least 2048. At 128/2048 only ~26 requests fit: 64.
    cat = load_catalog()
    assert trtllm_bench_limits(cat, "llama-3.1-70b", "h100", 1, 1, 128, 128, 1.0, 1.0, "0.15.0") == (256, 2048)
    assert trtllm_bench_limits(cat, "llama-3.1-70b", "h100", 1, 1, 128, 2048, 1.0, 1.0, "0.15.0") == (64, 2048)
    # from v0.19 a whole prompt must fit one iteration: tokens >= input + batch
    assert trtllm_bench_limits(cat, "llama-3.1-8b", "h100", 1, 1, 20000, 2000, 1.0, 1.0, "0.19.0")[1] >= 20000


def test_vllm_bench_json_becomes_rows():
    data = {"completed": 100, "total_input_tokens": 102400, "total_output_tokens": 25600, "output_throughput": 1234.5,
            "mean_ttft_ms": 80.0, "mean_tpot_ms": 20.0, "max_concurrency": 16, "num_prompts": 100,
            "model_id": "meta-llama/Llama-3.1-8B-Instruct", "backend": "vllm"}
    rows = vllm_bench_rows(data, "run.json", {"gpu": "h100", "tp": 1})
    assert [r["metric"] for r in rows] == ["vllm_output_throughput", "vllm_mean_ttft_ms", "vllm_mean_tpot_ms"]
    cases, skipped = cases_from_rows(rows, load_catalog(), "run.json")
    assert not skipped and {c.metric for c in cases} == {"output_tokens_per_s", "ttft_ms", "tpot_ms"}
    assert all(c.options["batch"] == 16 and c.options["input_tokens"] == 1024 for c in cases)


USER_ROWS = [
    {"id": f"r{i}", "group": "mine", "engine": "vLLM 0.11", "hardware": {"name": "H100 80GB HBM3", "count": 1},
     "model": {"name": "Llama 3.1 8B Instruct"}, "precision": {"weights": "bf16"}, "parallelism": {"tp": 1},
     "workload": {"batch": b, "input_len": 1024, "output_len": 256}, "metric": "tpot_ms", "value": v}
    for i, (b, v) in enumerate([(1, 7.8), (8, 8.6), (32, 11.5), (64, 15.0), (128, 22.0), (256, 36.0)])
] + [{"id": "bad", "group": "mine", "engine": "vLLM", "hardware": {"name": "H100"}, "model": {"name": "Nope 1B"},
      "precision": {"weights": "bf16"}, "parallelism": {"tp": 1}, "workload": {"batch": 1, "input_len": 8,
      "output_len": 8}, "metric": "tpot_ms", "value": 1.0}]


def test_calibrate_fits_writes_a_profile_and_lists_skipped_rows(capsys, tmp_path):
    rows = tmp_path / "rows.yaml"
    rows.write_text(yaml.safe_dump(USER_ROWS))
    out = tmp_path / "mine.yaml"
    code, stdout, err = run(capsys, "calibrate", str(rows), "--engine", "vllm", "--output", str(out), "--rounds", "2",
                            "-f", "json")
    assert code == 0, err
    report = json.loads(stdout)
    group = report["groups"][0]
    assert group["n"] == 6 and group["median_after"] < group["median_before"]  # the fit helps on its own rows
    assert [s["id"] for s in report["skipped"]] == ["bad"] and "not in the catalog" in err
    assert report["parameters"] and len(report["parameters"]) <= 2  # six rows afford two knobs
    profile = yaml.safe_load(out.read_text())
    assert profile["id"] == "vllm-calibrated" and profile["error_bands"] and profile["calibration"]["rows"] == 6
    # the written profile loads, and an estimate reports its band
    code, stdout, err = run(capsys, "estimate", "-m", "llama-3.1-8b", "--gpu", "h100", "--batch", "32",
                            "--engine-file", str(out), "-f", "json")
    assert code == 0, err
    d = json.loads(stdout)
    assert d["scenario"]["engine"] == "vllm-calibrated"
    assert d["error_band"]["regime"].startswith("fixed batch") and d["error_band"]["n"] == 5  # batch > 1 rows


def test_calibrate_with_no_usable_row_is_one_line_exit_2(capsys, tmp_path):
    rows = tmp_path / "rows.yaml"
    rows.write_text(yaml.safe_dump(USER_ROWS[-1:]))
    code, out, err = run(capsys, "calibrate", str(rows), "--output", str(tmp_path / "x.yaml"))
    assert code == 2 and out == "" and not (tmp_path / "x.yaml").exists()
    assert err.strip().splitlines()[-1].startswith("Error: no usable rows")


def test_a_profile_value_outside_its_box_names_file_field_and_range(capsys, tmp_path):
    data = yaml.safe_load((REPO / "specs" / "engines" / "vllm.yaml").read_text())
    data["host"]["per_request_s"]["value"] = 1.0
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    code, out, err = run(capsys, "estimate", "-m", "llama-3.1-8b", "--engine-file", str(bad))
    assert code == 2 and out == ""
    assert f"{bad}: host.per_request_s: 1.0 is outside its box; valid: 3e-06 to 3e-05" in err
    data["host"]["per_request_s"]["value"] = 1.0e-5
    del data["memory"]["fraction"]
    bad.write_text(yaml.safe_dump(data))
    code, _, err = run(capsys, "estimate", "-m", "llama-3.1-8b", "--engine-file", str(bad))
    assert code == 2 and "memory.fraction: missing" in err


def test_unknown_engine_names_the_valid_ones_with_a_did_you_mean(capsys):
    code, out, err = run(capsys, "estimate", "-m", "llama-3.1-8b", "--engine", "vlm")
    assert code == 2 and out == ""
    assert "unknown engine 'vlm'; did you mean vllm?" in err and "trtllm" in err
    assert len(err.strip().splitlines()) == 1
