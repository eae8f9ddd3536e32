"""``inferwall bounds``: the forward-passes-per-second band (FLOP-bound against bandwidth-bound) and where the
calibrated estimate falls in it."""

from __future__ import annotations

from typing import Any

import typer

from ..flags import CatalogOpt, FormatOpt, catalog_option, format_option
from ._flags import with_estimate_flags


@with_estimate_flags()
def bounds(
    flags: dict[str, Any],
    fmt: FormatOpt = format_option(),
    catalog_files: CatalogOpt = catalog_option(),
) -> None:
    """Forward passes per second if FLOP-bound and if bandwidth-bound, and the estimate between them."""
    from inferwall.core.economics import bounds as run_bounds
    from inferwall.inputs import build
    from inferwall.render.economics import integer, num, pct, record_output, text
    from inferwall.render.record import scenario_record

    from ..common import catalog, emit, note, pick_format
    from ._flags import options_from

    resolved = build(options_from(flags), catalog(catalog_files))
    r = run_bounds(resolved.scenario, resolved.compute_explicit)
    est = r.estimate
    record = {
        "scenario": scenario_record(est),
        "compute_forward_passes_per_s": r.compute_forward_passes_per_s,
        "memory_forward_passes_per_s": r.memory_forward_passes_per_s,
        "compute_forward_passes_per_s_per_gpu": r.compute_forward_passes_per_s_per_gpu,
        "memory_forward_passes_per_s_per_gpu": r.memory_forward_passes_per_s_per_gpu,
        "bounds_ratio": r.bounds_ratio,
        "estimate": {
            "batch": r.batch,
            "steps_per_s": r.steps_per_s,
            "tokens_per_s": r.tokens_per_s,
            "fraction_of_compute_bound": r.fraction_of_compute_bound,
            "multiple_of_memory_bound": r.multiple_of_memory_bound,
            "bound": r.bound,
            "utilization": r.utilization,
            "critical_batch": r.critical_batch,
            "max_batch": r.max_batch,
        },
        "summary": r.summary,
        "notes": list(resolved.notes),
    }
    s = est.scenario
    title = f"Bounds: {s.model.id} on {s.parallelism.gpus} x {s.accelerator.id}, weights {s.precision.weights}"
    items = [
        ("forward passes/s if FLOP-bound (all GPUs)", "compute_forward_passes_per_s", num),
        ("forward passes/s if bandwidth-bound (all GPUs)", "memory_forward_passes_per_s", num),
        ("ratio (batch where weight reads stop binding)", "bounds_ratio", num),
        ("batch", "estimate.batch", integer),
        ("estimate: tokens/s", "estimate.tokens_per_s", num),
        ("estimate: decode steps/s", "estimate.steps_per_s", num),
        ("fraction of the FLOP bound", "estimate.fraction_of_compute_bound", pct),
        ("multiple of the bandwidth bound", "estimate.multiple_of_memory_bound", num),
        ("decode bound by", "estimate.bound", text),
        ("batch where compute binds", "estimate.critical_batch", integer),
        ("largest batch that fits", "estimate.max_batch", integer),
    ]
    emit(record_output(pick_format(fmt), record, title, items))
    note(r.summary)
    for line in resolved.notes:
        note(f"note: {line}")


def register(app: typer.Typer) -> None:
    app.command("bounds")(bounds)
