"""Plain-text renderers: JSON, YAML, CSV, TSV, markdown. No rich here."""

from __future__ import annotations

import io
import json
import math
TYPE_CHECKING = False  # typing costs start-up; its names are only needed by type checkers
if TYPE_CHECKING:
    from typing import Any

from . import machine_value, printable
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
    import csv  # only for CSV output

    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def _md_escape(text: str) -> str:
    return printable(text).replace("|", "\\|")


def _markdown(rows: list[list[str]]) -> str:
    header, *body = rows
    lines = ["| " + " | ".join(map(_md_escape, header)) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(map(_md_escape, r)) + " |" for r in body]
    return "\n".join(lines) + "\n"


def _kv_rows(record: dict[str, Any]) -> list[list[str]]:
    return [["key", "value"]] + [[k, machine_value(v)] for k, v in flatten(record).items()]


def _jsonl_line(data: Any) -> str:
    return json.dumps(data, allow_nan=False, separators=(",", ":")) + "\n"


RECORD_RENDERERS = {
    "json": _json,
    "jsonl": _jsonl_line,
    "yaml": _yaml,
    "tsv": lambda r: _delimited(_kv_rows(r), "\t"),
    "csv": lambda r: _delimited(_kv_rows(r), ","),
    "markdown": lambda r: _markdown(_kv_rows(r)),
}


def _table_rows(rows: list[dict[str, Any]], columns: list[str]) -> list[list[str]]:
    return [columns] + [[machine_value(r.get(c)) for c in columns] for r in rows]


ROW_RENDERERS = {
    "json": lambda rows, cols: _json([{c: r.get(c) for c in cols} for r in rows]),
    "jsonl": lambda rows, cols: "".join(_jsonl_line({c: r.get(c) for c in cols}) for r in rows),
    "yaml": lambda rows, cols: _yaml([{c: r.get(c) for c in cols} for r in rows]),
    "tsv": lambda rows, cols: _delimited(_table_rows(rows, cols), "\t"),
    "csv": lambda rows, cols: _delimited(_table_rows(rows, cols), ","),
    "markdown": lambda rows, cols: _markdown(_table_rows(rows, cols)),
}


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _fast_value(value: Any) -> str:
    """``machine_value`` with the common types first (sweeps write millions of cells)."""
    cls = value.__class__
    if cls is str:
        return value if value.isprintable() else printable(value)
    if cls is float:
        if value - value == 0.0 and value == int(value) and abs(value) < 1e15:  # finite and whole
            return str(int(value))
        return format(value, ".12g") if value - value == 0.0 else ""
    if cls is int:
        return str(value)
    return machine_value(value)


def _tsv_cell(value: Any) -> str:
    if value.__class__ is str:
        text = value if value.isprintable() else printable(value)  # names from files never drive the terminal
    elif value.__class__ is float and value - value == 0.0 and not value == int(value):
        return format(value, ".12g")  # the most common cell of a sweep, inlined
    else:
        text = _fast_value(value)
    return text.replace("\t", " ").replace("\n", " ") if ("\t" in text or "\n" in text) else text


def _csv_cell(value: Any) -> str:
    text = _fast_value(value)
    if any(ch in text for ch in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


class RowWriter:
    """Writes flat rows as they are computed: TSV, CSV, JSON Lines, a JSON array, markdown.

    Rows should already be cleaned of non-finite floats (``render.clean``); table and yaml are buffered.
    """

    def __init__(self, fmt: str, columns: list[str], write, droppable: tuple[str, ...] = ()) -> None:
        self.fmt, self.columns, self.write = fmt, list(columns), write
        self.droppable = droppable  # table: columns that may be left out to fit the terminal, the first first
        self.count = 0
        self.buffer: list[dict[str, Any]] | None = [] if fmt in ("table", "yaml") else None
        cols = self.columns
        if fmt == "tsv":
            write("\t".join(cols) + "\n")
        elif fmt == "csv":
            write(",".join(_csv_cell(c) for c in cols) + "\n")
        elif fmt == "markdown":
            write("| " + " | ".join(map(_md_escape, cols)) + " |\n" + "|" + "|".join("---" for _ in cols) + "|\n")
        elif fmt == "json":
            write("[")

    def row(self, row: dict[str, Any]) -> None:
        cols, fmt = self.columns, self.fmt
        get = row.get
        if fmt == "tsv":
            self.write("\t".join([_tsv_cell(get(c)) for c in cols]) + "\n")
        elif fmt == "csv":
            self.write(",".join([_csv_cell(get(c)) for c in cols]) + "\n")
        elif fmt == "jsonl":
            self.write(_jsonl_line({c: _finite(get(c)) for c in cols}))
        elif fmt == "json":
            self.write(("\n  " if self.count == 0 else ",\n  ") + json.dumps({c: _finite(get(c)) for c in cols}, allow_nan=False))
        elif fmt == "markdown":
            self.write("| " + " | ".join([_md_escape(_fast_value(get(c))) for c in cols]) + " |\n")
        else:
            self.buffer.append(row)
        self.count += 1

    def close(self, title: str = "") -> None:
        if self.fmt == "json":
            self.write("\n]\n" if self.count else "]\n")
        elif self.fmt == "table":
            from . import clean
            from .sweep import sweep_table

            self.write(sweep_table([clean(r) for r in self.buffer], self.columns, title, self.droppable))
        elif self.buffer is not None:
            from . import Format, render_rows

            self.write(render_rows(Format(self.fmt), self.buffer, self.columns, title))
