"""``inferwall intensity``: the Kim et al. 2023 per-operator accounting through the CLI.

The accounting itself is tested exhaustively against every published cell in tests/test_intensity.py; here a
few published rows are checked end to end through the catalog models and the JSON output.
"""

from __future__ import annotations

import json

import pytest

from inferwall.render import Format
from cli_helpers import run

KEYS = {"model", "seq_len", "operator", "flops", "bytes", "arithmetic_intensity"}
OPERATORS = ["attention_projections", "attention_matmuls", "ffn", "other", "total"]

FORMATS = [f.value for f in Format]


def rows_for(capsys, *argv) -> tuple[dict[tuple[int, str], dict], str]:
    code, out, err = run(capsys, "intensity", *argv, "-f", "json")
    assert code == 0, err
    rows = json.loads(out)
    assert all(set(r) == KEYS for r in rows)
    return {(r["seq_len"], r["operator"]): r for r in rows}, err


def test_json_rows_and_total_is_the_sum(capsys):
    rows, _ = rows_for(capsys, "-m", "gpt2", "--seq-len", "128,1024")
    assert [op for (n, op) in rows if n == 128] == OPERATORS
    for n in (128, 1024):
        parts = [rows[(n, op)] for op in OPERATORS[:-1]]
        total = rows[(n, "total")]
        assert total["flops"] == pytest.approx(sum(p["flops"] for p in parts))
        assert total["bytes"] == pytest.approx(sum(p["bytes"] for p in parts))
        assert total["arithmetic_intensity"] == pytest.approx(total["flops"] / total["bytes"])
        assert total["model"] == "gpt2-124m"


# Published values (Kim et al. 2023, arXiv:2302.14017v1), 8-bit: (GFLOPs, GB moved, FLOPs/byte); None = not checked.
PUBLISHED = [
    ("bert-base", 128, "total", (22.42, 0.14, 159.68)),  # Table 3
    ("bert-base", 512, "total", (97.02, 0.42, 231.0)),  # Table 3
    ("bert-base", 4096, "ffn", (463.86, 0.43, 1068.52)),  # Table 3
    ("bert-large", 128, "total", (None, None, 171)),  # Fig. 6
    ("bert-large", 512, "total", (None, None, 266)),  # Fig. 6
    ("bert-large", 4096, "total", (None, 29.9, None)),  # Fig. 5
    ("gpt2", 512, "total", (92.15, 46.17, 2.00)),  # Table 11
    ("gpt2", 4096, "total", (1012.04, 507.80, 1.99)),  # Table 11
    ("gpt2", 4096, "attention_matmuls", (309.24, 155.98, 1.98)),  # Table 11
]


@pytest.mark.parametrize("model, seq_len, operator, published", PUBLISHED)
def test_reproduces_kim_rows_within_5_percent(capsys, model, seq_len, operator, published):
    rows, _ = rows_for(capsys, "-m", model, "--seq-len", str(seq_len))
    row = rows[(seq_len, operator)]
    gflops, gbytes, ai = published
    if gflops is not None:
        assert row["flops"] / 1e9 == pytest.approx(gflops, rel=0.05)
    if gbytes is not None:
        assert row["bytes"] / 1e9 == pytest.approx(gbytes, rel=0.05)
    if ai is not None:
        assert row["arithmetic_intensity"] == pytest.approx(ai, rel=0.05)


def test_encoder_against_decoder(capsys):
    enc, err = rows_for(capsys, "-m", "bert-base", "--seq-len", "1024")
    assert enc[(1024, "total")]["arithmetic_intensity"] > 50 and "as an encoder" in err
    dec, err = rows_for(capsys, "-m", "bert-base", "--seq-len", "1024", "--mode", "decoder")
    assert dec[(1024, "total")]["arithmetic_intensity"] < 3 and "as a decoder" in err
    assert dec[(1024, "ffn")]["flops"] == enc[(1024, "ffn")]["flops"]


def test_precision_scales_bytes(capsys):
    one, _ = rows_for(capsys, "-m", "gpt2", "--seq-len", "256")
    two, _ = rows_for(capsys, "-m", "gpt2", "--seq-len", "256", "--precision", "bf16")
    assert two[(256, "total")]["bytes"] == pytest.approx(2 * one[(256, "total")]["bytes"])
    assert two[(256, "total")]["flops"] == one[(256, "total")]["flops"]


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "json"])
def test_every_format_renders(capsys, fmt):
    code, out, err = run(capsys, "intensity", "-m", "bert-base", "-s", "128,4096", "-f", fmt)
    assert code == 0 and out.strip() and "…" not in out, err


@pytest.mark.parametrize("argv, needle", [
    (["intensity", "-m", "bert-base", "--seq-len", "0"], "--seq-len: must be >= 1"),
    (["intensity", "-m", "bert-base", "--seq-len", "12x"], "--seq-len"),
    (["intensity", "-m", "bert-base", "--mode", "prefill"], "--mode: must be one of encoder, decoder"),
    (["intensity", "-m", "bert-base", "--precision", "fp7"], "--precision: unknown dtype 'fp7'"),
    (["intensity", "-m", "mixtral-8x7b"], "dense MHA/GQA models only"),
    (["intensity", "-m", "bert-bass"], "unknown model 'bert-bass'"),
    (["intensity"], "Missing option '--model'"),
])
def test_bad_input_is_one_line_exit_2(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and needle in err, err
    assert len(err.strip().splitlines()) == 1
