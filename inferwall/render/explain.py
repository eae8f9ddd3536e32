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
    s = est.scenario
    acc, eff = s.accelerator, s.efficiency
    peak = peak_flops(acc, s.precision.compute) or 0.0
    passes = "" if p.passes == 1 else f"{_e(p.passes)} passes × "
    lines = [
        f"- compute time = {passes}FLOPs per GPU / (peak × MFU) = {passes}{_e(p.flops_per_gpu)} / "
        f"({_e(peak)} FLOP/s × {eff.mfu:g}) = **{seconds(p.compute_time_s)}**",
        f"- memory time = {passes}bytes per GPU / (bandwidth × MBU) = {passes}{_e(p.bytes_per_gpu)} B / "
        f"({_e(acc.bandwidth_bytes_per_s)} B/s × {eff.mbu:g}) = **{seconds(p.memory_time_s)}**"
        f" (weights {si(p.weight_bytes, 'B')}, KV {si(p.kv_bytes, 'B')}, activations {si(p.activation_bytes, 'B')} "
        f"over the replica)",
    ]
    if p.collectives_per_pass:
        lines.append(
            f"- communication = {passes}{p.collectives_per_pass} collectives × ({seconds(eff.collective_latency_s)} "
            f"latency + message / (link × {eff.link_efficiency:g})) = **{seconds(p.comm_time_s)}**")
    else:
        lines.append("- communication = **0 s** (one GPU per replica, or no shape to size messages)")
    layers = s.model.num_layers
    lines.append(
        f"- overhead = {passes}(per pass {seconds(eff.step_overhead_s)} + {layers} layers × "
        f"{seconds(eff.layer_overhead_s)}) = **{seconds(p.overhead_time_s)}**")
    terms = {"compute": p.compute_time_s, "memory": p.memory_time_s, "communication": p.comm_time_s,
             "overhead": p.overhead_time_s}
    ranked = sorted(terms.items(), key=lambda kv: kv[1], reverse=True)
    (_, t1), (second, t2) = ranked[0], ranked[1]
    ratio = t1 / t2 if t2 > 0 else math.nan
    margin = (f"{ratio:.2f}× the {second} term" if math.isfinite(ratio) else
              "the only non-zero term" if t2 == 0 else f"far above the {second} term")
    lines.append(f"- {name} time = max(compute, memory) + communication + overhead = **{seconds(p.time_s)}**; "
                 f"**{p.bound}** binds ({margin})")
    lines.append(f"- utilization = FLOPs / (time × GPUs per replica × peak) = {_e(p.flops)} / ({seconds(p.time_s)} × "
                 f"{s.parallelism.gpus_per_replica} × {_e(peak)}) = **{_pct(p.utilization)}**; bandwidth "
                 f"utilization **{_pct(p.bandwidth_utilization)}**; arithmetic intensity "
                 f"{_e(p.arithmetic_intensity)} FLOP/B")
    return lines


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
    out.append(f"- efficiency: MFU {eff.mfu:g}, MBU {eff.mbu:g}, link {eff.link_efficiency:g}, collective latency "
               f"{seconds(eff.collective_latency_s)}, overhead {seconds(eff.step_overhead_s)} per pass + "
               f"{seconds(eff.layer_overhead_s)} per layer — {src.get('efficiency', '')}")
    for key in ("mfu", "mbu", "link_efficiency", "step_overhead", "layer_overhead", "collective_latency",
                "reserve", "memory_fraction"):
        if key in src:
            out.append(f"  - {key.replace('_', ' ')}: {src[key]}")

    out += ["", f"## Prefill ({w.batch} × {w.input_tokens} tokens)", ""] + _phase_lines("prefill", est.prefill, est)
    if est.decode is not None:
        d = est.decode
        out += ["", f"## Decode step (batch {w.batch}, mean context {d.context_tokens:g} tokens = S + T/2)", ""]
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
            f"- total {binary_bytes(mem.total_bytes_per_gpu)} against usable {binary_bytes(mem.usable_bytes_per_gpu)} "
            f"(capacity × {s.memory.memory_fraction:g}): **{'fits' if mem.fits else 'does not fit'}**; largest batch "
            f"{mem.max_batch:,} ({mem.batch_limited_by}); smallest replica "
            f"{plural(mem.min_gpus, 'GPU') if mem.min_gpus else 'none up to the search limit'}"]
    lat, thr, cost = est.latency, est.throughput, est.cost
    steps = max(w.output_tokens - 1, 0) if est.decode else 0
    out += ["", "## Latency, throughput, cost", "",
            f"- end to end = TTFT + (output tokens − 1) × TPOT = {seconds(lat.ttft_s)} + {steps} × {seconds(lat.tpot_s)} "
            f"= **{seconds(lat.e2e_s)}**",
            f"- output tokens/s = batch × output tokens / e2e × replicas = {w.batch} × {w.output_tokens} / "
            f"{seconds(lat.e2e_s)} × {par.dp} = **{number(thr.output_tokens_per_s)}**"]
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
    return "\n".join(out) + "\n"
