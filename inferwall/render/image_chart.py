"""Draw a ``Chart`` as a PNG or SVG image with matplotlib (the optional ``plot`` extra).

Imported only for ``--output FILE.png|FILE.svg``; matplotlib itself is imported inside ``render_image``.
The output is deterministic: the default style (a user's matplotlibrc does not apply), the Agg/SVG backends
through ``Figure`` (no pyplot, no GUI), a fixed figure size and resolution, a fixed SVG hash salt, text kept
as text in SVG, and no date or software version in the metadata. The same chart gives the same bytes.

Axis limits, ticks and tick labels come from ``chartdata``, like the terminal renderer's. Colours and the legend
tell series apart, so the line-end labels the terminal needs are left out.
"""

from __future__ import annotations

import importlib.util
import io
import os
import textwrap
import warnings

from inferwall.errors import InputError

from .chartdata import NEUTRAL, Chart, drawable, limits, tick_label, ticks

FORMATS = (".png", ".svg")
WIDTH_IN = 8.0
PANEL_HEIGHT_IN = {1: 5.0, 2: 6.5, 3: 8.5}
DPI = 100
# matplotlib's tab10, written out so a style can never change them
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")
NEUTRAL_COLOR = "#444444"
_MARKERS = {"circle": "o", "triangle": "^", "square": "s", "diamond": "D", "down": "v", "star": "*", "plus": "P",
            "cross": "X"}
_LINES = {"solid": "-", "dashed": "--", "dotted": ":", "none": "None"}
INSTALL_HINT = "pip install 'inferwall[plot]'"


def image_format(path: str) -> str:
    """'png' or 'svg' from the file name; anything else is a one-line input error."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in FORMATS:
        shown = ext or "no extension"
        raise InputError(f"--output {path}: unknown image type ({shown}); use a .png or .svg file name")
    return ext[1:]


def available() -> bool:
    """Whether matplotlib can be imported, found without importing it."""
    try:
        return importlib.util.find_spec("matplotlib") is not None
    except (ImportError, ValueError):
        return False


def require(path: str) -> str:
    """Check ``--output PATH`` before any work: a name, a known extension, an existing folder, a target that is a
    regular file if it exists (never a device, FIFO or directory), matplotlib installed."""
    if not str(path).strip():
        raise InputError("--output: empty file name; give FILE.png or FILE.svg")
    fmt = image_format(path)
    from .check import target_problem

    problem = target_problem(path)
    if problem:
        raise InputError(f"--output {path}: {problem}")
    if not available():
        raise InputError(f"--output {path} needs matplotlib: {INSTALL_HINT}")
    return fmt


class _quiet_matplotlib:
    """Keep matplotlib's log warnings (an unwritable config folder under a read-only HOME, a font cache being
    built) off stderr while it draws: stderr carries inferwall's own notes and errors only."""

    def __enter__(self) -> None:
        import logging

        self.logger = logging.getLogger("matplotlib")
        self.level = self.logger.level
        self.logger.setLevel(logging.ERROR)

    def __exit__(self, *exc: object) -> None:
        self.logger.setLevel(self.level)


def _color(index: int) -> str:
    return NEUTRAL_COLOR if index == NEUTRAL else PALETTE[index % len(PALETTE)]


def render_image(chart: Chart, fmt: str) -> bytes:
    """The chart as PNG or SVG bytes."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

    n = max(1, len(chart.panels))
    with warnings.catch_warnings(), matplotlib.rc_context():
        warnings.simplefilter("ignore")  # stderr is for inferwall's own notes, not a plotting library's
        matplotlib.rcdefaults()
        matplotlib.rcParams.update({
            "svg.hashsalt": "inferwall",  # fixed ids in the SVG
            "svg.fonttype": "none",  # text stays text: smaller, searchable, no glyph paths
            "text.parse_math": False,  # '$' in '$ per million tokens' is a dollar sign
            "font.size": 9,
            "axes.titlesize": 10,
            "figure.titlesize": 11,
        })
        fig = Figure(figsize=(WIDTH_IN, PANEL_HEIGHT_IN.get(n, 2.8 * n)), dpi=DPI, layout="constrained")
        axes = fig.subplots(n, 1, squeeze=False)[:, 0]
        for i, (ax, panel) in enumerate(zip(axes, chart.panels)):
            panel = drawable(panel)
            (x0, x1), (y0, y1) = limits(panel)
            ax.set_xscale("log" if panel.x.log else "linear")
            ax.set_yscale("log" if panel.y.log else "linear")
            for s in panel.series:
                if not s.points:
                    continue
                xs, ys = zip(*s.points)
                ax.plot(xs, ys, linestyle=_LINES.get(s.line, "-"), marker=_MARKERS.get(s.marker, "") or None,
                        color=_color(s.color), linewidth=1.6 if s.line == "solid" else 1.2, markersize=6,
                        label=s.label, clip_on=True)
            for a in panel.annotations:
                if a.marker:
                    ax.plot([a.x], [a.y], linestyle="None", marker=_MARKERS.get(a.marker, "x"), color=_color(a.color),
                            markersize=7)
                if a.text:
                    ax.annotate(a.text, (a.x, a.y), xytext=(6, 6 if a.above else -12), textcoords="offset points",
                                fontsize=8, color=_color(a.color))
            ax.set_xlim(x0, x1)
            ax.set_ylim(y0, y1)
            for axis, spec, lo, hi in ((ax.xaxis, panel.x, x0, x1), (ax.yaxis, panel.y, y0, y1)):
                axis.set_major_locator(FixedLocator(ticks(spec, lo, hi, most=8)))
                axis.set_major_formatter(FuncFormatter(lambda v, _pos, kind=spec.kind: tick_label(v, kind)))
                axis.set_minor_formatter(NullFormatter())
                if not spec.log:
                    axis.set_minor_locator(NullLocator())
            if i == n - 1 or chart.panels[i + 1].x.label != panel.x.label:  # stacked panels share one x label
                ax.set_xlabel(panel.x.label)
            if n > 1 and panel.title:
                ax.set_title(panel.title, loc="left")
            else:
                ax.set_ylabel(panel.y.label)
            ax.grid(True, which="major", color="#dddddd", linewidth=0.6)
        fig.suptitle("\n".join(textwrap.wrap(chart.title, 90)))
        if chart.legend:
            handles = [Line2D([], [], linestyle=_LINES.get(e.line, "-"), marker=_MARKERS.get(e.marker, "") or None,
                              color=_color(e.color), label=e.label) for e in chart.legend]
            ncols = 1 if len(handles) <= 3 else 2
            fig.legend(handles=handles, loc="outside lower center", ncols=ncols, frameon=False, fontsize=8)
        buf = io.BytesIO()
        metadata = {"Date": None, "Creator": None} if fmt == "svg" else {"Software": None}
        fig.savefig(buf, format=fmt, dpi=DPI, metadata=metadata)
    return buf.getvalue()


def write_image(chart: Chart, path: str) -> None:
    """Render and write atomically (a temporary file in the same folder, then a rename)."""
    from .check import write_atomically

    with _quiet_matplotlib():
        data = render_image(chart, image_format(path))
    try:
        write_atomically(path, data)
    except OSError as exc:
        raise InputError(f"--output {path}: cannot write: {exc.strerror or exc}") from None
