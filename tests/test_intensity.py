"""inferwall.core.intensity against Kim et al. 2023 (arXiv:2302.14017v1), plus properties of the accounting.

Tolerance rule (used for every published value below). A value printed with k decimals only tells us that the
paper's unrounded value x lies in [v - u, v + u], u = 0.5 * 10**-k ("0.006" GMOPs: [0.0055, 0.0065]; "22" GFLOPs:
[21.5, 22.5]). A prediction passes when it is within 5 % of *some* x that prints as v:

    exists x in [v - u, v + u] with |pred - x| <= 0.05 * x

``relative_error`` returns the smallest such |pred - x| / x (0 inside the interval). For values printed with several
significant digits u is negligible and this is a plain 5 % check; for the 1-significant-digit sub-GMOP values
(0.04, 0.006, 0.1, ...) it allows only for the rounding the paper itself applied. The same rows are also checked
through their arithmetic-intensity and share-of-total columns, which are printed with more digits.

Cells where the paper contradicts itself (typos) and the BERT-Large figure series, which the paper evidently
computed with smaller layers than its own Table 1 shapes, are listed in ``PAPER_ERRATA`` and ``KNOWN_DEVIATIONS``
with the evidence, and are checked by their own tests instead of being silently skipped.
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferwall.core.intensity import OPERATORS, OperatorCost, operator_breakdown
from inferwall.core.types import CoreError, ModelArch
from shared_data import CALIBRATION, require

TOLERANCE = 0.05

# Kim et al. Table 1 shapes.
BERT_BASE = ModelArch(id="bert-base", name="BERT-Base", num_layers=12, hidden_size=768, num_heads=12,
                      num_kv_heads=12, head_dim=64, intermediate_size=3072, ffn_matrices=2, vocab_size=30522,
                      encoder=True)
BERT_LARGE = ModelArch(id="bert-large", name="BERT-Large", num_layers=24, hidden_size=1024, num_heads=16,
                       num_kv_heads=16, head_dim=64, intermediate_size=4096, ffn_matrices=2, vocab_size=30522,
                       encoder=True)
GPT2 = ModelArch(id="gpt2", name="GPT-2", num_layers=12, hidden_size=768, num_heads=12, num_kv_heads=12,
                 head_dim=64, intermediate_size=3072, ffn_matrices=2, vocab_size=50257, encoder=False)
# Kim et al. Appendix A.3, Table 10: "a hypothetical BERT model with a smaller number of heads (thus with a
# larger d/h dimension)": BERT-Base with 4 heads of 768/4 = 192.
BERT_BASE_4_HEADS = ModelArch(id="bert-base-4h", name="BERT-Base (4 heads)", num_layers=12, hidden_size=768,
                              num_heads=4, num_kv_heads=4, head_dim=192, intermediate_size=3072, ffn_matrices=2,
                              vocab_size=30522, encoder=True)
MODELS = {"BERT-Base": BERT_BASE, "BERT-Large": BERT_LARGE, "GPT-2": GPT2}

METRIC_SCALE = {"total_flops": 1e9, "total_mops": 1e9, "arithmetic_intensity": 1.0}


def half_unit(published: str) -> float:
    """Half of the last printed digit: the rounding uncertainty of a published value."""
    decimals = len(published.split(".")[1]) if "." in published else 0
    return 0.5 * 10.0 ** -decimals


def relative_error(pred: float, published: str) -> float:
    """min |pred - x| / x over the values x that print as ``published`` (0 when pred itself prints so)."""
    v, u = float(published), half_unit(published)
    low, high = v - u, v + u
    if pred > high:
        return (pred - high) / high
    if pred < low:
        return (low - pred) / low if low > 0 else math.inf
    return 0.0


def metric_value(row: OperatorCost, metric: str) -> float:
    if metric == "total_flops":
        return row.flops
    if metric == "total_mops":
        return row.bytes
    if metric == "arithmetic_intensity":
        return row.arithmetic_intensity
    raise KeyError(metric)


def rows_by_operator(model: ModelArch, seq_len: int) -> dict[str, OperatorCost]:
    return {r.operator: r for r in operator_breakdown(model, seq_len)}


# --------------------------------------------------------------------------- calibration.yaml rows


def load_kim_rows() -> list[dict]:
    yaml = pytest.importorskip("yaml")
    require(CALIBRATION)
    with CALIBRATION.open(encoding="utf-8") as fh:
        cases = yaml.safe_load(fh)
    return [c for c in cases if c.get("group") == "analytic_kim2023"]


@pytest.fixture(scope="module")
def kim_rows() -> list[dict]:
    return load_kim_rows()


def test_calibration_has_all_kim_rows(kim_rows):
    assert len(kim_rows) == 72
    assert {c["model"]["name"] for c in kim_rows} == set(MODELS)
    assert {c["metric"] for c in kim_rows} == set(METRIC_SCALE)


# The BERT-Large series of Figs. 4 and 6 does not follow from the paper's own Table 1 shapes. Its FLOPs are 5-8 %
# below N*(8d^2 + 4dF)*L, already below the projections alone at L=128 (N*(8d^2+4dF)*128 = 77.3 GFLOPs > the
# published 73). Fitting a*L + b*L^2 to the six published FLOPs gives b = 24 layers x 4123 FLOPs (the act-to-act
# + softmax term, 4160 expected: right) but a = 24 x 23.2 MFLOPs per token (25.2 M expected): the paper used about
# 11.5 M matmul weights per layer instead of 4d^2 + 2dF = 12.58 M (e.g. 3d^2 + 2dF, or d_FFN = 3584). The same
# accounting reproduces BERT-Base (Table 3, Figs. 4-6) and GPT-2 (Table 11) to < 1-3 %, so no principled accounting
# change can absorb this; ``test_bert_large_deviation_is_a_layer_size_error`` checks the explanation.
KNOWN_DEVIATIONS = {
    *(f"kim2023-fig4_gflops-bert-large-L{seq}" for seq in (128, 256, 512, 1024, 2048, 4096)),
    "kim2023-fig6_ai-bert-large-L1024",
    "kim2023-fig6_ai-bert-large-L2048",
}


def kim_row_errors(rows: list[dict], models: dict[str, ModelArch]) -> dict[str, tuple[float, str, float]]:
    """id -> (prediction, published string, relative_error) for every calibration row."""
    out = {}
    for case in rows:
        model = models[case["model"]["name"]]
        wl = case["workload"]
        seq_len = wl["input_len"] if model.encoder else wl["output_len"]
        assert seq_len and seq_len > 0, case["id"]
        total = operator_breakdown(model, seq_len)[-1]
        assert total.operator == "total"
        pred = metric_value(total, case["metric"]) / METRIC_SCALE[case["metric"]]
        published = str(case["value_as_published"])
        assert float(published) == pytest.approx(float(case["value"])), case["id"]
        out[case["id"]] = (pred, published, relative_error(pred, published))
    return out


def test_calibration_kim_rows_within_tolerance(kim_rows):
    errors = kim_row_errors(kim_rows, MODELS)
    assert KNOWN_DEVIATIONS <= set(errors)
    failures = [f"{rid}: predicted {pred:.4g}, published {pub} ({err:.1%} from the printed interval)"
                for rid, (pred, pub, err) in errors.items() if rid not in KNOWN_DEVIATIONS and err > TOLERANCE]
    assert not failures, "\n".join(failures)
    assert len(errors) - len(KNOWN_DEVIATIONS) == 64


def test_bert_large_known_deviations_stay_bounded(kim_rows):
    """The listed rows are over-predicted by 5-9 %: if this changes, revisit KNOWN_DEVIATIONS."""
    errors = kim_row_errors(kim_rows, MODELS)
    for rid in KNOWN_DEVIATIONS:
        pred, pub, err = errors[rid]
        assert pred > float(pub) and TOLERANCE < err < 0.09, (rid, pred, pub, err)


def test_bert_large_deviation_is_a_layer_size_error(kim_rows):
    """Evidence for KNOWN_DEVIATIONS, not a calibration: with ~11.5 M matmul weights per layer (modelled as
    d_FFN = 3584, i.e. 3d^2 + 2dF at F = 4096) every BERT-Large figure value is reproduced within tolerance."""
    shrunk = dict(MODELS, **{"BERT-Large": replace(BERT_LARGE, intermediate_size=3584)})
    bert_large = [c for c in kim_rows if c["model"]["name"] == "BERT-Large"]
    errors = kim_row_errors(bert_large, shrunk)
    assert len(errors) == 18
    assert all(err <= TOLERANCE for _, _, err in errors.values()), errors
    assert all(err < 0.01 for rid, (_, _, err) in errors.items() if rid in KNOWN_DEVIATIONS), errors


# --------------------------------------------------------------------------- per-operator tables (README §5)

# Published values, copied as printed from Kim et al. 2023 (arXiv:2302.14017v1); they are the reference, not
# outputs of inferwall. Columns: (FLOPs x1e9, % of FLOPs, MOPs x1e9, % of MOPs, arithmetic intensity).
# Cells the paper contradicts with its own numbers are listed in PAPER_ERRATA.
TABLE_OPERATORS = ("attention_projections", "attention_matmuls", "ffn", "other", "total")

# Table 3: BERT-Base encoder ("Per-Layer" in the caption, but the values are the 12-layer totals; the Total
# rows equal Figs. 4/5).
TABLE_3 = {
    128: (("7.25", "32", "0.04", "27", "192.00"),
          ("0.60", "3", "0.006", "7", "63.62"),
          ("14.50", "65", "0.07", "49", "211.86"),
          ("0.08", "0.3", "0.02", "18", "3.14"),
          ("22.42", "100", "0.14", "100", "159.68")),
    512: (("28.99", "30", "0.07", "16", "438.86"),
          ("9.62", "10", "0.09", "20", "101.95"),
          ("57.98", "60", "0.10", "25", "558.54"),
          ("0.42", "0.4", "0.16", "37", "2.73"),
          ("97.02", "100", "0.42", "100", "231.0")),
    4096: (("231.93", "18", "0.33", "3", "702.17"),
           ("616.02", "46", "4.98", "44", "123.63"),
           ("463.86", "35", "0.43", "4", "1068.52"),
           ("11.85", "1", "5.47", "49", "2.16"),
           ("1323.66", "100", "11.22", "100", "117.96")),
}

# Table 11 (Appendix A.3): GPT-2 decoder, full generation of L tokens with a KV cache, no prompt.
# The L=128 act-to-act row prints FLOPs "30 (sic)" and %FLOPs "0.01 (sic)": see PAPER_ERRATA.
TABLE_11 = {
    128: (("7.25", "33", "3.63", "33", "2.00"),
          ("30", "0.01", "0.16", "1", "1.92"),
          ("14.50", "66", "7.26", "66", "2.00"),
          ("0.07", "0.3", "0.03", "0.3", "2.58"),
          ("22.12", "100", "11.08", "100", "2.0")),
    512: (("28.99", "32", "14.53", "32", "2.00"),
          ("4.83", "5", "2.45", "5", "2.00"),
          ("57.98", "63", "29.04", "63", "2.00"),
          ("0.35", "0.4", "0.14", "0.3", "2.47"),
          ("92.15", "100", "46.17", "100", "2.00")),
    4096: (("231.93", "23", "116.27", "23", "2.00"),
           ("309.24", "31", "155.98", "31", "1.98"),
           ("463.86", "46", "232.31", "46", "2.0"),
           ("7.02", "0.7", "3.25", "0.6", "2.16"),
           ("1012.04", "100", "507.80", "100", "1.99")),
}

# Table 10 (Appendix A.3): hypothetical BERT-Base with 4 heads. Share columns are fractions in the source; they
# are written here as percentages (x100, same digits) so one rule covers all tables.
TABLE_10 = {
    128: (("7.25", "32", "0.04", "28", "192.00"),
          ("0.60", "3", "0.01", "4.7", "95.69"),
          ("14.47", "65", "0.07", "51", "211.86"),
          ("0.07", "0.3", "0.02", "16", "3.30"),
          ("22.42", "100", "0.13", "100", "167.14")),
    512: (("28.99", "30", "0.07", "21", "438.86"),
          ("9.65", "10", "0.04", "14", "219.04"),
          ("57.98", "60", "0.10", "32", "558.54"),
          ("0.32", "0.3", "0.10", "33", "3.07"),
          ("96.94", "100", "0.32", "100", "303.59")),
    4096: (("231.93", "18", "0.33", "7", "702.17"),
           ("617.63", "47", "1.76", "37", "350.61"),
           ("463.86", "35", "0.43", "9", "1068.52"),
           ("5.41", "0.4", "2.25", "47", "2.40"),
           ("1318.83", "100", "4.78", "100", "276.00")),
}

TABLES = {"table3": (BERT_BASE, TABLE_3), "table10": (BERT_BASE_4_HEADS, TABLE_10), "table11": (GPT2, TABLE_11)}


COLUMNS = ("GFLOPs", "%FLOPs", "GMOPs", "%MOPs", "AI")

# (table, L, operator, column) -> why the printed cell is a typo. Each claim is checked against the paper's own
# other cells in test_paper_errata_are_self_inconsistent; these cells are not compared with our predictions.
PAPER_ERRATA = {
    ("table3", 128, "attention_matmuls", "GMOPs"):
        "printed 0.006, but its FLOPs 0.60 / AI 63.62 = 0.0094 GMOPs and its 7 % of 0.14 GMOPs = 0.0098",
    ("table3", 512, "attention_matmuls", "%MOPs"):
        "printed 20, but its MOPs 9.62/101.95 = 0.094 of 0.42 total = 22.5 %, and the column sums to 98, not 100",
    ("table11", 128, "attention_matmuls", "GFLOPs"):
        "printed '30 (sic)', but its AI 1.92 x MOPs 0.16 = 0.31 GFLOPs (README §5: typo for 0.30)",
    ("table11", 128, "attention_matmuls", "%FLOPs"):
        "printed '0.01 (sic)', but 0.31 of 22.12 GFLOPs = 1.4 %, and the column sums to 99.3 without it",
}


def published_cell(table: str, seq_len: int, operator: str, column: str) -> str:
    return TABLES[table][1][seq_len][TABLE_OPERATORS.index(operator)][COLUMNS.index(column)]


def test_paper_errata_are_self_inconsistent():
    """Each erratum is contradicted by the paper's own neighbouring cells by far more than rounding."""
    t3_128 = float(published_cell("table3", 128, "attention_matmuls", "GFLOPs")) / float(
        published_cell("table3", 128, "attention_matmuls", "AI"))
    assert relative_error(t3_128, published_cell("table3", 128, "attention_matmuls", "GMOPs")) > 0.3
    t3_512_mops = float(published_cell("table3", 512, "attention_matmuls", "GFLOPs")) / float(
        published_cell("table3", 512, "attention_matmuls", "AI"))
    t3_512 = 100 * t3_512_mops / float(published_cell("table3", 512, "total", "GMOPs"))
    assert relative_error(t3_512, published_cell("table3", 512, "attention_matmuls", "%MOPs")) > 0.05
    assert sum(float(published_cell("table3", 512, op, "%MOPs")) for op in OPERATORS) == 98
    t11 = float(published_cell("table11", 128, "attention_matmuls", "AI")) * float(
        published_cell("table11", 128, "attention_matmuls", "GMOPs"))
    assert relative_error(t11, published_cell("table11", 128, "attention_matmuls", "GFLOPs")) > 0.9  # 100x off
    t11_pct = 100 * t11 / float(published_cell("table11", 128, "total", "GFLOPs"))
    assert relative_error(t11_pct, published_cell("table11", 128, "attention_matmuls", "%FLOPs")) > 10


def table_cells():
    for name, (model, table) in TABLES.items():
        for seq_len, rows in table.items():
            for operator, cells in zip(TABLE_OPERATORS, rows):
                yield pytest.param(name, model, seq_len, operator, cells, id=f"{name}-L{seq_len}-{operator}")


@pytest.mark.parametrize(("table", "model", "seq_len", "operator", "cells"), list(table_cells()))
def test_operator_tables_within_tolerance(table, model, seq_len, operator, cells):
    rows = rows_by_operator(model, seq_len)
    row, total = rows[operator], rows["total"]
    predicted = {
        "GFLOPs": row.flops / 1e9,
        "%FLOPs": 100 * row.flops / total.flops,
        "GMOPs": row.bytes / 1e9,
        "%MOPs": 100 * row.bytes / total.bytes,
        "AI": row.arithmetic_intensity,
    }
    checked = 0
    failures = []
    for column, pub in zip(COLUMNS, cells):
        if (table, seq_len, operator, column) in PAPER_ERRATA:
            continue
        checked += 1
        err = relative_error(predicted[column], pub)
        if err > TOLERANCE:
            failures.append(f"{column}: predicted {predicted[column]:.4g}, published {pub} "
                            f"({err:.1%} from the printed interval)")
    assert checked >= 3
    assert not failures, "; ".join(failures)


def test_published_projection_values_exactly():
    """The matmul rows are closed forms in the paper; spot-check the brief's worked example tightly."""
    rows = rows_by_operator(BERT_BASE, 128)
    proj = rows["attention_projections"]
    assert proj.flops == pytest.approx(12 * 8 * 128 * 768**2)
    assert proj.bytes == pytest.approx(12 * 4 * (768**2 + 2 * 128 * 768))
    assert proj.arithmetic_intensity == pytest.approx(192.0)
    assert rows["ffn"].arithmetic_intensity == pytest.approx(211.86, abs=0.005)
    gpt = rows_by_operator(GPT2, 4096)["total"]
    assert gpt.flops / 1e9 == pytest.approx(1012.04, rel=0.001)
    assert gpt.bytes / 1e9 == pytest.approx(507.80, rel=0.005)


# --------------------------------------------------------------------------- API behaviour


def test_rows_and_default_mode():
    rows = operator_breakdown(BERT_BASE, 256)
    assert tuple(r.operator for r in rows) == OPERATORS + ("total",)
    assert operator_breakdown(BERT_BASE, 256) == operator_breakdown(BERT_BASE, 256, mode="encoder")
    assert operator_breakdown(GPT2, 256) == operator_breakdown(GPT2, 256, mode="decoder")
    # Same shape, different mode: same FLOPs for the projections, far more bytes when decoding.
    enc = {r.operator: r for r in operator_breakdown(GPT2, 256, mode="encoder")}
    dec = rows_by_operator(GPT2, 256)
    assert enc["attention_projections"].flops == dec["attention_projections"].flops
    assert dec["attention_projections"].bytes > 50 * enc["attention_projections"].bytes


def test_bytes_scale_with_element_size():
    one = operator_breakdown(GPT2, 300)
    two = operator_breakdown(GPT2, 300, bytes_per_element=2.0)
    for a, b in zip(one, two):
        assert b.flops == a.flops
        assert b.bytes == pytest.approx(2 * a.bytes)


def test_gqa_reduces_attention_traffic():
    gqa = ModelArch(id="gqa", num_layers=12, hidden_size=768, num_heads=12, num_kv_heads=2, head_dim=64,
                    intermediate_size=3072, ffn_matrices=2, vocab_size=50257)
    mha, grouped = rows_by_operator(GPT2, 2048), rows_by_operator(gqa, 2048)
    assert grouped["attention_matmuls"].flops == mha["attention_matmuls"].flops
    assert grouped["attention_matmuls"].bytes < 0.6 * mha["attention_matmuls"].bytes
    assert grouped["attention_projections"].flops < mha["attention_projections"].flops


def test_sliding_window_clips_attention():
    windowed = ModelArch(id="swa", num_layers=12, hidden_size=768, num_heads=12, num_kv_heads=12, head_dim=64,
                         intermediate_size=3072, ffn_matrices=2, vocab_size=50257, window=512, window_layers=12)
    full, clipped = rows_by_operator(GPT2, 4096), rows_by_operator(windowed, 4096)
    # Decoder with every layer windowed: sum_t min(t, 512) pairs instead of L(L+1)/2.
    pairs_full, pairs_win = 4096 * 4097 / 2, 512 * 513 / 2 + (4096 - 512) * 512
    assert clipped["attention_matmuls"].flops == pytest.approx(full["attention_matmuls"].flops * pairs_win / pairs_full)
    assert rows_by_operator(windowed, 256) == rows_by_operator(GPT2, 256)  # shorter than the window


@pytest.mark.parametrize("kwargs", [dict(seq_len=0), dict(seq_len=True), dict(seq_len=128.0),
                                    dict(seq_len=128, mode="prefill"), dict(seq_len=128, bytes_per_element=0.0),
                                    dict(seq_len=128, bytes_per_element=math.inf)])
def test_invalid_inputs(kwargs):
    with pytest.raises(CoreError):
        operator_breakdown(BERT_BASE, **kwargs)


def test_bare_model_rejected():
    with pytest.raises(CoreError):
        operator_breakdown(ModelArch(id="bare", params=7e9), 128)


# --------------------------------------------------------------------------- properties

@st.composite
def dense_models(draw):
    kv_heads = draw(st.integers(1, 16))
    heads = kv_heads * draw(st.integers(1, 8))
    layers = draw(st.integers(1, 64))
    windowed = draw(st.booleans())
    return ModelArch(
        id="random",
        num_layers=layers,
        hidden_size=draw(st.integers(16, 8192)),
        num_heads=heads,
        num_kv_heads=kv_heads,
        head_dim=draw(st.sampled_from([16, 32, 64, 80, 96, 128, 192, 256])),
        intermediate_size=draw(st.integers(16, 32768)),
        ffn_matrices=draw(st.sampled_from([2, 3])),
        vocab_size=draw(st.integers(1, 256000)),
        encoder=draw(st.booleans()),
        window=draw(st.integers(1, 8192)) if windowed else 0,
        window_layers=draw(st.integers(0, layers)) if windowed else 0,
    )


@settings(max_examples=300, deadline=None)
@given(model=dense_models(), seq_len=st.integers(1, 65536), bpe=st.sampled_from([0.5, 1.0, 2.0, 4.0]),
       mode=st.sampled_from([None, "encoder", "decoder"]))
def test_total_is_sum_and_values_finite_positive(model, seq_len, bpe, mode):
    rows = operator_breakdown(model, seq_len, bytes_per_element=bpe, mode=mode)
    assert tuple(r.operator for r in rows) == OPERATORS + ("total",)
    parts, total = rows[:-1], rows[-1]
    assert total.flops == pytest.approx(math.fsum(r.flops for r in parts), rel=1e-12)
    assert total.bytes == pytest.approx(math.fsum(r.bytes for r in parts), rel=1e-12)
    for r in rows:
        for value in (r.flops, r.bytes, r.arithmetic_intensity):
            assert math.isfinite(value) and value > 0, (r, value)


@settings(max_examples=200, deadline=None)
@given(seq_len=st.integers(128, 1 << 20))
def test_decoder_memory_bound_encoder_compute_bound(seq_len):
    """BERT-Base shapes: batch-1 decoding reads every weight per token (AI ~ 2); an encoder pass reuses them."""
    decoder = operator_breakdown(BERT_BASE, seq_len, mode="decoder")[-1]
    encoder = operator_breakdown(BERT_BASE, seq_len, mode="encoder")[-1]
    assert decoder.arithmetic_intensity < 3
    assert encoder.arithmetic_intensity > 50
