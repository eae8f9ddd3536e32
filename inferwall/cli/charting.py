"""``--chart`` and ``--output FILE`` for the commands that draw (estimate, roofline, scale, sweep, plan, trend).

* ``--chart`` draws the chart in the terminal, on stdout, *instead of* the data: the chart is then the
  requested output (stdout still carries only it; notes and summaries stay on stderr). Piped, it is drawn
  without colour.
* ``--output FILE.png|FILE.svg`` writes the chart as an image (matplotlib, the ``plot`` extra) and leaves
  stdout as it was, so a script gets the data and the picture; a note on stderr names the file.

Both may be given. ``check_output`` runs before any work, so a bad file name or a missing matplotlib stops
the command (exit 2) before anything reaches stdout.
"""

from __future__ import annotations

import sys
from typing import Any, Callable, Optional

import typer

from .flags import OUTPUT

CHART_HELP = ("Draw the chart in the terminal instead of printing the data (colour on a terminal unless "
              "NO_COLOR is set).")
OUTPUT_HELP = ("Also write the chart as an image, FILE.png or FILE.svg (needs pip install 'inferwall\\[plot]'); "
               "the data still goes to stdout.")


def chart_option() -> Any:
    return typer.Option(False, "--chart", help=CHART_HELP, rich_help_panel=OUTPUT)


def output_option() -> Any:
    return typer.Option(None, "--output", metavar="FILE", help=OUTPUT_HELP, rich_help_panel=OUTPUT)


ChartOpt = bool
OutputOpt = Optional[str]


def check_output(output: str | None) -> None:
    """Fail early (exit 2, one line) on an unknown extension, a missing folder or a missing matplotlib."""
    if output is not None:
        from inferwall.render.image_chart import require

        require(output)


def deliver(chart: bool, output: str | None, make: Callable[[], Any]) -> bool:
    """Draw what was asked: the image file first (a failure leaves stdout empty), then the terminal chart on
    stdout. Returns whether the terminal chart replaced the data."""
    if not chart and output is None:
        return False
    drawing = make()
    if output is not None:
        from inferwall.render.image_chart import write_image

        from .common import note

        write_image(drawing, output)
        note(f"chart: wrote {output}")
    if chart:
        from inferwall.render.terminal_chart import can_unicode, draw, terminal_width, use_color

        from .common import emit

        emit(draw(drawing, width=terminal_width(), color=use_color(sys.stdout), unicode=can_unicode(sys.stdout)))
    return chart


class Collector:
    """Stands in for a sweep's row writer: keeps every row for the chart, and passes them on to the real
    writer unless the terminal chart replaces the data."""

    def __init__(self, writer: Any, passthrough: bool) -> None:
        self.writer = writer if passthrough else None
        self.rows: list[dict[str, Any]] = []

    def row(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if self.writer is not None:
            self.writer.row(row)

    def close(self, title: str = "") -> None:
        if self.writer is not None:
            self.writer.close(title)


# --------------------------------------------------------------------------- per-command charts


def estimate_chart(est) -> Any:
    from inferwall.render.chartdata import roofline_chart, roofline_row

    return roofline_chart([roofline_row(est)], roofline_title([est]))


def roofline_title(estimates: list[Any]) -> str:
    from inferwall.render.chartdata import short_gpu

    s = estimates[0].scenario
    par = s.parallelism
    gpus = ", ".join(dict.fromkeys(short_gpu(e.scenario.accelerator.id) for e in estimates))
    layout = f"{par.gpus} x {gpus}" if len(estimates) == 1 else f"{par.gpus} GPUs of {gpus}"
    return (f"Roofline: {s.model.id}, {s.precision.compute} compute, batch {s.workload.batch:,}, "
            f"{s.workload.input_tokens:,} in / {s.workload.output_tokens:,} out, on {layout}")


def scale_chart(resolved, result, title: str) -> Any:
    """Batch curves of ``scale``: each row's estimate again (cached per batch), for the two bounds."""
    from inferwall.core.economics import BatchProbe
    from inferwall.render.chartdata import batch_chart, batch_point, short_gpu

    s = resolved.scenario
    probe = BatchProbe(s, resolved.compute_explicit)
    points = [batch_point(probe.at(r.batch), r.fits) for r in result.rows]
    label = f"{s.model.id} on {s.parallelism.gpus} x {short_gpu(s.accelerator.id)}"
    notes = []
    batches = {r.batch for r in result.rows}
    if result.critical_batch in batches:
        notes.append(("time", result.critical_batch, f"compute-bound from batch {result.critical_batch:,}"))
    if result.target is not None and result.target.batch in batches:
        notes.append(("utilization", result.target.batch,
                      f"{result.target.target * 100:.3g}% at batch {result.target.batch:,}"))
    return batch_chart([(label, points)], title, notes)


def check_sweep(grid) -> None:
    """A sweep chart draws against the batch, one curve per combination of the other lists."""
    from inferwall.errors import InputError
    from inferwall.render.chartdata import MAX_SERIES_GROUPS

    if len(grid.axes.get("batch", ())) < 2:
        raise InputError("--chart/--output on sweep draws against the batch: give --batch a list or range "
                         "(e.g. --batch 1..256)")
    curves = grid.size // len(grid.axes["batch"])
    if curves > MAX_SERIES_GROUPS:
        raise InputError(f"--chart/--output on sweep: {curves} curves (one per combination of the lists other than "
                         f"--batch), more than the {MAX_SERIES_GROUPS} a chart shows; narrow those lists")


def sweep_chart(grid, rows: list[dict[str, Any]], title: str) -> Any:
    from inferwall.fields import BY_NAME
    from inferwall.grid import FIELD_COLUMNS
    from inferwall.render.chartdata import batch_chart, batch_point_from_row, short_gpu

    others = [n for n in grid.varying if n != "batch"]

    def label(row: dict[str, Any]) -> str:
        parts = []
        for name in others:
            value = row.get(FIELD_COLUMNS.get(name, (name,))[0])
            text = short_gpu(str(value)) if name == "gpu" else _value_text(name, value)
            parts.append(text if len(others) == 1 else f"{BY_NAME[name].flag.lstrip('-')}={text}")
        return " ".join(parts) or str(row.get("model") or "sweep")

    groups: dict[str, list] = {}
    for row in rows:
        groups.setdefault(label(row), []).append(batch_point_from_row(row))
    return batch_chart(list(groups.items()), title)


_UNITS = {"flops": "FLOP/s", "bandwidth": "B/s", "memory": "B", "link_bandwidth": "B/s", "params": "",
          "active_params": ""}


def _value_text(name: str, value: Any) -> str:
    """A curve's label for a swept value: 2 TB/s rather than 2000000000000.0."""
    from inferwall.units import si

    if isinstance(value, float) and not isinstance(value, bool):
        if name in _UNITS:
            return si(value, _UNITS[name]).replace(" ", "")
        if name == "price":
            return f"${value:g}/h"
        return f"{value:.4g}"
    return str(value)


def plan_chart(result, title: str, pareto: bool) -> Any:
    from inferwall.render.chartdata import FrontierPoint, frontier_chart

    points = [FrontierPoint(c.gpu, c.precision, c.usd_per_million_output_tokens, c.user_tokens_per_s)
              for c in result.configs]
    return frontier_chart(points, title, frontier=pareto)


def trend_chart(result, title: str, batch: int) -> Any:
    from inferwall.render.chartdata import TrendPoint
    from inferwall.render.chartdata import trend_chart as draw_trend

    points = [TrendPoint(r.year, r.ridge_flops_per_byte, r.utilization, r.bound, r.memory_to_compute,
                         r.roofline_bound) for r in result.rows]
    real = [(p.year, p.gpu, p.ops_per_byte) for p in result.catalog]
    return draw_trend(points, real, title, batch)
