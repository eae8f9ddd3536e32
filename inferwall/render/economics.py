"""Records and tables for the economics commands (scale, bounds, implied, trend, intensity, plan).

Machine formats (json, csv, tsv, yaml, and markdown for rows) go through ``render_rows`` / ``render_record``
with SI keys and full precision. The terminal table formats each column for reading (ms, %, $, k), fitted to
the terminal's width (``render.table``); a single record's markdown is that same human view. Rich is imported
only when a table is drawn, and numbers are never truncated.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

from inferwall.units import count, number, seconds, si

from . import Format, clean, render_record, render_rows

Column = tuple[str, str, Callable[[Any], str]]  # key, header, formatter


# --------------------------------------------------------------------------- cell formatters


def _none(fn: Callable[[Any], str]) -> Callable[[Any], str]:
    return lambda v: "-" if v is None or (isinstance(v, float) and not math.isfinite(v)) else fn(v)


pct = _none(lambda x: f"{x * 100:.3g}%" if x >= 0.001 else f"{x * 100:.2g}%")
usd = _none(lambda x: f"${x:,.2f}" if x >= 1 else f"${x:.3g}")
secs = _none(seconds)
integer = _none(lambda x: f"{int(x):,}")
users = _none(lambda x: f"{x:,.0f}")
rate = _none(number)
num = _none(number)
joules = _none(lambda x: si(x, "J"))
flops = _none(lambda x: si(x, "FLOP/s"))
bandwidth = _none(lambda x: si(x, "B/s"))
big = _none(lambda x: si(x))
text = _none(str)
boolean = _none(lambda x: "yes" if x else "NO")
params = _none(count)


# --------------------------------------------------------------------------- rich tables


def pretty_rows(rows: list[dict[str, Any]], columns: Sequence[Column], title: str = "",
                drop: Sequence[str] = ()) -> str:
    """A readable terminal table: formatted cells, fitted to the terminal's width (``render.table``).

    A key a row does not have is a blank cell; a ``None`` value goes through the formatter (usually '-').
    ``drop`` names the keys that may be left out when the table is too wide, the first one first.
    """
    from .table import Col, fitted_table

    order = {key: len(drop) - i for i, key in enumerate(drop)}
    cols = [Col(header, [fmt(r[key]) if key in r else "" for r in rows], right=key not in _LEFT, wrap=key in _WRAP,
                drop=order.get(key, 0)) for key, header, fmt in columns]
    return fitted_table(cols, title or None)


_LEFT = {"bound", "marks", "gpu", "source", "operator", "model", "precision", "binds", "batch_limited_by", "layout"}
_WRAP = {"marks"}


def pretty_record(title: str, items: Sequence[tuple[str, str]]) -> str:
    """Label/value rows under a title."""
    from .table import Col, fitted_table

    cols = [Col("", [label for label, _ in items], style="bold"), Col("", [value for _, value in items], right=True)]
    return fitted_table(cols, title, header=False)


def record_markdown(title: str, items: Sequence[tuple[str, str]]) -> str:
    """The same label/value rows as a markdown table under a heading."""
    from . import printable
    from .text import _md_escape

    lines = [f"### {_md_escape(printable(title))}", "", "| | |", "|---|---:|"]
    lines += [f"| {_md_escape(printable(label))} | {_md_escape(printable(value))} |" for label, value in items]
    return "\n".join(lines) + "\n"


def rows_output(fmt: Format, rows: list[dict[str, Any]], columns: Sequence[Column], title: str = "",
                table_columns: Sequence[Column] | None = None, drop: Sequence[str] = ()) -> str:
    """Rows in any format: all ``columns`` for machines, ``table_columns`` (default all) formatted for people;
    ``drop``: the table's columns that may be left out to fit the terminal, the first one first."""
    if fmt is Format.table:
        return pretty_rows([clean(r) for r in rows], table_columns or columns, title, drop)
    return render_rows(fmt, rows, [key for key, _, _ in columns], title)


def record_output(fmt: Format, record: dict[str, Any], title: str, items: Sequence[tuple[str, str, Callable]]) -> str:
    """One record: nested keys for machines, the (label, dotted key, formatter) ``items`` for people."""

    def human(rec: dict[str, Any]) -> list[tuple[str, str]]:
        return [(label, fn(_dig(rec, key))) for label, key, fn in items]

    if fmt is Format.markdown:  # markdown is for people: the table's rows, not every key
        return record_markdown(title, human(clean(record)))
    return render_record(fmt, record, (lambda rec: pretty_record(title, human(rec))) if fmt is Format.table else None)


def _dig(record: dict[str, Any], dotted: str) -> Any:
    value: Any = record
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


# --------------------------------------------------------------------------- records
