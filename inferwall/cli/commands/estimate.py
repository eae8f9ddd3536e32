"""``inferwall estimate``: one configuration, prefill and decode separately."""

from __future__ import annotations

from typing import Any

import typer

from inferwall.render import Format

from .. import charting
from ..charting import ChartOpt, OutputOpt, chart_option, output_option
from ..common import catalog, emit, note, pick_format
from ..flags import CatalogOpt, FormatOpt, catalog_option, format_option, with_scenario_flags


def estimate(scenario: dict[str, Any], fmt: FormatOpt = format_option(),
             catalog_files: CatalogOpt = catalog_option(), chart: ChartOpt = chart_option(),
             output: OutputOpt = output_option(),
             explain: bool = typer.Option(False, "--explain", help="Print the derivation (formulas with the numbers, "
                                          "sources, what binds and what would move it) to stderr; with --format "
                                          "markdown it is the whole output.", rich_help_panel="Output")) -> None:
    """Estimate one configuration: prefill and decode, memory, latency, throughput and cost.

    --chart draws the roofline (prefill and decode on the GPU's roof) instead of the data.
    """
    charting.check_output(output)
    from inferwall.core import estimate as run_estimate
    from inferwall.inputs import Options, build
    from inferwall.render import render_record
    from inferwall.render.record import estimate_record

    resolved = build(Options(**scenario), catalog(catalog_files))
    est = run_estimate(resolved.scenario, resolved.compute_explicit)
    notes = tuple(dict.fromkeys(resolved.notes + est.notes))
    record = estimate_record(est, resolved.provenance, notes)
    derivation = None
    if explain:
        from inferwall.core.economics import bound_shift
        from inferwall.render.explain import explain_markdown

        cited = {"model": resolved.model_entry.sources if resolved.model_entry else (),
                 "gpu": resolved.gpu_entry.sources if resolved.gpu_entry else ()}
        derivation = explain_markdown(est, record, bound_shift(resolved.scenario, resolved.compute_explicit), cited)
    if derivation is not None and fmt is Format.markdown and not chart:
        emit(derivation)  # the derivation is the requested document
        charting.deliver(False, output, lambda: charting.estimate_chart(est))
    elif not charting.deliver(chart, output, lambda: charting.estimate_chart(est)):
        out_format = pick_format(fmt)
        table = None
        if out_format is Format.table:
            from inferwall.render.table import estimate_table

            table = estimate_table
        emit(render_record(out_format, record, table))
    if derivation is not None and not (fmt is Format.markdown and not chart):
        note(derivation)
    for line in record["notes"]:
        note(f"note: {line}")


def register(app: typer.Typer) -> None:
    app.command("estimate")(with_scenario_flags(estimate, "estimate"))
