"""``inferwall sweep``: the Cartesian grid of any estimate flags, one row per configuration, streamed."""

from __future__ import annotations

import sys
import time
from typing import Any, List, Optional

import typer

from inferwall.render import Format

from ..charting import ChartOpt, OutputOpt, chart_option, output_option
from ..common import catalog, note, pick_format, table_hints
from ..flags import OUTPUT, CatalogOpt, FormatOpt, catalog_option, format_option, with_scenario_flags

SELECT = "Selection"
PROGRESS_MIN_CONFIGURATIONS = 2000


class Progress:
    """A one-line progress bar on stderr, redrawn at most ten times a second; cleared at the end."""

    def __init__(self, total: int, label: str = "sweep") -> None:
        self.total, self.label = total, label
        self.done = 0
        self.last = 0.0
        self.drawn = False

    def step(self) -> None:
        self.done += 1
        if self.done & 63 == 0:
            now = time.monotonic()
            if now - self.last >= 0.1:
                self.last = now
                self.draw()

    def draw(self) -> None:
        width = 30
        filled = int(width * self.done / max(self.total, 1))
        sys.stderr.write(f"\r{self.label}: [{'#' * filled}{'.' * (width - filled)}] {self.done:,}/{self.total:,}")
        sys.stderr.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def sweep(
    scenario: dict[str, Any],
    columns: Optional[str] = typer.Option(None, "--columns", "-c", help="Comma list of columns (JSON key names or unambiguous leaf names such as tpot_s); 'all'; 'default' [default: a fixed set plus every flag given a list].", rich_help_panel=OUTPUT),
    fmt: FormatOpt = format_option(" jsonl is one JSON object per line."),
    where: Optional[List[str]] = typer.Option(None, "--where", "-w", help="Keep rows where COLUMN OP VALUE holds (OP: < <= > >= == !=), e.g. tpot_s<0.05, decode.bound==memory, gpu==*h100*. Repeatable: all must hold.", rich_help_panel=SELECT),
    sort: Optional[str] = typer.Option(None, "--sort", "-s", help="Sort by these columns (comma list; -COLUMN for descending). Empty values sort last.", rich_help_panel=SELECT),
    top: Optional[str] = typer.Option(None, "--top", metavar="INTEGER", help="Only the first N rows (after --where and --sort).", rich_help_panel=SELECT),
    fits_only: bool = typer.Option(False, "--fits-only", help="Only configurations whose memory fits (memory.fits).", rich_help_panel=SELECT),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Leave out configurations that are invalid (e.g. a tp that does not divide the heads) instead of failing; a note counts them.", rich_help_panel=SELECT),
    catalog_files: CatalogOpt = catalog_option(),
    chart: ChartOpt = chart_option(),
    output: OutputOpt = output_option(),
) -> None:
    """Evaluate the Cartesian grid of any estimate flags: one row per configuration.

    Every estimate flag takes a comma list (h100,h200) or a range: 1..256 doubles (1, 2, 4, ... 256), 1..64:8 steps (1, 9, 17, ...). Rows stream as they are computed (tsv, csv, jsonl, json, markdown) unless --sort is given; the table waits for the last row.

    Columns are the JSON keys of 'estimate -f json': the scenario keys bare (gpu, batch), the rest dotted (latency.tpot_s, memory.fits).

    --chart draws utilization, time per token and $/M tokens against --batch (which must vary), one curve per combination of the other lists.
    """
    from inferwall import grid as g
    from inferwall.render import row_writer
    from inferwall.units import plural

    from .. import charting

    from ._flags import whole

    charting.check_output(output)
    top = whole(top, "--top")
    grid = g.make_grid(scenario)
    if chart or output is not None:
        charting.check_sweep(grid)
    sel = g.selection(grid, columns, where or (), sort, top, fits_only)
    out_format = pick_format(fmt)

    run = g.GridRun(grid, catalog(catalog_files), skip_invalid=skip_invalid)
    from ..common import flush_out

    write = sys.stdout.write  # per row, so no wrapper here: the console script's stdout reports its own failures
    streams = out_format not in (Format.table, Format.yaml) and not sel.keys
    progress = None
    if run.total >= PROGRESS_MIN_CONFIGURATIONS and _isatty(sys.stderr) and not (streams and _isatty(sys.stdout)):
        progress = Progress(run.total)

    cols = sel.columns
    droppable = g.DROP_ORDER if not columns else ()  # the default set may narrow to fit; a chosen one does not
    if chart:  # the terminal chart replaces the rows: no writer, not even a header
        writer = charting.Collector(None, passthrough=False)
    elif output is not None:
        writer = charting.Collector(row_writer(out_format, cols, write, droppable), passthrough=True)
    else:
        writer = row_writer(out_format, cols, write, droppable)
    try:
        for row in sel.select(run.rows(), progress.step if progress else None):
            writer.row(row)
    finally:
        if progress:
            progress.close()
    count = f"{sel.matched:,} of {run.total:,} configurations" if sel.conditions else plural(run.total, "configuration")
    varied, fixed = grid.swept()
    title = f"Sweep of {varied or 'one configuration'}: {count}" + (f"; {fixed}" if fixed else "")
    writer.close(title)
    flush_out()
    table_hints()
    if chart or output is not None:
        charting.deliver(chart, output, lambda: charting.sweep_chart(grid, writer.rows, title))
    for line in g.sweep_notes(run, sel):
        note(line)


def register(app: typer.Typer) -> None:
    app.command("sweep")(with_scenario_flags(sweep, "grid"))
