"""Every ``inferwall`` command in a ``sh`` block of README.md and docs/*.md runs and exits 0."""

from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path

import pytest

from inferwall.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# CI recipes in docs/ci.md name a user's own plan folder, and `calibrate` examples a user's own measurements;
# those lines are shown, not run (tests/test_calibration.py runs calibrate on real rows).
NOT_RUNNABLE = re.compile(r"plans/\*\.yaml|reports/|my-runs/")


def examples() -> list[tuple[str, str]]:
    found = []
    for path in DOCS:
        for block in re.findall(r"```sh\n(.*?)```", path.read_text(encoding="utf-8"), re.S):
            block = re.sub(r"\\\n\s*", " ", block)  # join continuation lines
            for line in block.splitlines():
                line = line.strip()
                if line.startswith("pip install . && "):
                    line = line.removeprefix("pip install . && ")
                if line.startswith("inferwall ") and not NOT_RUNNABLE.search(line):
                    found.append((path.name, line))
    return list(dict.fromkeys(found))


def argv_of(line: str) -> list[str]:
    words = shlex.split(line, comments=True)
    for stop in ("|", ">", ">>"):
        if stop in words:
            words = words[: words.index(stop)]
    return words[1:]


@pytest.mark.parametrize("source, line", examples())
def test_example_runs(capsys, source, line):
    if "--output" in argv_of(line) and importlib.util.find_spec("matplotlib") is None:
        pytest.skip("--output needs matplotlib (pip install 'inferwall[plot]')")
    code = main(argv_of(line))
    out, err = capsys.readouterr()
    assert code == 0, f"{source}: {line}\n{err}"
    assert "Traceback" not in err


def test_examples_were_found():
    names = {line.split()[1] for _, line in examples()}
    assert {"estimate", "compare", "sweep", "check", "scale", "bounds", "implied", "trend", "intensity", "plan",
            "schema", "catalog"} <= names
