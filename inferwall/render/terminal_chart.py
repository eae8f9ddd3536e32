"""Draw a ``Chart`` as text for the terminal: braille lines, marker glyphs, log axes. Standard library only.

Each character cell holds 2 x 4 braille dots, so a line is drawn at twice the horizontal and four times the
vertical resolution of the text; markers, annotations and line-end labels are whole characters on top.
Line styles (solid, dashed, dotted) and marker shapes tell series apart without colour; colour is added only
when ``color=True`` (``use_color`` decides it for a stream: a terminal, NO_COLOR unset, or FORCE_COLOR set).
Without a UTF-8 capable stream, ``unicode=False`` draws with ASCII characters instead.

The width is the caller's (``terminal_width()``: COLUMNS, else the terminal's, else 80); the height is fixed
per panel, so a golden test at a fixed width is stable.
"""

from __future__ import annotations

import math
import os
import shutil
import textwrap
from typing import Sequence

from .chartdata import NEUTRAL, Chart, Panel, drawable, limits, tick_label, ticks

MIN_WIDTH, MAX_WIDTH = 40, 240
PANEL_HEIGHT = {1: 18, 2: 11, 3: 9}  # text rows of the plot area, by the number of panels

# braille dot bits by (row 0-3, column 0-1) inside a cell
_BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))

_MARKER_GLYPHS = {"circle": "●", "triangle": "▲", "square": "■", "diamond": "◆", "down": "▼", "star": "★",
                  "plus": "+", "cross": "×"}
_MARKER_ASCII = {"circle": "o", "triangle": "^", "square": "@", "diamond": "%", "down": "v", "star": "&",
                 "plus": "+", "cross": "x"}
_LINE_GLYPHS = {"solid": "─", "dashed": "╌", "dotted": "┈", "none": " "}
_LINE_ASCII = {"solid": "*", "dashed": "-", "dotted": ".", "none": " "}
_DASH = {"solid": None, "dashed": (4, 6), "dotted": (1, 3)}  # dots on, of a period (in steps along the line)

# 256-colour approximations of matplotlib's tab10 palette, the image renderer's colours
PALETTE = (32, 208, 34, 160, 98, 94, 176, 244, 142, 38)


def use_color(stream) -> bool:
    """Colour when the stream is a terminal and NO_COLOR is unset (or empty); FORCE_COLOR forces it.
    NO_COLOR wins over FORCE_COLOR."""
    if os.environ.get("NO_COLOR", ""):
        return False
    if os.environ.get("FORCE_COLOR", "") not in ("", "0"):
        return True
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def can_unicode(stream) -> bool:
    """Whether the stream's encoding can carry braille and the marker glyphs."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        ("⣿●▲■◆▼★×─╌┈│┤└┬" ).encode(encoding)
    except (LookupError, UnicodeEncodeError):
        return False
    return True


def terminal_width(default: int = 80) -> int:
    """COLUMNS, else the terminal's width, else ``default``; kept between 40 and 240."""
    columns = shutil.get_terminal_size((default, 24)).columns
    return max(MIN_WIDTH, min(MAX_WIDTH, columns))


def _color_code(color: int | None) -> str:
    if color is None or color == NEUTRAL:
        return ""
    return f"\x1b[38;5;{PALETTE[color % len(PALETTE)]}m"


class _Canvas:
    """A plot area of w x h cells: braille dots with the colour and style of the last line through each cell,
    and an overlay of whole characters (markers and text)."""

    def __init__(self, w: int, h: int) -> None:
        self.w, self.h = w, h
        self.dots = [[0] * w for _ in range(h)]
        self.dot_color: list[list[int | None]] = [[None] * w for _ in range(h)]
        self.dot_style: list[list[str]] = [["solid"] * w for _ in range(h)]
        self.over: list[list[tuple[str, int | None] | None]] = [[None] * w for _ in range(h)]

    def dot(self, x: int, y: int, color: int, style: str) -> None:
        if 0 <= x < 2 * self.w and 0 <= y < 4 * self.h:
            r, c = y // 4, x // 2
            self.dots[r][c] |= _BITS[y % 4][x % 2]
            self.dot_color[r][c] = color
            self.dot_style[r][c] = style

    def free(self, r: int, c0: int, n: int) -> bool:
        return (0 <= r < self.h and c0 >= 0 and c0 + n <= self.w
                and all(self.over[r][c] is None for c in range(c0, c0 + n)))

    def put(self, r: int, c: int, text: str, color: int | None) -> None:
        for i, ch in enumerate(text):
            if 0 <= r < self.h and 0 <= c + i < self.w:
                self.over[r][c + i] = (ch, color)


def _clip(x0: float, y0: float, x1: float, y1: float, xmax: float, ymax: float):
    """Liang-Barsky: the part of the segment inside [0, xmax] x [0, ymax], or None."""
    dx, dy = x1 - x0, y1 - y0
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, x0), (dx, xmax - x0), (-dy, y0), (dy, ymax - y0)):
        if p == 0:
            if q < 0:
                return None
            continue
        t = q / p
        if p < 0:
            if t > t1:
                return None
            t0 = max(t0, t)
        else:
            if t < t0:
                return None
            t1 = min(t1, t)
    return x0 + t0 * dx, y0 + t0 * dy, x0 + t1 * dx, y0 + t1 * dy


class _Mapper:
    def __init__(self, panel: Panel, w: int, h: int) -> None:
        (self.x0, self.x1), (self.y0, self.y1) = limits(panel)
        self.xlog, self.ylog = panel.x.log, panel.y.log
        self.xd, self.yd = 2 * w - 1, 4 * h - 1

    @staticmethod
    def _t(v: float, log: bool) -> float:
        return math.log10(v) if log else v

    def fx(self, x: float) -> float:
        a, b = self._t(self.x0, self.xlog), self._t(self.x1, self.xlog)
        return (self._t(x, self.xlog) - a) / (b - a) * self.xd if b != a else 0.0

    def fy(self, y: float) -> float:
        a, b = self._t(self.y0, self.ylog), self._t(self.y1, self.ylog)
        return (1 - (self._t(y, self.ylog) - a) / (b - a)) * self.yd if b != a else float(self.yd)

    def cell(self, x: float, y: float) -> tuple[int, int] | None:
        fx, fy = self.fx(x), self.fy(y)
        if not (-0.5 <= fx <= self.xd + 0.5 and -0.5 <= fy <= self.yd + 0.5):
            return None
        return min(max(round(fy), 0), self.yd) // 4, min(max(round(fx), 0), self.xd) // 2


def _line(canvas: _Canvas, m: _Mapper, points: Sequence[tuple[float, float]], color: int, style: str) -> None:
    dash = _DASH.get(style)
    step = 0
    for (ax, ay), (bx, by) in zip(points, points[1:]):
        seg = _clip(m.fx(ax), m.fy(ay), m.fx(bx), m.fy(by), m.xd, m.yd)
        if seg is None:
            continue
        x, y, x1, y1 = (round(v) for v in seg)
        dx, dy = abs(x1 - x), -abs(y1 - y)
        sx, sy = (1 if x < x1 else -1), (1 if y < y1 else -1)
        err = dx + dy
        while True:
            if dash is None or step % dash[1] < dash[0]:
                canvas.dot(x, y, color, style)
            step += 1
            if x == x1 and y == y1:
                break
            e2 = 2 * err
            if e2 >= dy:
                err += dy
                x += sx
            if e2 <= dx:
                err += dx
                y += sy


def _place(canvas: _Canvas, candidates: Sequence[tuple[int, int]], text: str, color: int | None) -> bool:
    """Put ``text`` at the first candidate where it covers neither a line nor a character; failing that, the
    first where it covers no character; failing that, nowhere."""
    for clear in (True, False):
        for r, c in candidates:
            if canvas.free(r, c, len(text)) and (not clear or not any(canvas.dots[r][c:c + len(text)])):
                canvas.put(r, c, text, color)
                return True
    return False


def _marker(canvas: _Canvas, at: tuple[int, int], glyph: str, color: int | None) -> None:
    """A marker in its cell, or in a free neighbour when another marker holds the cell (points closer than a
    character would hide each other)."""
    r, c = at
    for dc in (0, 1, -1, 2, -2):
        if canvas.free(r, c + dc, 1):
            canvas.put(r, c + dc, glyph, color)
            return
    canvas.put(r, c, glyph, color)


def _panel_rows(panel: Panel, width: int, height: int, margin: int, color: bool, uni: bool,
                x_label: bool) -> list[str]:
    panel = drawable(panel)
    w = max(10, width - margin - 2)
    canvas = _Canvas(w, height)
    m = _Mapper(panel, w, height)
    glyphs = _MARKER_GLYPHS if uni else _MARKER_ASCII
    for s in panel.series:
        if s.line != "none" and len(s.points) > 1:
            _line(canvas, m, s.points, s.color, s.line)
    for s in panel.series:
        if s.marker:
            for x, y in s.points:
                at = m.cell(x, y)
                if at:
                    _marker(canvas, at, glyphs.get(s.marker, "*"), s.color)
    for a in panel.annotations:
        at = m.cell(a.x, a.y)
        if at and a.marker and canvas.free(at[0], at[1], 1):  # a point already marked keeps its marker
            canvas.put(at[0], at[1], glyphs.get(a.marker, "*"), a.color)
    for a in panel.annotations:
        at = m.cell(a.x, a.y)
        if at and a.text:
            r, c = at
            n = len(a.text)
            spots = [(r, c + 2), (r, c - 1 - n), (r - 1, c + 1), (r + 1, c + 1), (r - 1, c - n), (r + 1, c - n)]
            if a.above:
                spots = [(r - 1, c + 1), (r - 1, c - n), (r, c + 2), (r, c - 1 - n)] + spots
            _place(canvas, spots, a.text, a.color)
    for s in panel.series:
        if s.end_label and s.points:
            at = m.cell(*s.points[-1])
            if at:
                r, c = at
                n = len(s.end_label)
                _place(canvas, [(r - 1, c - n + 1), (r + 1, c - n + 1), (r, c - n - 1), (r - 2, c - n + 1)],
                       s.end_label, s.color)

    # y ticks: the row each tick value falls on
    y_ticks: dict[int, str] = {}
    for v in ticks(panel.y, m.y0, m.y1, most=max(2, height // 2)):
        r = min(max(round(m.fy(v)), 0), m.yd) // 4
        y_ticks.setdefault(r, tick_label(v, panel.y.kind))
    vbar, tee = ("│", "┤") if uni else ("|", "+")
    lines_out = []
    line_glyph = _LINE_ASCII
    for r in range(height):
        label = y_ticks.get(r, "")
        parts = [label.rjust(margin - 1) + " " + (tee if r in y_ticks else vbar)]
        run_color: int | None = None
        buf: list[str] = []

        def flush() -> None:
            if buf:
                code = _color_code(run_color) if color else ""
                parts.append(f"{code}{''.join(buf)}\x1b[0m" if code else "".join(buf))
                buf.clear()

        end = w
        while end and canvas.over[r][end - 1] is None and not canvas.dots[r][end - 1]:
            end -= 1  # no trailing blanks (and no colour codes around them)
        for c in range(end):
            over = canvas.over[r][c]
            if over is not None:
                ch, col = over
            elif canvas.dots[r][c]:
                col = canvas.dot_color[r][c]
                ch = chr(0x2800 + canvas.dots[r][c]) if uni else line_glyph[canvas.dot_style[r][c]]
            else:
                ch, col = " ", None
            if ch == " ":
                col = run_color  # a blank continues the run: fewer escapes
            if col != run_color:
                flush()
                run_color = col
            buf.append(ch)
        flush()
        lines_out.append("".join(parts).rstrip())

    # x axis, its ticks and labels
    xt = ticks(panel.x, m.x0, m.x1, most=max(2, w // 8))
    cols = {}
    for v in xt:
        c = min(max(round(m.fx(v)), 0), m.xd) // 2
        cols.setdefault(c, tick_label(v, panel.x.kind))
    corner, dash, mark = ("└", "─", "┬") if uni else ("+", "-", "+")
    axis = [dash] * w
    for c in cols:
        axis[c] = mark
    lines_out.append(" " * margin + corner + "".join(axis))
    row = [" "] * max(width, margin + 1 + w)
    last_end = -2
    for c, text in sorted(cols.items()):
        start = margin + 1 + c - (len(text) - 1) // 2
        start = min(max(start, 0), len(row) - len(text))
        if start <= last_end + 1:
            continue
        row[start:start + len(text)] = list(text)
        last_end = start + len(text) - 1
    lines_out.append("".join(row).rstrip())
    if x_label:
        for part in textwrap.wrap(panel.x.label, w) or [""]:
            lines_out.append((" " * (margin + 1) + part.center(w)).rstrip())
    return lines_out


def _legend(chart: Chart, width: int, color: bool, uni: bool) -> list[str]:
    glyphs = _MARKER_GLYPHS if uni else _MARKER_ASCII
    lines = _LINE_GLYPHS if uni else {"solid": "-", "dashed": "-", "dotted": ".", "none": " "}
    items = []
    for e in chart.legend:
        ln = lines.get(e.line, " ")
        if not uni and e.line == "dashed":
            sample = "- -" if not e.marker else f"-{glyphs.get(e.marker, '*')}-"
        else:
            sample = f"{ln}{glyphs.get(e.marker, '*') if e.marker else ln}{ln}"
        items.append((sample, e.label, e.color))
    if not items:
        return []
    cell = max(len(s) + 1 + len(t) for s, t, _ in items) + 3
    per_row = max(1, width // cell)
    out = []
    if per_row == 1:  # one entry a line; a label longer than the width wraps under itself
        for sample, text, col in items:
            code = _color_code(col) if color else ""
            shown = f"{code}{sample}\x1b[0m" if code else sample
            wrapped = textwrap.wrap(text, max(10, width - len(sample) - 3)) or [""]
            out.append(f"  {shown} {wrapped[0]}".rstrip())
            out += [" " * (len(sample) + 3) + more for more in wrapped[1:]]
        return out
    for i in range(0, len(items), per_row):
        parts = []
        for sample, text, col in items[i:i + per_row]:
            code = _color_code(col) if color else ""
            shown = f"{code}{sample}\x1b[0m" if code else sample
            parts.append(shown + " " + text.ljust(cell - len(sample) - 1))
        out.append(("  " + "".join(parts)).rstrip())
    return out


def _printable(chart: Chart) -> Chart:
    """Every text of the chart with control characters escaped: names from files never drive the terminal."""
    from . import printable

    def axis(a):
        return a._replace(label=printable(a.label))

    panels = tuple(p._replace(x=axis(p.x), y=axis(p.y), title=printable(p.title),
                              series=tuple(s._replace(label=printable(s.label), end_label=printable(s.end_label))
                                           for s in p.series),
                              annotations=tuple(a._replace(text=printable(a.text)) for a in p.annotations))
                   for p in chart.panels)
    return chart._replace(title=printable(chart.title), caption=printable(chart.caption), panels=panels,
                          legend=tuple(e._replace(label=printable(e.label)) for e in chart.legend))


def draw(chart: Chart, width: int = 80, color: bool = False, unicode: bool = True) -> str:
    """The chart as text lines ``width`` characters wide (ending in a newline)."""
    chart = _printable(chart)
    width = max(MIN_WIDTH, min(MAX_WIDTH, width))
    n = len(chart.panels)
    height = PANEL_HEIGHT.get(n, 8)
    labels = []
    for p in chart.panels:
        (x0, x1), (y0, y1) = limits(p)
        labels += [tick_label(v, p.y.kind) for v in ticks(p.y, y0, y1, most=max(2, height // 2))]
    margin = max([len(t) for t in labels] + [3]) + 1
    out: list[str] = []
    bold = "\x1b[1m" if color else ""
    for line in textwrap.wrap(chart.title, width) or [""]:
        out.append(f"{bold}{line}\x1b[0m" if bold else line)
    for i, p in enumerate(chart.panels):
        out.append("")
        out += textwrap.wrap(p.y.label, width) or [""]
        last = i == n - 1 or chart.panels[i + 1].x.label != p.x.label
        out += _panel_rows(p, width, height, margin, color, unicode, x_label=last)
    legend = _legend(chart, width, color, unicode)
    if legend:
        out.append("")
        out += legend
    if chart.caption:
        out += textwrap.wrap(chart.caption, width)
    return "\n".join(out) + "\n"
