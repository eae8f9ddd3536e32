"""``inferwall gpus`` and ``inferwall models``: list the catalog."""

from __future__ import annotations

from typing import List, Optional

import typer

from inferwall.render import Format

from ..common import catalog, emit, note, pick_format

GPU_COLUMNS = ["id", "name", "vendor", "architecture", "year", "memory_gib", "bandwidth_tb_s", "bf16_tflops",
               "fp8_tflops", "fp4_tflops", "peak_estimated", "scale_up_kind", "scale_up_gb_s", "scale_up_domain",
               "tdp_w", "usd_per_hour", "price_provider", "price_as_of", "price_verified", "aliases"]
MODEL_COLUMNS = ["id", "name", "params_b", "active_params_b", "layers", "hidden", "heads", "kv_heads", "attention",
                 "moe", "window", "max_context", "native_dtype", "aliases"]


def _matches(text: str | None, *fields: object) -> bool:
    if not text:
        return True
    hay = " ".join(str(f) for f in fields if f is not None).lower()
    return all(word in hay for word in text.lower().split())


def gpus(
    filter_text: Optional[str] = typer.Argument(None, metavar="[FILTER]", help="Only entries whose id, name, vendor or aliases contain these words."),
    fmt: Optional[Format] = typer.Option(None, "--format", "-f", envvar="INFERWALL_FORMAT", case_sensitive=False, help="table|json|csv|tsv|markdown|yaml."),
    catalog_files: Optional[List[str]] = typer.Option(None, "--catalog", help="Extra catalog YAML (repeatable)."),
) -> None:
    """List accelerators: dense peak FLOP/s, memory, bandwidth, links and default price."""
    from inferwall.render import render_rows

    rows = []
    estimated = []
    for e in catalog(catalog_files).gpus.values():
        a = e.accelerator
        if not _matches(filter_text, a.id, a.name, a.vendor, e.kind, *e.aliases):
            continue
        tf = lambda k: round(a.peak_flops[k] / 1e12, 3) if k in a.peak_flops else None  # noqa: E731
        priced = a.price_usd_per_hour is not None
        rows.append({
            "id": a.id, "name": a.name, "vendor": a.vendor, "architecture": a.architecture or None,
            "year": a.release_year, "memory_gib": round(a.memory_bytes / 2**30, 2),
            "bandwidth_tb_s": a.bandwidth_bytes_per_s / 1e12,
            "bf16_tflops": tf("bf16") or tf("fp16"), "fp8_tflops": tf("fp8"), "fp4_tflops": tf("fp4"),
            "peak_estimated": e.compute_estimated, "scale_up_kind": e.scale_up_kind or None,
            "scale_up_gb_s": a.scale_up_bytes_per_s / 1e9 if a.scale_up_bytes_per_s else None,
            "scale_up_domain": a.scale_up_domain, "tdp_w": a.tdp_w, "usd_per_hour": a.price_usd_per_hour,
            "price_provider": " ".join(x for x in (e.price_provider, e.price_basis) if x) or None if priced else None,
            "price_as_of": e.price_as_of if priced else None,
            "price_verified": bool(e.price_verified) if priced else None,
            "aliases": ",".join(e.aliases),
        })
        if e.compute_estimated:
            estimated.append(a.id)
    emit(render_rows(pick_format(fmt), rows, GPU_COLUMNS, "Accelerators (dense peak, FP32 accumulate)"))
    if estimated:
        note(f"note: the peaks of {', '.join(estimated)} are estimates (GPU cores x clock x FLOPs per core per cycle; "
             "the vendor publishes none); each entry's compute_derivation shows the arithmetic")
    if any(r["price_verified"] is False for r in rows):
        note("note: price_verified false marks a placeholder (recalled or from a low-quality source): "
             "pass --price for costs you rely on")


def models(
    filter_text: Optional[str] = typer.Argument(None, metavar="[FILTER]", help="Only entries whose id, name or aliases contain these words."),
    fmt: Optional[Format] = typer.Option(None, "--format", "-f", envvar="INFERWALL_FORMAT", case_sensitive=False, help="table|json|csv|tsv|markdown|yaml."),
    catalog_files: Optional[List[str]] = typer.Option(None, "--catalog", help="Extra catalog YAML (repeatable)."),
) -> None:
    """List models: parameters, shape, attention type, experts."""
    from inferwall.core import architecture as arch
    from inferwall.render import render_rows

    rows = []
    for e in catalog(catalog_files).models.values():
        m = e.model
        if not _matches(filter_text, m.id, m.name, e.hf_id, *e.aliases):
            continue
        attention = "mla" if m.mla else ("-" if not m.has_attention else
                                         "mha" if m.num_kv_heads == m.num_heads else "mqa" if m.num_kv_heads == 1 else "gqa")
        rows.append({
            "id": m.id, "name": m.name, "params_b": round(arch.total_params(m) / 1e9, 3),
            "active_params_b": round(arch.active_params(m) / 1e9, 3), "layers": m.num_layers or None,
            "hidden": m.hidden_size or None, "heads": m.num_heads or None, "kv_heads": m.num_kv_heads or None,
            "attention": ("encoder " if m.encoder else "") + attention,
            "moe": f"{m.moe.experts_per_token}/{m.moe.num_experts}" + (f"+{m.moe.shared_experts}s" if m.moe.shared_experts else "") if m.moe else "",
            "window": f"{m.window}x{m.window_layers}" if m.window else "", "max_context": e.max_context,
            "native_dtype": m.native_dtype, "aliases": ",".join(e.aliases),
        })
    emit(render_rows(pick_format(fmt), rows, MODEL_COLUMNS, "Models"))


def register(app: typer.Typer) -> None:
    app.command("gpus")(gpus)
    app.command("models")(models)
