"""The fast path prints exactly what the full CLI prints, or steps aside."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inferwall.cli.fast import parse_estimate, run_fast
from inferwall.cli.main import main

VALUES = {
    "--model": ["llama-3.1-70b", "llama-3.1-8b", "deepseek-v3", "bert-base-uncased", "nope", "tests/configs/gpt2.json"],
    "-m": ["mixtral-8x7b", "gpt-oss-120b"],
    "--params": ["1.6T", "70B", "x"],
    "--active-params": ["13B"],
    "--gpu": ["h100", "a100", "mi300x", "h1000"],
    "-g": ["l40s"],
    "--gpus": ["1", "8", "16", "3", "0"],
    "--tp": ["1", "2", "8", "3"],
    "--pp": ["1", "2"],
    "--dp": ["1", "2"],
    "--ep": ["1", "8"],
    "--batch": ["1", "64", "max", "0", "many"],
    "-b": ["32"],
    "--input-tokens": ["128", "4096", "sharegpt", "1024~300", "0"],
    "--request-rate": ["4", "0", "12/s", "x"],
    "-r": ["2"],
    "--arrival": ["bursty:2", "constant", "bursty:0"],
    "--output-tokens": ["0", "1", "512"],
    "--precision": ["fp8", "int4", "bf16", "fp7"],
    "--compute": ["fp8", "bf16"],
    "--flops": ["3e15", "fast"],
    "--bandwidth": ["3TB/s"],
    "--price": ["2", "$3/h", "free", "h100=2.1,mi300x=2.5", "a100=1.5", "h100=-1", "h1000=2"],
    "--mfu": ["0.5", "2"],
    "--layer-overhead": ["50us"],
    "--memory-fraction": ["0.9"],
    "--format": ["json", "tsv", "csv", "yaml", "markdown", "table", "JSON"],
    "-f": ["json"],
}


def both(argv: list[str]):
    results = []
    for runner in (run_fast, main):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = runner(list(argv))
        results.append((code, out.getvalue(), err.getvalue()))
    return results


@st.composite
def estimate_argv(draw):
    argv = ["estimate"]
    for flag in draw(st.lists(st.sampled_from(sorted(VALUES)), min_size=1, max_size=6, unique=True)):
        value = draw(st.sampled_from(VALUES[flag]))
        argv += [f"{flag}={value}"] if flag.startswith("--") and draw(st.booleans()) else [flag, value]
    if draw(st.booleans()):
        argv.append("--ideal")
    return argv


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(estimate_argv())
def test_fast_path_matches_the_cli(monkeypatch_env, argv):
    fast, full = both(argv)
    if fast[0] is None:  # stepped aside: nothing printed
        assert fast[1] == fast[2] == ""
        return
    assert fast == full, argv


def test_plain_one_liners_take_the_fast_path():
    assert parse_estimate(["--model", "llama-3.1-70b", "--gpus", "8", "-f", "json"]) is not None
    assert parse_estimate(["--model=llama-3.1-70b", "--ideal", "--batch", "max"]) is not None


def test_it_steps_aside_for_anything_else():
    for args in (["--help"], ["--model", "x", "--chart"], ["--model", "x", "--explain"], ["--gpus", "-1"],
                 ["--model", "a", "--model", "b"], ["--model"], ["--unknown", "1"],
                 ["--format", "xml"], ["--debug"], ["-fjson"]):
        assert parse_estimate(args) is None, args
    assert run_fast(["sweep", "--model", "x"]) is None


def test_whole_numbers_are_read_alike_on_both_paths():
    """Counts reach inputs.build as text on both paths: 4k is 4000 (issue 14 item 11), 'eight' the same error."""
    for extra in (["--input-tokens", "4k"], ["--gpus", "eight"], ["--batch", "2k"], ["--gpus", "1e400"]):
        argv = ["estimate", "-m", "llama-3.1-8b", "-f", "json", *extra]
        fast, full = both(argv)
        assert fast == full, argv
    fast, _ = both(["estimate", "-m", "llama-3.1-8b", "-f", "json", "--input-tokens", "4k"])
    assert fast[0] == 0 and '"input_tokens": 4000' in fast[1]


def test_the_console_script_takes_it_without_typer(tmp_path):
    code = ("import sys, io, contextlib\nfrom inferwall.cli import run\nsys.argv=['inferwall','estimate','-m',"
            "'llama-3.1-8b','-f','json']\nbuf=io.StringIO()\ntry:\n    with contextlib.redirect_stdout(buf): run()\n"
            "except SystemExit as e:\n    assert e.code == 0\nprint(*[m in sys.modules for m in ('typer', 'rich', 'yaml', 'typing')])")
    env = {"PATH": "", "HOME": str(tmp_path)}
    subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=tmp_path, env=env)  # fills the cache
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert done.stdout.split() == ["False", "False", "False", "False"], done.stderr
