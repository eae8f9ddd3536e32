"""CLI fuzzing: generated argument lists, garbage included, never crash, never print nan/inf as data."""

from __future__ import annotations

import contextlib
import io
import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inferwall.cli.main import main

FLAGS = {
    "--model": ["llama-3.1-70b", "llama-3.1-8b", "deepseek-v3", "mixtral-8x7b", "bert-base-uncased", "gpt-oss-120b",
                "gemma-3-27b", "gpt-4-rumored", "nope", ""],
    "--params": ["1.6T", "70B", "1e15", "0", "-5B", "abc", "1e400", "7"],
    "--active-params": ["280B", "1B", "2T", "x"],
    "--gpu": ["h100", "a100", "mi300x", "l40s", "tpu-v5e", "b200", "m4-max", "zz", "ünïcødé"],
    "--gpus": ["1", "2", "8", "16", "0", "-1", "3", "1000000", "1e3", "x"],
    "--tp": ["1", "2", "4", "8", "3", "0", "64"],
    "--pp": ["1", "2", "4", "100"],
    "--dp": ["1", "2", "0"],
    "--ep": ["1", "2", "8", "7"],
    "--batch": ["1", "64", "max", "10000000", "0", "-3", "1.5", "many"],
    "--input-tokens": ["1", "128", "1000000", "0", "x"],
    "--output-tokens": ["0", "1", "2", "256", "1000000", "-1"],
    "--precision": ["bf16", "fp8", "int4", "int8", "fp4", "fp32", "fp7", ""],
    "--compute": ["bf16", "fp8", "int8", "fp4"],
    "--kv": ["fp8", "bf16", "int4"],
    "--flops": ["3e15", "989TFLOPS", "0", "1e-30", "1e300", "fast"],
    "--bandwidth": ["3TB/s", "1e-9", "1e20", "3", "-1TB/s"],
    "--memory": ["80GB", "80GiB", "1B", "1e15", "80XB"],
    "--price": ["2.5", "$3/h", "0", "-1", "free", "h100=2,mi300x=2.5", "h100=", "=2", "h100=2,,a100=1", "h100=1,h100=2"],
    "--mfu": ["0.5", "60%", "0", "2", "x"],
    "--mbu": ["0.8", "1", "-0.1"],
    "--overhead": ["2ms", "0", "1h", "-1s", "zz"],
    "--collective-latency": ["10us", "0", "1s"],
    "--layer-overhead": ["50us", "0", "1s", "-5us"],
    "--reserve": ["0", "1GiB", "1e14", "lots"],
    "--memory-fraction": ["0.9", "1", "0", "95%"],
    "--layers": ["10000", "1", "0"],
    "--heads": ["8", "64", "0"],
    "--kv-heads": ["1", "8", "3"],
    "--head-dim": ["128", "0"],
    "--hidden": ["8192", "0"],
}
BOOLEANS = ["--ideal"]
NAN = re.compile(r"\b(nan|inf|infinity)\b", re.IGNORECASE)


# Hypothesis also draws string literals from the code under test; "--debug" asks for tracebacks on purpose.
JUNK = st.text(max_size=8).filter(lambda s: s.strip() != "--debug")


@st.composite
def argv(draw):
    args = ["estimate"]
    for flag in draw(st.lists(st.sampled_from(sorted(FLAGS)), max_size=8, unique=True)):
        value = draw(st.one_of(st.sampled_from(FLAGS[flag]), JUNK))
        args += [flag, value]
    if draw(st.booleans()):
        args.append(draw(st.sampled_from(BOOLEANS)))
    if draw(st.integers(0, 9)) == 0:
        args.insert(draw(st.integers(0, len(args))), draw(JUNK))
    args += ["--format", draw(st.sampled_from(["json", "tsv", "csv", "yaml", "markdown", "table"]))]
    return args


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(argv())
def test_cli_never_crashes(args):
    out_buf, err_buf = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out_buf), contextlib.redirect_stderr(err_buf):
        code = main(args)
    out, err = out_buf.getvalue(), err_buf.getvalue()
    assert code in (0, 1, 2), (args, code, err)
    assert "Traceback" not in err and "Traceback" not in out, args
    if code == 2:
        assert out == "" and len(err.strip().splitlines()) == 1, (args, err)
    if code == 0:
        assert not NAN.search(out), (args, out)
        if "json" in args[-1]:
            json.loads(out)


def test_extreme_but_valid_inputs_are_sane(capsys):
    cases = [
        ["estimate", "--params", "1e15", "--gpus", "8", "-f", "json"],
        ["estimate", "-m", "llama-3.1-8b", "--batch", "10000000", "-f", "json"],
        ["estimate", "-m", "llama-3.1-8b", "--input-tokens", "1000000", "-f", "json"],
        ["estimate", "--params", "7B", "--layers", "10000", "--heads", "32", "--kv-heads", "8", "--head-dim", "128",
         "--hidden", "4096", "-f", "json"],
    ]
    for args in cases:
        code = main(args)
        out, err = capsys.readouterr()
        assert code == 0, (args, err)
        data = json.loads(out)
        assert data["latency"]["e2e_s"] > 0
        assert isinstance(data["memory"]["fits"], bool)
