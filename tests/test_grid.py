"""Range syntax, grids, column names, --where and --sort (pure logic, no CLI)."""

from __future__ import annotations

import pytest

from inferwall import grid as g
from inferwall.errors import InputError
from inferwall.fields import FIELDS
from inferwall.inputs import Options


@pytest.mark.parametrize("text, expected", [
    ("h100", ["h100"]),
    ("h100,h200", ["h100", "h200"]),
    ("1..256", ["1", "2", "4", "8", "16", "32", "64", "128", "256"]),
    ("1..200", ["1", "2", "4", "8", "16", "32", "64", "128"]),
    ("3..24", ["3", "6", "12", "24"]),
    ("1..64:8", ["1", "9", "17", "25", "33", "41", "49", "57"]),
    ("0..64:32", ["0", "32", "64"]),
    ("0.5..0.9:0.1", ["0.5", "0.6", "0.7", "0.8", "0.9"]),
    ("1k..8k", ["1000", "2000", "4000", "8000"]),
    ("1..8,8,max", ["1", "2", "4", "8", "max"]),
    ("../models/x.json", ["../models/x.json"]),
    ("4..4", ["4"]),
])
def test_expand(text, expected):
    assert g.expand(text, "--x") == expected


@pytest.mark.parametrize("text, needle", [
    ("8..1", "empty range"),
    ("1..8:0", "bad step"),
    ("1..8:-2", "bad step"),
    ("0..8", "must be > 0"),
    ("h100,,h200", "empty item"),
    ("1..1e9:1", "more than"),
])
def test_expand_errors(text, needle):
    with pytest.raises(InputError, match=needle):
        g.expand(text, "--batch")


def test_fields_cover_every_option():
    assert [f.name for f in FIELDS] == Options.field_names()
    assert len({f.flag for f in FIELDS}) == len(FIELDS)


def test_grid_product_order_size_and_labels():
    grid = g.make_grid({"model": "llama-3.1-8b", "gpu": "h100,h200", "batch": "1..4", "ideal": True})
    assert grid.size == 6 and grid.varying == ["gpu", "batch"]
    configs = list(grid.configurations())
    assert len(configs) == 6
    assert [(c["gpu"], c["batch"]) for c in configs[:3]] == [("h100", "1"), ("h100", "2"), ("h100", "4")]
    assert all(c["ideal"] is True and c["model"] == "llama-3.1-8b" for c in configs)
    assert grid.label(configs[0]) == "gpu=h100 batch=1"
    assert grid.describe(configs[-1]) == "--gpu h200 --batch 4"
    assert g.make_grid({"gpu": "h100,h200"}).label({"gpu": "h200"}) == "h200"


def test_grid_limit():
    with pytest.raises(InputError, match="more than the 100 allowed"):
        g.make_grid({"batch": "1..64:1", "input_tokens": "1,2"}, limit=100)


def test_columns_and_aliases():
    cols = g.all_columns()
    assert {"gpu", "batch", "latency.tpot_s", "memory.fits", "decode.bound", "cost.usd_per_million_output_tokens",
            "notes"} <= set(cols)
    assert not any(c.startswith(("scenario.", "sources")) for c in cols)
    assert g.resolve_column("tpot_s") == "latency.tpot_s"
    assert g.resolve_column("fits") == "memory.fits"
    assert g.resolve_column("scenario.gpu") == "gpu"
    assert g.resolve_column("decode.bound") == "decode.bound"
    with pytest.raises(InputError, match="ambiguous column 'bound': say prefill.bound or decode.bound"):
        g.resolve_column("bound")
    with pytest.raises(InputError, match="did you mean tpot_s"):
        g.resolve_column("tpot")


def test_pick_columns():
    assert g.pick_columns(None) == list(g.DEFAULT_COLUMNS)
    assert g.pick_columns("gpu,tpot_s,gpu") == ["gpu", "latency.tpot_s"]
    assert g.pick_columns("all") == list(g.all_columns())
    grid = g.make_grid({"mfu": "0.5,0.6", "gpu": "h100"})
    assert g.pick_columns("default", grid)[-1] == "mfu"
    assert g.pick_columns("default,notes")[-1] == "notes"


def test_where():
    row = {"latency.tpot_s": 0.04, "memory.fits": True, "gpu": "nvidia-h100-sxm-80gb", "decode.bound": "memory",
           "cost.usd_per_million_output_tokens": None, "memory.headroom_bytes_per_gpu": 20e9}
    assert g.parse_where("tpot_s<0.05")(row)
    assert not g.parse_where("tpot_s>=0.05")(row)
    assert g.parse_where("tpot_s < 50ms")(row)
    assert g.parse_where("latency.tpot_s<=40ms")(row)
    assert g.parse_where("fits==true")(row) and not g.parse_where("fits!=true")(row)
    assert g.parse_where("fits==yes")(row)
    assert g.parse_where("gpu==*h100*")(row) and not g.parse_where("gpu!=*h100*")(row)
    assert g.parse_where("decode.bound==memory")(row)
    assert g.parse_where("memory.headroom_bytes_per_gpu>10GiB")(row)
    assert not g.parse_where("memory.headroom_bytes_per_gpu>20GiB")(row)
    # empty values never match, whatever the operator
    assert not g.parse_where("usd_per_million_output_tokens<100")(row)
    assert not g.parse_where("usd_per_million_output_tokens!=1")(row)
    assert g.matches(row, [g.parse_where("tpot_s<0.05"), g.parse_where("fits==true")])
    assert not g.matches(row, [g.parse_where("tpot_s<0.05"), g.parse_where("fits==false")])


@pytest.mark.parametrize("text, needle", [
    ("tpot_s", "expected COLUMN OP VALUE"),
    ("tpot_s<", "expected COLUMN OP VALUE"),
    ("tpot_s<fast", "is a number"),
    ("fits<1", "compare it with == or !="),
    ("fits==maybe", "true or false"),
    ("bogus<1", "unknown --where column"),
])
def test_where_errors(text, needle):
    with pytest.raises(InputError, match=needle):
        g.parse_where(text)


def test_sort_keys_and_empty_last():
    rows = [{"a": 2, "b": "x"}, {"a": None, "b": "y"}, {"a": 1, "b": "y"}, {"a": 2, "b": "a"}]
    assert [r["a"] for r in g.sort_rows(rows, [("a", False)])] == [1, 2, 2, None]
    assert [r["a"] for r in g.sort_rows(rows, [("a", True)])] == [2, 2, 1, None]
    assert [(r["a"], r["b"]) for r in g.sort_rows(rows, [("a", True), ("b", False)])][:2] == [(2, "a"), (2, "x")]
    assert g.parse_sort("-tpot_s,gpu") == [("latency.tpot_s", True), ("gpu", False)]
    assert g.parse_sort("tpot_s:desc") == [("latency.tpot_s", True)]


def test_note_lines():
    lines = g.note_lines({"a": 4, "b": 1}, 4)
    assert lines == ["note: a", "note (1 of 4 configurations): b"]
    assert g.note_lines({str(i): 1 for i in range(12)}, 2, limit=10)[-1].startswith("note: ... and 2 more")
