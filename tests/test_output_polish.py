"""What people read: tables fit the terminal without cutting a number, one number style, capacities in GiB,
plurals, estimate as markdown, no inf or nan in any format, names from files cannot drive the terminal,
did-you-mean suggestions, and --strict (issue 14 items 5, 10, 14, 16-18, 20; issue 15 §14, §20)."""

from __future__ import annotations

import json
import math
import random
import re

import pytest

from cli_helpers import run, run_json
from inferwall.render import Format, printable, render_record
from inferwall.units import binary_bytes, number, plural, seconds

INF_OR_NAN = re.compile(r"(?<![A-Za-z_])(inf|nan)(?![A-Za-z_])", re.I)


@pytest.fixture(autouse=True)
def no_user_environment(monkeypatch, tmp_path):
    for name in ("COLUMNS", "INFERWALL_PRICE", "INFERWALL_GPU", "INFERWALL_FORMAT", "INFERWALL_CONFIG", "NO_COLOR",
                 "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-config"))


def widest(text: str) -> int:
    return max(len(line.rstrip()) for line in text.splitlines())


# --------------------------------------------------------------------------- item 16: terminal width


def test_scale_fits_columns_140_and_says_what_it_left_out(capsys, monkeypatch):
    """`scale` printed 240 columns at COLUMNS=140; now it fits, and no number is cut."""
    code, wide, _ = run(capsys, "scale", "-m", "llama-3.1-70b", "--gpus", "8", "-f", "table")
    assert code == 0 and widest(wide) > 140  # unlimited when piped without COLUMNS: every column
    monkeypatch.setenv("COLUMNS", "140")
    code, out, err = run(capsys, "scale", "-m", "llama-3.1-70b", "--gpus", "8", "-f", "table")
    assert code == 0 and widest(out) <= 140
    rows, _ = run_json(capsys, "scale", "-m", "llama-3.1-70b", "--gpus", "8")
    for r in rows:  # every row's cost, step time and utilization appear whole
        assert f"${r['usd_per_million_output_tokens']:,.2f}" in out or f"${r['usd_per_million_output_tokens']:.3g}" in out
        assert seconds(r["step_time_s"]) in out
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = run(capsys, "scale", "-m", "llama-3.1-70b", "--gpus", "8", "-f", "table")
    assert widest(out) <= 80
    assert re.search(r"note: \d+ columns left out to fit COLUMNS=80: concurrent, bandwidth util", err)


@pytest.mark.parametrize("columns", [60, 100, 140])
def test_every_table_fits_or_keeps_its_numbers(capsys, monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    for argv in (["estimate", "-m", "llama-3.1-70b", "--gpus", "8"],
                 ["sweep", "-m", "llama-3.1-70b", "--gpu", "h100,h200", "--gpus", "4,8", "--batch", "1,64"],
                 ["trend", "-m", "llama-3.1-70b", "--gpus", "8", "--batch", "64", "--years", "3"],
                 ["roofline", "-m", "llama-3.1-70b", "--gpu", "h100,h200", "--gpus", "8"],
                 ["plan", "-m", "llama-3.1-8b", "--users", "100", "--max-tpot", "50ms"],
                 ["bounds", "-m", "llama-3.1-70b", "--gpus", "8"],
                 ["gpus", "nvidia"]):
        code, out, err = run(capsys, *argv, "-f", "table")
        assert code == 0, err
        assert "…" not in out
        assert widest(out) <= max(columns, 80), (argv, widest(out))


def test_compare_wraps_configurations_into_tables_that_fit(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    code, out, err = run(capsys, "compare", "-m", "llama-3.1-70b", "--gpu", "h100,h200,mi300x,b200", "--gpus", "8",
                         "-f", "table")
    assert code == 0 and widest(out) <= 100
    assert "(in 2 tables to fit the width)" in out
    for gpu in ("nvidia-h100-sxm-80gb", "nvidia-h200-sxm-141gb", "amd-mi300x", "nvidia-b200"):
        assert gpu in out


def test_sweep_headers_keep_their_full_names(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    code, out, _ = run(capsys, "sweep", "-m", "llama-3.1-8b", "--batch", "1,2", "-f", "table",
                       "-c", "batch,cost.usd_per_million_output_tokens")
    header = "".join(out.split("─")[0].split())  # the header lines, joined without spaces
    assert "cost.usd_per_million_output_tokens" in header or widest(out) <= 100


# --------------------------------------------------------------------------- item 17: one number style, plurals


def test_number_style():
    assert number(56948.235) == "56,948" and number(189.926) == "189.9" and number(3.6) == "3.6"
    assert number(0.1234) == "0.123" and number(float("inf")) == "-" and number(None) == "-"
    assert plural(1, "GPU") == "1 GPU" and plural(8, "GPU") == "8 GPUs" and plural(1.0, "byte") == "1 byte"
    assert binary_bytes(80 * 2**30) == "80 GiB" and binary_bytes(1.5 * 2**20) == "1.5 MiB"


def test_tables_never_use_exponents_and_group_thousands(capsys):
    code, out, err = run(capsys, "bounds", "-m", "llama-3.1-70b", "--gpus", "8", "-f", "table")
    assert code == 0 and not re.search(r"\de[+-]\d", out + err)
    d, _ = run_json(capsys, "bounds", "-m", "llama-3.1-70b", "--gpus", "8")
    assert number(d["compute_forward_passes_per_s"]) in out
    assert "," in number(d["compute_forward_passes_per_s"])
    code, out, _ = run(capsys, "scale", "-m", "llama-3.1-70b", "--gpus", "8", "-f", "table")
    assert not re.search(r"\d,\d{3}\.\d", out)  # no "56,948.2" next to "5.695e+04"


def test_plurals(capsys):
    d, _ = run_json(capsys, "estimate", "-m", "llama-3.1-8b")
    assert d["memory"]["min_gpus"] == 1
    code, out, _ = run(capsys, "estimate", "-m", "llama-3.1-8b", "-f", "table")
    assert "1 GPU" in out and "1 GPUs" not in out
    code, _, err = run(capsys, "intensity", "-m", "bert-base", "--seq-len", "128", "--bytes-per-element", "1")
    assert "(s)" not in err
    code, _, err = run(capsys, "sweep", "-m", "llama-3.1-8b", "--tp", "3,4", "--skip-invalid", "-c", "tp")
    assert "skipped 1 invalid configuration of 2" in err


def test_params_are_integers_everywhere(capsys):
    d, _ = run_json(capsys, "estimate", "--params", "1.6T", "--gpus", "20", "--precision", "fp8")
    assert d["scenario"]["params"] == 1_600_000_000_000 and isinstance(d["scenario"]["params"], int)
    est, _ = run_json(capsys, "estimate", "-m", "llama-3.1-70b")
    assert isinstance(est["scenario"]["params"], int) and isinstance(est["scenario"]["active_params"], int)
    code, out, _ = run(capsys, "estimate", "-m", "llama-3.1-70b", "-f", "tsv")
    assert re.search(r"^scenario\.params\t\d+$", out, re.M)


# --------------------------------------------------------------------------- item 14: capacities in GiB


def test_memory_capacities_print_in_gib(capsys):
    d, _ = run_json(capsys, "estimate", "-m", "llama-3.1-8b")
    code, out, _ = run(capsys, "estimate", "-m", "llama-3.1-8b", "-f", "table")
    assert f"{d['memory']['weights_bytes_per_gpu'] / 2**30:.4g} GiB" in out
    assert "/ 80 GiB" in out  # the H100's 80 GiB, not "85.9 GB"
    assert "85.9 GB" not in out
    code, out, _ = run(capsys, "compare", "-m", "llama-3.1-8b", "--gpu", "h100,h200", "-f", "table")
    assert "GiB" in out and " GB " not in out.split("Memory per GPU")[1].split("Latency")[0]


# --------------------------------------------------------------------------- item 18: estimate as markdown


def test_estimate_markdown_is_the_human_table(capsys):
    code, out, _ = run(capsys, "estimate", "-m", "llama-3.1-70b", "--gpus", "8", "-f", "markdown")
    assert code == 0
    assert "### Time per phase (one replica)" in out and "| time per output token |" in out
    assert "| prefill | decode step |" in out
    assert len(out.splitlines()) < 100 and "scenario.mfu" not in out  # sections of rows, not the key/value dump
    code, explained, _ = run(capsys, "estimate", "-m", "llama-3.1-70b", "--gpus", "8", "-f", "markdown", "--explain")
    assert explained.startswith("# How inferwall estimated")  # --explain keeps its role


# --------------------------------------------------------------------------- issue 15 §14: no inf, no nan


def _poisoned_records(capsys, n: int = 25):
    """Real estimate records with random numbers replaced by inf, -inf or nan."""
    d, _ = run_json(capsys, "estimate", "-m", "llama-3.1-70b", "--gpus", "8", "--batch", "64")
    rng = random.Random(14)
    paths = [(section, key) for section, part in d.items() if isinstance(part, dict)
             for key, value in part.items() if isinstance(value, float)]
    for _ in range(n):
        record = json.loads(json.dumps(d))
        for section, key in rng.sample(paths, 8):
            record[section][key] = rng.choice([math.inf, -math.inf, math.nan])
        yield record


@pytest.mark.parametrize("fmt", [f for f in Format])
def test_no_renderer_prints_inf_or_nan(capsys, fmt):
    from inferwall.render.table import estimate_markdown, estimate_table

    for record in _poisoned_records(capsys):
        if fmt is Format.table:
            text = estimate_table(record)
        elif fmt is Format.markdown:
            text = estimate_markdown(record)
        else:
            text = render_record(fmt, record)
        assert not INF_OR_NAN.search(text), (fmt, INF_OR_NAN.search(text))


def test_overflow_is_null_with_a_note(capsys):
    from inferwall.core import estimate
    from inferwall.catalog import load_catalog
    from inferwall.inputs import Options, build
    from inferwall.render.record import estimate_record

    from dataclasses import replace

    # inputs refuse an overhead past an hour (core/limits.py); the core API can still be given one
    scenario = build(Options(model="llama-3.1-8b"), load_catalog()).scenario
    scenario = replace(scenario, efficiency=replace(scenario.efficiency, host_per_iteration_s=1e308))
    record = estimate_record(estimate(scenario))
    text = render_record(Format.json, record)
    data = json.loads(text)
    assert data["latency"]["e2e_s"] is None
    assert any("overflowed (not a finite number)" in n and "latency.e2e_s" in n for n in data["notes"])


def test_explain_never_says_inf(capsys):
    code, out, err = run(capsys, "estimate", "-m", "llama-3.1-8b", "--overhead", "1e308s", "--explain", "-f", "json")
    assert not INF_OR_NAN.search(err) and "inf×" not in err


# --------------------------------------------------------------------------- issue 15 §20: control characters


def test_control_characters_in_scenario_names_are_escaped(capsys, tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text('scenarios:\n  "evil\\e[2J\\u0007name":\n    model: llama-3.1-8b\n    assert: {max_tpot_s: 1}\n')
    for fmt in ("table", "markdown", "tsv", "csv"):
        code, out, err = run(capsys, "check", plan, "-f", fmt)
        assert code == 0, err
        assert "\x1b" not in out + err and "\x07" not in out + err
        assert "evil\\x1b[2J\\x07name" in out


def test_control_characters_in_catalog_names_are_escaped(capsys, tmp_path):
    extra = tmp_path / "mine.yaml"
    extra.write_text('accelerators:\n  - id: my-gpu\n    name: "Evil\\e]0;pwned\\aGPU"\n'
                     "    memory: {capacity: 96GiB, bandwidth: 4TB/s}\n    compute: {bf16: 1000TFLOPS}\n")
    for fmt in ("table", "markdown", "tsv", "csv"):
        code, out, err = run(capsys, "gpus", "my-gpu", "--catalog", extra, "-f", fmt)
        assert code == 0, err
        assert "\x1b" not in out and "\x07" not in out and "Evil\\x1b]0;pwned\\x07GPU" in out
    assert printable("a\nb\ud800") == "a\\nb\\ud800"


# --------------------------------------------------------------------------- item 20: did you mean


def test_gpu_suggestions_rank_shared_words_first(capsys):
    code, _, err = run(capsys, "estimate", "-m", "llama-3.1-8b", "--gpu", "nvidia-h100")
    assert code == 2 and "did you mean nvidia-h100-sxm-80gb," in err


def test_sort_and_columns_suggest(capsys):
    code, _, err = run(capsys, "sweep", "-m", "llama-3.1-8b", "--batch", "1,2", "--sort", "cost")
    assert code == 2 and "unknown --sort column 'cost'; did you mean cost." in err
    code, out, err = run(capsys, "sweep", "-m", "llama-3.1-8b", "--batch", "1,2", "-c", "precision,batch")
    assert code == 0 and out.splitlines()[0] == "weights_dtype\tkv_dtype\tcompute_dtype\tbatch"
    code, _, err = run(capsys, "sweep", "-m", "llama-3.1-8b", "--batch", "1,2", "--sort", "precision")
    assert code == 2 and "weights_dtype, kv_dtype or compute_dtype" in err


def test_equals_is_not_a_where_operator(capsys):
    code, out, err = run(capsys, "sweep", "-m", "llama-3.1-8b", "--batch", "1,2", "--where", "tpot_s=10ms")
    assert code == 2 and out == ""
    assert "'=' is not an operator" in err and "tpot_s==10ms" in err and "tpot_s<=10ms" in err
    assert len(err.strip().splitlines()) == 1


def test_compare_says_plainly_it_has_no_chart(capsys):
    code, out, err = run(capsys, "compare", "-m", "llama-3.1-8b", "--gpu", "h100,h200", "--chart")
    assert code == 2 and out == "" and err.startswith("Error: compare has no chart")
    assert "Possible options" not in err and "inferwall roofline --gpu h100,h200 --chart" in err


# --------------------------------------------------------------------------- item 10: compare --skip-invalid


def test_compare_skip_invalid(capsys):
    code, out, err = run(capsys, "compare", "-m", "llama-3.1-8b", "--tp", "3,4")
    assert code == 2 and "--skip-invalid leaves such ones out" in err
    d, err = run_json(capsys, "compare", "-m", "llama-3.1-8b", "--tp", "3,4", "--skip-invalid")
    assert [r["scenario"]["tp"] for r in d] == [4]
    assert "skipped 1 invalid configuration of 2; the first: --tp 3: tp=3 does not divide" in err


# --------------------------------------------------------------------------- item 5: context and --strict


def test_a_context_longer_than_the_model_warns_or_fails_with_strict(capsys):
    d, err = run_json(capsys, "estimate", "-m", "llama-3.1-8b", "--input-tokens", "200000")
    assert "is longer than the 131,072 tokens llama-3.1-8b supports" in err
    assert any("131,072" in n for n in d["notes"])
    code, out, err = run(capsys, "estimate", "-m", "llama-3.1-8b", "--input-tokens", "200000", "--strict")
    assert code == 2 and out == "" and err.startswith("Error: the context, 200,000 input + 256 output")
    d, err = run_json(capsys, "estimate", "-m", "llama-3.1-8b", "--input-tokens", "100000", "--strict")
    assert "longer than" not in err


def test_a_hugging_face_config_carries_its_context(capsys):
    code, _, err = run(capsys, "estimate", "-m", "tests/configs/llama-3.1-8b.json", "--input-tokens", "140000",
                       "--strict")
    assert code == 2 and "131,072 tokens" in err


def test_plan_warns_where_the_result_is_used(capsys):
    code, _, err = run(capsys, "plan", "-m", "bert-base", "--users", "100", "--max-tpot", "50ms",
                       "--input-tokens", "512", "-f", "tsv")
    assert code == 0 and "is an encoder: it generates no tokens one by one, so --max-tpot has nothing to bound" in err
    # a 120k-token prompt takes seconds to prefill even as an in-flight batching engine chunks it
    long = ["plan", "-m", "llama-3.1-70b", "--output-tokens-per-s", "2000", "--max-tpot", "200ms",
            "--input-tokens", "120000", "-f", "json"]
    code, out, err = run(capsys, *long)
    slowest = max(r["ttft_s"] for r in json.loads(out))
    assert slowest >= 10 and f"no --max-ttft was given, and the first token takes up to {seconds(slowest)}" in err
    code, out, err = run(capsys, *long, "--max-ttft", "60s")
    assert "no --max-ttft" not in err
