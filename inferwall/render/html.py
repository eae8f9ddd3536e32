"""HTML for notebooks (``_repr_html_`` of the Python API's results): plain tables, every name escaped.

Numbers are shown the way the terminal tables write them (grouped digits, 3-4 significant figures, durations with
units); the data itself stays in ``to_dict()``/``to_pandas()``.
"""

from __future__ import annotations

import html
import math
TYPE_CHECKING = False  # typing costs start-up; its names are only needed by type checkers
if TYPE_CHECKING:
    from typing import Any

from inferwall.units import number, seconds

STYLE = "border-collapse:collapse;font-variant-numeric:tabular-nums"
CELL = "padding:2px 8px;border-bottom:1px solid #ddd"


def cell(key: str, value: Any) -> str:
    """One value for people: None and non-finite numbers are '-', seconds get units, ratios stay numbers."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        text = "-"
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, (int, float)):
        leaf = key.rsplit(".", 1)[-1]
        if leaf.endswith("_s") and not leaf.endswith("per_s"):
            text = seconds(float(value))
        elif isinstance(value, int):
            text = f"{value:,}"
        else:
            text = number(value)
    elif isinstance(value, (list, tuple)):
        text = "; ".join(str(v) for v in value)
    else:
        text = str(value)
    return html.escape(text)


def _right(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def rows_html(rows: list[dict[str, Any]], columns: list[str], title: str = "", limit: int = 50,
              notes: list[str] | tuple[str, ...] = ()) -> str:
    """A table of flat rows, at most ``limit`` of them (then a line that counts the rest)."""
    head = "".join(f'<th style="{CELL};text-align:left">{html.escape(c)}</th>' for c in columns)
    body = []
    for row in rows[:limit]:
        cells = "".join(f'<td style="{CELL};text-align:{"right" if _right(row.get(c)) else "left"}">'
                        f"{cell(c, row.get(c))}</td>" for c in columns)
        body.append(f"<tr>{cells}</tr>")
    more = (f"<p>... and {len(rows) - limit:,} more rows (to_pandas() or to_dicts() has them all)</p>"
            if len(rows) > limit else "")
    caption = f"<b>{html.escape(title)}</b>" if title else ""
    lines = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    notes_html = f"<ul>{lines}</ul>" if lines else ""
    return (f"<div>{caption}<table style=\"{STYLE}\"><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody>"
            f"</table>{more}{notes_html}</div>")


def record_html(record: dict[str, Any], title: str = "") -> str:
    """A nested record as sections of key/value rows (``sources`` and empty sections left out)."""
    parts = [f"<b>{html.escape(title)}</b>"] if title else []
    flat: list[tuple[str, str, Any]] = []
    for section, part in record.items():
        if section == "sources":
            continue
        if isinstance(part, dict):
            flat.extend((section, k, v) for k, v in part.items() if not isinstance(v, (dict, list)))
        elif not isinstance(part, list) or section == "notes":
            flat.append(("", section, part))
    rows = []
    last = None
    for section, key, value in flat:
        if section != last and section:
            rows.append(f'<tr><th colspan="2" style="{CELL};text-align:left">{html.escape(section)}</th></tr>')
            last = section
        rows.append(f'<tr><td style="{CELL}">{html.escape(key)}</td><td style="{CELL};text-align:'
                    f'{"right" if _right(value) else "left"}">{cell(key, value)}</td></tr>')
    parts.append(f"<table style=\"{STYLE}\">{''.join(rows)}</table>")
    return f"<div>{''.join(parts)}</div>"
