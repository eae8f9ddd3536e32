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
    """Forward passes per second if FLOP-bound and if bandwidth-bound, and the estimate between them.

    The bounds are per replica (as in 'estimate -f json'), and for every replica together when --dp or --gpus makes several. Decode tokens/s counts decode steps only, so it compares with the bounds; the estimate's output tokens/s also counts the time spent in prefill.
    """
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
        # per replica, as in estimate's bounds section; the fleet's figures are named _all_replicas
        "compute_forward_passes_per_s": r.compute_forward_passes_per_s,
        "memory_forward_passes_per_s": r.memory_forward_passes_per_s,
        "compute_forward_passes_per_s_all_replicas": r.compute_forward_passes_per_s_all_replicas,
        "memory_forward_passes_per_s_all_replicas": r.memory_forward_passes_per_s_all_replicas,
        "compute_forward_passes_per_s_per_gpu": r.compute_forward_passes_per_s_per_gpu,
        "memory_forward_passes_per_s_per_gpu": r.memory_forward_passes_per_s_per_gpu,
        "bounds_ratio": r.bounds_ratio,
        "estimate": {
            "batch": r.batch,
            "replicas": r.replicas,
            "decode_steps_per_s": r.decode_steps_per_s,
            "decode_tokens_per_s": r.decode_tokens_per_s,
            "output_tokens_per_s": r.output_tokens_per_s,
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
    fleet = r.replicas > 1
    items = [
        ("forward passes/s per replica if FLOP-bound", "compute_forward_passes_per_s", num),
        ("forward passes/s per replica if bandwidth-bound", "memory_forward_passes_per_s", num),
        *([(f"forward passes/s, {r.replicas} replicas, if FLOP-bound", "compute_forward_passes_per_s_all_replicas", num),
           (f"forward passes/s, {r.replicas} replicas, if bandwidth-bound", "memory_forward_passes_per_s_all_replicas",
            num)] if fleet else []),
        ("ratio (batch where weight reads stop binding)", "bounds_ratio", num),
        ("batch", "estimate.batch", integer),
        ("decode tokens/s (decode steps only, all GPUs)", "estimate.decode_tokens_per_s", num),
        ("decode steps/s (all GPUs)", "estimate.decode_steps_per_s", num),
        ("output tokens/s with prefill (estimate's throughput)", "estimate.output_tokens_per_s", num),
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
