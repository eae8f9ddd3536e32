"""Issue 15, "Hostile input": each numbered item of the issue, with its repro, as a regression test.

Hang-prone cases (FIFOs, /dev/zero, huge shapes) run in a subprocess with a timeout, so that a regression fails
instead of hanging the suite. Tests never write to the real /dev/null: device targets are FIFOs, directories or
device nodes created under tmp_path, and the real /dev/null is only ever checked, never passed as a target.
"""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli_helpers import run

ROOT = Path(__file__).resolve().parents[1]
PLAN = ROOT / "specs" / "plans" / "chat-llama-70b.yaml"


def cli(*argv, tmp_path, env=None, timeout=60, shell=None):
    """Run ``python -m inferwall`` (or a shell line using $INFERWALL) in a clean environment; a timeout fails."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("INFERWALL_", "XDG_"))}
    clean.update(HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / "cache"), XDG_CONFIG_HOME=str(tmp_path / "cfg"),
                 COLUMNS="100")
    clean.update({k: v for k, v in (env or {}).items() if v is not None})
    for k in [k for k, v in (env or {}).items() if v is None]:
        clean.pop(k, None)  # None removes a variable
    if shell is not None:
        clean["INFERWALL"] = f"{sys.executable} -m inferwall"
        return subprocess.run(["bash", "-c", shell], capture_output=True, text=True, env=clean, cwd=ROOT,
                              timeout=timeout)
    return subprocess.run([sys.executable, "-m", "inferwall", *map(str, argv)], capture_output=True, text=True,
                          env=clean, cwd=ROOT, timeout=timeout)


def one_line_error(code, out, err, needle="", status=2):
    assert code == status, err
    assert out == "", out
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    assert needle in err, err


# ----------------------------------------------------------------------------------------------------------------
# 1. Writes that destroy what is at the path


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _device_like_dev_null(path: Path) -> Path:
    """A character device with /dev/null's numbers, under tmp_path (needs root); else the test skips."""
    dev = os.stat("/dev/null").st_rdev
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, dev)
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot create a device node here ({exc})")
    return path


@pytest.mark.parametrize("kind", ["fifo", "device", "directory"])
def test_junit_never_replaces_a_special_file(tmp_path, kind):
    target = tmp_path / f"report-{kind}.xml"
    if kind == "fifo":
        _fifo(target)
    elif kind == "device":
        _device_like_dev_null(target)
    else:
        target.mkdir()
    before = os.lstat(target)
    done = cli("check", PLAN, "--junit", target, tmp_path=tmp_path, timeout=60)
    one_line_error(done.returncode, done.stdout, done.stderr, "--junit")
    after = os.lstat(target)
    assert stat.S_IFMT(after.st_mode) == stat.S_IFMT(before.st_mode) and after.st_ino == before.st_ino
    assert sorted(p.name for p in tmp_path.iterdir() if p.name not in ("cache", "cfg")) == [target.name]
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)  # the real one, untouched (it is never passed as a target)


def test_output_image_never_replaces_a_special_file(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    target = _fifo(tmp_path / "chart.png")
    code, out, err = run(capsys, "estimate", "-m", "llama-3.1-8b", "--output", target, "-f", "json")
    one_line_error(code, out, err, "is a FIFO")
    assert stat.S_ISFIFO(os.lstat(target).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["chart.png"]


def test_a_symlink_target_is_written_and_the_link_kept(capsys, tmp_path):
    real = tmp_path / "reports" / "capacity.xml"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "latest.xml"
    link.symlink_to(real)
    code, out, err = run(capsys, "check", PLAN, "--junit", link, "-f", "json")
    assert code == 0, err
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text().startswith("<?xml")
    assert sorted(p.name for p in real.parent.iterdir()) == ["capacity.xml"]  # written in the target's folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.xml", "reports"]


def test_a_symlink_to_a_fifo_is_refused(capsys, tmp_path):
    fifo = _fifo(tmp_path / "pipe")
    link = tmp_path / "report.xml"
    link.symlink_to(fifo)
    code, out, err = run(capsys, "check", PLAN, "--junit", link)
    one_line_error(code, out, err, "is a FIFO")
    assert link.is_symlink() and stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_a_special_file_appearing_during_the_write_is_not_replaced(tmp_path, monkeypatch):
    """The target is checked again just before the rename; the temporary file is removed."""
    import tempfile

    from inferwall.render.check import write_atomically

    target = tmp_path / "report.xml"
    real_mkstemp = tempfile.mkstemp

    def mkstemp_then_fifo(*args, **kwargs):
        made = real_mkstemp(*args, **kwargs)
        os.mkfifo(target)  # someone puts a FIFO at the path meanwhile
        return made

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp_then_fifo)
    with pytest.raises(OSError, match="FIFO"):
        write_atomically(str(target), b"<xml/>")
    assert stat.S_ISFIFO(os.lstat(target).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["report.xml"]


def test_a_missing_folder_or_an_empty_name_leaves_nothing(capsys, tmp_path):
    code, out, err = run(capsys, "check", PLAN, "--junit", tmp_path / "no" / "such" / "r.xml")
    one_line_error(code, out, err, "no such folder")
    code, out, err = run(capsys, "check", PLAN, "--junit", "")
    one_line_error(code, out, err, "empty file name")
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------------------------------------------
# 2 and 3. Hangs and unbounded reads: FIFOs and devices are refused without being read


@pytest.mark.parametrize("how", ["check", "catalog", "model", "env"])
def test_a_fifo_never_hangs(tmp_path, how):
    fifo = _fifo(tmp_path / "input.yaml")
    argv = {"check": ["check", fifo], "catalog": ["estimate", "-m", "llama-3.1-8b", "--catalog", fifo],
            "model": ["estimate", "-m", fifo], "env": ["gpus"]}[how]
    env = {"INFERWALL_CATALOG": str(fifo)} if how == "env" else {}
    done = cli(*argv, tmp_path=tmp_path, env=env, timeout=30)
    one_line_error(done.returncode, done.stdout, done.stderr, "is a FIFO, not a regular file")


def test_dev_zero_is_refused_without_reading_it(tmp_path):
    done = cli("check", "/dev/zero", tmp_path=tmp_path, timeout=30)
    one_line_error(done.returncode, done.stdout, done.stderr, "/dev/zero: is a character device")
    done = cli("estimate", "-m", "/dev/urandom", tmp_path=tmp_path, timeout=30)
    one_line_error(done.returncode, done.stdout, done.stderr, "is a character device")


def test_reads_stop_at_the_limit_whatever_the_file_claims():
    """/proc files say they are empty; the reader still stops after limit + 1 bytes."""
    from inferwall.catalog.yamlio import read_bytes
    from inferwall.errors import InputError

    if os.stat("/proc/self/maps").st_size != 0:
        pytest.skip("needs a /proc that reports size 0")
    with pytest.raises(InputError, match="larger than the 16 byte limit"):
        read_bytes("/proc/self/maps", limit=16)


# ----------------------------------------------------------------------------------------------------------------
# 4. Shape values that hang


@pytest.mark.parametrize("argv, needle", [
    (["--params", "70B", "--layers", "1", "--heads", "1000000000000000", "--kv-heads", "1000000000000000",
      "--head-dim", "1", "--tp", "3"], "--heads: must be at most 4,096"),
    (["--params", "1e15", "--layers", "1", "--heads", "1000000000000", "--kv-heads", "1", "--head-dim", "1"],
     "--heads: must be at most 4,096"),
    (["--params", "7B", "--layers", "100000", "--heads", "8", "--kv-heads", "8", "--head-dim", "8"],
     "--layers: must be at most 10,000"),
])
def test_shape_flags_are_bounded(tmp_path, argv, needle):
    done = cli("estimate", *argv, tmp_path=tmp_path, timeout=30)
    one_line_error(done.returncode, done.stdout, done.stderr, needle)


def test_an_hf_config_with_a_trillion_layers_is_refused(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"model_type": "deepseek_v3", "num_hidden_layers": 10**12, "hidden_size": 64,
                                  "num_attention_heads": 8, "vocab_size": 1000, "intermediate_size": 100,
                                  "n_routed_experts": 8, "num_experts_per_tok": 2, "moe_intermediate_size": 32}))
    done = cli("estimate", "-m", config, tmp_path=tmp_path, timeout=30)
    one_line_error(done.returncode, done.stdout, done.stderr, "'num_hidden_layers' must be at most 10,000")


def test_the_largest_shapes_allowed_still_answer(tmp_path):
    """At the edge of every shape range (a prime head count: the layout searches find no divisor) it finishes."""
    done = cli("estimate", "--params", "1e15", "--layers", "10000", "--heads", "4093", "--kv-heads", "1",
               "--head-dim", "16384", "--hidden", "1048576", "-f", "json", tmp_path=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["memory"]["fits"] is False


def test_divisors_match_brute_force_and_respect_the_limit():
    """The core's divisor listing (core/layout.py) is O(sqrt n) and capped: valid tp lists never walk n."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from inferwall.core.layout import divisors

    @settings(max_examples=300, deadline=None)
    @given(st.integers(1, 20_000), st.integers(0, 40))
    def check(n, limit):
        every = [d for d in range(1, n + 1) if n % d == 0]
        assert divisors(n, limit) == every[:limit]

    check()
    # 10^12 = 2^12 x 5^12: 169 divisors, found by trial division up to 10^6, not by walking 10^12 candidates
    found = divisors(10**12, 1000)
    assert len(found) == 169 and found[:4] == [1, 2, 4, 5] and found[-1] == 10**12
    assert divisors(10**12) == found[:12]
    assert divisors(999_999_999_989, 10) == [1, 999_999_999_989]  # a prime near 10^12


# ----------------------------------------------------------------------------------------------------------------
# 5, 6, 7, 9. Overflow and division by zero: one line, exit 2


@pytest.mark.parametrize("argv, needle", [
    (["sweep", "--params", "7B", "--batch", "1..1e308:1e-10"], "--batch: range '1..1e308:1e-10' has too many values"),
    (["sweep", "--params", "7B", "--batch", "1e-300..1e300"], "more than 100,000 values"),
    (["compare", "--params", "7B", "--input-tokens", "1..1e308:1e-10"], "more than 100,000"),
    (["bounds", "--params", "1e308"], "--params: must be at most 1e+15"),
    (["bounds", "--params", "7B", "--flops", "1e-320"], "--flops: '1e-320' is too close to zero"),
    (["implied", "--params", "7B", "--usd-per-million-tokens", "5e-324"], "too close to zero"),
    (["trend", "--params", "7B", "--flops-growth", "1e308"], "--flops-growth: must be at most 100x"),
    (["trend", "--params", "7B", "--period", "1e-300"], "--period: must be at least 1 day"),
    (["trend", "--params", "7B", "--flops-growth", "100", "--period", "1", "--years", "100"],
     "--flops-growth: 100x every 1 years over 100 years is a factor of 1e+200"),
    (["plan", "--model", "llama-3.1-8b", "--requests-per-s", "1e308"], "--requests-per-s: must be at most 1e+12"),
    (["plan", "--model", "llama-3.1-8b", "--output-tokens-per-s", "1e300"], "--output-tokens-per-s"),
    (["plan", "--model", "llama-3.1-8b", "--users", "1e300"], "--users"),
])
def test_overflowing_inputs_are_one_line_errors(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    one_line_error(code, out, err, needle)


def test_core_trend_refuses_rates_that_overflow():
    """The core checks too, for API callers: a CoreError, never an OverflowError."""
    from inferwall.core import CoreError, ModelArch, Scenario
    from inferwall.core.trend import TrendRates, trend
    from inferwall.inputs import Options, build
    from inferwall.catalog import load_catalog

    scenario = build(Options(params="7B"), load_catalog()).scenario
    assert isinstance(scenario, Scenario) and isinstance(scenario.model, ModelArch)
    for rates in (TrendRates(flops=1e308), TrendRates(period_years=1e-300), TrendRates(bandwidth=float("nan"))):
        with pytest.raises(CoreError):
            trend(scenario, years=10, rates=rates)


# ----------------------------------------------------------------------------------------------------------------
# 10. Files


def _big_int_file(tmp_path, suffix):
    path = tmp_path / f"big{suffix}"
    digits = "1" * 5000
    path.write_text('{"a": ' + digits + "}" if suffix == ".json" else f"a: {digits}\n")
    return path


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
@pytest.mark.parametrize("how", ["model", "catalog", "plan"])
def test_an_integer_of_5000_digits(capsys, tmp_path, suffix, how):
    path = _big_int_file(tmp_path, suffix)
    argv = {"model": ["estimate", "-m", path], "catalog": ["gpus", "--catalog", path], "plan": ["check", path]}[how]
    code, out, err = run(capsys, *argv)
    one_line_error(code, out, err, "a number with more than 4,300 digits")


def test_json_nested_100000_levels(capsys, tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    for argv in (["estimate", "-m", path], ["check", path], ["gpus", "--catalog", path]):
        code, out, err = run(capsys, *argv)
        one_line_error(code, out, err, "nesting deeper than 32 levels")


MODEL_YAML = "id: tiny\nhidden_size: 4096\nnum_layers: 2\nnum_attention_heads: 32\nvocab_size: 1000\nintermediate_size: 100\n"


def test_head_dim_null_means_not_given(capsys, tmp_path):
    plain, null = tmp_path / "plain.yaml", tmp_path / "null.yaml"
    plain.write_text(MODEL_YAML)
    null.write_text(MODEL_YAML + "head_dim: null\n")
    results = []
    for path in (plain, null):
        code, out, err = run(capsys, "estimate", "-m", path, "-f", "json")
        assert code == 0, err
        results.append(json.loads(out)["memory"]["kv_bytes_per_sequence"])
    assert results[0] == results[1]
    required = tmp_path / "layers-null.yaml"
    required.write_text(MODEL_YAML.replace("num_layers: 2", "num_layers: null"))
    code, out, err = run(capsys, "estimate", "-m", required)
    one_line_error(code, out, err, "tiny.num_layers: missing (null)")


@pytest.mark.parametrize("text, needle", [
    (MODEL_YAML.replace("hidden_size: 4096", "hidden_size: 1.0e+300"), "hidden_size: must be a whole number"),
    (MODEL_YAML.replace("hidden_size: 4096", "hidden_size: " + "1" * 301), "hidden_size: must be at most 1,048,576"),
])
def test_hidden_size_1e300_in_model_yaml(capsys, tmp_path, text, needle):
    path = tmp_path / "m.yaml"
    path.write_text(text)
    code, out, err = run(capsys, "estimate", "-m", path)
    one_line_error(code, out, err, needle)


@pytest.mark.parametrize("hidden, needle", [("1e300", "must be a positive integer"),
                                            ("1" * 301, "must be at most 1,048,576")])
def test_hidden_size_1e300_in_an_hf_config(capsys, tmp_path, hidden, needle):
    path = tmp_path / "config.json"
    path.write_text('{"model_type": "llama", "num_hidden_layers": 2, "hidden_size": ' + hidden
                    + ', "num_attention_heads": 32, "vocab_size": 1000, "intermediate_size": 100}')
    code, out, err = run(capsys, "estimate", "-m", path)
    one_line_error(code, out, err, needle)


@pytest.mark.parametrize("name, text", [
    ("plan.yaml", 'scenarios:\n  "\\ud800":\n    model: llama-3.1-8b\n    assert: {must_fit: true}\n'),
    ("plan.json", '{"scenarios": {"\\ud800": {"model": "llama-3.1-8b", "assert": {"must_fit": true}}}}'),
])
def test_a_scenario_named_with_a_lone_surrogate(capsys, tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    code, out, err = run(capsys, "check", path, "-f", "tsv")
    one_line_error(code, out, err, "unpaired surrogate (\\ud800)")


# ----------------------------------------------------------------------------------------------------------------
# 11 and 18. The config file


def _config(tmp_path, monkeypatch, text):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    monkeypatch.setenv("INFERWALL_CONFIG", str(path))
    return path


@pytest.mark.parametrize("text, needle", [
    ("estimate: {1: 2}\n", "estimate.1: unknown option 1"),
    ("estimate: {ideal: 5}\n", "estimate.ideal: must be true or false, got 5"),
    ("estimate:\n  gpus: 2.9\n", ":2: estimate.gpus: must be a whole number, got '2.9'"),
    ("estimate: {help: true}\n", "estimate.help: --help is not an option a config file can set"),
    ("estimate:\n  gpu: h200\n  pricee: 3\n", ":3: estimate.pricee: unknown option 'pricee'; did you mean price?"),
    ("estimat:\n  gpu: h200\n", ":1: estimat: unknown section 'estimat'; did you mean estimate?"),
    ("estimate: {input-tokens: 5}\n", "did you mean input_tokens"),
    ("estimate: {format: xml}\n", "estimate.format: 'xml' is not one of"),
    ("estimate: {mbu: 1.0e-320}\n", "estimate.mbu: '1e-320' is too close to zero"),
    ("sweep: {batch: '1..8,x'}\n", "sweep.batch: expected a whole number >= 1, got 'x'"),
    ("estimate: [1, 2]\n", "estimate: expected a mapping of option to value"),
    ("- estimate\n", "expected a mapping of command name to option defaults"),
])
@pytest.mark.parametrize("command", [["gpus"], ["estimate", "-m", "llama-3.1-8b"]])
def test_a_bad_config_file_is_one_error_for_every_command(capsys, tmp_path, monkeypatch, text, needle, command):
    path = _config(tmp_path, monkeypatch, text)
    code, out, err = run(capsys, *command)
    one_line_error(code, out, err, needle)
    assert str(path) in err


def test_config_keys_are_flag_names_and_values_take_units(capsys, tmp_path, monkeypatch):
    _config(tmp_path, monkeypatch, "estimate:\n  format: json\n  input_tokens: 4k\n  ideal: true\n"
                                   "sweep:\n  columns: gpu,batch\n")
    code, out, err = run(capsys, "estimate", "-m", "llama-3.1-8b")
    assert code == 0, err
    data = json.loads(out)
    assert data["scenario"]["input_tokens"] == 4000 and data["scenario"]["mfu"] == 1
    code, out, err = run(capsys, "estimate", "-m", "llama-3.1-8b", "-f", "tsv", "--input-tokens", "100")
    assert code == 0 and "scenario.input_tokens\t100" in out  # a flag beats the file
    code, out, err = run(capsys, "sweep", "-m", "llama-3.1-8b", "--batch", "1,2", "-f", "tsv")
    assert code == 0 and out.splitlines()[0] == "gpu\tbatch"


def test_an_empty_config_file_sets_nothing(capsys, tmp_path, monkeypatch):
    _config(tmp_path, monkeypatch, "# nothing yet\n")
    code, out, err = run(capsys, "estimate", "-m", "llama-3.1-8b", "-f", "json")
    assert code == 0 and err == ""


# ----------------------------------------------------------------------------------------------------------------
# 12. The parsed-catalog cache


def _cache_target(tmp_path, stem="gpus"):
    from inferwall.catalog import specs_dir
    from inferwall.catalog.yamlio import _checksum, read_bytes

    raw = read_bytes(os.path.join(specs_dir(), f"{stem}.yaml"))
    return tmp_path / "cache" / "inferwall" / f"{stem}-{_checksum(raw)}.json"


def _shipped(stem="gpus"):
    import yaml

    from inferwall.catalog import specs_dir

    return yaml.safe_load(Path(specs_dir(), f"{stem}.yaml").read_text())


CORRUPT = {
    "empty list": b"[]", "empty object": b"{}", "list of empty object": b"[{}]", "list of 1": b"[1]",
    "deep": b"[" * 100_000 + b"]" * 100_000, "truncated": b'{"accelerators": [', "not json": b"\xff\xfe",
    "wrong shape, right header": None, "edited value, old header": None, "old format": None,
}


@pytest.mark.parametrize("case", sorted(CORRUPT))
def test_a_bad_cache_is_ignored_and_rewritten(tmp_path, monkeypatch, case):
    from functools import partial

    from inferwall.catalog import specs_dir
    from inferwall.catalog.yamlio import catalog_shape
    from inferwall.catalog.yamlio import load_builtin as load

    load_builtin = partial(load, valid=catalog_shape)  # as the catalog reads its shipped files
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("INFERWALL_NO_CACHE", raising=False)
    spec = os.path.join(specs_dir(), "gpus.yaml")
    target = _cache_target(tmp_path)
    shipped = _shipped()
    assert load_builtin(spec) == shipped  # writes a good cache
    good = target.read_bytes()
    header, body = good.split(b"\n", 1)
    content = CORRUPT[case]
    if case == "wrong shape, right header":
        from inferwall.catalog.yamlio import _checksum

        body = b"[{}]"
        head = json.loads(header)
        head["body"] = _checksum(body)
        content = json.dumps(head).encode() + b"\n" + body
    elif case == "edited value, old header":
        edited = json.loads(body)
        h100 = next(e for e in edited["accelerators"] if e["id"] == "nvidia-h100-sxm-80gb")
        h100["memory"]["bandwidth"] = "99TB/s"
        content = header + b"\n" + json.dumps(edited, separators=(",", ":")).encode()
    elif case == "old format":
        content = body  # a plain JSON copy, as caches were written before
    target.write_bytes(content)
    data = load_builtin(spec)
    assert data == shipped
    h100 = next(e for e in data["accelerators"] if e["id"] == "nvidia-h100-sxm-80gb")
    assert h100["memory"]["bandwidth"] != "99TB/s"
    assert target.read_bytes() == good  # re-parsed and rewritten
    assert not [p for p in target.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_a_special_cache_file_never_hangs(tmp_path, kind):
    target = _cache_target(tmp_path)
    target.parent.mkdir(parents=True)
    if kind == "fifo":
        os.mkfifo(target)
    else:
        target.mkdir()
    done = cli("estimate", "-m", "llama-3.1-8b", "--gpu", "h100", "-f", "json", tmp_path=tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["scenario"]["memory_bandwidth_bytes_per_s_per_gpu"] == 3.35e12


def test_an_edited_cache_is_not_used_end_to_end(tmp_path):
    first = cli("estimate", "-m", "llama-3.1-8b", "--gpu", "h100", "-f", "json", tmp_path=tmp_path)
    target = _cache_target(tmp_path)
    assert first.returncode == 0 and target.is_file()
    header, body = target.read_bytes().split(b"\n", 1)
    target.write_bytes(header + b"\n" + body.replace(b'"3.35TB/s"', b'"9.99TB/s"', 1))
    again = cli("estimate", "-m", "llama-3.1-8b", "--gpu", "h100", "-f", "json", tmp_path=tmp_path)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["scenario"]["memory_bandwidth_bytes_per_s_per_gpu"] == 3.35e12


# ----------------------------------------------------------------------------------------------------------------
# 13 and 15. stdout: a full disk, a closed stream, a reader that goes away


@pytest.mark.parametrize("line", [
    "$INFERWALL gpus > /dev/full",
    "$INFERWALL gpus >&-",
    "$INFERWALL estimate --help > /dev/full",
    "$INFERWALL estimate -m llama-3.1-8b -f json >&-",
    "$INFERWALL sweep -m llama-3.1-8b --batch 1..20000:1 -f tsv > /dev/full",
    f"PYTHONIOENCODING=ascii $INFERWALL check {PLAN} -f markdown",  # not in the issue: an ASCII-only stdout
])
def test_an_unwritable_stdout_is_one_line(tmp_path, line):
    done = cli(tmp_path=tmp_path, shell=line)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith("Error: cannot write the output: "), done.stderr


def test_a_command_that_prints_nothing_works_with_stdout_closed(tmp_path):
    done = cli(tmp_path=tmp_path, shell=f"$INFERWALL catalog validate {ROOT / 'specs' / 'gpus.yaml'} >&-")
    assert done.returncode == 0 and done.stderr.startswith("ok: "), done.stderr


@pytest.mark.parametrize("line", [
    "$INFERWALL sweep -m llama-3.1-8b --batch 1..20000:1 -f tsv | head -1",
    "$INFERWALL sweep -m llama-3.1-8b --batch 1..20000:1 -f jsonl | head -1",
    "$INFERWALL estimate --help | head -1",
    "$INFERWALL gpus -f json | head -c 10",
])
def test_a_broken_pipe_exits_0_quietly_in_the_full_cli(tmp_path, line):
    done = cli(tmp_path=tmp_path, shell=f"set -o pipefail; {line}")
    assert done.returncode == 0, done.stderr
    # nothing but the notes of a run that wrote its whole result before the reader left (gpus: a few KB)
    assert all(row.startswith("note: ") for row in done.stderr.splitlines()), done.stderr
    if "sweep" in line:
        assert done.stderr == ""


# ----------------------------------------------------------------------------------------------------------------
# 16. Ctrl-C from start-up on


def test_sigint_at_any_time_is_interrupted_and_130(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFERWALL_")}
    env.update(HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / "cache"))
    outcomes = []
    for i in range(16):  # from soon after the interpreter is up (~10 ms) to well into the run
        proc = subprocess.Popen([sys.executable, "-m", "inferwall", "sweep", "-m", "llama-3.1-8b", "--batch",
                                 "1..3000:1", "-f", "tsv"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True, env=env, cwd=ROOT)
        time.sleep(0.04 + i * 0.012)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        outcomes.append(proc.returncode)
        assert "Traceback" not in err, err
        assert proc.returncode in (0, 130), (proc.returncode, err)
        if proc.returncode == 130:
            assert err == "Interrupted.\n", err
    assert 130 in outcomes


def test_ctrl_c_inside_a_command_is_reported(capsys, monkeypatch):
    """The framework turns KeyboardInterrupt into a silent exit 130; inferwall still says 'Interrupted.'."""
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("inferwall.render.record.estimate_record", interrupted)
    code, out, err = run(capsys, "estimate", "-m", "llama-3.1-8b")
    assert code == 130 and err == "Interrupted.\n" and out == ""


# ----------------------------------------------------------------------------------------------------------------
# 17. An error run prints its error line alone


def test_catalog_notes_do_not_precede_an_error(capsys):
    from inferwall.catalog import load_catalog

    code, out, err = run(capsys, "estimate", "-m", "llama-3.1-8b", "--catalog", ROOT / "specs" / "gpus.yaml",
                         "--tp", "3")
    one_line_error(code, out, err, "tp=3 does not divide")
    code, out, err = run(capsys, "estimate", "-m", "llama-3.1-8b", "--catalog", ROOT / "specs" / "gpus.yaml",
                         "-f", "json")
    assert code == 0 and err.count("overrides the entry") == len(load_catalog().gpus)  # a result keeps its notes


def test_an_unwritable_home_adds_no_matplotlib_warnings(tmp_path):
    pytest.importorskip("matplotlib")
    # HOME under a character device: no config or cache folder can be made there, not even by root
    env = {"HOME": "/dev/null", "MPLCONFIGDIR": None, "XDG_CONFIG_HOME": None, "XDG_CACHE_HOME": None,
           "INFERWALL_NO_CACHE": "1"}
    image = tmp_path / "roofline.png"
    done = cli("estimate", "-m", "llama-3.1-8b", "--output", image, "-f", "json", tmp_path=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stderr == f"chart: wrote {image}\n"
    failed = cli("estimate", "-m", "llama-3.1-8b", "--output", tmp_path / "x.png", "--tp", "3",
                 tmp_path=tmp_path, env=env)
    one_line_error(failed.returncode, failed.stdout, failed.stderr, "tp=3")


# ----------------------------------------------------------------------------------------------------------------
# 14. No NaN or inf: non-finite and subnormal numbers are refused, quantities bounded


@pytest.mark.parametrize("argv, needle", [
    (["estimate", "--params", "405e9", "--mbu", "1e-320", "-f", "table"], "--mbu: '1e-320' is too close to zero"),
    (["estimate", "--params", "405e9", "--mbu", "1e-300"], "--mbu: must be at least 1e-06"),
    (["estimate", "--params", "7B", "--overhead", "1e308s", "--explain"], "--overhead: must be at most 3,600 s"),
    (["estimate", "--params", "7B", "--flops", "nan"], "--flops"),
    (["estimate", "--params", "7B", "--bandwidth", "0.5"], "--bandwidth: must be at least 1 B/s"),
    (["estimate", "--params", "7B", "--price", "inf"], "--price"),
    (["trend", "--params", "7B", "--period", "inf"], "--period: must be a finite number, got inf"),
    (["trend", "--params", "7B", "--flops-growth", "nan"], "--flops-growth"),
    (["scale", "--params", "7B", "--minutes-per-user-day", "nan"], "--minutes-per-user-day"),
    (["scale", "--params", "7B", "--per-user-tokens-per-s", "inf"], "--per-user-tokens-per-s"),
    (["sweep", "--params", "7B", "--where", "tpot_s<nan"], "cannot read 'nan'"),
    (["implied", "--params", "7B", "--usd-per-million-tokens", "1e-300"], "must be at least 1e-09"),
])
def test_non_finite_subnormal_and_unphysical_flags_are_refused(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    one_line_error(code, out, err, needle)


@pytest.mark.parametrize("entry, needle", [
    ("price: {usd_per_hour: .nan}", "mygpu.price.usd_per_hour: must be a finite number, got nan"),
    ("price: {usd_per_hour: .inf}", "mygpu.price.usd_per_hour: must be a finite number"),
    ("tdp_w: .inf", "mygpu.tdp_w: must be a finite number, got inf"),
    ("tdp_w: 1.0e-320", "mygpu.tdp_w: 1e-320 is too close to zero"),
    ("compute: {bf16: .inf}", "mygpu.compute.bf16"),
    ("release_year: 100000", "mygpu.release_year: must be at most 2,200"),
])
def test_catalog_entries_with_nan_or_inf_fail_validation(capsys, tmp_path, entry, needle):
    path = tmp_path / "mine.yaml"
    path.write_text("accelerators:\n  - id: mygpu\n    memory: {capacity: 80GiB, bandwidth: 3TB/s}\n"
                    f"    compute: {{bf16: 1000TFLOPS}}\n    {entry}\n".replace(
                        "    compute: {bf16: 1000TFLOPS}\n    compute:", "    compute:"))
    code, out, err = run(capsys, "catalog", "validate", path)
    one_line_error(code, out, err, needle)


def test_a_plan_with_a_subnormal_value_is_refused(capsys, tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text("scenarios:\n  a:\n    model: llama-3.1-8b\n    mbu: 1.0e-320\n    assert: {max_tpot_s: 1}\n")
    code, out, err = run(capsys, "check", plan)
    one_line_error(code, out, err, "mbu")
    plan.write_text("scenarios:\n  a:\n    model: llama-3.1-8b\n    assert: {max_tpot_s: 1.0e-320}\n")
    code, out, err = run(capsys, "check", plan)
    one_line_error(code, out, err, "max_tpot_s: 1e-320 is too close to zero")


def test_every_field_parser_agrees_with_the_scenario_builder():
    """The config file checks a field with field_values; inputs.build must refuse the same values."""
    from inferwall.catalog import load_catalog
    from inferwall.errors import InputError, USAGE_ERRORS
    from inferwall.field_values import PARSERS, parse_field
    from inferwall.fields import FIELDS
    from inferwall.inputs import Options, build

    assert set(PARSERS) == {f.name for f in FIELDS}
    cat = load_catalog()
    base = {"params": "7B", "layers": "4", "heads": "8", "kv_heads": "8", "head_dim": "8"}
    beyond = {"params": "2e15", "active_params": "2e15", "layers": "10001", "hidden": "2e6", "heads": "4097",
              "kv_heads": "4097", "head_dim": "16385", "flops": "1e22", "bandwidth": "1e19", "memory": "1e19",
              "price": "2e6", "link_bandwidth": "1e19", "gpus": "2e7", "tp": "2e7", "pp": "2e7", "dp": "2e7",
              "ep": "2e7", "batch": "2e9", "input_tokens": "2e9", "output_tokens": "2e9", "mfu": "1e-7",
              "mbu": "1e-7", "link_efficiency": "1e-7", "overhead": "3601", "layer_overhead": "3601",
              "collective_latency": "3601", "reserve": "1e19", "memory_fraction": "1e-7", "precision": "fp7",
              "weights": "fp7", "kv": "fp7", "compute": "fp7", "ideal": "yes", "model": "", "gpu": "",
              "engine": "", "engine_file": "", "quant": "", "strict": "yes", "batching": "sideways",
              "num_requests": "2e9", "max_running_requests": "2e9", "cuda_graph_max_batch": "2e9",
              "chunked_prefill": "maybe", "token_budget": "2e9", "speculative": "65", "acceptance": "1.5",
              "accepted_length": "1e-320", "draft_model": "", "prefix_hit": "1e-320", "kv_offload": "",
              "disaggregate": "", "prefill_gpus": "", "decode_gpus": "", "request_rate": "2e12", "arrival": "",
              "simulate": "yes", "seed": "-1"}
    for f in FIELDS:
        with pytest.raises(InputError):
            parse_field(f.name, beyond[f.name], f.name)
        if f.name in ("model", "gpu", "ideal", "strict", "engine", "engine_file", "quant", "draft_model", "kv_offload",
                      "disaggregate", "prefill_gpus", "decode_gpus", "arrival", "simulate"):
            continue  # text and switches: build treats "" as not given, and flags pass booleans
        options = dict(base, **{f.name: beyond[f.name]})
        with pytest.raises(USAGE_ERRORS):
            build(Options(**options), cat)


# ----------------------------------------------------------------------------------------------------------------
# 19. INFERWALL_DEBUG as people write it


@pytest.mark.parametrize("value, debug", [("no", False), ("off", False), ("False", False), ("0", False), ("", False),
                                          ("1", True), ("yes", True), ("ON", True), ("true", True)])
def test_inferwall_debug_booleans(capsys, monkeypatch, value, debug):
    import inferwall.cli.estimate_run as estimate_run

    def boom(*args, **kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(estimate_run, "run_estimate", boom)
    monkeypatch.setattr("inferwall.cli.commands.estimate.run_estimate", boom)
    monkeypatch.setenv("INFERWALL_DEBUG", value)
    from inferwall.cli.main import main

    if debug:
        with pytest.raises(RuntimeError, match="kaboom"):
            main(["estimate", "-m", "llama-3.1-8b"])
    else:
        code, out, err = run(capsys, "estimate", "-m", "llama-3.1-8b")
        one_line_error(code, out, err, "Internal error: RuntimeError: kaboom", status=3)


def test_no_cache_booleans(tmp_path, monkeypatch):
    from inferwall.catalog.yamlio import _cache_dir

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    for value, off in (("0", False), ("no", False), ("false", False), ("1", True), ("yes", True)):
        monkeypatch.setenv("INFERWALL_NO_CACHE", value)
        assert (_cache_dir() is None) is off, value


# ----------------------------------------------------------------------------------------------------------------
# 21. Small inconsistencies


def test_an_empty_output_name_is_refused_everywhere(capsys):
    for command in (["estimate", "-m", "llama-3.1-8b"], ["sweep", "-m", "llama-3.1-8b", "--batch", "1,2"],
                    ["scale", "-m", "llama-3.1-8b"]):
        code, out, err = run(capsys, *command, "--output", "")
        one_line_error(code, out, err, "--output: empty file name")


def test_an_empty_plan_path_says_so(capsys):
    code, out, err = run(capsys, "check", "")
    one_line_error(code, out, err, "'': empty file name")
    assert "is a directory" not in err


@pytest.mark.parametrize("version, ok", [("1", True), ("'1'", True), ("true", False), ("1.0", False), ("2", False)])
def test_plan_version(capsys, tmp_path, version, ok):
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"version: {version}\nscenarios:\n  a:\n    model: llama-3.1-8b\n    assert: {{must_fit: true}}\n")
    code, out, err = run(capsys, "check", plan, "-f", "json")
    if ok:
        assert code == 0, err
    else:
        one_line_error(code, out, err, ":1: version: must be 1, the plan format this inferwall reads; got")


# ----------------------------------------------------------------------------------------------------------------
# Issue 14 items 11, 12, 13: counts with k, lowercase suffixes, bare durations


def test_counts_take_k_everywhere(capsys):
    data = json.loads(run(capsys, "estimate", "-m", "llama-3.1-8b", "--input-tokens", "4k", "--batch", "1k",
                          "-f", "json")[1])
    assert data["scenario"]["input_tokens"] == 4000 and data["scenario"]["batch"] == 1000
    code, out, err = run(capsys, "sweep", "-m", "llama-3.1-8b", "--input-tokens", "4k,8k", "--top", "1k", "-f", "tsv",
                         "-c", "input_tokens")
    assert code == 0 and out.split() == ["input_tokens", "4000", "8000"], err
    code, out, err = run(capsys, "scale", "-m", "llama-3.1-8b", "--batch", "1k", "-f", "tsv")
    assert code == 0 and out.splitlines()[1].startswith("1000\t"), err
    code, out, err = run(capsys, "estimate", "--help")
    assert "4k is 4000 (k = 1000" in out


def test_counts_that_are_not_whole_are_errors_not_rounded(capsys):
    for argv in (["estimate", "-m", "llama-3.1-8b", "--gpus", "2.9"], ["sweep", "-m", "llama-3.1-8b", "--top", "2.5"],
                 ["plan", "-m", "llama-3.1-8b", "--users", "10", "--max-gpus", "1.5"]):
        code, out, err = run(capsys, *argv)
        one_line_error(code, out, err, "must be a whole number")


@pytest.mark.parametrize("text, value", [("70b", 70e9), ("70B", 70e9), ("1.6t", 1.6e12), ("125m", 125e6),
                                         ("4k", 4e3)])
def test_params_suffixes_in_either_case(capsys, text, value):
    data = json.loads(run(capsys, "estimate", "--params", text, "-f", "json")[1])
    assert data["scenario"]["params"] == value


def test_implausible_bare_durations_get_a_note(capsys):
    code, out, err = run(capsys, "estimate", "-m", "llama-3.1-8b", "--overhead", "5", "-f", "json")
    assert code == 0 and "--overhead 5 is read as 5 seconds" in err and "e.g. 5ms" in err
    assert json.loads(out)["scenario"]["host_per_iteration_s"] == 5
    for quiet in (["--overhead", "5ms"], ["--overhead", "0.002"], ["--layer-overhead", "0.5"]):
        code, out, err = run(capsys, "estimate", "-m", "llama-3.1-8b", *quiet, "-f", "json")
        assert code == 0 and "is read as" not in err, (quiet, err)
    code, out, err = run(capsys, "plan", "-m", "llama-3.1-8b", "--users", "100", "--max-tpot", "50",
                         "--gpus-from", "h100", "-f", "tsv")
    assert "--max-tpot 50 is read as 50 seconds" in err, err
    code, out, err = run(capsys, "plan", "-m", "llama-3.1-8b", "--users", "100", "--max-tpot", "50ms",
                         "--gpus-from", "h100", "-f", "tsv")
    assert "is read as" not in err


def test_docs_limits_lists_every_limit_with_its_range():
    from inferwall.core import limits as L

    text = (ROOT / "docs" / "limits.md").read_text(encoding="utf-8")
    table = text.split("| limit |", 1)[1].split("\n\n", 1)[0]
    rows = {line.split("|")[1].strip().strip("`"): line for line in table.splitlines() if line.startswith("| `")}
    found = {name: value for name, value in vars(L).items() if isinstance(value, L.Limit)}
    assert set(rows) == set(found)
    for name, limit in found.items():
        assert L.show(limit.high) in rows[name], name
        assert limit.why in rows[name], name


def test_plan_pareto_without_a_decode_step_prints_no_inf(capsys):
    """Found by scripts/fuzz.py: with one output token the per-user speed is unbounded; say so, never 'inf'."""
    for model, extra in (("llama-3.1-8b", ["--output-tokens", "1"]), ("bert-base-uncased", [])):
        code, out, err = run(capsys, "plan", "-m", model, "--users", "10", *extra, "--gpus-from", "h100", "--pareto",
                             "-f", "tsv")
        assert code in (0, 1), err
        assert not re.search(r"\binf\b", err + out), err


def test_junit_xml_stays_well_formed_with_control_characters(capsys, tmp_path):
    """Not in the issue: a scenario name with an escape sequence made the JUnit file invalid XML."""
    import xml.etree.ElementTree as ET

    plan = tmp_path / "plan.yaml"
    plan.write_text('scenarios:\n  "a\\x1b[31mred\\x07":\n    model: llama-3.1-8b\n    assert: {must_fit: true}\n')
    report = tmp_path / "report.xml"
    code, out, err = run(capsys, "check", plan, "--junit", report, "-f", "json")
    assert code == 0, err
    case = ET.parse(report).getroot().find("testsuite/testcase")
    assert case.get("classname") == "a\\x1b[31mred\\x07"


CALIBRATION_ROW = ("- {{id: r{i}, group: mine, engine: vLLM 0.11, hardware: {{name: H100 80GB HBM3, count: 1}}, "
                   "model: {{name: Llama 3.1 8B Instruct}}, precision: {{weights: bf16}}, parallelism: {{tp: 1}}, "
                   "workload: {{batch: {batch}, input_len: 1024, output_len: 256}}, metric: tpot_ms, value: {value}}}\n")


@pytest.mark.parametrize("bad", ["0", "-5", "1.0e-320", ".inf", ".nan"])
def test_calibrate_skips_measurements_that_are_not_positive_finite_numbers(capsys, tmp_path, bad):
    """Found by scripts/fuzz.py: a measured 0 divided by zero, a negative one hit a math domain error (exit 3)."""
    rows = tmp_path / "rows.yaml"
    rows.write_text("".join(CALIBRATION_ROW.format(i=i, batch=b, value=v)
                            for i, (b, v) in enumerate([(1, 7.8), (32, 11.5), (8, bad)])))
    code, out, err = run(capsys, "calibrate", rows, "--rounds", "1", "-f", "json")
    assert code == 0, err
    assert [s["id"] for s in json.loads(out)["skipped"]] == ["r2"]
    only_bad = tmp_path / "bad.yaml"
    only_bad.write_text(CALIBRATION_ROW.format(i=0, batch=8, value=bad))
    code, out, err = run(capsys, "calibrate", only_bad, "--rounds", "0")
    one_line_error(code, out, err, "no usable rows")
    assert "skipped; the first, r0: " in err  # the reason is in the error line itself, not in dropped notes


def test_calibrate_output_is_checked_before_the_fit(capsys, tmp_path):
    rows = tmp_path / "rows.yaml"
    rows.write_text(CALIBRATION_ROW.format(i=0, batch=1, value=7.8))
    target = _fifo(tmp_path / "profile.yaml")
    code, out, err = run(capsys, "calibrate", rows, "--output", target)
    one_line_error(code, out, err, "is a FIFO")
    code, out, err = run(capsys, "calibrate", "")
    one_line_error(code, out, err, "empty file name")


def test_every_column_draws_in_a_table(capsys):
    """Found by scripts/fuzz.py: nested breakdowns (prefill.kernel_times) crashed `sweep -f table -c all`."""
    code, out, err = run(capsys, "sweep", "--params", "7B,8B", "-f", "table", "--columns", "all")
    assert code == 0, err
    assert "kernel_times" in out and "Traceback" not in err
