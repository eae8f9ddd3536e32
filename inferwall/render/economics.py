"""Records and tables for the economics commands (scale, bounds, implied, trend, intensity, plan).

Machine formats (json, csv, tsv, markdown, yaml) go through ``render_rows`` / ``render_record`` with SI keys
and full precision. The terminal table formats each column for reading (ms, %, $, k); rich is imported only
when a table is drawn, and numbers are never truncated.
"""

from __future__ import annotations

import io
import math
from typing import Any, Callable, Sequence

from inferwall.units import count, seconds, si

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
rate = _none(lambda x: f"{x:,.1f}" if x >= 100 else f"{x:.3g}")
num = _none(lambda x: f"{x:,.4g}")
joules = _none(lambda x: si(x, "J"))
flops = _none(lambda x: si(x, "FLOP/s"))
bandwidth = _none(lambda x: si(x, "B/s"))
big = _none(lambda x: si(x))
text = _none(str)
boolean = _none(lambda x: "yes" if x else "NO")
params = _none(count)


# --------------------------------------------------------------------------- rich tables


def _console(width: int):
    from .table import _console as console

    buf = io.StringIO()
    return buf, console(buf, width)


def pretty_rows(rows: list[dict[str, Any]], columns: Sequence[Column], title: str = "") -> str:
    """A readable terminal table: formatted cells, no wrapping, the console as wide as the table.

    A key a row does not have is a blank cell; a ``None`` value goes through the formatter (usually '-').
    """
    from .table import _table

    cells = [[fmt(r[key]) if key in r else "" for key, _, fmt in columns] for r in rows]  # absent: blank
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, (_, h, _) in enumerate(columns)]
    buf, con = _console(max(sum(w + 3 for w in widths) + 8, len(title)))
    if title:
        con.print(f"[bold]{_escape(title)}[/bold]")
    t = _table(None)
    for i, (key, header, _) in enumerate(columns):
        t.add_column(header, no_wrap=True, overflow="ignore", justify="left" if key in _LEFT else "right")
    for row in cells:
        t.add_row(*[_escape(c) for c in row])
    con.print(t)
    return buf.getvalue()


def _escape(value: str) -> str:
    from rich.markup import escape

    return escape(value)


_LEFT = {"bound", "marks", "gpu", "source", "operator", "model", "precision", "binds", "batch_limited_by", "layout"}


def pretty_record(title: str, items: Sequence[tuple[str, str]]) -> str:
    """Label/value rows under a title."""
    from .table import _table

    width = max([len(title)] + [len(a) + len(b) + 4 for a, b in items]) + 4
    buf, con = _console(max(width, len(title)))
    con.print(f"[bold]{_escape(title)}[/bold]")
    t = _table(None, header=False)
    t.add_column("", style="bold", no_wrap=True)
    t.add_column("", justify="right", no_wrap=True, overflow="ignore")
    for label, value in items:
        t.add_row(_escape(label), _escape(value))
    con.print(t)
    return buf.getvalue()


def rows_output(fmt: Format, rows: list[dict[str, Any]], columns: Sequence[Column], title: str = "",
                table_columns: Sequence[Column] | None = None) -> str:
    """Rows in any format: all ``columns`` for machines, ``table_columns`` (default all) formatted for people."""
    if fmt is Format.table:
        return pretty_rows([clean(r) for r in rows], table_columns or columns, title)
    return render_rows(fmt, rows, [key for key, _, _ in columns], title)


def record_output(fmt: Format, record: dict[str, Any], title: str, items: Sequence[tuple[str, str, Callable]]) -> str:
    """One record: nested keys for machines, the (label, dotted key, formatter) ``items`` for people."""

    def table(rec: dict[str, Any]) -> str:
        return pretty_record(title, [(label, fn(_dig(rec, key))) for label, key, fn in items])

    return render_record(fmt, record, table if fmt is Format.table else None)


def _dig(record: dict[str, Any], dotted: str) -> Any:
    value: Any = record
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


# --------------------------------------------------------------------------- records
