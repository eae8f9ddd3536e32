"""``inferwall compare``: several configurations side by side, one column each."""

from __future__ import annotations

from typing import Any

import typer

from ..common import catalog, emit, note, pick_format
from ..flags import OUTPUT, CatalogOpt, FormatOpt, catalog_option, format_option, with_scenario_flags

MAX_COLUMNS = 64


def compare(scenario: dict[str, Any], fmt: FormatOpt = format_option(), catalog_files: CatalogOpt = catalog_option(),
            skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Leave out configurations that are invalid (e.g. a tp that does not divide the heads) instead of failing; a note counts them.", rich_help_panel=OUTPUT)) -> None:
    """Compare configurations side by side: every estimate flag takes a comma list, and each value is a column.

    Lists in several flags combine (2 GPUs x 2 batches = 4 columns). Ranges work as in sweep (1..8, 1..64:8). The table highlights the rows that differ; tsv, csv and markdown have a key column and one column per configuration (the keys of 'estimate -f tsv'); json is a list of 'estimate -f json' objects.
    """
    from inferwall import grid as g
    from inferwall.errors import InputError
    from inferwall.render.compare import render_compare

    grid = g.make_grid(scenario)
    if grid.size > MAX_COLUMNS:
        raise InputError(f"compare shows at most {MAX_COLUMNS} configurations side by side, got {grid.size:,}; "
                         "use 'inferwall sweep' for grids (one row per configuration)")
    run = g.GridRun(grid, catalog(catalog_files), skip_invalid=skip_invalid, origins=scenario.get("origins"))
    if not run.total:
        config, why = run.skipped[0]
        where = f"{grid.describe(config)}: " if grid.varying else ""
        raise InputError(f"no valid configuration to compare; the first: {where}{why}")
    configs, records = [], []
    for config, record in run.records():
        configs.append(config)
        records.append(record)
    labels = [grid.label(c) for c in configs]
    emit(render_compare(pick_format(fmt), labels, records, [g.flat_row(r) for r in records]))

    seen: dict[str, list[str]] = {}
    for label, record in zip(labels, records):
        for line in record["notes"]:
            seen.setdefault(line, []).append(label)
    for line, where in seen.items():
        note(f"note: {line}" if len(where) == len(labels) else f"note [{', '.join(where)}]: {line}")
    if run.skipped:
        note(g.skipped_note(run.skipped, grid))


def register(app: typer.Typer) -> None:
    app.command("compare")(with_scenario_flags(compare, "grid"))
