"""``inferwall estimate``: one configuration, prefill and decode separately."""

from __future__ import annotations

from typing import Any

import typer

from inferwall.render import Format

from ..common import catalog, emit, note, pick_format
from ..flags import CatalogOpt, FormatOpt, catalog_option, format_option, with_scenario_flags


def estimate(scenario: dict[str, Any], fmt: FormatOpt = format_option(),
             catalog_files: CatalogOpt = catalog_option()) -> None:
    """Estimate one configuration: prefill and decode, memory, latency, throughput and cost."""
    from inferwall.core import estimate as run_estimate
    from inferwall.inputs import Options, build
    from inferwall.render import render_record
    from inferwall.render.record import estimate_record

    resolved = build(Options(**scenario), catalog(catalog_files))
    est = run_estimate(resolved.scenario, resolved.compute_explicit)
    notes = tuple(dict.fromkeys(resolved.notes + est.notes))
    record = estimate_record(est, resolved.provenance, notes)
    out_format = pick_format(fmt)
    table = None
    if out_format is Format.table:
        from inferwall.render.table import estimate_table

        table = estimate_table
    emit(render_record(out_format, record, table))
    for line in record["notes"]:
        note(f"note: {line}")


def register(app: typer.Typer) -> None:
    app.command("estimate")(with_scenario_flags(estimate, "estimate"))
