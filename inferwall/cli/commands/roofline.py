"""``inferwall roofline``: where a configuration's prefill and decode sit on one or more GPUs' rooflines."""

from __future__ import annotations

from typing import Any, Optional

import typer

from ..charting import ChartOpt, OutputOpt, chart_option, output_option
from ..flags import CatalogOpt, FormatOpt, catalog_option, format_option, with_scenario_flags

MAX_GPUS = 8
GPU_HELP = ("Accelerator id or alias; a comma list (h100,h200,mi300x) puts several GPUs on one chart "
            "\\[default: h100].")


def roofline(scenario: dict[str, Any], fmt: FormatOpt = format_option(),
             catalog_files: CatalogOpt = catalog_option(), chart: ChartOpt = chart_option(),
             output: OutputOpt = output_option()) -> None:
    """The roofline: each GPU's compute roof and bandwidth slope, its ridge point, and the prefill and decode points.

    Without --chart or --output it prints the numbers, one row per GPU: the ridge point (peak FLOP/s / bandwidth, in FLOPs per byte), the peak and the bandwidth, and for prefill and decode the arithmetic intensity (FLOPs per byte moved) and the achieved FLOP/s per GPU.
    """
    from inferwall.core import estimate as run_estimate
    from inferwall.errors import InputError
    from inferwall.inputs import Options, build
    from inferwall.render.chartdata import roofline_chart, roofline_row, short_gpu
    from inferwall.render.economics import bandwidth, flops, num, rows_output, text

    from .. import charting
    from ..common import catalog, emit, note, pick_format

    charting.check_output(output)
    names = [g.strip() for g in str(scenario.get("gpu") or "").split(",") if g.strip()] or [None]
    if len(names) > MAX_GPUS:
        raise InputError(f"--gpu: {len(names)} GPUs, more than the {MAX_GPUS} one roofline chart shows")
    cat = catalog(catalog_files)
    estimates, notes, seen = [], [], set()
    for name in names:
        resolved = build(Options(**{**scenario, "gpu": name}), cat)
        gpu_id = resolved.scenario.accelerator.id
        if gpu_id in seen:
            continue
        seen.add(gpu_id)
        est = run_estimate(resolved.scenario, resolved.compute_explicit)
        estimates.append(est)
        notes += [n for n in resolved.notes + est.notes if n not in notes]
    rows = [roofline_row(e) for e in estimates]
    title = charting.roofline_title(estimates)
    if not charting.deliver(chart, output, lambda: roofline_chart(rows, title)):
        intensity = lambda v: "-" if v is None else f"{v:,.4g}"  # noqa: E731
        columns = [
            ("gpu", "gpu", text),
            ("ridge_point_flops_per_byte", "ridge FLOPs/byte", num),
            ("peak_flops_per_s", "peak/GPU", flops),
            ("bandwidth_bytes_per_s", "bandwidth/GPU", bandwidth),
            ("prefill_ai", "prefill FLOPs/byte", intensity),
            ("prefill_flops_per_s", "prefill achieved/GPU", flops),
            ("prefill_bound", "prefill bound", text),
            ("decode_ai", "decode FLOPs/byte", intensity),
            ("decode_flops_per_s", "decode achieved/GPU", flops),
            ("decode_bound", "decode bound", text),
        ]
        machine = columns + [(k, k, text) for k in ("model", "compute_dtype", "batch", "mfu", "mbu")]
        emit(rows_output(pick_format(fmt), [r.record() for r in rows], machine, title, table_columns=columns,
                         drop=("bandwidth_bytes_per_s", "peak_flops_per_s", "prefill_flops_per_s",
                               "decode_flops_per_s")))
    for r in rows:
        note(_summary(r, short_gpu(r.gpu)))
    for line in notes:
        note(f"note: {line}")


def _summary(r, name: str) -> str:
    parts = [f"{name}: ridge point {r.ridge_point_flops_per_byte:,.0f} FLOPs/byte"]
    for phase, ai, bound in (("prefill", r.prefill_ai, r.prefill_bound), ("decode", r.decode_ai, r.decode_bound)):
        if ai is None:
            continue
        side = "above" if ai >= r.ridge_point_flops_per_byte else "below"
        parts.append(f"{phase} at {ai:,.0f} FLOPs/byte is {side} it ({bound}-bound)" if ai >= 100 else
                     f"{phase} at {ai:.3g} FLOPs/byte is {side} it ({bound}-bound)")
    return "; ".join(parts) + "."


def _with_gpu_list_help(command: Any) -> Any:
    """The generated --gpu option, with help that says a comma list works here."""
    import inspect

    sig = command.__signature__
    params = []
    for p in sig.parameters.values():
        if p.name == "gpu":
            info = p.default
            option = typer.Option(info.default, *info.param_decls, help=GPU_HELP, rich_help_panel=info.rich_help_panel,
                                  envvar=info.envvar, show_default=False)
            p = p.replace(default=option, annotation=Optional[str] if info.default is None else str)
        params.append(p)
    command.__signature__ = inspect.Signature(params)
    command.__annotations__ = {p.name: p.annotation for p in params}
    return command


def register(app: typer.Typer) -> None:
    app.command("roofline")(_with_gpu_list_help(with_scenario_flags(roofline, "estimate")))
