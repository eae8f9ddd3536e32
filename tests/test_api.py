"""The Python API: results equal the CLI's JSON for the same inputs (a grid of estimates, compares, sweeps, plans,
fleets, catalog listings), one exception type with the CLI's one-line message, the generated signatures, result
objects (attributes, copies, pandas, HTML) and a light ``import inferwall``."""

from __future__ import annotations

import importlib.util
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

import inferwall
from inferwall.fields import BY_NAME, FIELDS
from cli_helpers import run

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch_env):
    """The CLI reads INFERWALL_* variables and the API does not: compare them without."""


def flags(kwargs: dict) -> list[str]:
    out: list[str] = []
    for name, value in kwargs.items():
        f = BY_NAME[name]
        if f.is_switch:
            out += [f.flag] if value else []
        else:
            out += [f.flag, ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)]
    return out


def cli_json(capsys, *argv):
    code, out, err = run(capsys, *argv, "-f", "json")
    assert code in (0, 1), err
    return json.loads(out), err


ESTIMATES = [
    {"model": "llama-3.1-70b", "gpu": "h100", "gpus": 8, "batch": 64},
    {"model": "llama-3.1-8b"},
    {"model": "llama-3.1-8b", "gpu": "a100", "batch": "max", "input_tokens": 4096, "output_tokens": 512},
    {"model": "deepseek-v3", "gpu": "h200", "gpus": 8, "batch": 32},
    {"model": "mixtral-8x7b", "gpu": "mi300x", "precision": "fp8", "price": 2.5},
    {"model": "llama-3.1-8b", "gpu": "l40s", "precision": "int4", "engine": "trtllm"},
    {"params": "280B", "gpu": "a100", "precision": "bf16", "ideal": True},
    {"params": "1.6T", "precision": "fp8", "gpus": 20, "flops": "3e15", "bandwidth": "3TB/s", "ideal": True,
     "batch": 100},
    {"model": "llama-3.1-8b", "gpu": "h100", "mfu": 0.5, "mbu": "80%", "overhead": "1ms", "reserve": "2GiB"},
    {"model": "llama-3.1-70b", "gpu": "h100", "tp": 4, "dp": 2, "batching": "static", "batch": 16},
    {"model": "bert-base", "gpu": "t4", "batch": 8, "input_tokens": 128},
    {"model": "qwen3-30b-a3b", "gpu": "h100", "quant": "modelopt-fp8", "num_requests": 500, "batch": 64},
    {"model": "llama-3.1-8b", "gpu": "mi300x", "price": {"h100": 2.1, "mi300x": 2.5}},
]


@pytest.mark.parametrize("kwargs", ESTIMATES, ids=lambda k: " ".join(f"{a}={b}" for a, b in k.items()))
def test_estimate_equals_cli_json(capsys, kwargs):
    result = inferwall.estimate(**kwargs)
    cli_kwargs = dict(kwargs)
    if isinstance(kwargs.get("price"), dict):
        cli_kwargs["price"] = ",".join(f"{g}={p}" for g, p in kwargs["price"].items())
    expected, _ = cli_json(capsys, "estimate", *flags(cli_kwargs))
    assert result.to_dict() == expected
    assert result.scenario.model == expected["scenario"]["model"]
    assert result.latency.ttft_s == expected["latency"]["ttft_s"]


GRIDS = [
    {"model": "llama-3.1-8b", "gpu": ["h100", "h200"], "batch": [1, 64]},
    {"model": "llama-3.1-70b", "gpus": 8, "precision": ["bf16", "fp8"], "gpu": "h100,mi300x"},
    {"model": "llama-3.1-8b", "batch": "1..8", "ideal": True},
    {"model": "llama-3.1-8b", "gpu": ["h100", "mi300x", "l40s"], "price": {"h100": 2.1, "mi300x": 2.5}},
    {"model": "llama-3.1-70b", "gpu": "h100", "tp": [1, 2, 4, 8], "gpus": 8, "mfu": [0.5, 0.7]},
]


def _grid_cli(kwargs: dict) -> dict:
    out = dict(kwargs)
    if isinstance(kwargs.get("price"), dict):
        out["price"] = ",".join(f"{g}={p}" for g, p in kwargs["price"].items())
    return out


@pytest.mark.parametrize("kwargs", GRIDS, ids=lambda k: " ".join(f"{a}={b}" for a, b in k.items()))
def test_compare_equals_cli_json(capsys, kwargs):
    records = inferwall.compare(**kwargs)
    expected, err = cli_json(capsys, "compare", *flags(_grid_cli(kwargs)))
    assert records.to_dicts() == expected
    assert all(isinstance(r, inferwall.Result) for r in records)
    assert [line for line in err.splitlines() if line.startswith("note")] == records.notes


@pytest.mark.parametrize("kwargs", GRIDS, ids=lambda k: " ".join(f"{a}={b}" for a, b in k.items()))
def test_sweep_equals_cli_json(capsys, kwargs):
    everything = inferwall.sweep(**kwargs)
    expected, err = cli_json(capsys, "sweep", *flags(_grid_cli(kwargs)), "-c", "all")
    assert everything.to_dicts() == expected
    chosen = inferwall.sweep(**kwargs, columns="default", where="tpot_s<0.05", sort="-throughput.output_tokens_per_s",
                             top=3)
    expected, err = cli_json(capsys, "sweep", *flags(_grid_cli(kwargs)), "--where", "tpot_s<0.05", "--sort",
                             "-throughput.output_tokens_per_s", "--top", "3")
    assert chosen.to_dicts() == expected
    assert [line for line in err.splitlines() if line.startswith("note")] == chosen.notes


def test_compare_rows_are_sweep_rows():
    records = inferwall.compare(model="llama-3.1-8b", gpu=["h100", "h200"])
    rows = inferwall.sweep(model="llama-3.1-8b", gpu=["h100", "h200"])
    assert records.rows() == rows.to_dicts()
    assert inferwall.estimate(model="llama-3.1-8b", gpu="h200").rows() == [rows[1]]


def test_plan_equals_cli_json(capsys):
    kwargs = dict(model="llama-3.1-8b", users=500, max_tpot="30ms", gpus_from=["h100", "a100", "l40s"], top=3)
    records = inferwall.plan(**kwargs)
    expected, err = cli_json(capsys, "plan", "--model", "llama-3.1-8b", "--users", "500", "--max-tpot", "30ms",
                             "--gpus-from", "h100,a100,l40s", "--top", "3")
    assert records.to_dicts() == expected
    assert records.summary in err and records.summary.startswith("Cheapest for 500 concurrent users")
    none = inferwall.plan(model="llama-3.1-70b", users=10, max_tpot="0.1ms", gpus_from="h100")
    assert len(none) == 0 and none.summary.startswith("No configuration serves")  # a result, not an error


def test_fleet_equals_cli_json(capsys, tmp_path):
    path = ROOT / "specs" / "fleets" / "xai-colossus-2024.yaml"
    expected, _ = cli_json(capsys, "fleet", str(path), "--pue", "1.1", "--model", "llama-3.1-70b")
    result = inferwall.fleet(path, pue=1.1, model="llama-3.1-70b")
    assert result.to_dict() == expected
    assert result.total.output_tokens_per_day == expected["total"]["output_tokens_per_day"]
    assert result.by_accelerator[0].models[0].tp == expected["by_accelerator"][0]["models"][0]["tp"]
    # the same fleet as mappings: equal to the file but for the file's name
    accelerators = {"h100": 64, "mi300x": {"count": 16, "price": 2.5}}
    workload = {"model": "llama-3.1-8b", "input_tokens": 512, "per_user_tokens_per_s": 25}
    from_args = inferwall.fleet(accelerators=accelerators, workload=workload, utilization=[0.5, 1.0])
    file = tmp_path / "f.yaml"
    file.write_text(json.dumps({"accelerators": accelerators, "workload": workload, "utilization": [0.5, 1.0]}))
    from_file = inferwall.fleet(file)
    a, b = from_args.to_dict(), from_file.to_dict()
    assert a.pop("fleet")["file"] == "inferwall.fleet()" and b.pop("fleet")["file"] == str(file)
    assert a == b
    rows = from_args.rows()
    assert [r["gpu"] for r in rows] == ["nvidia-h100-sxm-80gb", "amd-mi300x", "total"]


def test_generations_equal_cli_json(capsys):
    records = inferwall.generations(gpus=["h100", "b200"], per_user_tokens_per_s=30)
    expected, err = cli_json(capsys, "fleet", "--generations", "--gpus-from", "h100,b200", "--per-user-tokens-per-s", "30")
    assert records.to_dicts() == expected and records.summary in err


def test_catalog_listings_equal_cli_json(capsys):
    assert inferwall.catalog.gpus().to_dicts() == cli_json(capsys, "gpus")[0]
    assert inferwall.catalog.gpus("amd").to_dicts() == cli_json(capsys, "gpus", "amd")[0]
    assert inferwall.catalog.models("llama").to_dicts() == cli_json(capsys, "models", "llama")[0]
    # the order is the files', whatever a long-lived process looked up first
    inferwall.estimate(model="llama-3.1-8b", gpu="mi325x")
    assert [r["id"] for r in inferwall.catalog.gpus("amd")][:3] == ["amd-mi250x", "amd-mi300x", "amd-mi325x"]


# --------------------------------------------------------------------------- errors


CLI_ERRORS = [
    {"model": "nope-7b"},
    {"model": "llama-3.1-8b", "gpu": "h1000"},
    {"model": "llama-3.1-70b", "tp": 3},
    {"model": "llama-3.1-8b", "precision": "fp7"},
    {"model": "llama-3.1-8b", "mfu": "lots"},
    {"model": "llama-3.1-8b", "batch": 0},
    {"model": "llama-3.1-8b", "price": "h100=2,h1000=3"},
    {"model": "llama-3.1-8b", "gpu": "a100", "compute": "fp8"},
    {"model": "llama-3.1-8b", "engine": "vllmx"},
    {"params": "70B", "model": "llama-3.1-8b"},
]


@pytest.mark.parametrize("kwargs", CLI_ERRORS, ids=lambda k: " ".join(f"{a}={b}" for a, b in k.items()))
def test_errors_carry_the_cli_line(capsys, kwargs):
    with pytest.raises(inferwall.InputError) as caught:
        inferwall.estimate(**kwargs)
    code, out, err = run(capsys, "estimate", *flags(kwargs))
    assert code == 2 and out == ""
    assert err == f"Error: {caught.value}\n"
    with pytest.raises(inferwall.InputError) as again:  # the grid commands say the same
        inferwall.compare(**kwargs)
    code, _, err = run(capsys, "compare", *flags(kwargs))
    assert code == 2 and err == f"Error: {again.value}\n"


@pytest.mark.parametrize("call, message", [
    (lambda: inferwall.estimate(model="llama-3.1-8b", gpuz="h100"), "unknown argument 'gpuz'; did you mean gpu"),
    (lambda: inferwall.estimate(model="llama-3.1-8b", gpu=3), "gpu: expected text, got 3 (int)"),
    (lambda: inferwall.estimate(model="llama-3.1-8b", gpus="eight"), "--gpus: expected a whole number >= 1, got 'eight'"),
    (lambda: inferwall.estimate(model="llama-3.1-8b", gpus=2.5), "--gpus: must be a whole number, got 2.5"),
    (lambda: inferwall.estimate(model="llama-3.1-8b", batch=[1, 8]), "several values go to compare or sweep"),
    (lambda: inferwall.estimate(model="llama-3.1-8b", ideal="yes"), "ideal: expected True or False, got 'yes'"),
    (lambda: inferwall.estimate(model="llama-3.1-8b", mfu=float("nan")), "mfu: must be finite"),
    (lambda: inferwall.estimate(model="llama-3.1-8b", price={"h100": [2]}), "expected {gpu name: price} pairs"),
    (lambda: inferwall.estimate("llama-3.1-8b"), "takes keyword arguments only"),
    (lambda: inferwall.estimate(model="llama-3.1-8b", catalog=5), "catalog: expected a file path"),
    (lambda: inferwall.compare(model="llama-3.1-8b", batch=[]), "batch: an empty list"),
    (lambda: inferwall.compare(model="llama-3.1-8b", batch=["1", None]), "batch: expected a whole number or 'max', got None"),
    (lambda: inferwall.sweep(model="llama-3.1-8b", top="3"), "top: expected a whole number, got '3' (str)"),
    (lambda: inferwall.sweep(model="llama-3.1-8b", top=0), "top: must be >= 1, got 0"),
    (lambda: inferwall.sweep(model="llama-3.1-8b", where="tpot<1"), "unknown --where column 'tpot'"),
    (lambda: inferwall.sweep(model="llama-3.1-8b", sort=5), "sort: expected text or a list of text"),
    (lambda: inferwall.plan(model="llama-3.1-8b", gpu="h100", users=5), "plan does not take it"),
    (lambda: inferwall.plan(model="llama-3.1-8b"), "give exactly one demand"),
    (lambda: inferwall.plan(model="llama-3.1-8b", users=5, pareto="yes"), "pareto: expected True or False"),
    (lambda: inferwall.fleet(), "give a fleet file, or accelerators="),
    (lambda: inferwall.fleet(accelerators={"h100": -1}, workload={"model": "llama-3.1-8b"}),
     "inferwall.fleet(): accelerators.h100: the count must be >= 0, got -1"),
    (lambda: inferwall.fleet(accelerators={"h1000": 8}, workload={"model": "llama-3.1-8b"}),
     "accelerators.h1000: unknown GPU 'h1000'; did you mean"),
    (lambda: inferwall.fleet(accelerators={"h100": 8}, workload={"models": {"llama-3.1-8b": 0.5}}),
     "the traffic shares sum to 0.5"),
    (lambda: inferwall.fleet(accelerators=[("h100", 8)]), "accelerators: expected a mapping (dict)"),
    (lambda: inferwall.fleet("specs/fleets/seed-users.yaml", accelerators={"h100": 1}), "not both"),
    (lambda: inferwall.fleet("specs/fleets/seed-users.yaml", utilization=[0.5, 2]), "--utilization: expected a number"),
    (lambda: inferwall.fleet("specs/fleets/seed-users.yaml", tp=2), "fleet does not take it"),
    (lambda: inferwall.generations(precision="fp8"), "generations does not take it"),
    (lambda: inferwall.catalog.gpus(filter=3), "filter: expected text"),
])
def test_wrong_arguments_raise_one_input_error(monkeypatch, call, message):
    monkeypatch.chdir(ROOT)
    with pytest.raises(inferwall.InputError) as caught:
        call()
    text = str(caught.value)
    assert message in text and "\n" not in text, text
    assert type(caught.value) is inferwall.InputError


def test_core_errors_become_input_errors():
    """The core raises CoreError for an impossible layout; the API raises InputError with the same message."""
    from inferwall.catalog import load_catalog
    from inferwall.core.types import CoreError
    from inferwall.inputs import Options, build

    with pytest.raises(CoreError) as core:
        build(Options(model="llama-3.1-70b", tp=3), load_catalog())
    assert not isinstance(core.value, inferwall.InputError)
    with pytest.raises(inferwall.InputError) as api:
        inferwall.estimate(model="llama-3.1-70b", tp=3)
    assert type(api.value) is inferwall.InputError and str(api.value) == str(core.value)


# --------------------------------------------------------------------------- the API's shape


def test_signatures_come_from_the_field_table():
    names = [f.name for f in FIELDS]
    assert list(inspect.signature(inferwall.estimate).parameters) == [*names, "catalog"]
    assert list(inspect.signature(inferwall.compare).parameters) == [*names, "skip_invalid", "catalog"]
    assert list(inspect.signature(inferwall.sweep).parameters)[: len(names)] == names
    from inferwall.planning import NOT_IN_PLAN, SEARCHED

    plan_params = inspect.signature(inferwall.plan).parameters
    excluded = SEARCHED + NOT_IN_PLAN
    assert [n for n in names if n not in excluded] == [n for n in plan_params if n in BY_NAME and n not in excluded]
    assert list(inspect.signature(inferwall.fleet).parameters)[0] == "path"
    for p in inspect.signature(inferwall.estimate).parameters.values():
        assert p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is None


def test_no_submodule_shadows_an_api_name():
    """A module ``inferwall/fleet.py`` would replace ``inferwall.fleet()`` once imported."""
    for name in inferwall.API:
        assert importlib.util.find_spec(f"inferwall.{name}") is None, name
        assert callable(getattr(inferwall, name)), name


def test_result_objects():
    r = inferwall.estimate(model="llama-3.1-70b", gpu="h100", gpus=8, batch=64)
    assert r["latency"]["tpot_s"] == r.latency.tpot_s == r.to_dict()["latency"]["tpot_s"]
    assert "latency" in r and "tpot_s" in dir(r.latency) and len(r) == len(r.to_dict())
    with pytest.raises(AttributeError, match="did you mean latency"):
        r.latncy
    with pytest.raises(AttributeError):
        r.latency = 1
    copy = r.to_dict()
    copy["latency"]["tpot_s"] = -1
    assert r.latency.tpot_s > 0  # to_dict is a copy
    assert repr(r).startswith("<inferwall estimate: llama-3.1-70b on 8 x nvidia-h100-sxm-80gb, batch 64: TPOT")
    records = inferwall.compare(model="llama-3.1-8b", gpu=["h100", "h200"])
    assert records[1].scenario.gpu == "nvidia-h200-sxm-141gb" and "2 rows" in repr(records)


def test_repr_html_escapes_and_shows_values(tmp_path):
    catalog = tmp_path / "mine.yaml"
    catalog.write_text("""
models:
  - id: "<b>evil</b>"
    params_total: 7000000000
    num_layers: 32
    hidden_size: 4096
    num_attention_heads: 32
    num_kv_heads: 8
    intermediate_size: 14336
    vocab_size: 128256
""")
    r = inferwall.estimate(model="<b>evil</b>", gpu="h100", catalog=catalog)
    page = r._repr_html_()
    assert "<b>evil</b>" not in page and "&lt;b&gt;evil&lt;/b&gt;" in page
    assert "ttft_s" in page and "ms</td>" in page
    rows = inferwall.sweep(model="llama-3.1-8b", batch="1..256")._repr_html_()
    assert rows.count("<tr>") == 1 + 9 and "latency.tpot_s" in rows
    many = inferwall.sweep(model="llama-3.1-8b", batch="1..60:1", columns="gpu,batch")._repr_html_()
    assert "... and 10 more rows" in many
    fleet = inferwall.fleet(ROOT / "specs" / "fleets" / "seed-users.yaml")._repr_html_()
    assert "<td" in fleet and "total" in fleet


@pytest.mark.skipif(importlib.util.find_spec("pandas") is None, reason="needs pandas (optional): pip install pandas")
def test_to_pandas():
    frame = inferwall.sweep(model="llama-3.1-8b", gpu=["h100", "h200"], batch=[1, 8]).to_pandas()
    assert frame.shape[0] == 4 and list(frame["batch"]) == [1, 8, 1, 8]
    one = inferwall.estimate(model="llama-3.1-8b", gpu="h100").to_pandas()
    assert list(one.columns) == list(frame.columns)
    fleet = inferwall.fleet(ROOT / "specs" / "fleets" / "seed-users.yaml").to_pandas()
    assert list(fleet["gpu"]) == ["nvidia-h200-sxm-141gb", "total"] and fleet["user_base"].iloc[-1] == 144000
    assert len(inferwall.catalog.models().to_pandas()) == len(inferwall.catalog.models())


def test_to_pandas_without_pandas_says_how(monkeypatch):
    import builtins

    real = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas":
            raise ImportError("no pandas here")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pandas)
    with pytest.raises(ImportError, match="pip install pandas"):
        inferwall.catalog.gpus().to_pandas()


def test_api_imports_no_cli_framework():
    code = ("import inferwall, sys\ninferwall.estimate(model='llama-3.1-8b')\ninferwall.sweep(model='llama-3.1-8b', "
            "batch=[1, 2])\nprint(sorted(m for m in sys.modules if m.split('.')[0] in ('typer', 'click', 'rich', "
            "'pandas', 'matplotlib')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.strip() == "[]"
