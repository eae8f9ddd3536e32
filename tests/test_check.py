"""``inferwall check``: example plans pass, failures exit 1, invalid plans exit 2 with file:line and field;
JUnit XML; the plan JSON Schema; ``inferwall catalog validate``."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from inferwall.fields import FIELDS
from inferwall.plans import ASSERTIONS
from cli_helpers import run

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "specs" / "plans").glob("*.yaml"))

FAILING = """\
description: a deliberately failing plan
defaults:
  model: llama-3.1-70b
  gpu: h100
  gpus: 8
scenarios:
  relaxed:
    batch: 8
    assert:
      max_tpot_s: 1
  tight:
    batch: 32
    assert:
      max_tpot_s: 1ms
      must_fit: true
"""


def write(tmp_path, text, name="plan.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_there_are_example_plans():
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("plan", EXAMPLES, ids=lambda p: p.name)
def test_every_example_plan_passes(capsys, plan):
    code, out, err = run(capsys, "check", plan, "-f", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["passed"] is True and data["failed"] == 0 and data["assertions"] == len(data["results"]) > 0
    assert "assertions hold" in err


def test_all_examples_together(capsys):
    code, out, err = run(capsys, "check", *EXAMPLES, "-f", "tsv")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split("\t")[:3] == ["plan", "scenario", "assertion"]
    assert {line.split("\t")[0] for line in lines[1:]} == {str(p) for p in EXAMPLES}


def test_failing_plan_exits_1_and_names_the_assertion(capsys, tmp_path):
    plan = write(tmp_path, FAILING)
    junit = tmp_path / "reports" / "junit.xml"
    junit.parent.mkdir()
    code, out, err = run(capsys, "check", plan, "--junit", junit)
    assert code == 1
    assert "1 of 3 assertions failed; first: tight: max_tpot_s" in err
    rows = [line.split("\t") for line in out.splitlines()]
    header = rows[0]
    failed = [dict(zip(header, r)) for r in rows[1:] if r[header.index("passed")] == "false"]
    assert [(r["scenario"], r["assertion"], r["bound"]) for r in failed] == [("tight", "max_tpot_s", "decode: memory")]
    assert failed[0]["line"] == "14"

    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites" and root.get("tests") == "3" and root.get("failures") == "1"
    cases = root.findall("./testsuite/testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("relaxed", "max_tpot_s"), ("tight", "max_tpot_s"), ("tight", "must_fit")]
    failures = root.findall(".//failure")
    assert len(failures) == 1 and "latency.tpot_s" in failures[0].get("message")
    assert [p.name for p in junit.parent.iterdir()] == ["junit.xml"]  # no temporary file left behind


def test_passing_plan_junit(capsys, tmp_path):
    junit = tmp_path / "junit.xml"
    code, _, _ = run(capsys, "check", EXAMPLES[0], "--junit", junit)
    root = ET.parse(junit).getroot()
    assert code == 0 and root.get("failures") == "0" and int(root.get("tests")) > 0
    assert oct(junit.stat().st_mode & 0o777) != oct(0o600)


def test_markdown_for_a_job_summary(capsys, tmp_path):
    code, out, _ = run(capsys, "check", write(tmp_path, FAILING), "-f", "markdown")
    assert code == 1
    assert out.startswith("### ❌ inferwall check: 1 of 3 assertions failed")
    assert "| tight | `max_tpot_s` |" in out and "❌ **FAIL**" in out and "✅ pass" in out


def test_table_shows_actual_threshold_result_and_binding(capsys, tmp_path):
    code, out, _ = run(capsys, "check", write(tmp_path, FAILING), "-f", "table")
    assert code == 1 and "…" not in out
    line = next(line for line in out.splitlines() if "tight" in line and "max_tpot_s" in line)
    assert "ms" in line and "<=" in line and "1 ms" in line and "FAIL" in line and "decode: memory" in line


def test_flags_override_every_scenario(capsys, tmp_path):
    plan = write(tmp_path, FAILING)
    code, out, err = run(capsys, "check", plan, "--gpu", "h200", "-f", "json")
    assert "--gpu h200 replaces the plans' gpu" in err
    first = json.loads(out)["results"][0]
    code, out, _ = run(capsys, "check", plan, "-f", "json")
    assert json.loads(out)["results"][0]["actual"] != first["actual"]


def test_env_defaults_do_not_change_a_plan(capsys, tmp_path, monkeypatch):
    plan = write(tmp_path, FAILING)
    code, before, _ = run(capsys, "check", plan, "-f", "json")
    monkeypatch.setenv("INFERWALL_GPU", "b200")
    monkeypatch.setenv("INFERWALL_PRICE", "100")
    code, after, _ = run(capsys, "check", plan, "-f", "json")
    assert before == after


INVALID = [
    ("scenarios:\n  a:\n    model: llama-3.1-8b\n    gpuz: h100\n    assert: {max_tpot_s: 1}\n",
     ":4: scenarios.a.gpuz: unknown field 'gpuz'; did you mean gpu"),
    ("scenarios:\n  a:\n    model: llama-3.1-8b\n    input-tokens: 10\n    assert: {max_tpot_s: 1}\n",
     ":4: scenarios.a.input-tokens: unknown field 'input-tokens'; did you mean input_tokens?"),
    ("scenarios:\n  a:\n    model: llama-3.1-8b\n    assert:\n      max_tpot: 1\n",
     ":5: scenarios.a.assert.max_tpot: unknown assertion 'max_tpot'; did you mean max_tpot_s"),
    ("scenarios:\n  a:\n    model: llama-3.1-8b\n    gpus: 0\n    assert: {max_tpot_s: 1}\n",
     ":4: scenarios.a.gpus: must be >= 1"),
    ("defaults:\n  model: llama-3.1-8b\n  gpu: h1000\nscenarios:\n  a:\n    assert: {max_tpot_s: 1}\n",
     ":3: defaults.gpu: unknown GPU 'h1000'; did you mean h100"),
    ("scenarios:\n  a:\n    model: llama-3.1-70b\n    tp: 3\n    assert: {max_tpot_s: 1}\n",
     ":4: scenarios.a.tp: tp=3 does not divide"),
    ("scenarios:\n  a:\n    model: llama-3.1-8b\n    assert:\n      max_tpot_s: fast\n",
     ":5: scenarios.a.assert.max_tpot_s: cannot parse 'fast' as a duration"),
    ("scenarios:\n  a:\n    model: llama-3.1-8b\n    assert:\n      must_fit: 1\n",
     ":5: scenarios.a.assert.must_fit: must be true or false"),
    ("scenarios:\n  a:\n    model: llama-3.1-8b\n    batch: [1, 2]\n    assert: {max_tpot_s: 1}\n",
     ":4: scenarios.a.batch: expected a number or text"),
    ("scenarios:\n  a:\n    model: llama-3.1-8b\n    ideal: yes please\n    assert: {max_tpot_s: 1}\n",
     ":4: scenarios.a.ideal: must be true or false"),
    ("scenario:\n  a: {}\n", ":1: scenario: unknown top-level key 'scenario'; did you mean scenarios?"),
    ("defaults: {model: llama-3.1-8b}\n", "missing 'scenarios'"),
    ("scenarios:\n  a:\n    model: llama-3.1-8b\n", ":2: scenarios.a: no assertions"),
    ("scenarios:\n  a:\n    model: llama-3.1-8b\n    assert: {max_tpot_s: 1}\n  a:\n    model: x\n",
     ":5: scenarios.a: duplicate key (the first is on line 2)"),
    ("scenarios:\n  a:\n    model: llama-3.1-8b\n    gpu: mi300x\n    assert:\n      max_usd_per_hour: 10\n",
     ":6: scenarios.a.assert.max_usd_per_hour: cannot check cost.usd_per_hour: amd-mi300x has no price"),
    ("scenarios:\n  a:\n    model: bert-base-uncased\n    assert:\n      max_tpot_s: 1\n",
     ":5: scenarios.a.assert.max_tpot_s: bert-base-uncased has no decode phase"),
    ("version: 2\nscenarios: {}\n", ":1: version: must be 1, the plan format this inferwall reads; got 2"),
    ("scenarios:\n  a: &x {model: llama-3.1-8b}\n", ":2: invalid YAML: anchors (&x) are not allowed"),
    ("scenarios:\n  a: [model\n", "invalid YAML"),
    ("- 1\n- 2\n", "expected a mapping with 'scenarios'"),
]


@pytest.mark.parametrize("text, needle", INVALID, ids=[n.split(": ", 1)[-1][:40] for _, n in INVALID])
def test_invalid_plan_exits_2_naming_file_line_and_field(capsys, tmp_path, text, needle):
    plan = write(tmp_path, text)
    junit = tmp_path / "junit.xml"
    code, out, err = run(capsys, "check", plan, "--junit", junit)
    assert code == 2 and out == ""
    assert err.startswith(f"Error: {plan}") and needle in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    root = ET.parse(junit).getroot()
    assert root.get("errors") == "1" and root.find(".//error") is not None


def test_invalid_plan_among_several_fails_before_any_output(capsys, tmp_path):
    bad = write(tmp_path, INVALID[0][0], "bad.yaml")
    code, out, err = run(capsys, "check", EXAMPLES[0], bad)
    assert code == 2 and out == "" and "bad.yaml:4" in err


def test_missing_plan_file(capsys, tmp_path):
    code, out, err = run(capsys, "check", tmp_path / "nope.yaml")
    assert code == 2 and "nope.yaml: no such file" in err


def test_threshold_units(capsys, tmp_path):
    plan = write(tmp_path, "defaults: {model: llama-3.1-8b, gpu: h100}\nscenarios:\n  a:\n    assert:\n"
                           "      max_tpot_s: 500ms\n      min_headroom: 5%\n      min_utilization: 0.01%\n"
                           "      max_usd_per_million_output_tokens: $100\n      min_output_tokens_per_s: 0.05k\n")
    code, out, err = run(capsys, "check", plan, "-f", "json")
    assert code == 0, err
    by = {r["assertion"]: r for r in json.loads(out)["results"]}
    assert by["max_tpot_s"]["threshold"] == 0.5
    assert by["min_output_tokens_per_s"]["threshold"] == 50
    assert by["max_usd_per_million_output_tokens"]["threshold"] == 100
    assert by["min_utilization"]["threshold"] == pytest.approx(1e-4)


def test_schema_plan(capsys):
    code, out, _ = run(capsys, "schema", "plan")
    assert code == 0
    schema = json.loads(out)
    assert schema["$schema"].startswith("https://json-schema.org/")
    scenario = schema["$defs"]["scenario"]["properties"]
    assert {f.name for f in FIELDS} <= set(scenario) and set(scenario) - {f.name for f in FIELDS} == {"assert", "description"}
    assert set(schema["properties"]["defaults"]["properties"]) == {f.name for f in FIELDS}
    assert set(schema["$defs"]["assertions"]["properties"]) == {a.name for a in ASSERTIONS}
    assert schema["$defs"]["scenario"]["additionalProperties"] is False
    assert schema["properties"]["scenarios"]["additionalProperties"] == {"$ref": "#/$defs/scenario"}
    assert scenario["ideal"]["type"] == "boolean" and "bf16" in scenario["precision"]["enum"]


@pytest.mark.parametrize("plan", EXAMPLES, ids=lambda p: p.name)
def test_examples_match_the_schema_keys(capsys, plan):
    import yaml

    code, out, _ = run(capsys, "schema", "plan")
    schema = json.loads(out)
    data = yaml.safe_load(plan.read_text())
    assert set(data) <= set(schema["properties"])
    for body in data["scenarios"].values():
        assert set(body) <= set(schema["$defs"]["scenario"]["properties"])
        assert set(body.get("assert") or {}) <= set(schema["$defs"]["assertions"]["properties"])


def test_docs_ci_recipe_uses_real_commands():
    text = (ROOT / "docs" / "ci.md").read_text()
    assert "inferwall check" in text and "--junit" in text and "GITHUB_STEP_SUMMARY" in text


# ----------------------------------------------------------------- catalog validate


def test_catalog_validate_ok(capsys, tmp_path):
    good = write(tmp_path, "accelerators:\n  - id: my-gpu\n    memory: {capacity: 96GiB, bandwidth: 4TB/s}\n"
                           "    compute: {bf16: 1000TFLOPS}\n", "mine.yaml")
    code, out, err = run(capsys, "catalog", "validate", good, ROOT / "specs" / "models.yaml")
    assert code == 0 and out == ""
    assert f"ok: {good}: 1 accelerator, 0 models" in err and "0 accelerators, " in err


def test_catalog_validate_stops_at_the_first_invalid_file(capsys, tmp_path):
    bad = write(tmp_path, "accelerators:\n  - id: mygpu\n    memory: {capacity: 80GiB, bandwidth: -3TB/s}\n", "bad.yaml")
    good = write(tmp_path, "models: []\naccelerators: []\n", "good.yaml")
    code, out, err = run(capsys, "catalog", "validate", bad, good)
    assert code == 2 and out == "" and f"{bad}: mygpu.memory.bandwidth: must be > 0" in err
    assert "good.yaml" not in err


def test_catalog_validate_checks_model_shapes(capsys, tmp_path):
    bad = write(tmp_path, "models:\n  - id: odd\n    num_layers: 2\n    hidden_size: 256\n    num_attention_heads: 6\n"
                          "    num_kv_heads: 4\n    intermediate_size: 512\n    vocab_size: 1000\n", "odd.yaml")
    code, out, err = run(capsys, "catalog", "validate", bad)
    assert code == 2 and f"{bad}: odd: num_heads (6) must be a multiple of num_kv_heads (4)" in err


def test_catalog_validate_reads_the_environment(capsys, tmp_path, monkeypatch):
    good = write(tmp_path, "models: []\n", "env.yaml")
    monkeypatch.setenv("INFERWALL_CATALOG", str(good))
    code, _, err = run(capsys, "catalog", "validate")
    assert code == 0 and f"ok: {good}" in err
    monkeypatch.delenv("INFERWALL_CATALOG")
    code, _, err = run(capsys, "catalog", "validate")
    assert code == 2 and "no files" in err


def test_commands_take_catalog(capsys, tmp_path):
    extra = write(tmp_path, "accelerators:\n  - id: my-gpu\n    memory: {capacity: 96GiB, bandwidth: 4TB/s}\n"
                            "    compute: {bf16: 1000TFLOPS}\n    price: {usd_per_hour: 2}\n", "mine.yaml")
    plan = write(tmp_path, "scenarios:\n  a:\n    model: llama-3.1-8b\n    gpu: my-gpu\n    assert: {max_usd_per_hour: 3}\n")
    code, out, err = run(capsys, "check", plan, "--catalog", extra)
    assert code == 0, err
    os.environ.pop("INFERWALL_CATALOG", None)


# --------------------------------------------------------------------------- plans that cannot run (issue 14 item 1)

UNFIT = """\
scenarios:
  big:
    model: llama-3.1-405b
    gpu: h100
    gpus: 2
    price: 2
    assert:
      max_tpot_s: 10s
      max_usd_per_million_output_tokens: 1000
      min_output_tokens_per_s: 1
"""


def test_a_plan_that_does_not_fit_fails_every_performance_assertion(capsys, tmp_path):
    code, out, err = run(capsys, "check", write(tmp_path, UNFIT), "-f", "json")
    data = json.loads(out)
    assert code == 1 and data["failed"] == 3
    for r in data["results"]:
        assert r["passed"] is False
        assert r["detail"].startswith("does not fit in memory (the smallest replica that fits is ")
        assert "cannot run" in r["detail"]
    # the numbers alone would pass: the estimate's own values are under every threshold
    tpot = next(r for r in data["results"] if r["assertion"] == "max_tpot_s")
    assert tpot["actual"] < tpot["threshold"]
    assert "check: 3 of 3 assertions failed; first: big: max_tpot_s: does not fit in memory" in err


def test_must_fit_false_checks_the_numbers_of_a_plan_that_does_not_fit(capsys, tmp_path):
    plan = write(tmp_path, UNFIT.replace("      max_tpot_s: 10s\n", "      max_tpot_s: 10s\n      must_fit: false\n"))
    code, out, err = run(capsys, "check", plan, "-f", "json")
    data = json.loads(out)
    assert code == 0 and data["failed"] == 0, err
    assert "does not fit" in err  # the note still says so


# --------------------------------------------------------------------------- units as the plan wrote them (item 14)


def test_thresholds_echo_the_unit_the_plan_wrote(capsys, tmp_path):
    plan = write(tmp_path, "scenarios:\n  a:\n    model: llama-3.1-8b\n    assert:\n      min_headroom: 10GiB\n"
                           "      max_tpot_s: 50ms\n  b:\n    model: llama-3.1-8b\n    assert:\n"
                           "      min_headroom: 20GB\n      max_ttft_s: 2\n")
    code, out, err = run(capsys, "check", plan, "-f", "markdown")
    assert code == 0, err
    _, machine, _ = run(capsys, "check", plan, "-f", "json")
    rows = {(r["scenario"], r["assertion"]): r for r in json.loads(machine)["results"]}
    headroom_gib = rows["a", "min_headroom"]["actual"] / 2**30
    assert f"| {headroom_gib:.4g} GiB | >= 10 GiB |" in out  # not "10.7 GB"
    assert f"| {rows['b', 'min_headroom']['actual'] / 1e9:.4g} GB | >= 20 GB |" in out
    assert f"| {rows['a', 'max_tpot_s']['actual'] * 1e3:.4g} ms | <= 50 ms |" in out
    assert "10.7 GB" not in out
    code, table, _ = run(capsys, "check", plan, "-f", "table")
    assert "10 GiB" in table and f"{headroom_gib:.4g} GiB" in table
