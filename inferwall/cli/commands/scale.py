"""``inferwall scale``: the economies-of-scale table of one configuration across batch sizes."""

from __future__ import annotations

from typing import Any, Optional

import typer

from ..charting import ChartOpt, OutputOpt, chart_option, output_option
from ..flags import CatalogOpt, FormatOpt, catalog_option, format_option
from ._flags import ECONOMICS, with_estimate_flags


@with_estimate_flags(exclude=("batch",))
def scale(
    flags: dict[str, Any],
    batch: Optional[str] = typer.Option(None, "--batch", "-b", help="Batch sizes to show, e.g. 1,10,100 \\[default: 1, 2, 5, 10, ... up to the largest batch that fits].", rich_help_panel=ECONOMICS),
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
    """
    from .. import charting

    charting.check_output(output)
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
