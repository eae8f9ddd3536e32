"""``inferwall implied``: what a market price per million tokens implies about GPU utilization."""

from __future__ import annotations

from typing import Any

import typer

from inferwall.fields import LOAD_FIELDS

from ..flags import CatalogOpt, FormatOpt, catalog_option, format_option
from ._flags import ECONOMICS, with_estimate_flags


@with_estimate_flags(exclude=("batch", *LOAD_FIELDS))  # it searches the batch
def implied(
    flags: dict[str, Any],
    usd_per_million_tokens: str = typer.Option(..., "--usd-per-million-tokens", help="The market price, $ per million output tokens: 4.9 or $4.9.", rich_help_panel=ECONOMICS),
    fmt: FormatOpt = format_option(),
    catalog_files: CatalogOpt = catalog_option(),
) -> None:
    """Implied tokens/s per GPU, fraction of the FLOP bound and batch needed, from a price per million tokens."""
    from inferwall.core.economics import implied as run_implied
    from inferwall.inputs import build
    from inferwall.render.economics import boolean, integer, num, pct, rate, record_output, secs, usd
    from inferwall.render.record import scenario_record

    from ..common import catalog, emit, note, pick_format
    from ._flags import dollars, options_from

    market = dollars(usd_per_million_tokens, "--usd-per-million-tokens")
    resolved = build(options_from(flags), catalog(catalog_files))
    r = run_implied(resolved.scenario, market, resolved.compute_explicit)
    record = {
        "scenario": scenario_record(r.estimate),
        "usd_per_million_tokens": r.usd_per_million_tokens,
        "usd_per_gpu_hour": r.usd_per_gpu_hour,
        "gpus": r.gpus,
        "tokens_per_s_per_gpu": r.tokens_per_s_per_gpu,
        "tokens_per_s": r.tokens_per_s,
        "compute_bound_tokens_per_s_per_gpu": r.compute_bound_tokens_per_s_per_gpu,
        "memory_bound_tokens_per_s_per_gpu": r.memory_bound_tokens_per_s_per_gpu,
        "fraction_of_compute_bound": r.fraction_of_compute_bound,
        "multiple_of_memory_bound": r.multiple_of_memory_bound,
        "batch_needed": r.batch_needed,
        "batch_fits": r.batch_fits,
        "max_batch": r.max_batch,
        "utilization_at_batch": r.utilization_at_batch,
        "tpot_s_at_batch": r.tpot_s_at_batch,
        "summary": r.summary,
        "notes": list(resolved.notes),
    }
    s = r.estimate.scenario
    title = (f"Implied by ${r.usd_per_million_tokens:g}/M tokens: {s.model.id} on {r.gpus} x {s.accelerator.id} "
             f"at ${r.usd_per_gpu_hour:g}/GPU-hour")
    items = [
        ("implied tokens/s per GPU", "tokens_per_s_per_gpu", rate),
        ("implied tokens/s (all GPUs)", "tokens_per_s", rate),
        ("FLOP bound, tokens/s per GPU", "compute_bound_tokens_per_s_per_gpu", num),
        ("bandwidth bound, tokens/s per GPU", "memory_bound_tokens_per_s_per_gpu", num),
        ("fraction of the FLOP bound", "fraction_of_compute_bound", pct),
        ("multiple of the bandwidth bound", "multiple_of_memory_bound", num),
        ("batch needed per replica (estimate)", "batch_needed", integer),
        ("fits in memory", "batch_fits", boolean),
        ("utilization at that batch", "utilization_at_batch", pct),
        ("time per token at that batch", "tpot_s_at_batch", secs),
        ("$ per GPU-hour", "usd_per_gpu_hour", usd),
    ]
    emit(record_output(pick_format(fmt), record, title, items))
    note(r.summary)
    for line in resolved.notes:
        note(f"note: {line}")


def register(app: typer.Typer) -> None:
    app.command("implied")(implied)
