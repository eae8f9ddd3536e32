"""``estimate()``: Scenario -> Estimate. Assembles the phases (``serving.py`` over ``passes.py`` over
``kernels.py``), the memory fit (``memory.py``), latency, throughput, cost, the seed argument's bounds and the
calibration error band.

Conventions (see docs/model.md for the derivation):

* Work is computed per GPU of a replica (t tensor ranks x p pipeline stages), never as a total divided by a GPU
  count, so replicated KV heads and per-rank shares come out right.
* With p pipeline stages the batch is split into micro-batches of ceil(B/p). One decode *round* (every sequence
  gains a token) takes p stage-times: pipelining adds capacity and throughput, never lower per-token latency.
* A decode step's cost is evaluated at the mean context of the generation, S + T/2, with windowed layers
  clipped exactly; the final-length cache is never charged on every step.
"""

from __future__ import annotations

import functools
from dataclasses import replace

from . import architecture as arch
from . import serving
from .dtypes import STORAGE_BITS, peak_flops, resolve_precision
from .layout import validate_layout
from .memory import max_batch_for, memory_report, min_gpus_for, weights_per_gpu  # noqa: F401 - re-exported
from .types import Bounds, CoreError, Parallelism, Cost, ErrorBand, Estimate, Latency, Scenario, Throughput

# Pure functions of a (frozen, hashable) model, remembered so grids of thousands of scenarios stay fast.
_total_params = functools.lru_cache(maxsize=512)(arch.total_params)
_active_params = functools.lru_cache(maxsize=512)(arch.active_params)
_matmul_params_per_token = functools.lru_cache(maxsize=512)(arch.matmul_params_per_token)
_validate_model = functools.lru_cache(maxsize=512)(arch.validate)  # only successful validations are kept


def prepare(s: Scenario, compute_explicit: bool = False) -> tuple[Scenario, tuple[str, ...]]:
    """Validate a scenario and resolve its compute dtype against the hardware."""
    _validate_model(s.model)
    validate_layout(s.model, s.parallelism)
    w = s.workload
    if w.batch < 1 or w.input_tokens < 1 or w.output_tokens < 0:
        raise CoreError("batch and input tokens must be >= 1 and output tokens >= 0")
    if w.num_requests is not None and w.num_requests < 1:
        raise CoreError(f"the number of requests must be >= 1, got {w.num_requests}")
    if s.engine.batching not in ("static", "continuous"):
        raise CoreError(f"unknown batching {s.engine.batching!r}; valid: static, continuous")
    acc = s.accelerator
    if not (acc.memory_bytes > 0 and acc.bandwidth_bytes_per_s > 0):
        raise CoreError(f"accelerator {acc.id}: memory and bandwidth must be > 0")
    precision, notes = resolve_precision(acc, s.precision, compute_explicit)
    return (s if precision == s.precision else replace(s, precision=precision)), notes


def running_requests(s: Scenario) -> tuple[int, str]:
    """Requests in flight per replica under continuous batching, and what caps them."""
    w, eng = s.workload, s.engine
    limits = [(w.batch, "concurrency")]
    if w.num_requests is not None:
        limits.append((w.num_requests, "requests in the run"))
    fit = max_batch_for(s)
    if fit:
        limits.append((fit, "kv-cache"))
    if eng.max_running_requests:
        limits.append((eng.max_running_requests, "request cap"))
    if eng.max_tokens_per_iteration:
        limits.append((eng.max_tokens_per_iteration, "token budget"))
    n, why = min(limits, key=lambda x: x[0])
    return max(n, 1), why


def regime(s: Scenario) -> tuple[str, ...]:
    """The calibration regime of a scenario, most specific name first."""
    w, prec = s.workload, s.precision
    if s.model.encoder or w.output_tokens <= 1:
        kind = "first-token latency"
    elif w.batch_max:
        kind = "max-throughput"
    elif w.batch == 1:
        kind = "batch-1 decode"
    else:
        kind = "fixed batch"
    bits = STORAGE_BITS.get(prec.compute, 16)
    if STORAGE_BITS.get(prec.weights, 16) < bits:
        dtype = "weight-only"
    else:
        dtype = {4: "fp4", 8: "int8" if prec.compute == "int8" else "fp8"}.get(bits, "16-bit")
    vendor = s.accelerator.vendor or "other"
    return (f"{kind}, {dtype}, {vendor}", f"{kind}, {dtype}", kind)


def error_band(s: Scenario) -> ErrorBand | None:
    """The engine's calibration band for this scenario's regime (the most specific one with enough rows)."""
    bands = {b.regime: b for b in s.engine.error_bands}
    for name in regime(s):
        if name in bands:
            return bands[name]
    return bands.get("all")


def estimate(s: Scenario, compute_explicit: bool = False) -> Estimate:
    s, notes_t = prepare(s, compute_explicit)
    notes = list(notes_t)
    m, w, par, acc = s.model, s.workload, s.parallelism, s.accelerator
    if m.encoder and w.output_tokens:
        notes.append(f"{m.id} is an encoder: it has no decode phase, output tokens are ignored")
    if s.engine.batching == "continuous":
        running, why = running_requests(s)
        if w.num_requests is not None:
            running = min(running, w.num_requests)
        sched = serving.continuous(s, running, why)
        mem = memory_report(s, running=running)
        if sched.serving.waiting:
            notes.append(f"{sched.serving.running} requests run and {sched.serving.waiting} wait per replica: the "
                         f"{why} caps the requests in flight")
    else:
        sched = serving.static(s)
        mem = memory_report(s)
    if sched.decode is None and not m.encoder and w.output_tokens <= 1:
        notes.append("one output token: no decode step, so time per output token and the output-token price "
                      "are null")
    sv = sched.serving
    out_tokens = 0 if m.encoder else w.output_tokens
    r = par.dp
    if sv.total_time_s is not None and sv.num_requests is not None:
        requests, period = float(sv.num_requests), sv.total_time_s
    else:
        requests, period = sv.requests_per_cycle, sv.cycle_time_s
    thr = Throughput(
        output_tokens_per_s=requests * out_tokens / period * r,
        input_tokens_per_s=requests * w.input_tokens / period * r,
        requests_per_s=requests / period * r,
    )

    price = acc.price_usd_per_hour
    if price is None:
        cost = Cost(None, None, None, None)
        notes.append(f"no price for {acc.id}: give --price to get costs")
    else:
        usd = period * par.gpus_per_replica * price / 3600  # one replica over the period
        prefill_share = sv.prefill_busy_s / sv.cycle_time_s if sv.cycle_time_s else 1.0
        decode_usd = usd * (1 - prefill_share)
        prefill_usd = usd * prefill_share
        has_output = out_tokens and sched.decode is not None
        cost = Cost(
            usd_per_hour=par.gpus * price,
            usd_per_million_output_tokens=(decode_usd / (requests * out_tokens) * 1e6) if has_output else None,
            usd_per_million_input_tokens=prefill_usd / (requests * w.input_tokens) * 1e6,
            usd_per_million_tokens_blended=usd / (requests * (w.input_tokens + out_tokens)) * 1e6,
        )

    peak = peak_flops(acc, s.precision.compute) or 0.0
    gpus = par.gpus_per_replica
    total_w = weights_per_gpu(s, Parallelism())
    bounds = Bounds(
        compute_forward_passes_per_s=gpus * peak / (2 * _matmul_params_per_token(m)),
        memory_forward_passes_per_s=gpus * acc.bandwidth_bytes_per_s / total_w,
    )
    if not mem.fits:
        notes.append("does not fit: " + (f"the smallest replica that fits is {mem.min_gpus} GPUs "
                                        f"({mem.min_gpus_layout})" if mem.min_gpus
                                        else "no replica up to the search limit fits"))
    return Estimate(
        scenario=s, params=_total_params(m), active_params=_active_params(m), weight_bytes=total_w,
        prefill=sched.prefill, decode=sched.decode, memory=mem,
        latency=Latency(sched.ttft_s, sched.tpot_s, sched.e2e_s), throughput=thr, cost=cost, bounds=bounds,
        notes=tuple(notes), serving=sv, error_band=error_band(s),
    )
