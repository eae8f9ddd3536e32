"""--price: one value for every GPU or a per-accelerator map, in every command; where each price came from;
unverified catalog placeholders marked wherever they rank configurations; hypothetical chips say what they borrow."""

from __future__ import annotations

import json

import pytest

from inferwall.catalog import load_catalog
from inferwall.errors import InputError
from inferwall.prices import parse_price_spec
from cli_helpers import run, run_json

PLAN = ["plan", "-m", "llama-3.1-8b", "--output-tokens-per-s", "1000", "--max-tpot", "100ms"]


def test_parse_price_spec_resolves_aliases():
    spec = parse_price_spec("h100=2.1, MI300X=$2.5/h", load_catalog())
    assert spec.per_gpu and spec.by_gpu == {"nvidia-h100-sxm-80gb": 2.1, "amd-mi300x": 2.5}
    assert spec.price_for("amd-mi300x") == 2.5 and spec.price_for("nvidia-b200") is None
    flat = parse_price_spec("2", load_catalog())
    assert not flat.per_gpu and flat.price_for("anything") == 2


@pytest.mark.parametrize("value, message", [
    ("h10=2", "--price: unknown GPU 'h10'; did you mean h100"),
    ("h100=-1", "--price h100: must be a non-negative dollar amount"),
    ("h100=abc", "--price h100: cannot parse 'abc'"),
    ("h100=", "--price h100: cannot parse ''"),
    ("=2", "names no GPU"),
    ("2,h100=1", "not a GPU=PRICE pair"),
    ("h100=1,nvidia-h100-sxm-80gb=2", "given twice"),
    ("h100=2,,a100=1", "empty item"),
])
def test_bad_price_maps_are_one_line_exit_2(capsys, value, message):
    with pytest.raises(InputError, match=None):
        parse_price_spec(value, load_catalog())
    for command in (["estimate"], ["compare", "--gpu", "h100,a100"], ["sweep", "--gpu", "h100,a100"]):
        code, out, err = run(capsys, *command, "-m", "llama-3.1-8b", "--price", value)
        assert code == 2 and out == "" and message in err, (command, err)
        assert len(err.strip().splitlines()) == 1, err
    code, out, err = run(capsys, *PLAN, "--gpus-from", "h100", "--price", value)
    assert code == 2 and out == "" and message in err and len(err.strip().splitlines()) == 1


def test_estimate_takes_the_map_entry_for_its_gpu(capsys):
    d, err = run_json(capsys, "estimate", "-m", "llama-3.1-8b", "--gpu", "mi300x", "--price", "h100=2.1,mi300x=2.5")
    assert d["scenario"]["price_usd_per_gpu_hour"] == 2.5 and d["cost"]["usd_per_hour"] == 2.5
    assert d["sources"]["price"] == "flag --price (amd-mi300x in h100=2.1,mi300x=2.5)"
    assert "--price" not in err


def test_a_gpu_the_map_does_not_name_keeps_its_catalog_price_with_a_note(capsys):
    d, err = run_json(capsys, "estimate", "-m", "llama-3.1-8b", "--gpu", "l40s", "--price", "h100=2.1")
    assert d["scenario"]["price_usd_per_gpu_hour"] == 1.908
    assert "--price names nvidia-h100-sxm-80gb but not nvidia-l40s: using its catalog price $1.908/GPU-hour" in err
    d, err = run_json(capsys, "estimate", "-m", "llama-3.1-8b", "--gpu", "mi300x", "--price", "h100=2.1")
    assert d["cost"]["usd_per_hour"] is None
    assert "which has no catalog price either: its costs are empty (add amd-mi300x=PRICE)" in err
    d, err = run_json(capsys, "estimate", "-m", "llama-3.1-8b", "--gpu", "t4", "--price", "h100=2.1")
    assert d["scenario"]["price_usd_per_gpu_hour"] == 0.526 and "unverified placeholder price" in err


def test_compare_and_sweep_take_a_map_as_one_value(capsys):
    rows, err = run_json(capsys, "compare", "-m", "llama-3.1-8b", "--gpu", "h100,mi300x",
                         "--price", "h100=2.1,mi300x=2.5")
    assert len(rows) == 2
    assert [r["scenario"]["price_usd_per_gpu_hour"] for r in rows] == [2.1, 2.5]
    rows, _ = run_json(capsys, "sweep", "-m", "llama-3.1-8b", "--gpu", "h100,mi300x,b200",
                       "--price", "h100=2.1,mi300x=2.5,b200=6")
    assert len(rows) == 3  # one map, not three prices to vary
    assert {r["gpu"]: r["price_usd_per_gpu_hour"] for r in rows} == {
        "nvidia-h100-sxm-80gb": 2.1, "amd-mi300x": 2.5, "nvidia-b200": 6}
    rows, _ = run_json(capsys, "sweep", "-m", "llama-3.1-8b", "--gpu", "h100", "--price", "1,2")
    assert len(rows) == 2  # a plain comma list still varies


def test_sweep_sorted_on_cost_marks_unverified_ranks(capsys):
    code, out, err = run(capsys, "sweep", "-m", "llama-3.1-8b", "--gpu", "t4,a10g,l4", "--gpus", "2",
                         "--sort", "cost.usd_per_million_output_tokens", "-f", "json")
    assert code == 0
    order = [r["gpu"] for r in json.loads(out)]
    rank = order.index("nvidia-t4") + 1
    assert f"note: sorted by cost.usd_per_million_output_tokens: row {rank} (nvidia-t4) ranks on an " \
           "unverified placeholder price" in err
    code, out, err = run(capsys, "sweep", "-m", "llama-3.1-8b", "--gpu", "t4,a10g", "--gpus", "2",
                         "--sort", "latency.tpot_s", "-f", "json")
    assert "sorted by" not in err  # not a cost column: no ranking note
    code, out, err = run(capsys, "sweep", "-m", "llama-3.1-8b", "--gpu", "t4,a10g", "--gpus", "2",
                         "--sort", "cost.usd_per_hour", "--price", "t4=0.3", "-f", "json")
    assert "unverified" not in err  # the user's own price


def test_compare_table_marks_unverified_prices(capsys):
    code, out, err = run(capsys, "compare", "-m", "llama-3.1-8b", "--gpu", "t4,l4", "--gpus", "2", "-f", "table")
    assert code == 0
    line = next(x for x in out.splitlines() if "per GPU-hour" in x)
    assert "(unverified)" in line and line.count("(unverified)") == 1


def test_plan_rows_carry_their_price_and_rank_one_says_when_it_is_a_placeholder(capsys):
    rows, err = run_json(capsys, *PLAN, "--gpus-from", "t4")  # one accelerator: it ranks first whatever the physics
    first = rows[0]
    assert first["gpu"] == "nvidia-t4" and first["price_usd_per_gpu_hour"] == 0.526 and first["price_verified"] is False
    assert "note: #1 (nvidia-t4) ranks first on an unverified placeholder price ($0.526/GPU-hour" in err
    assert "--price t4=PRICE" in err
    code, out, _ = run(capsys, *PLAN, "--gpus-from", "t4", "-f", "table")
    assert code == 0 and "$0.526*" in out  # * marks an unverified placeholder
    rows, err = run_json(capsys, *PLAN, "--gpus-from", "t4,a10g,mi300x", "--price", "t4=0.3,mi300x=2")
    assert "ranks first on an unverified" not in err
    by_gpu = {r["gpu"]: r for r in rows}
    for r in rows:
        if r["gpu"] == "nvidia-t4":
            assert r["price_usd_per_gpu_hour"] == 0.3 and r["price_verified"] is None
        elif r["gpu"] == "amd-mi300x":
            assert r["price_usd_per_gpu_hour"] == 2 and r["price_verified"] is None
        else:
            assert r["price_usd_per_gpu_hour"] == 0.75 and r["price_verified"] is True
    assert by_gpu  # at least one configuration meets the objectives


def test_plan_notes_unverified_rows_below_rank_one(capsys):
    rows, err = run_json(capsys, *PLAN, "--gpus-from", "t4,a10g")
    ranks = [r["rank"] for r in rows if r["gpu"] == "nvidia-t4"]
    if ranks and ranks[0] != 1:
        assert f"row{'s' if len(ranks) > 1 else ''} {', '.join(map(str, ranks))} (nvidia-t4)" in err
    elif ranks:
        assert "note: #1 (nvidia-t4) ranks first" in err


def test_plan_skips_only_gpus_with_no_price_at_all(capsys):
    rows, err = run_json(capsys, *PLAN, "--gpus-from", "h100,mi300x", "--price", "h100=2.1")
    assert {r["gpu"] for r in rows} == {"nvidia-h100-sxm-80gb"}
    assert "skipped 1 accelerator without a price (amd-mi300x)" in err


def test_gpus_lists_price_provenance(capsys):
    rows, err = run_json(capsys, "gpus")
    by_id = {r["id"]: r for r in rows}
    t4, h100 = by_id["nvidia-t4"], by_id["nvidia-h100-sxm-80gb"]
    assert t4["price_verified"] is False and t4["price_provider"] == "AWS on-demand" and t4["price_as_of"] == "2024"
    assert h100["price_verified"] is True and h100["price_provider"] == "Lambda on-demand"
    assert by_id["amd-mi300x"]["price_verified"] is None
    assert by_id["apple-m3-max"]["peak_estimated"] is True and by_id["apple-m2-ultra"]["peak_estimated"] is False
    assert by_id["nvidia-rtx-4090"]["architecture"] == "ada" and by_id["nvidia-rtx-4090"]["scale_up_kind"] == "pcie"
    assert "unverified" not in err.lower() or "placeholder" in err
    assert "apple-m3-max" in err and "estimates" in err


def test_explain_shows_provider_date_and_verified(capsys):
    code, out, err = run(capsys, "estimate", "-m", "llama-3.1-8b", "--gpu", "t4", "--gpus", "2", "--explain")
    assert code == 0  # the explanation goes to stderr, the record to stdout
    assert "price: $0.526 per GPU-hour — catalog nvidia-t4: AWS on-demand, as of 2024, UNVERIFIED placeholder" in err
    code, out, err = run(capsys, "estimate", "-m", "llama-3.1-8b", "--gpu", "h100", "--explain")
    assert "catalog nvidia-h100-sxm-80gb: Lambda on-demand, as of " in err and ", verified" in err


def test_estimated_peaks_are_noted_where_used(capsys):
    d, err = run_json(capsys, "estimate", "-m", "llama-3.2-1b", "--gpu", "m3-max")
    assert "apple-m3-max: peak FLOP/s is an estimate, not a vendor figure (" in err
    assert any("peak FLOP/s is an estimate" in n for n in d["notes"])
    d, err = run_json(capsys, "estimate", "-m", "llama-3.2-1b", "--gpu", "m3-max", "--flops", "20TFLOPS")
    assert "is an estimate" not in err  # the user's own peak replaces it
    d, err = run_json(capsys, "estimate", "-m", "llama-3.2-1b", "--gpu", "m2-ultra")
    assert "is an estimate" not in err


def test_hypothetical_chip_says_what_it_borrows(capsys):
    d, err = run_json(capsys, "estimate", "-m", "llama-3.1-8b", "--flops", "3e15", "--bandwidth", "5TB/s")
    assert ("hypothetical chip: --flops/--bandwidth change nvidia-h100-sxm-80gb (the default --gpu); it keeps that "
            "GPU's memory 80 GiB") in err
    assert "price $2.99/GPU-hour" in err and "(set them with --memory, --link-bandwidth, --price)" in err
    d, err = run_json(capsys, "estimate", "-m", "llama-3.1-8b", "--gpu", "mi300x", "--bandwidth", "9TB/s",
                      "--memory", "288GB", "--price", "3")
    note = next(n for n in d["notes"] if n.startswith("hypothetical chip"))
    assert "peak FLOP/s" in note and "memory" not in note and "price" not in note
    assert "(the default --gpu)" not in note and "(set them with --link-bandwidth)" in note
    assert d["scenario"]["price_usd_per_gpu_hour"] == 3


def test_price_from_the_environment_may_be_a_map(capsys, monkeypatch):
    monkeypatch.setenv("INFERWALL_PRICE", "h100=1.5,a100=1")
    d, _ = run_json(capsys, "estimate", "-m", "llama-3.1-8b", "--gpu", "a100")
    assert d["scenario"]["price_usd_per_gpu_hour"] == 1


def test_user_catalog_checks_new_fields(capsys, tmp_path):
    base = "accelerators:\n  - id: my-gpu\n    memory: {capacity: 96GiB, bandwidth: 4TB/s}\n"
    bad_kind = tmp_path / "kind.yaml"
    bad_kind.write_text(base + "    compute: {bf16: 1000TFLOPS}\n    scale_up: {kind: infiniband, bandwidth: 50GB/s}\n")
    code, _, err = run(capsys, "catalog", "validate", bad_kind)
    assert code == 2 and "scale_up.kind" in err and "nvlink" in err
    no_derivation = tmp_path / "est.yaml"
    no_derivation.write_text(base + "    compute: {bf16: 1000TFLOPS}\n    compute_estimated: true\n")
    code, _, err = run(capsys, "catalog", "validate", no_derivation)
    assert code == 2 and "compute_derivation" in err
    bad_verified = tmp_path / "ver.yaml"
    bad_verified.write_text(base + "    compute: {bf16: 1000TFLOPS}\n    price: {usd_per_hour: 2, verified: maybe}\n")
    code, _, err = run(capsys, "catalog", "validate", bad_verified)
    assert code == 2 and "verified" in err
    good = tmp_path / "good.yaml"
    good.write_text(base + "    compute: {bf16: 1000TFLOPS}\n    compute_estimated: true\n"
                           "    compute_derivation: \"100 cores x 1 GHz x 10000 FLOP/cycle\"\n"
                           "    scale_up: {kind: pcie, bandwidth: 64GB/s}\n")
    code, _, err = run(capsys, "catalog", "validate", good)
    assert code == 0, err
