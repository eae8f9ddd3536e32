"""Data checks of the engine profiles in specs/engines/ (schema: `specs/engines/<id>.yaml` in SCHEMAS.md).

These check the files, not the cost model: every tunable is {value, box, source} with lo <= value <= hi,
every fact has a source, the required keys are there, and every `--emit` flag entry is usable.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from inferwall.catalog.yamlio import load_document
from inferwall.units import parse_quantity

ENGINES_DIR = Path(__file__).resolve().parents[1] / "specs" / "engines"
from inferwall.catalog.profiles import BUILTIN_ENGINES  # noqa: E402

ENGINE_IDS = list(BUILTIN_ENGINES)
# gpt-fast is a generation script (the source of the batch-1 calibration rows), not a server: no launch flags.
SERVING_ENGINES = [e for e in ENGINE_IDS if e not in ("ideal", "gptfast")]

REQUIRED_TOP = {"schema_version", "id", "name", "version", "source", "batching", "description",
                "limits", "memory", "host", "kernels_per_layer"}
REQUIRED_LIMITS = {"max_running_requests", "max_tokens_per_iteration", "chunked_prefill", "cuda_graph_max_batch"}
REQUIRED_HOST = {"per_iteration_s", "per_request_s", "hidden_fraction"}
# The settings `--emit` must be able to spell (issue 12, "From plan to launch").
REQUIRED_FLAGS = {"launch", "version", "source", "tp", "pp", "dp", "ep", "attention_dp", "max_running_requests",
                  "max_tokens_per_iteration", "memory_fraction", "kv_dtype", "quantization", "speculative",
                  "prefix_caching", "chunked_prefill", "disaggregation"}
FLAG_KINDS = {"switch", "value", "json", "yaml_key", "yaml"}


def profile(engine_id: str) -> dict:
    with open(ENGINES_DIR / f"{engine_id}.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def as_number(value, where: str) -> float:
    """Numbers stay numbers; byte strings such as "2GiB" become bytes."""
    if isinstance(value, bool):
        raise AssertionError(f"{where}: boolean where a number was expected")
    if isinstance(value, (int, float)):
        return float(value)
    return parse_quantity(value, "bytes", where)


def walk(node, path: str = ""):
    """Yield (path, mapping) for every mapping in the document."""
    if isinstance(node, dict):
        yield path, node
        for key, child in node.items():
            yield from walk(child, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from walk(child, f"{path}[{index}]")


def tunables(doc: dict):
    return [(path, node) for path, node in walk(doc) if "box" in node]


def facts(doc: dict):
    return [(path, node) for path, node in walk(doc) if "value" in node and "box" not in node]


def test_every_engine_file_is_present_and_no_other():
    assert sorted(p.stem for p in ENGINES_DIR.glob("*.yaml")) == sorted(ENGINE_IDS)


@pytest.mark.parametrize("engine_id", ENGINE_IDS)
def test_loads_with_the_catalog_reader(engine_id):
    # The catalog refuses anchors, tags and deep nesting; the shipped profiles must pass it.
    assert load_document(str(ENGINES_DIR / f"{engine_id}.yaml")) == profile(engine_id)


@pytest.mark.parametrize("engine_id", ENGINE_IDS)
def test_top_level_keys(engine_id):
    doc = profile(engine_id)
    assert REQUIRED_TOP <= doc.keys(), REQUIRED_TOP - doc.keys()
    assert doc["schema_version"] == 1
    assert doc["id"] == engine_id
    assert doc["batching"] in {"continuous", "static"}
    for key in ("name", "version", "source", "description"):
        assert isinstance(doc[key], str) and doc[key].strip(), key
    assert REQUIRED_LIMITS <= doc["limits"].keys(), REQUIRED_LIMITS - doc["limits"].keys()
    assert REQUIRED_HOST <= doc["host"].keys(), REQUIRED_HOST - doc["host"].keys()
    assert {"fraction_of", "fraction", "reserve_bytes", "activation_sized_by"} <= doc["memory"].keys()


@pytest.mark.parametrize("engine_id", ENGINE_IDS)
def test_every_tunable_has_value_box_source_and_value_inside_box(engine_id):
    found = tunables(profile(engine_id))
    assert found, "a profile has tunables"
    for path, node in found:
        assert {"value", "box", "source"} <= node.keys(), f"{engine_id}: {path} needs value, box, source"
        assert isinstance(node["source"], str) and node["source"].strip(), f"{engine_id}: {path}.source empty"
        box = node["box"]
        assert isinstance(box, list) and len(box) == 2, f"{engine_id}: {path}.box must be [lo, hi]"
        lo, hi = (as_number(b, f"{engine_id}: {path}.box") for b in box)
        value = as_number(node["value"], f"{engine_id}: {path}.value")
        assert lo <= value <= hi, f"{engine_id}: {path}: {node['value']} outside {box}"


@pytest.mark.parametrize("engine_id", ENGINE_IDS)
def test_every_fact_has_a_source(engine_id):
    found = facts(profile(engine_id))
    assert found, "a profile has facts"
    for path, node in found:
        assert isinstance(node.get("source"), str) and node["source"].strip(), f"{engine_id}: {path} has no source"


@pytest.mark.parametrize("engine_id", ENGINE_IDS)
def test_rule_lists_are_sourced_mappings(engine_id):
    for path, node in walk(profile(engine_id)):
        for key, rules in node.items():
            if key.endswith("_rules") and key != "bench_rules":  # bench_rules: per release, tested below
                assert isinstance(rules, list) and rules, f"{engine_id}: {path}.{key} must be a non-empty list"
                for index, rule in enumerate(rules):
                    where = f"{engine_id}: {path}.{key}[{index}]"
                    assert isinstance(rule, dict) and "value" in rule, f"{where} needs a value (null allowed)"
                    assert isinstance(rule.get("source"), str) and rule["source"].strip(), f"{where} needs a source"


@pytest.mark.parametrize("engine_id", ENGINE_IDS)
def test_physical_ranges(engine_id):
    doc = profile(engine_id)
    memory, host = doc["memory"], doc["host"]
    assert memory["fraction_of"] in {"total", "free", "total_static"}
    assert memory["activation_sized_by"] in {"token_budget", "none"}
    low, high = memory["fraction"]["box"]
    assert 0 < low <= high <= 1, "a memory fraction lies in (0, 1]"
    assert as_number(memory["reserve_bytes"]["box"][0], "reserve") >= 0
    for key in ("per_iteration_s", "per_request_s"):
        lo, hi = host[key]["box"]
        assert 0 <= lo <= hi < 0.1, f"{key}: host time per step is between 0 and 100 ms"
    lo, hi = host["hidden_fraction"]["box"]
    assert 0 <= lo <= hi <= 1
    kernels = doc["kernels_per_layer"]
    assert all(isinstance(v, int) and v >= 0 for v in [kernels["value"], *kernels["box"]])
    for key in REQUIRED_LIMITS - {"chunked_prefill"}:
        cap = doc["limits"][key]["value"]
        assert cap is None or (isinstance(cap, int) and cap >= 1), f"{key}: a cap is a positive integer or null"
    assert isinstance(doc["limits"]["chunked_prefill"]["value"], bool)


@pytest.mark.parametrize("engine_id", SERVING_ENGINES)
def test_flag_table_is_complete_and_usable(engine_id):
    flags = profile(engine_id)["flags"]
    assert REQUIRED_FLAGS <= flags.keys(), REQUIRED_FLAGS - flags.keys()
    assert "{model}" in flags["launch"]
    for name, entry in flags.items():
        where = f"{engine_id}: flags.{name}"
        if isinstance(entry, str):
            assert entry.strip(), f"{where} is empty"
            continue
        assert isinstance(entry, dict), f"{where} must be a string or a mapping"
        assert isinstance(entry.get("source"), str) and entry["source"].strip(), f"{where} needs a source"
        if entry.get("supported") is False:
            continue
        assert isinstance(entry.get("flag"), str) and entry["flag"].strip(), f"{where} needs a flag"
        assert entry.get("kind") in FLAG_KINDS, f"{where}.kind must be one of {sorted(FLAG_KINDS)}"
        if entry["kind"] in {"switch", "value", "json"} and not entry["flag"].startswith("("):
            assert entry["flag"].startswith("-"), f"{where}: a command-line flag starts with '-'"


def test_ideal_is_the_pure_roofline():
    doc = profile("ideal")
    assert doc["batching"] == "static"
    assert "flags" not in doc, "the roofline has no launch command"
    assert all(doc["limits"][key]["value"] is None for key in REQUIRED_LIMITS - {"chunked_prefill"})
    assert doc["limits"]["chunked_prefill"]["value"] is False
    assert doc["memory"]["fraction_of"] == "total"
    assert doc["memory"]["fraction"]["value"] == 1.0
    assert doc["memory"]["reserve_bytes"]["value"] == 0
    assert doc["host"]["per_iteration_s"]["value"] == 0 and doc["host"]["per_request_s"]["value"] == 0
    assert doc["kernels_per_layer"]["value"] == 0
    assert doc["efficiency"]["all"]["value"] == 1.0


@pytest.mark.parametrize("engine_id", SERVING_ENGINES)
def test_serving_engines_batch_continuously_with_real_costs(engine_id):
    doc = profile(engine_id)
    assert doc["batching"] == "continuous"
    assert doc["host"]["per_iteration_s"]["value"] > 0
    assert doc["kernels_per_layer"]["value"] > 0
    assert doc["limits"]["max_running_requests"]["value"] >= 1


def test_vllm_memory_rules_are_ordered_most_specific_first():
    # First match wins, so thresholds must not increase down the list, and large GPUs get the larger cap.
    rules = [r for r in profile("vllm")["limits"]["max_running_requests_rules"] if "min_memory_gib" in r]
    thresholds = [r["min_memory_gib"] for r in rules]
    assert thresholds == sorted(thresholds, reverse=True) and thresholds[-1] == 0
    caps = [r["value"] for r in rules]
    assert caps == sorted(caps, reverse=True)


def test_semantics_differ_where_the_engines_differ():
    # The issue that motivated profiles: vLLM budgets TOTAL memory, TensorRT-LLM a share of what is FREE.
    assert profile("vllm")["memory"]["fraction_of"] == "total"
    assert profile("trtllm")["memory"]["fraction_of"] == "free"
    assert profile("sglang")["memory"]["fraction_of"] == "total_static"


def test_trtllm_bench_rules_cover_both_calibration_releases():
    rules = profile("trtllm")["limits"]["bench_rules"]
    assert {"common_rule", "v0_15", "v0_19"} <= rules.keys()
    for release in ("v0_15", "v0_19"):
        for key in ("applies_to", "kv_cache_fraction", "chunked_context"):
            assert isinstance(rules[release][key].get("source"), str), f"bench_rules.{release}.{key}"
    assert isinstance(rules["v0_15"]["chunked_context"]["value"], bool)
    keys = profile("trtllm")["flags"]["config_file"]["keys"]
    assert keys and all(isinstance(k, str) and k for k in keys)
