"""``inferwall estimate``: one configuration, prefill and decode separately."""

from __future__ import annotations

from typing import Any, Optional

import typer

from ..charting import ChartOpt, OutputOpt, chart_option, output_option
from ..estimate_run import run_estimate
from ..flags import CatalogOpt, FormatOpt, catalog_option, format_option, with_scenario_flags

EMIT_HELP = ("Print the launch command (or config file) of vllm, sglang or trtllm that realises this configuration "
             "instead of the estimate: parallel sizes, request cap and token budget, memory fraction, KV dtype, "
             "speculative decoding, disaggregated roles (flag names from specs/engines/). Estimated with that engine.")


def estimate(scenario: dict[str, Any], fmt: FormatOpt = format_option(),
             catalog_files: CatalogOpt = catalog_option(), chart: ChartOpt = chart_option(),
             output: OutputOpt = output_option(),
             explain: bool = typer.Option(False, "--explain", help="Print the derivation (formulas with the numbers, "
                                          "sources, what binds and what would move it) to stderr; with --format "
                                          "markdown it is the whole output.", rich_help_panel="Output"),
             emit: Optional[str] = typer.Option(None, "--emit", metavar="ENGINE", help=EMIT_HELP,
                                                rich_help_panel="Output")) -> None:
    """Estimate one configuration: prefill and decode, memory, latency, throughput and cost.

    --chart draws the roofline (prefill and decode on the GPU's roof) instead of the data.
    """
    if emit is not None:
        from inferwall.errors import InputError

        if chart or output or explain or fmt is not None:
            raise InputError("--emit prints a launch command; it does not combine with --chart, --output, --explain "
                             "or --format")
        emit_launch(scenario, emit, catalog_files)
        return
    run_estimate(scenario, fmt, catalog_files, chart=chart, output=output, explain=explain)


def emit_launch(scenario: dict[str, Any], engine_text: str, catalog_files: list[str] | None) -> None:
    """Estimate with the engine to emit for (its limits and memory semantics), then print its launch command."""
    from inferwall.catalog.profiles import load_engine
    from inferwall.core import estimate as run
    from inferwall.emit import engine_name, launch, model_name
    from inferwall.inputs import Options, build

    from ..common import catalog, emit, note

    engine = engine_name(engine_text)
    values = dict(scenario)
    given = values.get("engine_file") or values.get("engine")
    if given and str(given).strip().lower() != engine:
        note(f"note: --emit {engine}: estimated with the {engine} profile, not {given}, so the flags match the limits "
             "and memory semantics the estimate assumed")
    values.update(engine=engine, engine_file=None)
    resolved = build(Options(**values), catalog(catalog_files))
    est = run(resolved.scenario, resolved.compute_explicit)
    name, placeholder = model_name(resolved.model_entry, est.scenario)
    native = getattr(resolved.model_entry, "native_quant", None)
    result = launch(est, load_engine(engine), name, placeholder, native)
    emit(result.text)
    for line in dict.fromkeys(list(resolved.notes) + list(est.notes) + result.notes):
        note(f"note: {line}")
    if not est.memory.fits:
        note("note: the configuration does not fit; the command will fail to start (see estimate's memory section)")


def register(app: typer.Typer) -> None:
    app.command("estimate")(with_scenario_flags(estimate, "estimate"))
