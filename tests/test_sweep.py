"""``inferwall sweep``: grid size, columns, --where/--sort/--top/--fits-only, streaming, progress, errors."""

from __future__ import annotations

import csv
import io
import json

import pytest

from cli_helpers import run

BASE = ["sweep", "--model", "llama-3.1-70b", "--gpu", "h100,h200", "--gpus", "1,2,4,8", "--batch", "1..64"]
GRID = 2 * 4 * 7


def rows_of(capsys, *argv):
    code, out, err = run(capsys, *argv, "-f", "jsonl")
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines()]


def test_row_count_equals_grid_size_in_every_format(capsys):
    code, out, _ = run(capsys, *BASE)
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == GRID + 1 and lines[0].split("\t")[:3] == ["model", "gpu", "gpus"]  # piped: TSV
    code, out, _ = run(capsys, *BASE, "-f", "csv")
    assert len(list(csv.DictReader(io.StringIO(out)))) == GRID
    code, out, _ = run(capsys, *BASE, "-f", "json")
    assert len(json.loads(out)) == GRID
    assert len(rows_of(capsys, *BASE)) == GRID
    code, out, _ = run(capsys, *BASE, "-f", "markdown")
    assert len(out.splitlines()) == GRID + 2
    code, out, _ = run(capsys, *BASE, "-f", "yaml")
    import yaml

    assert len(yaml.safe_load(out)) == GRID
    code, out, _ = run(capsys, *BASE, "-f", "table")
    assert code == 0 and "…" not in out and "latency.tpot_s" in out


def test_ranges_and_grid_order(capsys):
    rows = rows_of(capsys, "sweep", "-m", "llama-3.1-8b", "--batch", "1..16", "--input-tokens", "128..512:128",
                   "-c", "batch,input_tokens")
    assert [(r["batch"], r["input_tokens"]) for r in rows[:4]] == [(1, 128), (1, 256), (1, 384), (1, 512)]
    assert sorted({r["batch"] for r in rows}) == [1, 2, 4, 8, 16] and len(rows) == 20


def test_rows_equal_estimate_json(capsys):
    rows = rows_of(capsys, *BASE, "-c", "all")
    row = next(r for r in rows if r["gpu"] == "nvidia-h200-sxm-141gb" and r["gpus"] == 4 and r["batch"] == 16)
    code, out, _ = run(capsys, "estimate", "--model", "llama-3.1-70b", "--gpu", "h200", "--gpus", "4", "--batch", "16",
                       "-f", "json")
    est = json.loads(out)
    for key, value in est["scenario"].items():
        assert row[key] == value
    for section in ("prefill", "decode", "memory", "latency", "throughput", "cost", "bounds"):
        for key, value in est[section].items():
            assert row[f"{section}.{key}"] == value, (section, key)
    assert row["notes"] == "; ".join(est["notes"])


def test_columns_by_json_name_and_alias(capsys):
    code, out, _ = run(capsys, *BASE, "-c", "gpu,batch,tpot_s,decode.bound,fits", "-f", "tsv")
    assert out.splitlines()[0] == "gpu\tbatch\tlatency.tpot_s\tdecode.bound\tmemory.fits"
    code, out, err = run(capsys, *BASE, "-c", "gpu,tpot")
    assert code == 2 and out == "" and "unknown column 'tpot'; did you mean tpot_s" in err


def test_default_columns_add_the_varied_flags(capsys):
    code, out, _ = run(capsys, "sweep", "-m", "llama-3.1-8b", "--mfu", "0.4,0.6")
    header = out.splitlines()[0].split("\t")
    assert header[:2] == ["model", "gpu"] and header[-1] == "mfu"


def test_where_sort_top(capsys):
    everything = rows_of(capsys, *BASE, "-c", "all")
    kept = rows_of(capsys, *BASE, "-c", "all", "--where", "tpot_s<0.02", "--where", "decode.bound==memory")
    expected = [r for r in everything if r["latency.tpot_s"] < 0.02 and r["decode.bound"] == "memory"]
    assert kept == expected and 0 < len(kept) < GRID

    ranked = rows_of(capsys, *BASE, "-c", "all", "--sort", "-throughput.output_tokens_per_s")
    values = [r["throughput.output_tokens_per_s"] for r in ranked]
    assert values == sorted(values, reverse=True) and len(ranked) == GRID

    top = rows_of(capsys, *BASE, "-c", "all", "--where", "tpot_s<0.05", "--sort", "usd_per_million_output_tokens",
                  "--top", "3")
    cheapest = sorted((r for r in everything if r["latency.tpot_s"] < 0.05),
                      key=lambda r: r["cost.usd_per_million_output_tokens"])[:3]
    assert top == cheapest

    first = rows_of(capsys, *BASE, "-c", "all", "--top", "5")
    assert first == everything[:5]


def test_fits_only(capsys):
    everything = rows_of(capsys, *BASE, "-c", "gpu,gpus,batch,fits")
    fits = rows_of(capsys, *BASE, "-c", "gpu,gpus,batch,fits", "--fits-only")
    assert fits == [r for r in everything if r["memory.fits"]]
    assert 0 < len(fits) < len(everything)


def test_no_match_is_a_note_not_an_error(capsys):
    code, out, err = run(capsys, *BASE, "--where", "tpot_s<0", "-f", "tsv")
    assert code == 0 and len(out.splitlines()) == 1 and "no configuration matched tpot_s<0" in err


@pytest.mark.parametrize("argv, needle", [
    (["--where", "tpot<1"], "unknown --where column 'tpot'"),
    (["--where", "bound==memory"], "ambiguous --where column 'bound'"),
    (["--sort", "nope"], "unknown --sort column"),
    (["--batch", "8..1"], "--batch: empty range '8..1'"),
    (["--batch", "1..x"], "--batch: expected a whole number"),
    (["--gpu", "h100,h1000"], "unknown GPU 'h1000'"),
    (["--top", "0"], "--top"),
])
def test_bad_input_exit_2_one_line(capsys, argv, needle):
    code, out, err = run(capsys, *BASE, *argv)
    assert code == 2 and out == "" and needle in err and len(err.strip().splitlines()) == 1


def test_invalid_configuration_fails_before_any_output_or_is_skipped(capsys):
    code, out, err = run(capsys, "sweep", "-m", "llama-3.1-70b", "--tp", "1..8:1")
    assert code == 2 and out == ""
    assert "tp=3 does not divide" in err and "(configuration --tp 3;" in err and len(err.strip().splitlines()) == 1
    code, out, err = run(capsys, "sweep", "-m", "llama-3.1-70b", "--tp", "1..8:1", "--skip-invalid", "-c", "tp")
    assert code == 0 and out.split() == ["tp", "1", "2", "4", "8"]
    assert "skipped 4 invalid configurations of 8" in err


def test_notes_are_counted_once(capsys):
    code, out, err = run(capsys, "sweep", "-m", "llama-3.1-8b", "--gpu", "h100,mi300x", "--batch", "1,2")
    assert code == 0
    assert err.count("no price for amd-mi300x") == 1 and "(2 of 4 configurations)" in err


def test_rows_stream_as_they_are_computed(capsys, monkeypatch):
    import sys

    import inferwall.core as core

    calls = {"n": 0}
    real = core.estimate

    def counting(*a, **k):
        calls["n"] += 1
        return real(*a, **k)

    monkeypatch.setattr(core, "estimate", counting)
    writes: list[tuple[int, str]] = []
    real_write = sys.stdout.write
    monkeypatch.setattr(sys.stdout, "write", lambda s: (writes.append((calls["n"], s)), real_write(s))[1])
    code, out, _ = run(capsys, *BASE, "-f", "jsonl")
    assert code == 0
    assert writes[0][0] == 1  # the first row went out right after the first estimate, not after all of them
    assert calls["n"] == GRID


def test_progress_bar_only_on_a_terminal(capsys, monkeypatch):
    from inferwall.cli.commands import sweep

    code, _, err = run(capsys, *BASE)
    assert "\r" not in err  # piped: no progress
    monkeypatch.setattr(sweep, "PROGRESS_MIN_CONFIGURATIONS", 10)
    monkeypatch.setattr(sweep, "_isatty", lambda stream: stream is __import__("sys").stderr)
    monkeypatch.setattr(sweep.Progress, "step", lambda self: (setattr(self, "done", self.done + 1), self.draw()))
    code, out, err = run(capsys, *BASE)
    assert code == 0 and len(out.splitlines()) == GRID + 1
    assert "sweep: [" in err and f"{GRID}/{GRID}" in err and err.count("\r\x1b[K") == 1


def test_catalog_flag(capsys, tmp_path):
    extra = tmp_path / "mine.yaml"
    extra.write_text("accelerators:\n  - id: my-gpu\n    memory: {capacity: 96GiB, bandwidth: 4TB/s}\n"
                     "    compute: {bf16: 1000TFLOPS}\n    price: {usd_per_hour: 2}\n")
    rows = rows_of(capsys, "sweep", "-m", "llama-3.1-8b", "--gpu", "h100,my-gpu", "--catalog", str(extra), "-c", "gpu")
    assert [r["gpu"] for r in rows] == ["nvidia-h100-sxm-80gb", "my-gpu"]
