"""``inferwall estimate``: one configuration, prefill and decode separately."""

from __future__ import annotations

from typing import Any

import typer

from ..charting import ChartOpt, OutputOpt, chart_option, output_option
from ..estimate_run import run_estimate
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
    run_estimate(scenario, fmt, catalog_files, chart=chart, output=output, explain=explain)


def register(app: typer.Typer) -> None:
    app.command("estimate")(with_scenario_flags(estimate, "estimate"))
