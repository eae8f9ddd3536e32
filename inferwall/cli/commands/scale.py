"""``inferwall scale``: the economies-of-scale table of one configuration across batch sizes."""

from __future__ import annotations

from typing import Any, Optional

import typer

from ..charting import ChartOpt, OutputOpt, chart_option, output_option
from ..flags import CatalogOpt, FormatOpt, catalog_option, format_option
from ._flags import ECONOMICS, with_estimate_flags


@with_estimate_flags(exclude=("batch", "request_rate"))
def scale(
    flags: dict[str, Any],
    batch: Optional[str] = typer.Option(None, "--batch", "-b", help="Batch sizes to show, e.g. 1,10,100 \\[default: 1, 2, 5, 10, ... up to the largest batch that fits].", rich_help_panel=ECONOMICS),
    request_rate: Optional[str] = typer.Option(None, "--request-rate", "-r", help="Request rates to show instead of batches (requests/s, all replicas): a list or range, 1..64 (doubling), 2..20:2. Each row is the engine under that rate: percentiles of TTFT, TPOT and end-to-end latency; --chart draws them against the rate.", rich_help_panel=ECONOMICS),
    minutes_per_user_day: float = typer.Option(10.0, "--minutes-per-user-day", help="Minutes a day each user spends generating, for the user base: concurrent x 1440 / minutes.", rich_help_panel=ECONOMICS),
    target_utilization: Optional[str] = typer.Option(None, "--target-utilization", help="Solve for the batch that reaches this utilization (0.5 or 50%) and the user base it implies.", rich_help_panel=ECONOMICS),
    per_user_tokens_per_s: Optional[float] = typer.Option(None, "--per-user-tokens-per-s", help="Interactivity floor: mark the batches at which each user streams slower than this.", rich_help_panel=ECONOMICS),
    idle_power: Optional[str] = typer.Option(None, "--idle-power", help="Power an idle GPU draws, as a fraction of TDP, for J/token \\[default: 0.3].", rich_help_panel=ECONOMICS),
    fmt: FormatOpt = format_option(),
    catalog_files: CatalogOpt = catalog_option(),
    chart: ChartOpt = chart_option(),
    output: OutputOpt = output_option(),
) -> None:
    """Economies of scale: step time, utilization, throughput, $/M tokens, J/token and user base per batch.

    --chart draws utilization, time per token and $/M tokens against the batch, with the FLOP and bandwidth bounds.
    With --request-rate the rows are request rates: latency percentiles under load, and the saturation rate.
    """
    from .. import charting

    charting.check_output(output)
    if request_rate is not None:  # issue 12: latency percentiles against the request rate
        return _scale_rates(flags, request_rate, batch, target_utilization, per_user_tokens_per_s,
                            minutes_per_user_day, fmt, catalog_files, chart, output)
    from inferwall.core.economics import scale as run_scale
    from inferwall.core.energy import IDLE_POWER_FRACTION
    from inferwall.inputs import build
    from inferwall.render.economics import (boolean, integer, joules, pct, rate, rows_output, secs, text, usd,
                                            users)

    from ..common import catalog, emit, note, pick_format
    from ._flags import fraction, int_list, options_from

    from inferwall.core import limits as L

    from ._flags import bounded

    batches = int_list(batch, "--batch", limit=L.BATCH)
    target = fraction(target_utilization, "--target-utilization")
    idle = IDLE_POWER_FRACTION if idle_power is None else _idle(idle_power)
    bounded(minutes_per_user_day, "--minutes-per-user-day", L.MINUTES_PER_DAY)
    if per_user_tokens_per_s is not None and not per_user_tokens_per_s > 0:
        from inferwall.errors import InputError

        raise InputError(f"--per-user-tokens-per-s: must be > 0, got {per_user_tokens_per_s:g}")
    bounded(per_user_tokens_per_s, "--per-user-tokens-per-s", L.TOKENS_PER_S)
    resolved = build(options_from(flags), catalog(catalog_files))
    result = run_scale(resolved.scenario, resolved.compute_explicit, batches=batches or None,
                       minutes_per_user_day=minutes_per_user_day, target_utilization=target,
                       min_user_tokens_per_s=per_user_tokens_per_s, idle_power_fraction=idle)
    rows = [{
        "batch": r.batch, "concurrent_users": r.concurrent_users, "user_base": r.user_base,
        "step_time_s": r.step_time_s, "user_tokens_per_s": r.user_tokens_per_s, "ttft_s": r.ttft_s,
        "utilization": r.utilization, "bandwidth_utilization": r.bandwidth_utilization, "bound": r.bound,
        "output_tokens_per_s": r.output_tokens_per_s, "usd_per_million_output_tokens": r.usd_per_million_output_tokens,
        "joules_per_output_token": r.joules_per_output_token, "fits": r.fits, "marks": "; ".join(r.marks),
    } for r in result.rows]
    users_header = f"users at {minutes_per_user_day:g} min/day"
    columns = [
        ("batch", "batch", integer),
        ("concurrent_users", "concurrent", integer),
        ("user_base", users_header, users),
        ("step_time_s", "step = user's time/token", secs),
        ("user_tokens_per_s", "tok/s per user", rate),
        ("ttft_s", "TTFT", secs),
        ("utilization", "utilization", pct),
        ("bandwidth_utilization", "bandwidth util", pct),
        ("bound", "bound", text),
        ("output_tokens_per_s", "output tok/s", rate),
        ("usd_per_million_output_tokens", "$/M output", usd),
        ("joules_per_output_token", "J/token", joules),
        ("fits", "fits", boolean),
        ("marks", "", text),
    ]
    s = resolved.scenario
    title = (f"Economies of scale: {s.model.id} on {s.parallelism.gpus} x {s.accelerator.id} "
             f"(tp={s.parallelism.tp} pp={s.parallelism.pp} dp={s.parallelism.dp})")
    if not charting.deliver(chart, output, lambda: charting.scale_chart(resolved, result, title)):
        emit(rows_output(pick_format(fmt), rows, columns, title,
                         drop=("concurrent_users", "bandwidth_utilization", "joules_per_output_token", "ttft_s",
                               "user_base", "fits")))
    note(result.summary)
    for line in dict.fromkeys(resolved.notes + result.notes + _cost_notes(result)):
        note(f"note: {line}")


def _scale_rates(flags: dict[str, Any], request_rate: str, batch: str | None, target_utilization: str | None,
                 per_user_tokens_per_s: float | None, minutes_per_user_day: float, fmt, catalog_files, chart: bool,
                 output: str | None) -> None:
    """``scale --request-rate``: one row per rate, each the estimate under that rate (``core/load.py``)."""
    from dataclasses import replace

    from inferwall.arrivals import parse_request_rate
    from inferwall.core import estimate
    from inferwall.core.economics import user_base
    from inferwall.errors import InputError
    from inferwall.grid import expand
    from inferwall.inputs import build
    from inferwall.render.chartdata import LoadPoint, load_chart, short_gpu
    from inferwall.render.economics import integer, num, pct, rate, rows_output, secs, text, usd, users
    from inferwall.units import number

    from .. import charting
    from ..common import catalog, emit, note, pick_format
    from ._flags import options_from

    for flag, value in (("--batch", batch), ("--target-utilization", target_utilization)):
        if value is not None:
            raise InputError(f"{flag} goes with batches; with --request-rate the requests in flight follow from the "
                             "rate (give one or the other)")
    if per_user_tokens_per_s is not None and not per_user_tokens_per_s > 0:
        raise InputError(f"--per-user-tokens-per-s: must be > 0, got {per_user_tokens_per_s:g}")
    rates = sorted({parse_request_rate(item, "--request-rate") for item in expand(request_rate, "--request-rate")})
    resolved = build(options_from(flags, request_rate=str(rates[0])), catalog(catalog_files))
    s, spec = resolved.scenario, resolved.scenario.load
    estimates = [estimate(replace(s, load=replace(spec, arrivals=spec.arrivals.at_rate(r))), resolved.compute_explicit)
                 for r in rates]
    rows = []
    for r, est in zip(rates, estimates):
        load, lat = est.load, est.latency
        concurrent = load.concurrency_per_replica * load.replicas
        marks = []
        if load.saturated:
            marks.append("saturated: the queue grows without bound")
        elif per_user_tokens_per_s is not None and load.tpot is not None and 1 / load.tpot.p50 < per_user_tokens_per_s:
            marks.append(f"below {per_user_tokens_per_s:g} tok/s per user (TPOT p50)")
        row = {"request_rate": r, "utilization": load.utilization, "concurrent_users": concurrent,
               "user_base": user_base(concurrent, minutes_per_user_day), "queued": load.queued_per_replica,
               "ttft_s": lat.ttft_s, "tpot_s": lat.tpot_s, "e2e_s": lat.e2e_s}
        for name in ("ttft", "tpot", "e2e"):
            pct_ = getattr(load, name)
            for q in ("p50", "p90", "p99"):
                row[f"{name}_{q}_s"] = getattr(pct_, q) if pct_ is not None else None
        row.update(output_tokens_per_s=est.throughput.output_tokens_per_s,
                   usd_per_million_output_tokens=est.cost.usd_per_million_output_tokens, saturated=load.saturated,
                   marks="; ".join(marks))
        rows.append(row)
    machine = [(k, k, text) for k in rows[0]]
    human = [
        ("request_rate", "req/s", rate), ("utilization", "load", pct), ("concurrent_users", "in flight", num),
        ("user_base", f"users at {minutes_per_user_day:g} min/day", users),
        ("ttft_p50_s", "TTFT p50", secs), ("ttft_p90_s", "TTFT p90", secs), ("ttft_p99_s", "TTFT p99", secs),
        ("tpot_p50_s", "TPOT p50", secs), ("tpot_p99_s", "TPOT p99", secs), ("e2e_p99_s", "E2E p99", secs),
        ("output_tokens_per_s", "output tok/s", rate), ("usd_per_million_output_tokens", "$/M output", usd),
        ("marks", "", text),
    ]
    del integer
    load0 = estimates[0].load
    sat = load0.saturation_request_rate
    par = s.parallelism
    title = (f"Latency under load: {s.model.id} on {par.gpus} x {s.accelerator.id} (tp={par.tp} pp={par.pp} "
             f"dp={par.dp}), {load0.arrival} arrivals, {load0.input_lengths} in / {load0.output_lengths} out")
    points = [LoadPoint(r["request_rate"], (r["ttft_p50_s"], r["ttft_p90_s"], r["ttft_p99_s"]),
                        (r["tpot_p50_s"], r["tpot_p90_s"], r["tpot_p99_s"]),
                        (r["e2e_p50_s"], r["e2e_p90_s"], r["e2e_p99_s"])) for r in rows]
    chart_title = (f"Latency percentiles against the request rate: {s.model.id} on {par.gpus} x "
                   f"{short_gpu(s.accelerator.id)}, {load0.arrival} arrivals")
    if not charting.deliver(chart, output, lambda: load_chart(points, sat, chart_title)):
        emit(rows_output(pick_format(fmt), rows, machine, title, table_columns=human,
                         drop=("user_base", "ttft_p90_s", "tpot_p99_s", "concurrent_users", "e2e_p99_s",
                               "output_tokens_per_s")))
    under = [r for r in rows if not r["saturated"]]
    summary = (f"saturates at {number(sat)} req/s ({load0.limited_by.replace('_', ' ')}): from there the queue grows "
               "without bound")
    if under:
        last = under[-1]
        summary += (f"; at {number(last['request_rate'])} req/s ({pct(last['utilization'])} of it) TTFT p99 is "
                    f"{secs(last['ttft_p99_s'])} and TPOT p99 {secs(last['tpot_p99_s'])}")
    note(summary)
    notes = [n for e in estimates for n in e.notes if not n.startswith("the queue grows without bound")]
    for line in dict.fromkeys(resolved.notes + tuple(notes)):
        note(f"note: {line}")


def _idle(text: str) -> float:
    from inferwall.errors import InputError

    try:
        value = float(str(text).strip().rstrip("%")) / (100 if str(text).strip().endswith("%") else 1)
    except ValueError:
        raise InputError(f"--idle-power: cannot parse {text!r} as a fraction of TDP (e.g. 0.3 or 30%)") from None
    if not 0 <= value <= 1:
        raise InputError(f"--idle-power: must be between 0 and 1, got {text!r}")
    from inferwall.core.limits import Limit

    from ._flags import bounded

    return bounded(value, "--idle-power", Limit(0, 1, "", "all of the TDP"))


def _cost_notes(result) -> tuple[str, ...]:
    if result.rows and result.rows[0].usd_per_million_output_tokens is None:
        return ("no price for this GPU: give --price to get $/M tokens",)
    return ()


def register(app: typer.Typer) -> None:
    app.command("scale")(scale)
