"""``inferwall estimate``: one configuration, prefill and decode separately."""

from __future__ import annotations

from typing import List, Optional

import typer

from inferwall.render import Format

from ..common import catalog, emit, note, pick_format

MODEL = "Model"
HARDWARE = "Hardware"
LAYOUT = "Layout and workload"
PRECISION = "Precision"
EFFICIENCY = "Efficiency and memory"
OUTPUT = "Output"


def estimate(
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Catalog id or alias, a Hugging Face config.json, or an inferwall model YAML.", rich_help_panel=MODEL),
    params: Optional[str] = typer.Option(None, "--params", help="A bare model given by parameter count, e.g. 1.6T or 70B.", rich_help_panel=MODEL),
    active_params: Optional[str] = typer.Option(None, "--active-params", help="Parameters used per token (mixture of experts), e.g. 280B.", rich_help_panel=MODEL),
    layers: Optional[int] = typer.Option(None, "--layers", help="Bare model: layers (with --heads, --kv-heads, --head-dim gives a KV cache).", rich_help_panel=MODEL),
    hidden: Optional[int] = typer.Option(None, "--hidden", help="Bare model: hidden size (sizes tensor-parallel all-reduces).", rich_help_panel=MODEL),
    heads: Optional[int] = typer.Option(None, "--heads", help="Bare model: attention heads.", rich_help_panel=MODEL),
    kv_heads: Optional[int] = typer.Option(None, "--kv-heads", help="Bare model: KV heads (GQA/MQA).", rich_help_panel=MODEL),
    head_dim: Optional[int] = typer.Option(None, "--head-dim", help="Bare model: head dimension.", rich_help_panel=MODEL),
    gpu: Optional[str] = typer.Option(None, "--gpu", "-g", envvar="INFERWALL_GPU", help="Accelerator id or alias [default: h100].", rich_help_panel=HARDWARE),
    flops: Optional[str] = typer.Option(None, "--flops", help="Peak FLOP/s per GPU, any dtype: 989TFLOPS, 3e15.", rich_help_panel=HARDWARE),
    bandwidth: Optional[str] = typer.Option(None, "--bandwidth", help="Memory bandwidth per GPU: 3.35TB/s.", rich_help_panel=HARDWARE),
    memory: Optional[str] = typer.Option(None, "--memory", help="Memory per GPU: 80GB, 80GiB.", rich_help_panel=HARDWARE),
    price: Optional[str] = typer.Option(None, "--price", envvar="INFERWALL_PRICE", help="$ per GPU-hour: 2.5, $2.5/h.", rich_help_panel=HARDWARE),
    link_bandwidth: Optional[str] = typer.Option(None, "--link-bandwidth", help="Scale-up link bandwidth per GPU, one direction: 450GB/s.", rich_help_panel=HARDWARE),
    gpus: Optional[int] = typer.Option(None, "--gpus", "-n", help="Total GPUs [default: tp x pp x dp]. Without --tp one replica spans them all.", rich_help_panel=LAYOUT),
    tp: Optional[int] = typer.Option(None, "--tp", help="Tensor-parallel degree.", rich_help_panel=LAYOUT),
    pp: Optional[int] = typer.Option(None, "--pp", help="Pipeline stages.", rich_help_panel=LAYOUT),
    dp: Optional[int] = typer.Option(None, "--dp", help="Replicas (data parallel).", rich_help_panel=LAYOUT),
    ep: Optional[int] = typer.Option(None, "--ep", help="Expert-parallel degree (divides tp).", rich_help_panel=LAYOUT),
    batch: str = typer.Option("1", "--batch", "-b", help="Concurrent sequences per replica, or 'max' for the largest that fits.", rich_help_panel=LAYOUT),
    input_tokens: int = typer.Option(1024, "--input-tokens", "-i", help="Prompt tokens per request.", rich_help_panel=LAYOUT),
    output_tokens: int = typer.Option(256, "--output-tokens", "-o", help="Generated tokens per request.", rich_help_panel=LAYOUT),
    precision: Optional[str] = typer.Option(None, "--precision", "-p", help="Weights, KV cache and compute together: fp32 bf16 fp16 fp8 int8 int4 fp4 [default: the model's native dtype, 16-bit KV].", rich_help_panel=PRECISION),
    weights: Optional[str] = typer.Option(None, "--weights", help="Weight dtype.", rich_help_panel=PRECISION),
    kv: Optional[str] = typer.Option(None, "--kv", help="KV-cache dtype.", rich_help_panel=PRECISION),
    compute: Optional[str] = typer.Option(None, "--compute", help="Compute dtype; an explicit dtype the GPU lacks is an error.", rich_help_panel=PRECISION),
    ideal: bool = typer.Option(False, "--ideal", help="Pure roofline: every efficiency 1, every overhead 0.", rich_help_panel=EFFICIENCY),
    mfu: Optional[str] = typer.Option(None, "--mfu", help="Achievable fraction of peak FLOP/s: 0.6 or 60%.", rich_help_panel=EFFICIENCY),
    mbu: Optional[str] = typer.Option(None, "--mbu", help="Achievable fraction of memory bandwidth.", rich_help_panel=EFFICIENCY),
    link_efficiency: Optional[str] = typer.Option(None, "--link-efficiency", help="Achievable fraction of link bandwidth in collectives.", rich_help_panel=EFFICIENCY),
    overhead: Optional[str] = typer.Option(None, "--overhead", help="Fixed time per forward pass (launches, scheduling): 2ms, 500us.", rich_help_panel=EFFICIENCY),
    collective_latency: Optional[str] = typer.Option(None, "--collective-latency", help="Latency per collective: 10us.", rich_help_panel=EFFICIENCY),
    reserve: Optional[str] = typer.Option(None, "--reserve", help="Runtime reserve per GPU (CUDA context, graphs, buffers) [default: 1GiB].", rich_help_panel=EFFICIENCY),
    memory_fraction: Optional[str] = typer.Option(None, "--memory-fraction", help="Fraction of GPU memory the engine may use [default: 0.9].", rich_help_panel=EFFICIENCY),
    fmt: Optional[Format] = typer.Option(None, "--format", "-f", envvar="INFERWALL_FORMAT", case_sensitive=False, help="table|json|csv|tsv|markdown|yaml [default: table on a terminal, tsv when piped].", rich_help_panel=OUTPUT),
    catalog_files: Optional[List[str]] = typer.Option(None, "--catalog", help="Extra catalog YAML (repeatable; also INFERWALL_CATALOG).", rich_help_panel=OUTPUT),
) -> None:
    """Estimate one configuration: prefill and decode, memory, latency, throughput and cost."""
    from inferwall.core import estimate as run_estimate
    from inferwall.inputs import Options, build
    from inferwall.render import render_record
    from inferwall.render.record import estimate_record

    opts = Options(model=model, params=params, active_params=active_params, layers=layers, hidden=hidden, heads=heads,
                   kv_heads=kv_heads, head_dim=head_dim, gpu=gpu, flops=flops, bandwidth=bandwidth, memory=memory,
                   price=price, link_bandwidth=link_bandwidth, gpus=gpus, tp=tp, pp=pp, dp=dp, ep=ep, batch=batch,
                   input_tokens=input_tokens, output_tokens=output_tokens, precision=precision, weights=weights, kv=kv,
                   compute=compute, ideal=ideal, mfu=mfu, mbu=mbu, link_efficiency=link_efficiency, overhead=overhead,
                   collective_latency=collective_latency, reserve=reserve, memory_fraction=memory_fraction)
    resolved = build(opts, catalog(catalog_files))
    est = run_estimate(resolved.scenario, resolved.compute_explicit)
    notes = tuple(dict.fromkeys(resolved.notes + est.notes))
    record = estimate_record(est, resolved.provenance, notes)
    out_format = pick_format(fmt)
    table = None
    if out_format is Format.table:
        from inferwall.render.table import estimate_table

        table = estimate_table
    emit(render_record(out_format, record, table))
    for line in notes:
        note(f"note: {line}")


def register(app: typer.Typer) -> None:
    app.command("estimate")(estimate)
