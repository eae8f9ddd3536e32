"""`sources` and `--explain` name the real origin of every input (issue 14 item 2): the flag, the environment
variable by name, the user config file with its path, a plan file with its line, the catalog, or the default."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from cli_helpers import run, run_json
from inferwall.cli.fast import run_fast


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in ("INFERWALL_PRICE", "INFERWALL_GPU", "INFERWALL_FORMAT", "INFERWALL_CATALOG", "INFERWALL_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-config"))  # no user config file unless a test writes one


def fast_json(*argv: str) -> dict:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = run_fast(["estimate", *argv, "-f", "json"])
    assert code == 0
    return json.loads(buf.getvalue())


def test_a_flag_is_named_as_the_flag(capsys):
    d, _ = run_json(capsys, "estimate", "-m", "llama-3.1-8b", "--price", "1.5")
    assert d["sources"]["price"] == "flag --price"
    assert d["scenario"]["price_usd_per_gpu_hour"] == 1.5


def test_the_price_variable_is_named_as_the_variable(capsys, monkeypatch):
    monkeypatch.setenv("INFERWALL_PRICE", "1.5")
    d, _ = run_json(capsys, "estimate", "-m", "llama-3.1-8b")
    assert d["scenario"]["price_usd_per_gpu_hour"] == 1.5
    assert d["sources"]["price"] == "env INFERWALL_PRICE"
    assert fast_json("-m", "llama-3.1-8b")["sources"] == d["sources"]  # the fast path says the same
    code, _, err = run(capsys, "estimate", "-m", "llama-3.1-8b", "--explain")
    assert code == 0 and "$1.5 per GPU-hour — env INFERWALL_PRICE" in err and "flag --price" not in err


def test_a_flag_beats_the_variable_and_says_so(capsys, monkeypatch):
    monkeypatch.setenv("INFERWALL_PRICE", "1.5")
    d, _ = run_json(capsys, "estimate", "-m", "llama-3.1-8b", "--price", "4")
    assert d["scenario"]["price_usd_per_gpu_hour"] == 4 and d["sources"]["price"] == "flag --price"


def test_the_gpu_variable_is_named_next_to_the_catalog_entry(capsys, monkeypatch):
    monkeypatch.setenv("INFERWALL_GPU", "h200")
    d, _ = run_json(capsys, "estimate", "-m", "llama-3.1-8b")
    assert d["sources"]["gpu"].startswith("catalog nvidia-h200-sxm-141gb (")
    assert d["sources"]["gpu"].endswith(", named by env INFERWALL_GPU")


def test_the_config_file_is_named_with_its_path_and_key(capsys, monkeypatch, tmp_path):
    config = tmp_path / "inferwall.yaml"
    config.write_text("estimate:\n  price: 3.5\n  input_tokens: 2048\n")
    monkeypatch.setenv("INFERWALL_CONFIG", str(config))
    d, _ = run_json(capsys, "estimate", "-m", "llama-3.1-8b")
    assert d["scenario"]["price_usd_per_gpu_hour"] == 3.5 and d["scenario"]["input_tokens"] == 2048
    assert d["sources"]["price"] == f"config {config} (estimate.price)"
    assert d["sources"]["input_tokens"] == f"config {config} (estimate.input_tokens)"


def test_defaults_and_layout_flags_are_named(capsys):
    d, _ = run_json(capsys, "estimate", "-m", "llama-3.1-70b", "--gpus", "8", "--batch", "4")
    s = d["sources"]
    assert s["gpus"] == "flag --gpus" and s["batch"] == "flag --batch"
    assert s["input_tokens"] == "default" and s["output_tokens"] == "default"
    assert s["gpu"].endswith("[default --gpu]") and s["model"].startswith("catalog llama-3.1-70b")


def test_economics_commands_name_the_variable_too(capsys, monkeypatch):
    """scale, bounds and the rest take their scenario flags from the same table; the origins go with them."""
    import inferwall.inputs

    monkeypatch.setenv("INFERWALL_PRICE", "1.5")
    built = []
    real = inferwall.inputs.build
    monkeypatch.setattr(inferwall.inputs, "build", lambda o, cat: built.append(real(o, cat)) or built[-1])
    for command in ("bounds", "scale"):
        code, _, err = run(capsys, command, "-m", "llama-3.1-8b", "-f", "json")
        assert code == 0, err
        assert built[-1].provenance["price"] == "env INFERWALL_PRICE"


def test_a_plan_names_its_file_and_line_and_an_override_its_flag(tmp_path):
    from inferwall import plans
    from inferwall.catalog import load_catalog

    plan_file = tmp_path / "plan.yaml"
    plan_file.write_text("defaults:\n  model: llama-3.1-8b\n  price: 2\nscenarios:\n  a:\n    batch: 8\n"
                         "    assert:\n      max_tpot_s: 1s\n")
    plan = plans.load_plan(plan_file)
    (_, resolved), = plans.resolve_plan(plan, load_catalog(), {})
    assert resolved.provenance["price"] == f"plan {plan_file}:3 (defaults.price)"
    assert resolved.provenance["batch"] == f"plan {plan_file}:6 (scenarios.a.batch)"
    (_, resolved), = plans.resolve_plan(plan, load_catalog(), {"price": "3"})
    assert resolved.provenance["price"] == "flag --price"


def test_compare_json_sources_name_the_variable(capsys, monkeypatch):
    monkeypatch.setenv("INFERWALL_PRICE", "1.5")
    d, _ = run_json(capsys, "compare", "-m", "llama-3.1-8b", "--batch", "1,2")
    assert [r["sources"]["price"] for r in d] == ["env INFERWALL_PRICE"] * 2
    assert [r["sources"]["batch"] for r in d] == ["flag --batch"] * 2
