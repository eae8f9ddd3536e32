"""Plain-text renderers: JSON, YAML, CSV, TSV, markdown. No rich here."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from . import machine_value
from .record import flatten


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, allow_nan=False) + "\n"


def _yaml(data: Any) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)


def _delimited(rows: list[list[str]], delimiter: str) -> str:
    if delimiter == "\t":
        # TSV: tabs and newlines inside values would break columns; replace them.
        return "".join("\t".join(c.replace("\t", " ").replace("\n", " ") for c in row) + "\n" for row in rows)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown(rows: list[list[str]]) -> str:
    header, *body = rows
    lines = ["| " + " | ".join(map(_md_escape, header)) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(map(_md_escape, r)) + " |" for r in body]
    return "\n".join(lines) + "\n"


def _kv_rows(record: dict[str, Any]) -> list[list[str]]:
    return [["key", "value"]] + [[k, machine_value(v)] for k, v in flatten(record).items()]


RECORD_RENDERERS = {
    "json": _json,
    "yaml": _yaml,
    "tsv": lambda r: _delimited(_kv_rows(r), "\t"),
    "csv": lambda r: _delimited(_kv_rows(r), ","),
    "markdown": lambda r: _markdown(_kv_rows(r)),
}


def _table_rows(rows: list[dict[str, Any]], columns: list[str]) -> list[list[str]]:
    return [columns] + [[machine_value(r.get(c)) for c in columns] for r in rows]


ROW_RENDERERS = {
    "json": lambda rows, cols: _json([{c: r.get(c) for c in cols} for r in rows]),
    "yaml": lambda rows, cols: _yaml([{c: r.get(c) for c in cols} for r in rows]),
    "tsv": lambda rows, cols: _delimited(_table_rows(rows, cols), "\t"),
    "csv": lambda rows, cols: _delimited(_table_rows(rows, cols), ","),
    "markdown": lambda rows, cols: _markdown(_table_rows(rows, cols)),
}
