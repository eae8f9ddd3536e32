"""Where the issue-12 quantities show: --explain lines, the estimate table, sweep and compare columns."""

from __future__ import annotations

import csv
import io
import json

from cli_helpers import run, run_json

ALL = ["-m", "llama-3.1-70b", "--gpus", "16", "--disaggregate", "1P1D", "--batch", "64", "--speculative", "3",
       "--acceptance", "0.7", "--prefix-hit", "0.5", "--kv-offload", "host"]


def test_explain_derives_every_feature_with_its_numbers(capsys):
    code, out, err = run(capsys, "estimate", *ALL, "--explain", "-f", "markdown")
    assert code == 0
    r, _ = run_json(capsys, "estimate", *ALL)
    for heading in ("## Speculative decoding", "## Prefix cache", "## KV offload (host)",
                    "## Disaggregated prefill and decode"):
        assert heading in out
    sp = r["speculative"]
    assert f"= **{sp['tokens_per_step']:.4g}** tokens per sequence" in out
    assert "(1 − 0.7^4) / (1 − 0.7)" in out
    assert f"{r['disaggregation']['balanced_prefill_per_decode']:.3g} prefill instances per decode instance" in out
    assert "$/hour = GPUs × $/GPU-hour = 16 ×" in out  # both pools' GPUs


def test_the_estimate_table_has_a_features_section(capsys):
    code, out, _ = run(capsys, "estimate", *ALL, "-f", "table")
    assert code == 0
    assert "Speculative decoding, prefix cache, disaggregation" in out
    assert "tokens per verification step" in out and "$ per M cached input tokens" in out
    assert "1P (--tp 8) + 1D (--tp 8)" in out
    code, plain, _ = run(capsys, "estimate", "-m", "llama-3.1-8b", "-f", "table")
    assert "Speculative decoding, prefix cache, disaggregation" not in plain


def test_sweep_columns_come_from_the_json_keys(capsys):
    code, out, err = run(capsys, "sweep", "-m", "llama-3.1-8b", "--speculative", "2", "--acceptance", "0.5,0.9",
                         "--columns", "acceptance,speculative.tokens_per_step,latency.tpot_s,speculative.breakeven_batch",
                         "-f", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [float(r["speculative.tokens_per_step"]) for r in rows] == [1.75, 2.71]
    code, out, err = run(capsys, "sweep", "-m", "llama-3.1-8b", "--gpus", "4", "--disaggregate", "1P1D,1P3D",
                         "--batch", "32", "--columns", "disaggregation,disaggregation.decode_instances,kv_transfer_s",
                         "-f", "json")
    assert code == 0, err
    rows = json.loads(out)
    assert [r["disaggregation"] for r in rows] == ["1P1D", "1P3D"]
    assert [r["disaggregation.decode_instances"] for r in rows] == [1, 3]
    assert all(r["disaggregation.kv_transfer_s"] > 0 for r in rows)
    # a varying flag's column is in the default set
    code, out, _ = run(capsys, "sweep", "-m", "llama-3.1-8b", "--prefix-hit", "0,0.5", "-f", "csv")
    assert "prefix_hit" in out.splitlines()[0].split(",")


def test_compare_lists_the_new_keys_side_by_side(capsys):
    code, out, _ = run(capsys, "compare", "-m", "llama-3.1-8b", "--prefix-hit", "0,0.9", "-f", "tsv")
    assert code == 0
    table = {line.split("\t")[0]: line.split("\t")[1:] for line in out.splitlines()[1:]}
    assert table["cost.usd_per_million_cached_input_tokens"][0] in ("", "null")
    assert float(table["cost.usd_per_million_cached_input_tokens"][1]) > 0
    assert float(table["prefix_cache.hit_rate"][1]) == 0.9


def test_the_compare_table_shows_feature_rows_only_when_used(capsys):
    code, out, _ = run(capsys, "compare", "-m", "llama-3.1-8b", "--speculative", "3", "--acceptance", "0.5,0.9",
                       "-f", "table")
    assert code == 0 and "tokens per verification step" in out and "KV transfer per request" not in out
    code, out, _ = run(capsys, "compare", "-m", "llama-3.1-8b", "--gpu", "h100,h200", "-f", "table")
    assert "tokens per verification step" not in out
