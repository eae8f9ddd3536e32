"""``--explain``: the derivation of an estimate, with the actual numbers substituted.

Every number printed here is read from the ``Estimate`` (and its ``PhaseCost``s) that the core returned, or
from the scenario it was computed from; nothing is recomputed by a second formula. Markdown, so it reads
as plain text on stderr and renders in a CI summary.
"""

from __future__ import annotations

import math
from typing import Any

from inferwall.core import Estimate, PhaseCost
from inferwall.core.dtypes import nbytes, peak_flops
from inferwall.core.economics import BoundShift
from inferwall.units import binary_bytes, count, number, plural, seconds, si


def _e(x: float) -> str:
    if not math.isfinite(x):
        return "-"  # never "inf" or "nan": the record's notes say what overflowed
    return f"{x:.3g}" if 1e-3 <= abs(x) < 1e4 or x == 0 else f"{x:.3e}"


def _pct(x: float) -> str:
    return f"{x * 100:.3g}%" if math.isfinite(x) else "-"


def _usd(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "-"
    return f"${x:,.2f}" if x >= 1 else f"${x:.4g}"


def _phase_lines(name: str, p: PhaseCost, est: Estimate) -> list[str]:
    """The kernel classes of a phase, each with its work, the efficiency it ran at and its time."""
    s = est.scenario
    acc, eff, prec = s.accelerator, s.efficiency, s.precision
    peak = peak_flops(acc, prec.compute) or 0.0
    k, f = p.kernel_times, p.fixed_costs
    passes = "" if p.passes == 1 else f" over {_e(p.passes)} passes"
    attn_dtype = "fp8" if prec.kv == "fp8" and dict(eff.attention).get("fp8") else prec.activations
    lines = [
        f"- work{passes}: {_e(p.flops_per_gpu)} FLOPs and {_e(p.bytes_per_gpu)} B per GPU per pass (weights "
        f"{si(p.weight_bytes, 'B')}, KV {si(p.kv_bytes, 'B')}, activations {si(p.activation_bytes, 'B')} over the replica)",
        f"- roofline: compute time = FLOPs per GPU / (peak × efficiency) = **{seconds(p.compute_time_s)}**; memory "
        f"time = bytes per GPU / (bandwidth × efficiency) = {_e(p.bytes_per_gpu)} B / ({_e(acc.bandwidth_bytes_per_s)} "
        f"B/s × {eff.mbu:g}) = **{seconds(p.memory_time_s)}** (KV reads at {eff.decode_attention:g} in decode)",
        f"- GEMMs (projections, dense FFN, LM head) = Σ max(FLOPs / ({_e(peak)} FLOP/s × {eff.gemm_for(prec.compute):g}), "
        f"bytes / ({si(acc.bandwidth_bytes_per_s, 'B/s')} × {eff.mbu:g})) = **{seconds(k.gemm_s)}** (the {prec.compute} "
        f"GEMM efficiency; tokens padded to {eff.gemm_tile_m}-row tiles)",
        f"- attention = max(score FLOPs at {eff.attention_for(attn_dtype):g} of the {attn_dtype} peak (× S/(S + "
        f"{eff.attention_half_length:g}) in prefill), KV reads at {eff.decode_attention:g} of bandwidth in decode) = "
        f"**{seconds(k.attention_s)}**",
    ]
    if k.moe_s:
        lines.append(f"- routed experts (grouped GEMMs at {eff.moe_grouped:g} × the GEMM efficiency, tokens per expert "
                     f"padded to {eff.moe_tile_m}) = **{seconds(k.moe_s)}**")
    if p.collectives_per_pass:
        lines.append(f"- collectives: {p.collectives_per_pass} per pass, message / (link × {eff.link_efficiency:g}) = "
                     f"**{seconds(k.collectives_s)}**, plus their latency below")
    lines.append(f"- fixed costs = host {seconds(f.host_s)} + kernel floors {seconds(f.kernel_floor_s)} ("
                 f"{eff.kernels_per_layer:g} kernels × {s.model.num_layers} layers × {seconds(eff.kernel_floor_s)}) + "
                 f"collective latency {seconds(f.collective_latency_s)} = **{seconds(k.fixed_s)}**")
    terms = {"compute": p.compute_time_s, "memory": p.memory_time_s, "communication": p.comm_time_s,
             "overhead": p.overhead_time_s}
    lines.append(f"- {name} time = GEMMs + attention + experts + collectives + fixed = **{seconds(p.time_s)}**; "
                 f"**{p.bound}** binds (compute-bound kernels, memory-bound kernels, communication and fixed costs "
                 f"compared; the pure roofline terms are compute {seconds(terms['compute'])}, memory "
                 f"{seconds(terms['memory'])})")
    lines.append(f"- utilization = FLOPs / (time × GPUs per replica × peak) = {_e(p.flops)} / ({seconds(p.time_s)} × "
                 f"{s.parallelism.gpus_per_replica} × {_e(peak)}) = **{_pct(p.utilization)}**; bandwidth "
                 f"utilization **{_pct(p.bandwidth_utilization)}**; arithmetic intensity "
                 f"{_e(p.arithmetic_intensity)} FLOP/B")
    return lines


def _serving_lines(est: Estimate) -> list[str]:
    sv = est.serving
    if sv is None:
        return []
    s = est.scenario
    eng = s.engine
    if sv.batching == "static":
        return ["", "## Batching: static", "",
                f"- the batch of {sv.running} is prefilled at once, then decoded in lock step (engine {eng.id})"]
    out = ["", f"## Batching: continuous (in-flight), engine {eng.id} {eng.version}".rstrip(), "",
           f"- {sv.running} requests run per replica, {sv.waiting} wait: the {sv.limited_by} caps them "
           f"(request cap {eng.max_running_requests}, token budget {eng.max_tokens_per_iteration}, "
           f"chunked prefill {'on' if eng.chunked_prefill else 'off'})",
           f"- a request runs I = max(k + T − 1, N(S + T − 1)/budget) = **{sv.iterations_per_request:.4g}** iterations, "
           f"{sv.prefill_iterations:.4g} of them prefilling; {sv.mixed_iteration_share * 100:.3g}% of iterations carry "
           f"{sv.prefill_tokens_per_iteration:,.0f} prompt tokens beside {sv.decode_requests_per_iteration:,.1f} decodes",
           f"- a cycle (every running request completes once) takes **{seconds(sv.cycle_time_s)}**: "
           f"{seconds(sv.prefill_busy_s)} attributed to prompt tokens, {seconds(sv.decode_busy_s)} to decode",
           f"- TTFT = wait for a slot {seconds(sv.queue_wait_s)} + the request's prefill iterations; TPOT = the mean "
           "iteration it decodes in (other requests' prompt chunks included)"]
    if sv.total_time_s is not None:
        out.append(f"- a run of {sv.num_requests} requests takes **{seconds(sv.total_time_s)}** (steady state while "
                   "requests wait, then the last ones drain)")
    return out


def explain_markdown(est: Estimate, record: dict[str, Any], shift: BoundShift | None,
                     cited: dict[str, tuple[str, ...]] | None = None) -> str:
    """``cited`` maps "model" and "gpu" to the sources their catalog entries cite."""
    s = est.scenario
    m, acc, par, w, prec = s.model, s.accelerator, s.parallelism, s.workload, s.precision
    src = record.get("sources", {})
    out = [f"# How inferwall estimated {m.id} on {par.gpus} × {acc.id}", "", "## Inputs and where they came from", ""]
    out.append(f"- model **{m.id}**: {count(est.params)} parameters, {count(est.active_params)} active per token — "
               f"{src.get('model', 'flags')}")
    peak = peak_flops(acc, prec.compute) or 0.0
    out.append(f"- accelerator **{acc.id}**: {_e(peak)} FLOP/s dense {prec.compute}, {si(acc.bandwidth_bytes_per_s, 'B/s')} "
               f"HBM, {binary_bytes(acc.memory_bytes)} — {src.get('gpu', 'flags')}")
    for what in ("model", "gpu"):
        for line in (cited or {}).get(what, ())[:3]:
            out.append(f"  - {what} source: {line}")
    for key in ("peak_flops", "bandwidth", "memory", "link_bandwidth"):
        if key in src:
            out.append(f"  - {key.replace('_', ' ')}: {src[key]}")
    price = acc.price_usd_per_hour
    out.append("- price: " + (f"${price:g} per GPU-hour — {src.get('price', '')}" if price is not None
                                else "none (costs need --price)"))
    out.append(f"- precision: weights {prec.weights} ({nbytes(prec.weights):g} B), KV {prec.kv} "
               f"({nbytes(prec.kv):g} B), compute {prec.compute} — {src.get('precision', 'default')}")
    out.append(f"- layout: tp={par.tp} pp={par.pp} dp={par.dp} ep={par.ep}; batch {w.batch}, {w.input_tokens} input and "
               f"{w.output_tokens} output tokens" + (f" — batch: {src['batch']}" if "batch" in src else ""))
    for key in ("gpus", "tp", "pp", "dp", "ep", "input_tokens", "output_tokens", "active_params", "layers", "hidden",
                "heads", "kv_heads", "head_dim"):
        if key in src:
            out.append(f"  - {key.replace('_', ' ')}: {src[key]}")
    eff = s.efficiency
    eng = s.engine
    out.append(f"- engine **{eng.id}** {eng.version} ({eng.batching} batching) — {src.get('engine', '')}")
    for key in ("batching", "max_running_requests", "max_tokens_per_iteration", "chunked_prefill", "cuda_graph_max_batch"):
        if key in src:
            out.append(f"  - {key.replace('_', ' ')}: {src[key]}")
    out.append(f"- kernel physics: GEMM {eff.gemm_for(prec.compute):g} of the {prec.compute} peak, attention "
               f"{eff.attention_for(prec.activations):g}, decode attention {eff.decode_attention:g} and weight stream "
               f"{eff.mbu:g} of bandwidth, collectives {eff.link_efficiency:g} of the link + "
               f"{seconds(eff.collective_latency_s)}, kernel floor {seconds(eff.kernel_floor_s)} × "
               f"{eff.kernels_per_layer:g} kernels per layer, host {seconds(eff.host_per_iteration_s)} per iteration + "
               f"{seconds(eff.host_per_request_s)} per request ({eff.host_hidden_fraction * 100:.0f}% hidden) — "
               f"{src.get('efficiency', '')}")
    for key, value in src.items():
        if key.startswith("kernel ") or key in ("mfu", "mbu", "link_efficiency", "step_overhead", "layer_overhead",
                                                "collective_latency", "reserve", "memory_fraction",
                                                "kernels_per_layer", "host.per_iteration_s", "host.per_request_s",
                                                "host.hidden_fraction", "host.launch_s"):
            out.append(f"  - {key.replace('_', ' ')}: {value if len(value) <= 200 else value[:199] + '…'}")

    out += _serving_lines(est)
    static = est.serving is None or est.serving.batching == "static"
    title = f"{w.batch} × {w.input_tokens} tokens" if static else f"one request's {w.input_tokens} tokens"
    out += ["", f"## Prefill ({title})", ""] + _phase_lines("prefill", est.prefill, est)
    if est.decode is not None:
        d = est.decode
        who = f"batch {w.batch}" if static else f"{est.serving.running} running requests"
        out += ["", f"## Decode step ({who}, mean context {d.context_tokens:g} tokens = S + T/2)", ""]
        out += _phase_lines("step", d, est)
    if shift is not None:
        phase = "decode" if est.decode is not None else "prefill"
        if shift.batch is None:
            move = f"{phase} stays {shift.bound}-bound at every larger batch"
        else:
            move = f"{phase} is {shift.bound}-bound up to batch {shift.batch - 1}; from batch ≈ {shift.batch} it is " \
                   f"**{shift.new_bound}-bound**"
            if shift.batch > est.memory.max_batch:
                move += f" (beyond the largest batch that fits, {est.memory.max_batch}: more memory or GPUs first)"
        out += ["", "## What would move the bottleneck", "", f"- {move}"]
        if shift.bound == "memory":
            out.append("- at a fixed batch: more bandwidth, fewer weight bytes (a smaller --weights dtype), or a "
                       "smaller KV cache (--kv) shorten the memory term")
        elif shift.bound == "overhead":
            out.append("- the fixed per-pass costs (kernel launches, scheduling) dominate: larger batches amortize "
                       "them; fewer layers per GPU pass does not, since every layer is paid once per pass")
        elif shift.bound == "communication":
            out.append("- lower tensor parallelism (more replicas with --dp) or a faster link shortens it")
        elif shift.bound == "compute":
            out.append("- more FLOP/s: a faster GPU, more tensor-parallel GPUs, or a narrower compute dtype")

    mem = est.memory
    out += ["", "## Memory per GPU", "",
            f"- weights / (tp × pp) = {binary_bytes(mem.weights_bytes_per_gpu)}; KV = batch × "
            f"{binary_bytes(mem.kv_bytes_per_sequence)} per sequence = {binary_bytes(mem.kv_cache_bytes_per_gpu)}; "
            f"workspace {binary_bytes(mem.activation_bytes_per_gpu)}; reserve {binary_bytes(mem.reserve_bytes_per_gpu)}",
            f"- the KV pool is {s.memory.memory_fraction:g} of {s.memory.fraction_of} memory "
            f"({'after weights, activations and reserve' if s.memory.fraction_of == 'free' else 'holding the rest'}): "
            f"{binary_bytes(mem.kv_pool_bytes_per_gpu)}; **{'fits' if mem.fits else 'does not fit'}**; largest batch "
            f"{mem.max_batch:,} ({mem.batch_limited_by}); smallest replica "
            f"{plural(mem.min_gpus, 'GPU') if mem.min_gpus else 'none up to the search limit'}"
            + (f" ({mem.min_gpus_layout})" if mem.min_gpus_layout else "")]
    lat, thr, cost = est.latency, est.throughput, est.cost
    steps = max(w.output_tokens - 1, 0) if est.decode else 0
    sv = est.serving
    out += ["", "## Latency, throughput, cost", "",
            f"- end to end = TTFT + (output tokens − 1) × TPOT = {seconds(lat.ttft_s)} + {steps} × "
            f"{seconds(lat.tpot_s or 0.0)} = **{seconds(lat.e2e_s)}**"]
    if sv is not None:
        out.append(f"- output tokens/s = requests per cycle × output tokens / cycle × replicas = "
                   f"{sv.requests_per_cycle:,.0f} × {w.output_tokens} / {seconds(sv.cycle_time_s)} × {par.dp} = "
                   f"**{number(thr.output_tokens_per_s)}**")
    if cost.usd_per_hour is not None:
        out.append(f"- $/hour = GPUs × $/GPU-hour = {par.gpus} × {price:g} = **{_usd(cost.usd_per_hour)}**")
        if cost.usd_per_million_output_tokens is not None:
            out.append(f"- $ per M output tokens = decode time × replica $/s / output tokens = **"
                       f"{_usd(cost.usd_per_million_output_tokens)}**; input **{_usd(cost.usd_per_million_input_tokens)}**; "
                       f"blended = total time × replica $/s / all tokens = **{_usd(cost.usd_per_million_tokens_blended)}**")
    b = est.bounds
    out.append(f"- forward passes/s per replica: FLOP-bound = GPUs per replica × peak / (2 × matmul params) = "
               f"**{number(b.compute_forward_passes_per_s)}**; bandwidth-bound = GPUs per replica × bandwidth / weight "
               f"bytes = **{number(b.memory_forward_passes_per_s)}**")
    if est.error_band is not None:
        band = est.error_band
        out.append(f"- expected error: **±{band.p80 * 100:.0f}%** (p80 of {band.n} calibration rows in the regime "
                   f"\"{band.regime}\", docs/validation.md)")
    return "\n".join(out) + "\n"
