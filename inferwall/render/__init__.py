"""Renderers, one per output format, imported lazily so rich and yaml load only when needed."""

from __future__ import annotations

import enum
import math
import sys
TYPE_CHECKING = False  # typing costs start-up; its names are only needed by type checkers
if TYPE_CHECKING:
    from typing import Any, Callable
    from .text import RowWriter


class Format(str, enum.Enum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    tsv = "tsv"
    markdown = "markdown"
    yaml = "yaml"


def default_format(stream=None) -> Format:
    """A table on a terminal, TSV when piped."""
    stream = stream or sys.stdout
    try:
        return Format.table if stream.isatty() else Format.tsv
    except (AttributeError, ValueError):
        return Format.tsv


def machine_value(value: Any) -> str:
    """A value for TSV/CSV/markdown: full precision, never nan/inf, empty for missing."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        if value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return format(value, ".12g")
    return printable(str(value))


def printable(text: str) -> str:
    """Control characters (escape sequences, newlines, lone surrogates) from names in files, written as
    escapes, so that no name can drive the terminal: ``"a\\x1b[2J"`` prints as ``a\\x1b[2J``."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape", "backslashreplace").decode("ascii")
                   for c in text)


def nonfinite_keys(record: dict[str, Any]) -> list[str]:
    """``section.key`` of every infinite or NaN float in a record of sections (what ``clean`` makes null).
    Two levels, as estimate records have; sweeps call it for every row, so it stays a flat loop."""
    out = []
    for section, part in record.items():
        if part.__class__ is dict:
            for key, v in part.items():
                if v.__class__ is float and v - v != 0.0:  # inf - inf and nan - nan are nan
                    out.append(f"{section}.{key}")
        elif part.__class__ is float and part - part != 0.0:
            out.append(section)
    return out


def nonfinite_note(keys: list[str]) -> str:
    """The note that goes with values shown as null (machine formats) or '-' (tables)."""
    shown = ", ".join(keys[:4]) + (f" and {len(keys) - 4} more" if len(keys) > 4 else "")
    return (f"{shown} overflowed (not a finite number): shown as null in json/yaml, empty in tsv/csv, '-' in tables; "
            "the inputs are outside a physical range")


def clean(value: Any) -> Any:
    """Replace non-finite floats with None, recursively, so JSON/YAML never carry nan or inf."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    return value


def render_record(fmt: Format, record: dict[str, Any], table: Callable[[dict[str, Any]], str] | None = None) -> str:
    """Render one nested record (an estimate): key/value rows for TSV/CSV/markdown, nested for JSON/YAML."""
    from . import text

    if fmt is Format.table and table is not None:
        return table(record)
    if fmt is Format.table:
        fmt = Format.markdown
    return text.RECORD_RENDERERS[fmt.value](clean(record))


def render_rows(fmt: Format, rows: list[dict[str, Any]], columns: list[str], title: str = "") -> str:
    """Render a list of flat rows (catalog listings, sweeps) with the given columns."""
    from . import text

    rows = [clean(r) for r in rows]
    if fmt is Format.table:
        from .table import rows_table

        return rows_table(rows, columns, title)
    return text.ROW_RENDERERS[fmt.value](rows, columns)


def row_writer(fmt: Format, columns: list[str], write: Callable[[str], Any],
               droppable: tuple[str, ...] = ()) -> "RowWriter":
    """A streaming writer of flat rows (sweeps): a header, then each row as it comes, then a footer.

    Formats that cannot stream (table, yaml) buffer their rows and write at ``close()``; the table may leave
    out ``droppable`` columns (the first first) to fit the terminal.
    """
    from . import text

    return text.RowWriter(fmt.value, columns, write, droppable)
