"""``inferwall trend``: project a configuration N years ahead at the Memory Wall growth rates."""

from __future__ import annotations

from typing import Any, Optional

import typer

from inferwall.fields import LOAD_FIELDS

from ..charting import ChartOpt, OutputOpt, chart_option, output_option
from ..flags import CatalogOpt, FormatOpt, catalog_option, format_option
from ._flags import ECONOMICS, with_estimate_flags


@with_estimate_flags(exclude=LOAD_FIELDS)  # fixed batches: no request rate
def trend(
    flags: dict[str, Any],
    years: int = typer.Option(10, "--years", help="Years to project.", rich_help_panel=ECONOMICS),
    flops_growth: float = typer.Option(3.0, "--flops-growth", help="Peak FLOP/s growth per period (Memory Wall: 3.0x per 2 years).", rich_help_panel=ECONOMICS),
    bandwidth_growth: float = typer.Option(1.6, "--bandwidth-growth", help="DRAM bandwidth growth per period (1.6x per 2 years).", rich_help_panel=ECONOMICS),
    interconnect_growth: float = typer.Option(1.4, "--interconnect-growth", help="Interconnect bandwidth growth per period (1.4x per 2 years).", rich_help_panel=ECONOMICS),
    period: float = typer.Option(2.0, "--period", help="Years per growth period.", rich_help_panel=ECONOMICS),
    fixed_cost_speedup: float = typer.Option(1.0, "--fixed-cost-speedup", help="How many times faster the fixed per-pass costs (overheads, collective latency) get per period \\[default: 1, held at today's values].", rich_help_panel=ECONOMICS),
    start_year: Optional[int] = typer.Option(None, "--start-year", help="Calendar year of year 0 \\[default: the GPU's release year].", rich_help_panel=ECONOMICS),
    from_catalog: bool = typer.Option(False, "--from-catalog", help="Also list the real ops:byte ratio (dense 16-bit FLOP/s / HBM bandwidth) of catalog GPUs by release year.", rich_help_panel=ECONOMICS),
    fmt: FormatOpt = format_option(),
    catalog_files: CatalogOpt = catalog_option(),
    chart: ChartOpt = chart_option(),
    output: OutputOpt = output_option(),
) -> None:
    """Ridge point, critical batch, the roofline's memory/compute ratio, utilization and time per token, year by year.

    The memory/compute ratio (memory time over compute time of a decode step) is the Memory Wall's argument, apart from fixed per-pass costs, which are held at today's values unless --fixed-cost-speedup says otherwise. --chart draws the ridge point and the utilization over the years.
    """
    from .. import charting

    charting.check_output(output)
    from inferwall.core.trend import TrendRates
    from inferwall.core.trend import trend as run_trend
    from inferwall.errors import InputError
    from inferwall.inputs import build
    from inferwall.render.economics import bandwidth, flops, integer, num, pct, rows_output, secs, text

    from ..common import catalog, emit, note, pick_format
    from ._flags import options_from

    from inferwall.core import limits as L
    from inferwall.core.trend import rates_problem

    from ._flags import bounded

    for flag, value in (("--flops-growth", flops_growth), ("--bandwidth-growth", bandwidth_growth),
                        ("--interconnect-growth", interconnect_growth), ("--fixed-cost-speedup", fixed_cost_speedup)):
        bounded(value, flag, L.GROWTH)
    bounded(period, "--period", L.PERIOD_YEARS)
    if not 0 <= years <= 100:
        raise InputError(f"--years: must be between 0 and 100, got {years}")
    bounded(start_year, "--start-year", L.RELEASE_YEAR)
    cat = catalog(catalog_files)
    resolved = build(options_from(flags), cat)
    rates = TrendRates(flops=flops_growth, bandwidth=bandwidth_growth, interconnect=interconnect_growth,
                       period_years=period, fixed_costs=fixed_cost_speedup)
    problem = rates_problem(rates, years)
    if problem:
        raise InputError(problem)
    real = [e.accelerator for e in cat.gpus.values()] if from_catalog else []
    result = run_trend(resolved.scenario, resolved.compute_explicit, years=years, rates=rates,
                       start_year=start_year, catalog=real)
    rows: list[dict[str, Any]] = [{
        "year": r.year, "years_ahead": r.years_ahead, "source": "projection",
        "ridge_flops_per_byte": r.ridge_flops_per_byte, "critical_batch": r.critical_batch, "batch": r.batch,
        "compute_time_s": r.compute_time_s, "memory_time_s": r.memory_time_s,
        "memory_to_compute": r.memory_to_compute, "roofline_bound": r.roofline_bound,
        "utilization": r.utilization, "tpot_s": r.tpot_s, "bound": r.bound,
        "peak_flops_per_gpu": r.peak_flops_per_gpu, "bandwidth_bytes_per_s_per_gpu": r.bandwidth_bytes_per_s_per_gpu,
    } for r in result.rows]
    for p in result.catalog:
        rows.append({"year": p.year, "source": p.gpu, "ridge_flops_per_byte": p.ops_per_byte})
    rows.sort(key=lambda r: (r["year"], r["source"] != "projection"))
    columns = [
        ("year", "year", lambda v: "-" if v is None else str(v)),
        ("years_ahead", "+years", integer),
        ("source", "source", text),
        ("ridge_flops_per_byte", "ridge FLOPs/byte", num),
        ("critical_batch", "critical batch", lambda v: "never" if v is None else f"{v:,}"),
        ("batch", "batch", integer),
        ("compute_time_s", "compute time", secs),
        ("memory_time_s", "memory time", secs),
        ("memory_to_compute", "memory / compute", num),
        ("roofline_bound", "roofline bound", text),
        ("utilization", "utilization", pct),
        ("tpot_s", "time/token", secs),
        ("bound", "bound (all costs)", text),
        ("peak_flops_per_gpu", "peak/GPU", flops),
        ("bandwidth_bytes_per_s_per_gpu", "bandwidth/GPU", bandwidth),
    ]
    s = resolved.scenario
    fixed = ("fixed costs held" if rates.fixed_costs == 1 else f"fixed costs {rates.fixed_costs:g}x faster")
    title = (f"Trend: {s.model.id} on {s.parallelism.gpus} x {s.accelerator.id}, batch {s.workload.batch}; "
             f"FLOP/s {rates.flops:g}x, bandwidth {rates.bandwidth:g}x, links {rates.interconnect:g}x per "
             f"{rates.period_years:g} years, {fixed}")
    if not charting.deliver(chart, output, lambda: charting.trend_chart(result, title, s.workload.batch)):
        emit(rows_output(pick_format(fmt), rows, columns, title,
                         drop=(() if from_catalog else ("source",))  # every row a projection: says nothing
                         + ("bandwidth_bytes_per_s_per_gpu", "peak_flops_per_gpu", "years_ahead", "batch",
                            "compute_time_s", "memory_time_s", "critical_batch", "utilization", "tpot_s")))
    note(result.summary)
    for line in resolved.notes:
        note(f"note: {line}")
    listed = {p.gpu for p in result.catalog}
    for entry in cat.gpus.values():
        if entry.accelerator.id in listed and entry.compute_estimated:
            note(f"note: {entry.estimate_note()}")


def register(app: typer.Typer) -> None:
    app.command("trend")(trend)
