"""``inferwall compare``: several configurations side by side, one column each."""

from __future__ import annotations

from typing import Any

import typer

from ..common import catalog, emit, note, pick_format
from ..flags import OUTPUT, CatalogOpt, FormatOpt, catalog_option, format_option, with_scenario_flags

def compare(scenario: dict[str, Any], fmt: FormatOpt = format_option(), catalog_files: CatalogOpt = catalog_option(),
            skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Leave out configurations that are invalid (e.g. a tp that does not divide the heads) instead of failing; a note counts them.", rich_help_panel=OUTPUT)) -> None:
    """Compare configurations side by side: every estimate flag takes a comma list, and each value is a column.

    Lists in several flags combine (2 GPUs x 2 batches = 4 columns). Ranges work as in sweep (1..8, 1..64:8). The table highlights the rows that differ; tsv, csv and markdown have a key column and one column per configuration (the keys of 'estimate -f tsv'); json is a list of 'estimate -f json' objects.
    """
    from inferwall import grid as g
    from inferwall.render.compare import render_compare

    result = g.compare(scenario, catalog(catalog_files), skip_invalid=skip_invalid)
    emit(render_compare(pick_format(fmt), result.labels, result.records, [g.flat_row(r) for r in result.records]))
    for line in result.notes:
        note(line)


def register(app: typer.Typer) -> None:
    app.command("compare")(with_scenario_flags(compare, "grid"))
