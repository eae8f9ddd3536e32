"""Terminal tables with rich, fitted to the terminal's width without ever truncating a number.

The width is ``COLUMNS`` when set (also when a table is piped with ``--format table``), else the terminal's
when stdout is one, else unlimited. A table wider than that is narrowed in three steps: headers wrap (at spaces,
and after ``.``, ``_``, ``/`` or ``-`` so full names stay whole), free-text columns wrap between words, and then
the least important columns are left out, with a note on stderr naming them (``take_hints``). Numbers never
wrap and are never cut: when even the narrowest set does not fit, the table is printed wider than the terminal.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import sys
from typing import Any, NamedTuple, Sequence

from inferwall.units import binary_bytes, count, number, plural, seconds, si

from . import printable

MIN_WIDTH = 40
WRAP_MIN = 16  # free text wraps no narrower than this: two short lines read better than five
_HINTS: list[str] = []


def take_hints() -> list[str]:
    """Notes the tables drawn since the last call want on stderr (columns left out to fit the width)."""
    out = list(dict.fromkeys(_HINTS))
    _HINTS.clear()
    return out


def target_width(stream=None) -> int | None:
    """COLUMNS when set, else the terminal's width when ``stream`` (stdout) is a terminal, else None (no limit)."""
    env = os.environ.get("COLUMNS", "").strip()
    if env.isdigit() and int(env) > 0:
        return max(MIN_WIDTH, int(env))
    stream = stream or sys.stdout
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return max(MIN_WIDTH, shutil.get_terminal_size((100, 40)).columns) if tty else None


def _console(buf: io.StringIO, width: int | None = None):
    from rich.console import Console

    return Console(file=buf, width=max(width or 0, MIN_WIDTH), force_terminal=bool(os.environ.get("FORCE_COLOR")),
                   no_color=bool(os.environ.get("NO_COLOR")), highlight=False, soft_wrap=False)


def _table(title: str | None = None, header: bool = True):
    from rich import box
    from rich.table import Table

    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD if header else box.SIMPLE, pad_edge=False,
                 title_style="bold", show_header=header)


# --------------------------------------------------------------------------- fitting to the width


class Col(NamedTuple):
    """One column of a fitted table. A cell is text, or (text, rich style)."""

    header: str
    cells: Sequence[Any]
    right: bool = False
    wrap: bool = False  # free text that may wrap between words (never numbers)
    drop: int = 0  # 0: always shown; when the table is too wide, the highest ``drop`` is left out first
    style: str | None = None


def _text(cell: Any) -> str:
    return cell[0] if isinstance(cell, tuple) else cell


_BREAK = re.compile(r"[^._/-]+[._/-]*|[._/-]+")


def header_parts(header: str) -> list[tuple[str, str]]:
    """(separator, piece) pairs where a header may break: at spaces, and after . _ / -."""
    out: list[tuple[str, str]] = []
    for word in header.split():
        for i, part in enumerate(_BREAK.findall(word)):
            out.append((" " if i == 0 and out else "", part))
    return out


def wrap_header(header: str, width: int) -> str:
    lines: list[str] = []
    line = ""
    for sep, part in header_parts(header):
        if line and len(line) + len(sep) + len(part) > width:
            lines.append(line)
            line = part
        else:
            line += sep + part
    if line:
        lines.append(line)
    return "\n".join(lines) or header


def _longest_word(texts: Sequence[str]) -> int:
    return max([len(w) for t in texts for w in t.split()] + [1])


def table_width(widths: Sequence[int]) -> int:
    """What rich draws for these column widths: one space at each edge, three between columns."""
    return sum(widths) + 3 * len(widths) - 1 if widths else 0


def fit_columns(cols: Sequence[Col], width: int | None) -> tuple[list[Col], list[int], list[str]]:
    """(the columns kept, their widths, the headers of those left out) so the table fits ``width``.

    Headers wrap first, and free text down to ``WRAP_MIN``; then columns are left out, the highest ``drop``
    first; as a last resort free text wraps down to its longest word. Numbers are never narrowed."""
    kept = list(cols)
    dropped: list[str] = []

    def narrowest(wrap_min: int) -> list[int]:
        out = []
        for c in kept:
            cells = [_text(x) for x in c.cells]
            full = max([len(x) for x in cells] + [0])
            body = min(full, max(_longest_word(cells), wrap_min)) if c.wrap else full
            head = max([len(p) for _, p in header_parts(c.header)] + [1])
            out.append(max(body, head, 1))
        return out

    while True:
        natural = [max([len(c.header)] + [len(_text(x)) for x in c.cells]) for c in kept]
        if width is None or table_width(natural) <= width:
            return kept, natural, dropped
        narrow = narrowest(WRAP_MIN)
        if table_width(narrow) > width and not any(c.drop > 0 for c in kept):
            narrow = narrowest(0)
        if table_width(narrow) <= width:
            spare = width - table_width(narrow)
            # Give the room back: first to wrapped text (fewer lines per row), then to the headers that need
            # the least to fit on one line.
            order = sorted(range(len(kept)), key=lambda i: (not kept[i].wrap, natural[i] - narrow[i]))
            for i in order:
                extra = min(spare, natural[i] - narrow[i])
                narrow[i] += extra
                spare -= extra
            return kept, narrow, dropped
        droppable = [c for c in kept if c.drop > 0]
        if not droppable:
            return kept, narrow, dropped
        victim = max(droppable, key=lambda c: (c.drop, kept.index(c)))
        dropped.append(victim.header)
        kept.remove(victim)


def fitted_table(cols: Sequence[Col], title: str | None = None, header: bool = True,
                 row_styles: Sequence[str | None] = (), width: int | None = -1) -> str:
    """A rich table of ``cols`` fitted to ``width`` (-1: ``target_width()``); a note names dropped columns."""
    from rich.text import Text

    if width == -1:
        width = target_width()
    # escape control characters before measuring: an escape sequence shows as text, as wide as its escape
    cols = [c._replace(header=printable(c.header),
                       cells=[(printable(x[0]), x[1]) if isinstance(x, tuple) else printable(str(x)) for x in c.cells])
            for c in cols]
    kept, widths, dropped = fit_columns(cols, width)
    if dropped:
        limit = f"COLUMNS={width}" if os.environ.get("COLUMNS") else f"the terminal's {width} columns"
        _HINTS.append(f"{plural(len(dropped), 'column')} left out to fit {limit}: {', '.join(dropped)}; "
                      "widen the terminal (or set COLUMNS), or use --format tsv or json for every column")
    buf = io.StringIO()
    drawn = table_width(widths)
    title_room = len(title or "") if width is None else min(len(title or ""), width)  # a long title wraps
    con = _console(buf, max(drawn, title_room))
    if title:
        con.print(Text(printable(title), style="bold"))
    t = _table(None, header)
    for c, w in zip(kept, widths):
        head = c.header
        t.add_column(Text(head if len(head) <= w else wrap_header(head, w)), justify="right" if c.right else "left", no_wrap=not c.wrap, width=w,
                     min_width=w, overflow="fold" if c.wrap else "ignore", style=c.style)
    rows = max((len(c.cells) for c in kept), default=0)
    for i in range(rows):
        cells = []
        for c in kept:
            cell = c.cells[i] if i < len(c.cells) else ""
            text, style = (cell if isinstance(cell, tuple) else (cell, None))
            cells.append(Text(text, style=style or ""))
        t.add_row(*cells, style=row_styles[i] if i < len(row_styles) else None)
    con.print(t)
    return buf.getvalue()


def prose(lines: Sequence[str], width: int | None = -1) -> str:
    """Plain lines for above or below a table, wrapped at ``width`` (-1: ``target_width()``)."""
    import textwrap

    if width == -1:
        width = target_width()
    out = []
    for line in lines:
        line = printable(line)
        out.extend(textwrap.wrap(line, width, subsequent_indent="  ") if width else [line])
    return "".join(f"{line}\n" for line in out)


# --------------------------------------------------------------------------- cell formats


def _pct(x: float | None) -> str:
    if x is None or x != x or x in (float("inf"), float("-inf")):
        return "-"
    return f"{x * 100:.3g}%" if x >= 0.001 else f"{x * 100:.2g}%"


def _usd(x: float | None) -> str:
    if x is None:
        return "n/a (no price)"
    if x != x or x in (float("inf"), float("-inf")):
        return "-"
    return f"${x:,.2f}" if x >= 1 else f"${x:.3g}"


def _joules(x: float | None) -> str:
    return "n/a (no TDP)" if x is None else si(x, "J")


def _bytes(x: float | None) -> str:
    return "-" if x is None else si(x, "B")


def _rate(x: float | None, unit: str) -> str:
    return "-" if x is None or number(x) == "-" else f"{number(x)} {unit}"


# --------------------------------------------------------------------------- estimate


class Section(NamedTuple):
    title: str
    headers: tuple[str, ...]  # () for label/value rows without a header line
    rows: tuple[tuple[str, ...], ...]


def estimate_sections(r: dict[str, Any]) -> tuple[list[str], list[Section], str]:
    """The human view of an estimate: (heading lines, sections of rows, the formula line), for the terminal
    table and for markdown alike."""
    sc = r["scenario"]
    layout = f"tp={sc['tp']} pp={sc['pp']} dp={sc['dp']}" + (f" ep={sc['ep']}" if sc["ep"] > 1 else "")
    heading = [f"{sc['model']} on {sc['gpus']} x {sc['gpu']} ({layout}), weights {sc['weights_dtype']} / KV "
               f"{sc['kv_dtype']} / compute {sc['compute_dtype']}, batch {sc['batch']:,}, {sc['input_tokens']:,} in / "
               f"{sc['output_tokens']:,} out",
               f"{count(sc['params'])} parameters, {count(sc['active_params'])} active per token"]
    phases = [(name, p) for name, p in (("prefill", r["prefill"]), ("decode step", r["decode"])) if p is not None]
    getters = (
        ("FLOPs", lambda p: si(p["flops"])),
        ("bytes moved", lambda p: _bytes(p["bytes"])),
        ("arithmetic intensity", lambda p: f"{number(p['arithmetic_intensity'])} FLOP/B"),
        ("compute-bound time", lambda p: seconds(p["compute_time_s"])),
        ("memory-bound time", lambda p: seconds(p["memory_time_s"])),
        ("communication time", lambda p: seconds(p["comm_time_s"])),
        ("overhead", lambda p: seconds(p["overhead_time_s"])),
        ("time", lambda p: seconds(p.get("time_s", p.get("step_time_s")))),
        ("bound by", lambda p: p["bound"]),
        ("FLOP utilization", lambda p: _pct(p["utilization"])),
        ("bandwidth utilization", lambda p: _pct(p["bandwidth_utilization"])),
    )
    time_rows = tuple((label, *[fn(p) for _, p in phases]) for label, fn in getters)
    m = r["memory"]
    memory_rows = (
        ("weights", binary_bytes(m["weights_bytes_per_gpu"])),
        ("KV cache", binary_bytes(m["kv_cache_bytes_per_gpu"])),
        ("activations / workspace", binary_bytes(m["activation_bytes_per_gpu"])),
        ("runtime reserve", binary_bytes(m["reserve_bytes_per_gpu"])),
        ("total", binary_bytes(m["total_bytes_per_gpu"])),
        ("usable / capacity", f"{binary_bytes(m['usable_bytes_per_gpu'])} / {binary_bytes(m['capacity_bytes_per_gpu'])}"),
        ("fits", "yes" if m["fits"] else "NO"),
        ("largest batch that fits", f"{m['max_batch']:,} ({m['batch_limited_by']})"),
        ("smallest replica that fits", "-" if m["min_gpus"] is None else plural(m["min_gpus"], "GPU")),
    )
    lat, thr, cost, b, en = r["latency"], r["throughput"], r["cost"], r["bounds"], r.get("energy") or {}
    result_rows = (
        ("time to first token", seconds(lat["ttft_s"])),
        ("time per output token", seconds(lat["tpot_s"]) if r["decode"] else "-"),
        ("end-to-end per request", seconds(lat["e2e_s"])),
        ("output tokens/s (all GPUs)", _rate(thr["output_tokens_per_s"], "tok/s")),
        ("input tokens/s (all GPUs)", _rate(thr["input_tokens_per_s"], "tok/s")),
        ("requests/s", _rate(thr["requests_per_s"], "req/s")),
        ("$/hour", _usd(cost["usd_per_hour"])),
        ("$ per M output tokens", _usd(cost["usd_per_million_output_tokens"]) if r["decode"] else "-"),
        ("$ per M input tokens", _usd(cost["usd_per_million_input_tokens"])),
        ("$ per M tokens, blended", _usd(cost["usd_per_million_tokens_blended"])),
        ("energy per output token", _joules(en.get("joules_per_output_token")) if r["decode"] else "-"),
        ("energy per input token", _joules(en.get("joules_per_input_token"))),
        ("forward passes/s per replica if FLOP-bound", _rate(b["compute_forward_passes_per_s"], "/s")),
        ("forward passes/s per replica if bandwidth-bound", _rate(b["memory_forward_passes_per_s"], "/s")),
    )
    sections = [
        Section("Time per phase (one replica)", ("", *[name for name, _ in phases]), time_rows),
        Section("Memory per GPU", (), memory_rows),
        Section("Latency, throughput, cost (all GPUs)", (), result_rows),
    ]
    formula = ("blended $/M = (prefill time + (output tokens - 1) x decode step) x GPUs x $/GPU-hour / 3600 "
               "/ (batch x (input + output tokens)) x 1e6")
    return heading, sections, formula


def estimate_table(r: dict[str, Any]) -> str:
    heading, sections, formula = estimate_sections(r)
    out = [prose(heading)]
    for s in sections:
        cols = [Col(h if s.headers else "", [row[i] for row in s.rows], right=i > 0, style="bold" if i == 0 else None)
                for i, h in enumerate(s.headers or ("", ""))]
        if s.title == "Memory per GPU":
            cols[1] = cols[1]._replace(cells=[("NO", "red") if v == "NO" else v for v in cols[1].cells])
        out.append(fitted_table(cols, s.title, header=bool(s.headers)))
    dim = "\x1b[2m" if os.environ.get("FORCE_COLOR") and not os.environ.get("NO_COLOR") else ""
    text = prose([formula])
    out.append(f"{dim}{text.rstrip()}\x1b[0m\n" if dim else text)
    return "".join(out)


def estimate_markdown(r: dict[str, Any]) -> str:
    """The same view as the terminal table, as a markdown document (``estimate -f markdown``)."""
    from .text import _md_escape

    heading, sections, formula = estimate_sections(r)
    out = [f"**{_md_escape(printable(heading[0]))}**", "", _md_escape(printable(heading[1])), ""]
    for s in sections:
        headers = s.headers or ("", "")
        out += [f"### {s.title}", "", "| " + " | ".join(headers) + " |",
                "|" + "|".join("---" if i == 0 else "---:" for i in range(len(headers))) + "|"]
        out += ["| " + " | ".join(_md_escape(printable(c)) for c in row) + " |" for row in s.rows]
        out.append("")
    out.append(f"*{formula}*")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- rows (catalog listings)


def rows_table(rows: list[dict[str, Any]], columns: list[str], title: str = "") -> str:
    from . import machine_value

    cols = []
    for i, c in enumerate(columns):
        values = [r.get(c) for r in rows]
        numeric = any(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        cols.append(Col(c, [machine_value(v) for v in values], right=numeric, wrap=c in ("name", "aliases"),
                        drop=0 if i < 2 else i))
    return fitted_table(cols, title or None)
