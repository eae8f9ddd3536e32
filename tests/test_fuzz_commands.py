"""Every command, fuzzed: generated argument lists, hostile files and environment variables (scripts/fuzz.py).

The suite runs 2,500 invocations with a fixed seed (well under a minute on two cores); ``python scripts/fuzz.py``
runs 30,000 or more with any seed and prints the counts. The promise checked for each invocation: exit 0, 1 (check
and plan only) or 2; never a traceback, a hang or an internal error; an error is one line on stderr with nothing
on stdout; a result never prints nan or inf, and its JSON parses.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _fuzz_module():
    spec = importlib.util.spec_from_file_location("inferwall_fuzz", ROOT / "scripts" / "fuzz.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_command_keeps_the_cli_promise_under_fuzzing():
    fuzz = _fuzz_module()
    by_command, results, codes, problems, _ = fuzz.fuzz(count=2500, seed=15, timeout=60)
    examples = {kind: [f"{env} inferwall {' '.join(map(repr, argv))} -> {code}: {err}"
                       for argv, env, code, err in found[:3]] for kind, found in problems.items()}
    assert not problems, examples
    assert set(codes) <= {0, 1, 2}
    assert set(by_command) == set(fuzz.COMMAND_NAMES)
    # the generator gets past parsing: every command also produced results, not only errors
    assert {c for c, n in results.items() if n} == set(fuzz.COMMAND_NAMES), results
