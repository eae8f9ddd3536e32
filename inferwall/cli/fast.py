"""The fast path: a plain ``inferwall estimate`` one-liner without importing the CLI framework.

Importing typer (and the click it vendors) costs about half of a one-liner's start-up. This module reads
the same flags, from the same table (``inferwall.fields``), and calls the same body
(``estimate_run.run_estimate``). It only handles what it is sure of: every word a known flag with a value,
each flag once, a known format. Anything else (``--help``, ``--chart``, ``--explain``, an unknown or
repeated flag, a value that looks like a flag, a user config file,
``--debug``) returns ``None`` and the full CLI runs instead, so messages and behaviour stay the CLI's own.
A test checks that both paths print the same bytes and exit with the same code.
"""

from __future__ import annotations

import os
TYPE_CHECKING = False  # typing costs start-up; its names are only needed by type checkers
if TYPE_CHECKING:
    from typing import Any

from inferwall.fields import FIELDS

FORMATS = ("table", "json", "jsonl", "csv", "tsv", "markdown", "yaml")


def _flag_table() -> dict[str, tuple[str, Any]]:
    table: dict[str, tuple[str, Any]] = {}
    for f in FIELDS:
        for decl in (f.flag, f.short):
            if decl:
                table[decl] = ("field", f)
    for decl in ("--format", "-f"):
        table[decl] = ("format", None)
    table["--catalog"] = ("catalog", None)
    return table


def parse_estimate(args: list[str]) -> tuple[dict[str, Any], str | None, list[str] | None] | None:
    """(scenario values, format, catalog files) for a plain estimate invocation, or None to defer."""
    table = _flag_table()
    values: dict[str, Any] = {}
    fmt: str | None = None
    catalogs: list[str] = []
    i = 0
    while i < len(args):
        word = args[i]
        value: str | None = None
        if word.startswith("--") and "=" in word:
            word, value = word.split("=", 1)
        entry = table.get(word)
        if entry is None:
            return None
        kind, f = entry
        if kind == "field" and f.is_switch:
            if value is not None or f.name in values:
                return None
            values[f.name] = True
            i += 1
            continue
        if value is None:
            if i + 1 >= len(args):
                return None
            value = args[i + 1]
            i += 2
        else:
            i += 1
        if value.startswith("-") or value == "":
            return None  # let the CLI decide what a dash means
        if kind == "format":
            if fmt is not None or value.lower() not in FORMATS:
                return None
            fmt = value.lower()
        elif kind == "catalog":
            catalogs.append(value)
        else:
            if f.name in values:
                return None
            values[f.name] = value  # text, as the full CLI passes it (4k is read by inputs.build)
    scenario: dict[str, Any] = {}
    origins: dict[str, str] = {}  # as the CLI names them (inferwall.provenance)
    for f in FIELDS:
        if f.name in values:
            scenario[f.name] = values[f.name]
        elif f.is_switch:
            scenario[f.name] = False
        elif f.envvar and os.environ.get(f.envvar):
            scenario[f.name] = os.environ[f.envvar]
            origins[f.name] = f"env {f.envvar}"
        else:
            scenario[f.name] = f.default
            if f.default is not None:
                origins[f.name] = "default"
    scenario["origins"] = origins
    if fmt is None and os.environ.get("INFERWALL_FORMAT"):
        fmt = os.environ["INFERWALL_FORMAT"].lower()
        if fmt not in FORMATS:
            return None
    return scenario, fmt, catalogs or None


def run_fast(argv: list[str]) -> int | None:
    """Run ``estimate`` without the CLI framework and return its exit code, or None when it cannot."""
    if not argv or argv[0] != "estimate":
        return None
    from inferwall.config import config_path, env_flag

    if env_flag("INFERWALL_DEBUG"):
        return None

    if os.environ.get("INFERWALL_CONFIG") or os.path.isfile(config_path()):
        return None  # config-file defaults are the CLI's job
    parsed = parse_estimate(argv[1:])
    if parsed is None:
        return None
    scenario, fmt, catalogs = parsed
    from inferwall.render import Format

    from .common import guarded
    from .estimate_run import run_estimate

    return guarded(lambda: run_estimate(scenario, Format(fmt) if fmt else None, catalogs))
