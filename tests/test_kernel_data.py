"""Data checks for specs/kernels.yaml and specs/quant.yaml (schema, boxes, coverage, byte arithmetic).

The loader that feeds these files to the core is the lead's; these tests only guard the data: every tunable
carries a value inside its box and a source, every catalog architecture resolves to a complete set of kernel
parameters through `inherits:`/`generic`, and every recipe names formats whose bytes follow from their bits.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "specs"
_SPEC = importlib.util.spec_from_file_location("gen_kernel_tables", ROOT / "scripts" / "gen_kernel_tables.py")
kernel_tables = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(kernel_tables)
is_leaf, leaves, lookup = kernel_tables.is_leaf, kernel_tables.leaves, kernel_tables.lookup
KERNELS = yaml.safe_load((SPECS / "kernels.yaml").read_text(encoding="utf-8"))
QUANT = yaml.safe_load((SPECS / "quant.yaml").read_text(encoding="utf-8"))
GPUS = yaml.safe_load((SPECS / "gpus.yaml").read_text(encoding="utf-8"))

CATALOG_ARCHITECTURES = sorted({gpu["architecture"] for gpu in GPUS["accelerators"]})
ARCHITECTURES = KERNELS["architectures"]

# Every key a resolved architecture must provide (dotted paths), and the kind of number it holds.
FRACTION, DURATION, TOKENS, TILE = "fraction", "duration", "tokens", "tile"
REQUIRED = {
    "gemm.tile_m": TILE,
    "gemm.efficiency.bf16": FRACTION,
    "gemm.efficiency.fp8": FRACTION,
    "gemm.efficiency.int8": FRACTION,
    "gemm.efficiency.fp4": FRACTION,
    "gemm.weight_only_efficiency": FRACTION,
    "gemm.transition_exponent": TOKENS,
    "attention.prefill.bf16": FRACTION,
    "attention.prefill.fp8": FRACTION,
    "attention.prefill.half_length": TOKENS,
    "attention.decode.bandwidth_efficiency": FRACTION,
    "moe.grouped_efficiency": FRACTION,
    "moe.tile_m": TILE,
    "memory.stream_efficiency": FRACTION,
    "memory.weight_only_stream_efficiency": FRACTION,
    "collectives.all_reduce_latency_s": DURATION,
    "collectives.all_reduce_efficiency": FRACTION,
    "collectives.all_to_all_latency_s": DURATION,
    "collectives.all_to_all_efficiency": FRACTION,
    "collectives.scale_out_latency_s": DURATION,
    "collectives.scale_out_efficiency": FRACTION,
    "fixed.kernel_floor_s": DURATION,
}
LINK_KEYS = [key for key in REQUIRED if key.startswith("collectives.") and ".scale_out" not in key]
SOURCE_TAGS = kernel_tables.SOURCE_TAGS
COMPUTE_CLASSES = {"bf16", "fp16", "fp8", "int8", "fp4", "weight_only", "gather"}
KV_DTYPES = {"bf16", "fp16", "fp8"}


def chain(name: str) -> list[str]:
    return kernel_tables.chain(ARCHITECTURES, name)


def resolved(name: str) -> dict:
    return kernel_tables.resolved(ARCHITECTURES, name)


def check_leaf(where: str, leaf: dict, kind: str) -> None:
    assert isinstance(leaf.get("source"), str) and leaf["source"].strip(), f"{where}: no source"
    assert any(tag in leaf["source"] for tag in SOURCE_TAGS), f"{where}: source names none of {SOURCE_TAGS}"
    value = leaf["value"]
    assert isinstance(value, (int, float)) and not isinstance(value, bool), f"{where}: value {value!r} is not a number"
    if kind == TILE:
        assert isinstance(value, int) and value > 0, f"{where}: tile {value!r} must be a positive integer"
        return
    box = leaf.get("box")
    assert isinstance(box, list) and len(box) == 2, f"{where}: box must be [lo, hi], got {box!r}"
    lo, hi = box
    assert lo <= value <= hi, f"{where}: value {value} outside box {box}"
    if kind == FRACTION:
        assert 0 < lo and hi <= 1, f"{where}: fraction box {box} leaves (0, 1]"
    elif kind == DURATION:
        assert 0 < lo and hi < 1e-2, f"{where}: duration box {box} s is not a kernel/collective latency"
    elif kind == TOKENS:
        assert 0 < lo, f"{where}: token box {box} must be positive"


def test_kernels_schema_version():
    assert KERNELS["schema_version"] == 1


def test_every_catalog_architecture_is_listed():
    missing = [arch for arch in CATALOG_ARCHITECTURES if arch not in ARCHITECTURES]
    assert not missing, f"specs/gpus.yaml architectures without an entry in specs/kernels.yaml: {missing}"
    assert "generic" in ARCHITECTURES


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_architecture_resolves_to_complete_bounded_parameters(name):
    spec = resolved(name)
    for dotted, kind in REQUIRED.items():
        leaf = lookup(spec, dotted)
        assert is_leaf(leaf), f"{name}: {dotted} missing after resolving {chain(name)}"
        check_leaf(f"{name}.{dotted}", leaf, kind)


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_every_leaf_written_has_a_known_key_and_a_source(name):
    own = {k: v for k, v in ARCHITECTURES[name].items() if k not in ("inherits", "description")}
    for dotted, leaf in leaves(own):
        assert dotted in REQUIRED, f"{name}: unknown key {dotted} (schema keys: {sorted(REQUIRED)})"
        check_leaf(f"{name}.{dotted}", leaf, REQUIRED[dotted])


def test_architectures_without_data_say_what_they_inherit():
    for name, entry in ARCHITECTURES.items():
        assert isinstance(entry.get("description"), str) and entry["description"], f"{name}: no description"
        if name != "generic" and not any(leaves(entry)):
            assert "inherits" in entry, f"{name} has no data of its own and no inherits:"


def test_pcie_link_collectives_are_complete_and_bounded():
    pcie = KERNELS["links"]["pcie"]
    assert pcie["description"]
    for dotted in LINK_KEYS:
        leaf = lookup(pcie, dotted)
        assert is_leaf(leaf), f"links.pcie: {dotted} missing"
        check_leaf(f"links.pcie.{dotted}", leaf, REQUIRED[dotted])


def test_pcie_links_are_slower_than_nvswitch():
    pcie, hopper = KERNELS["links"]["pcie"]["collectives"], resolved("hopper")["collectives"]
    assert pcie["all_reduce_latency_s"]["value"] > hopper["all_reduce_latency_s"]["value"]
    assert pcie["all_reduce_efficiency"]["value"] < hopper["all_reduce_efficiency"]["value"]


def test_attention_never_runs_at_the_fp4_gemm_rate():
    """Issue 11: attention has its own (BF16/FP8 FMHA) class; on Blackwell its FLOP/s stay below FP4 GEMMs'."""
    peaks = next(gpu["compute"] for gpu in GPUS["accelerators"] if gpu["id"] == "nvidia-b200")
    tflops = {dtype: float(peaks[dtype].removesuffix("TFLOPS")) for dtype in ("bf16", "fp8", "fp4")}
    spec = resolved("blackwell")
    attention = max(spec["attention"]["prefill"][d]["value"] * tflops[d] for d in ("bf16", "fp8"))
    assert attention < spec["gemm"]["efficiency"]["fp4"]["value"] * tflops["fp4"]


def format_bytes(fmt: dict) -> float:
    block = fmt["block"]
    overhead = fmt["scale_bits"] / block if isinstance(block, int) else 0.0
    return (fmt["element_bits"] + overhead) / 8


@pytest.mark.parametrize("name", sorted(QUANT["formats"]))
def test_format_bytes_follow_from_bits_and_block_scales(name):
    fmt = QUANT["formats"][name]
    assert fmt["source"]
    assert fmt["bytes_per_element"] == pytest.approx(format_bytes(fmt), rel=1e-5)


def test_published_block_scaled_sizes():
    """The sizes issue 11 quotes: NVFP4 0.5625 B, MXFP4 E8M0 per 32 = 0.53125 B, Q8_0 8.5 bits."""
    formats = QUANT["formats"]
    assert formats["nvfp4"]["bytes_per_element"] == 0.5625
    assert formats["mxfp4"]["bytes_per_element"] == 0.53125
    assert formats["q8_0"]["bytes_per_element"] * 8 == 8.5


@pytest.mark.parametrize("name", sorted(QUANT["recipes"]))
def test_recipe_names_known_formats_compute_classes_and_kv(name):
    recipe = QUANT["recipes"][name]
    assert recipe["description"] and recipe["source"]
    assert "default" in recipe["weights"] and "default" in recipe["compute"]
    for module, fmt in recipe["weights"].items():
        assert fmt in QUANT["formats"], f"{name}.weights.{module}: unknown format {fmt!r}"
    for field in ("compute", "compute_fallback"):
        for module, compute in recipe[field].items():
            if module != "note":
                assert compute in COMPUTE_CLASSES, f"{name}.{field}.{module}: {compute!r} not in {COMPUTE_CLASSES}"
    assert recipe["kv"] in KV_DTYPES, f"{name}.kv: {recipe['kv']!r} not in {KV_DTYPES}"


@pytest.mark.parametrize("name", sorted(r for r in QUANT["recipes"] if "bits_per_weight" in QUANT["recipes"][r]))
def test_measured_average_lies_within_the_recipes_formats(name):
    recipe = QUANT["recipes"][name]
    bits = [QUANT["formats"][fmt]["bytes_per_element"] * 8 for fmt in recipe["weights"].values()]
    measured = recipe["bits_per_weight"]
    assert measured["source"]
    assert min(bits) <= measured["value"] <= max(bits)


def test_checkpoints_keep_embeddings_and_lm_head_16_bit_where_they_ship_them_so():
    recipes = QUANT["recipes"]
    sixteen = {"bf16", "fp16"}
    for name in ("modelopt-fp8", "modelopt-fp4", "modelopt-fp4-deepseek", "gpt-oss-mxfp4", "awq-int4", "gptq-int4"):
        assert recipes[name]["weights"]["embedding"] in sixteen, name
        assert recipes[name]["weights"]["lm_head"] in sixteen, name
    assert recipes["gpt-oss-mxfp4"]["weights"]["attention"] == "bf16"
    assert recipes["gpt-oss-mxfp4"]["weights"]["experts"] == "mxfp4"
    assert recipes["modelopt-fp4-deepseek"]["weights"]["attention"] in sixteen | {"fp8-per-tensor", "fp8-block128"}
    assert recipes["modelopt-fp4-deepseek"]["weights"]["experts"] == "nvfp4"


def test_docs_tables_match_the_spec():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_kernel_tables.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
