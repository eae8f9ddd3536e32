"""``inferwall plan``: the cheapest configurations that serve a demand within latency objectives."""

from __future__ import annotations

from typing import Any, Optional

import typer

from inferwall.planning import NOT_IN_PLAN, SEARCHED

from ..charting import ChartOpt, OutputOpt, chart_option, output_option
from ..flags import CatalogOpt, FormatOpt, catalog_option, format_option
from ._flags import with_estimate_flags

DEMAND = "Demand"
OBJECTIVES = "Objectives"
SEARCH = "Search"


@with_estimate_flags(exclude=SEARCHED + NOT_IN_PLAN)
def plan(
    flags: dict[str, Any],
    output_tokens_per_s: Optional[str] = typer.Option(None, "--output-tokens-per-s", help="Demand: output tokens per second, all users together (e.g. 50k).", rich_help_panel=DEMAND),
    requests_per_s: Optional[str] = typer.Option(None, "--requests-per-s", help="Alias of --request-rate: the demand in requests per second, sized with the queueing model.", rich_help_panel=DEMAND),
    users: Optional[str] = typer.Option(None, "--users", help="Demand: concurrent users (sequences in flight).", rich_help_panel=DEMAND),
    max_ttft: Optional[str] = typer.Option(None, "--max-ttft", help="Objective: time to first token at most this: the mean (2s, 500ms) or percentiles under a request rate (p99=2s, or p50=500ms,p99=2s).", rich_help_panel=OBJECTIVES),
    max_tpot: Optional[str] = typer.Option(None, "--max-tpot", help="Objective: time per output token at most this: the mean (50ms) or percentiles (p90=50ms).", rich_help_panel=OBJECTIVES),
    max_e2e: Optional[str] = typer.Option(None, "--max-e2e", help="Objective under a request rate: end-to-end time per request, the mean or percentiles (p99=30s).", rich_help_panel=OBJECTIVES),
    max_gpus: Optional[str] = typer.Option(None, "--max-gpus", metavar="INTEGER", help="Objective: at most this many GPUs in all.", rich_help_panel=OBJECTIVES),
    gpus_from: Optional[str] = typer.Option(None, "--gpus-from", help="Accelerators to search, comma-separated \\[default: every catalog entry with a price].", rich_help_panel=SEARCH),
    precision: Optional[str] = typer.Option(None, "--precision", "-p", help="Precisions to search, comma-separated (native, bf16, fp8, int4, ...) \\[default: native,fp8; fp8 only for 16-bit models].", rich_help_panel=SEARCH),
    top: str = typer.Option("5", "--top", metavar="INTEGER", help="How many configurations to list.", rich_help_panel=SEARCH),
    pareto: bool = typer.Option(False, "--pareto", help="List the Pareto frontier of per-user speed against cost per token instead.", rich_help_panel=SEARCH),
    disaggregate: bool = typer.Option(False, "--disaggregate", help="Also search disaggregated prefill/decode pools (x prefill and y decode instances of any searched layout) and say which mode wins at the objectives.", rich_help_panel=SEARCH),
    emit: Optional[str] = typer.Option(None, "--emit", metavar="ENGINE", help="Print the launch command of vllm, sglang or trtllm for the cheapest configuration instead of the table (searched with that engine's profile).", rich_help_panel="Output"),
    fmt: FormatOpt = format_option(),
    catalog_files: CatalogOpt = catalog_option(),
    chart: ChartOpt = chart_option(),
    output: OutputOpt = output_option(),
) -> None:
    """Search GPU type x count x tp/pp/ep x precision x batch for the cheapest configurations meeting the SLOs.

    --chart draws per-user tokens/s against $/M output tokens (with --pareto, the frontier).
    """
    from .. import charting

    charting.check_output(output)
    from inferwall.errors import CheckFailed
    from inferwall.errors import InputError
    from inferwall.planning import plan_report
    from inferwall.render.economics import integer, pct, rate, rows_output, secs, text, usd

    from ..common import catalog, note, pick_format
    from ..common import emit as emit_text

    engine = None
    if emit is not None:
        from inferwall.emit import engine_name

        engine = engine_name(emit)
        if chart or output or pareto:
            raise InputError("--emit prints the launch command of the cheapest configuration; it does not combine "
                             "with --chart, --output or --pareto")
        given = flags.get("engine_file") or flags.get("engine")
        if given and str(given).strip().lower() != engine:
            note(f"note: --emit {engine}: searched with the {engine} profile, not {given}, so the flags match the "
                 "limits the plan assumed")
        flags = {**flags, "engine": engine, "engine_file": None}
    cat = catalog(catalog_files)
    report = plan_report(flags, cat, output_tokens_per_s, requests_per_s, users, max_ttft, max_tpot,
                         max_gpus, gpus_from, precision, top, pareto, disaggregate, max_e2e)
    machine = [(k, k, text) for k in report.columns]
    human = [
        ("rank", "#", integer), ("gpu", "gpu", text), ("precision", "precision", text), ("layout", "layout", text),
        ("replicas", "replicas", integer), ("gpus", "GPUs", integer), ("batch", "batch", integer),
        ("ttft_s", "TTFT", secs), ("tpot_s", "TPOT", secs), ("user_tokens_per_s", "tok/s per user", rate),
        ("output_tokens_per_s", "output tok/s", rate), ("utilization", "utilization", pct),
        ("price", "$/GPU-hour", text), ("usd_per_hour", "$/hour", usd),
        ("usd_per_million_output_tokens", "$/M output", usd), ("binds", "binds", text),
    ]
    drop = ("output_tokens_per_s", "utilization", "replicas", "user_tokens_per_s", "binds", "layout", "ttft_s",
            "precision")
    if report.queueing:  # the engine runs what arrives: requests in flight, the percentiles asked for, the load
        slo = report.slo
        ttft_key = next((k for k, _ in slo.percentiles if k.startswith("ttft_p")), "ttft_p99_s")
        tpot_key = next((k for k, _ in slo.percentiles if k.startswith("tpot_p")), "tpot_p90_s")
        human = [col for col in human if col[0] not in ("batch", "utilization")]
        at = [k for k, _, _ in human].index("tpot_s") + 1
        human[at:at] = [(tpot_key, f"TPOT {tpot_key.split('_')[1]}", secs)]
        at = [k for k, _, _ in human].index("ttft_s") + 1
        human[at:at] = [(ttft_key, f"TTFT {ttft_key.split('_')[1]}", secs)]
        human[6:6] = [("batch", "in flight", integer), ("load_utilization", "load", pct)]
        drop = ("output_tokens_per_s", "user_tokens_per_s", "replicas", "ttft_s", "tpot_s", "layout", "precision",
                "binds", "batch")
    if disaggregate:
        human.insert(3, ("mode", "mode", text))
    result, title = report.result, report.title
    if engine is not None and result.configs:
        from inferwall.catalog.profiles import load_engine
        from inferwall.emit import launch, model_name

        best = result.configs[0]
        entry = cat.model(flags["model"]) if flags.get("model") and cat.has_model_name(flags["model"]) else None
        name, placeholder = model_name(entry, best.estimate.scenario)
        text_out = launch(best.estimate, load_engine(engine), name, placeholder, getattr(entry, "native_quant", None))
        emit_text(text_out.text)
        for line in text_out.notes:
            note(f"note: {line}")
    elif not result.configs or not charting.deliver(chart, output, lambda: charting.plan_chart(result, title, pareto)):
        emit_text(rows_output(pick_format(fmt), report.rows, machine, title, table_columns=human, drop=drop))
    for line in report.notes:
        note(line)
    if not result.configs:
        raise CheckFailed(report.summary)
    note(report.summary)


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)
