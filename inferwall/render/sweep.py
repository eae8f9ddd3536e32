"""The terminal table of ``inferwall sweep``: one row per configuration, readable units, nothing truncated."""

from __future__ import annotations

import io
from typing import Any

from .compare import human


def sweep_table(rows: list[dict[str, Any]], columns: list[str], title: str = "") -> str:
    from .table import _console, _table

    cells = [[human(c, r.get(c)) for c in columns] for r in rows]
    numeric = [any(isinstance(r.get(c), (int, float)) and not isinstance(r.get(c), bool) for r in rows) for c in columns]
    # each column: its widest cell, two of padding and one separator; the console is made at least that wide
    width = sum(max([len(c)] + [len(row[i]) for row in cells]) + 3 for i, c in enumerate(columns)) + 4
    buf = io.StringIO()
    con = _console(buf, width)
    t = _table(title or None)
    for c, num in zip(columns, numeric):
        t.add_column(c, no_wrap=True, justify="right" if num else "left")
    for row in cells:
        t.add_row(*row)
    con.print(t)
    return buf.getvalue()
