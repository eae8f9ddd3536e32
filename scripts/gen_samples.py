#!/usr/bin/env python3
"""Regenerate the sample outputs in README.md and docs/*.md from the tool itself, so they cannot go stale.

A sample is a fenced block right after a marker that names the command whose output it shows:

    <!-- output: inferwall sweep --model llama-3.1-70b --batch 1..8 -c batch,tpot_s -->
    ```
    batch	latency.tpot_s
    ...
    ```

The command runs in this process, as a script would run it: stdout is not a terminal (so the default format is
TSV), no colour, no user config or INFERWALL_* variables, COLUMNS=100 unless the command starts with
``COLUMNS=N``. It may end in a pipeline of ``head -N``, ``grep -E 'REGEX'`` (or ``grep``) and ``column -t``
(align tab-separated columns), which behave as their shell namesakes; ``2>&1`` shows stderr too (after stdout).

    python scripts/gen_samples.py            # rewrite every sample
    python scripts/gen_samples.py --check    # exit 1 and show a diff if any sample is stale
                                             # (tests/test_samples.py runs this)
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import io
import os
import re
import shlex
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
DEFAULT_COLUMNS = "100"
MARKER = re.compile(r"^(?P<indent>[ \t]*)<!-- output: (?P<command>.+?) -->[ \t]*\n"
                    r"(?P=indent)```[^\n]*\n(?P<body>.*?)(?P=indent)```[ \t]*$", re.M | re.S)


def _column(lines: list[str]) -> list[str]:
    rows = [line.split("\t") for line in lines]
    widths = [max(len(r[i]) for r in rows if i < len(r)) for i in range(max(map(len, rows), default=0))]
    return ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip() for r in rows]


def _filter(lines: list[str], stage: list[str]) -> list[str]:
    name, args = stage[0], stage[1:]
    if name == "head":
        count = int(args[1]) if args[:1] == ["-n"] else int(args[0].lstrip("-")) if args else 10
        return lines[:count]
    if name == "grep":
        pattern = [a for a in args if a != "-E"]
        return [line for line in lines if re.search(pattern[0], line)]
    if name == "column" and args == ["-t"]:
        return _column(lines)
    raise SystemExit(f"gen_samples: unsupported filter {' '.join(stage)!r} (head -N, grep -E REGEX, column -t)")


def run_sample(command: str) -> str:
    """The output of ``command`` (an ``inferwall`` line, optionally piped through filters)."""
    from inferwall.cli.main import main

    stages = [shlex.split(part) for part in command.split(" | ")]
    words = stages[0]
    env = {"COLUMNS": DEFAULT_COLUMNS}
    while words and re.match(r"^[A-Z_]+=", words[0]):
        key, _, value = words.pop(0).partition("=")
        env[key] = value
    with_stderr = "2>&1" in words
    words = [w for w in words if w != "2>&1"]
    if words[:1] != ["inferwall"]:
        raise SystemExit(f"gen_samples: a sample runs inferwall, got {command!r}")
    saved = dict(os.environ)
    out, err = io.StringIO(), io.StringIO()
    try:
        for key in [k for k in os.environ if k.startswith("INFERWALL_") or k in ("NO_COLOR", "FORCE_COLOR")]:
            del os.environ[key]
        with tempfile.TemporaryDirectory() as home:
            os.environ.update({"XDG_CONFIG_HOME": home, "NO_COLOR": "1", **env})
            cwd = os.getcwd()
            os.chdir(ROOT)
            try:
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    code = main(words[1:])
            finally:
                os.chdir(cwd)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    if code not in (0, 1):
        raise SystemExit(f"gen_samples: {command!r} exited {code}: {err.getvalue().strip()}")
    text = out.getvalue() + (err.getvalue() if with_stderr else "")
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    for stage in stages[1:]:
        lines = _filter(lines, stage)
    return "".join(f"{line}\n" for line in lines)


def regenerate(text: str) -> tuple[str, list[str]]:
    """(the document with every sample regenerated, the commands of the samples that changed)."""
    changed: list[str] = []

    def replace(match: re.Match) -> str:
        indent = match["indent"]
        body = "".join(f"{indent}{line}".rstrip() + "\n" for line in run_sample(match["command"]).splitlines())
        if body != match["body"]:
            changed.append(match["command"])
        head = match.group(0)[: match.start("body") - match.start(0)]
        return f"{head}{body}{indent}```"

    return MARKER.sub(replace, text), changed


def samples(paths: list[Path] = DOCS) -> list[tuple[Path, str]]:
    return [(p, m["command"]) for p in paths for m in MARKER.finditer(p.read_text(encoding="utf-8"))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a sample is stale, and show the diff")
    args = parser.parse_args(argv)
    stale = 0
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        new, changed = regenerate(text)
        if not changed:
            continue
        stale += len(changed)
        name = path.relative_to(ROOT)
        if args.check:
            stale_samples = "1 stale sample" if len(changed) == 1 else f"{len(changed)} stale samples"
            sys.stderr.write(f"{name}: {stale_samples}: {'; '.join(changed)}\n")
            sys.stderr.writelines(difflib.unified_diff(text.splitlines(True), new.splitlines(True), str(name),
                                                       f"{name} (regenerated)"))
        else:
            path.write_text(new, encoding="utf-8")
            print(f"wrote {name}: {'1 sample' if len(changed) == 1 else f'{len(changed)} samples'}")
    if args.check and stale:
        sys.stderr.write("run: python scripts/gen_samples.py\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
