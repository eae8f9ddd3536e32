"""The terminal table of ``inferwall sweep``: one row per configuration, readable units, nothing truncated."""

from __future__ import annotations

from typing import Any

from .compare import human


def sweep_table(rows: list[dict[str, Any]], columns: list[str], title: str = "",
                droppable: tuple[str, ...] = ()) -> str:
    """Headers keep their full names and wrap at ``.`` and ``_`` to fit the terminal; ``droppable`` columns
    (the default set's, not ones the user chose) may be left out, the last first."""
    from .table import Col, fitted_table

    # Columns with one value in every row go first: they tell the rows apart least.
    same = [c for c in droppable if len({repr(r.get(c)) for r in rows}) <= 1]
    order = same + [c for c in droppable if c not in same]
    cols = []
    for c in columns:
        numeric = any(isinstance(r.get(c), (int, float)) and not isinstance(r.get(c), bool) for r in rows)
        drop = len(order) - order.index(c) if c in order else 0
        cols.append(Col(c, [human(c, r.get(c)) for r in rows], right=numeric, wrap=c == "notes", drop=drop))
    return fitted_table(cols, title or None)
