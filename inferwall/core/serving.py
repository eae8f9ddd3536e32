"""Batching modes: how an engine turns passes into a request's latency and a replica's throughput.

* **static**: the whole batch is prefilled at once, then decoded in lock step (the seed texts, the Kim et al.
  tables, static-batch benchmarks, ``--ideal``).
* **continuous**: the steady state of an in-flight-batching engine. Each iteration runs one decode token for
  every running request plus prefill chunks of new requests, within the engine's token budget. A request runs
  I = max(k + T - 1, N(S + T - 1)/budget) iterations: k of prefill (its chunks, and the wait behind other
  prompts when the budget is saturated), then T - 1 of decode. Of a cycle of I iterations (in which all N
  running requests complete once), the ones carrying prompt tokens are *mixed*; the rest decode only. TTFT is
  a request's own prefill iterations plus any wait for a slot; TPOT is the mean iteration it decodes in,
  mixed or not; throughput is N requests per cycle. See docs/model.md, "Serving as engines do it".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import architecture as arch
from .dtypes import peak_flops
from .passes import PassCost, PassWork, pass_context, pass_cost
from .types import FixedCosts, KernelTimes, PhaseCost, Scenario, Serving


@dataclass(frozen=True)
class Schedule:
    """What the estimate assembles latency, throughput and cost from."""

    prefill: PhaseCost
    decode: PhaseCost | None
    ttft_s: float
    tpot_s: float | None
    e2e_s: float
    serving: Serving


def blend(parts: list[tuple[float, PassCost]]) -> PassCost:
    """The weighted mean of passes (weights sum to 1): every field is additive."""
    if len(parts) == 1 and parts[0][0] == 1.0:
        return parts[0][1]
    w = [wt for wt, _ in parts]
    cs = [c for _, c in parts]

    def mix(values) -> float:
        return sum(wt * v for wt, v in zip(w, values))

    times = KernelTimes(mix(c.times.gemm_s for c in cs), mix(c.times.attention_s for c in cs),
                        mix(c.times.moe_s for c in cs), mix(c.times.collectives_s for c in cs),
                        mix(c.times.fixed_s for c in cs))
    fixed = FixedCosts(mix(c.fixed.host_s for c in cs), mix(c.fixed.kernel_floor_s for c in cs),
                       mix(c.fixed.collective_latency_s for c in cs))
    return PassCost(flops=mix(c.flops for c in cs), weight_bytes=mix(c.weight_bytes for c in cs),
                    kv_bytes=mix(c.kv_bytes for c in cs), activation_bytes=mix(c.activation_bytes for c in cs),
                    times=times, fixed=fixed, compute_bound_s=mix(c.compute_bound_s for c in cs),
                    memory_bound_s=mix(c.memory_bound_s for c in cs), pure_compute_s=mix(c.pure_compute_s for c in cs),
                    pure_memory_s=mix(c.pure_memory_s for c in cs), collectives=round(mix(c.collectives for c in cs)))


def phase(s: Scenario, name: str, tokens: float, cost: PassCost, passes: float, replicas_of_pass: float,
          context: float = 0.0) -> PhaseCost:
    """A phase spanning ``passes`` passes; replica totals are the per-rank pass x ``replicas_of_pass`` x tp."""
    acc, par = s.accelerator, s.parallelism
    t = par.tp
    time_s = passes * cost.time_s
    comm = passes * (cost.times.collectives_s + cost.fixed.collective_latency_s)
    overhead = passes * (cost.fixed.host_s + cost.fixed.kernel_floor_s)
    terms = {"compute": passes * cost.compute_bound_s, "memory": passes * cost.memory_bound_s, "communication": comm,
             "overhead": overhead}
    bound = max(terms, key=terms.get)
    scale = replicas_of_pass * t
    flops, weight, kv, act = (cost.flops * scale, cost.weight_bytes * scale, cost.kv_bytes * scale,
                              cost.activation_bytes * scale)
    peak = peak_flops(acc, s.precision.compute) or 0.0
    gpus = par.gpus_per_replica
    util = flops * passes / (time_s * gpus * peak) if time_s > 0 and peak else 0.0
    bw_util = (weight + kv + act) * passes / (time_s * gpus * acc.bandwidth_bytes_per_s) if time_s > 0 else 0.0
    k, f = cost.times, cost.fixed
    times = KernelTimes(passes * k.gemm_s, passes * k.attention_s, passes * k.moe_s, passes * k.collectives_s,
                        passes * k.fixed_s)
    fixed = FixedCosts(passes * f.host_s, passes * f.kernel_floor_s, passes * f.collective_latency_s)
    return PhaseCost(name=name, tokens=round(tokens), flops=flops * passes, bytes=(weight + kv + act) * passes,
                     weight_bytes=weight * passes, kv_bytes=kv * passes, activation_bytes=act * passes,
                     compute_time_s=passes * cost.pure_compute_s, memory_time_s=passes * cost.pure_memory_s,
                     comm_time_s=comm, overhead_time_s=overhead,
                     time_s=time_s, bound=bound, utilization=min(util, 1.0), bandwidth_utilization=min(bw_util, 1.0),
                     context_tokens=context, flops_per_gpu=cost.flops, bytes_per_gpu=cost.bytes, passes=passes,
                     collectives_per_pass=cost.collectives, kernel_times=times, fixed_costs=fixed)


def _decode_attended(s: Scenario) -> float:
    """Keys one decode token attends over, summed over layers, at the mean over the generation's steps."""
    w = s.workload
    return arch.attended_tokens(s.model, w.input_tokens + 1, w.input_tokens + w.output_tokens - 1)


def static(s: Scenario) -> Schedule:
    m, w, par = s.model, s.workload, s.parallelism
    p = par.pp
    S, T, B = w.input_tokens, w.output_tokens, w.batch
    micro = math.ceil(B / p)
    n_micro = math.ceil(B / micro)
    pre = PassWork(tokens=micro * S, logit_rows=0 if m.encoder else micro, prefill_tokens=micro * S,
                   prefill_pairs=micro * arch.prefill_pairs(m, 0, S), prefill_length=S, requests=B)
    fill = (n_micro + p - 1) / p  # the last of n micro-batches leaves the last of p stages after n + p - 1 stage-times
    prefill = phase(s, "prefill", B * S, pass_cost(s, pre), fill, n_micro)
    decode = None
    if not m.encoder and T > 1:
        attended = _decode_attended(s)
        dec = PassWork(tokens=micro, logit_rows=micro, decode_seqs=micro, decode_attended=micro * attended, requests=B)
        decode = phase(s, "decode", B, pass_cost(s, dec), 1, n_micro, context=S + T / 2)
    steps = max(T - 1, 0) if decode else 0
    tpot = decode.time_s if decode else None
    e2e = prefill.time_s + steps * (tpot or 0.0)
    serving = Serving(batching="static", engine=s.engine.id, concurrency=B, running=B, waiting=0,
                      limited_by="concurrency", token_budget=None, iterations_per_request=1 + steps,
                      prefill_iterations=1, mixed_iteration_share=1 / (1 + steps), prefill_tokens_per_iteration=B * S,
                      decode_requests_per_iteration=B if decode else 0, cycle_time_s=e2e, requests_per_cycle=B,
                      prefill_busy_s=prefill.time_s, decode_busy_s=steps * (tpot or 0.0), queue_wait_s=0.0)
    return Schedule(prefill=prefill, decode=decode, ttft_s=prefill.time_s, tpot_s=tpot, e2e_s=e2e, serving=serving)


def continuous(s: Scenario, running: int, limited_by: str) -> Schedule:
    """The steady state of in-flight batching with ``running`` requests in flight per replica."""
    m, w, par, eng = s.model, s.workload, s.parallelism, s.engine
    p = par.pp
    S, T, B = w.input_tokens, w.output_tokens, w.batch
    N = max(running, 1)
    budget = eng.max_tokens_per_iteration
    decodes = 0 if m.encoder else max(T - 1, 0)
    k_min = math.ceil(S / budget) if (budget and eng.chunked_prefill) else 1
    I_req = float(k_min + decodes)
    if budget:
        I_req = max(I_req, N * (S + decodes) / budget)
    n_d_avg = N * decodes / I_req
    room = max((budget - n_d_avg) if budget else S, 1.0)
    if budget and not eng.chunked_prefill:
        room = max(room, S)  # a whole prompt in one iteration: the engine waits for room rather than split it
    chunks = max(1.0, S / room) if eng.chunked_prefill else 1.0
    I_mix = min(I_req, N * chunks)
    k_own = I_req - decodes
    n_p = N * S / I_mix
    n_d_mix = N * max(0.0, 1 - k_own / I_mix)
    prompts = N / I_mix  # prompts finishing (and starting) per mixed iteration
    attended = _decode_attended(s) if decodes else 0.0
    cached_reads = prompts * arch.cached_tokens(m, S) * (chunks - 1) / 2 if chunks > 1 else 0.0

    ctx = pass_context(s)

    def iteration(decoding: float, prefill_tokens: float, prompts_done: float) -> PassCost:
        mic = 1 / p  # each of p micro-batches carries 1/p of the iteration
        return pass_cost(s, ctx=ctx, w=PassWork(
            tokens=(decoding + prefill_tokens) * mic, logit_rows=(decoding + (0 if m.encoder else prompts_done)) * mic,
            prefill_tokens=prefill_tokens * mic, prefill_pairs=prompts_done * arch.prefill_pairs(m, 0, S) * mic,
            prefill_cached_reads=cached_reads * mic, prefill_length=S, decode_seqs=decoding * mic,
            decode_attended=decoding * attended * mic, requests=N))

    mixed = iteration(n_d_mix, n_p, prompts)
    pure = iteration(N, 0.0, 0.0) if decodes else None
    tau_mix = mixed.time_s
    tau_dec = pure.time_s if pure else 0.0
    I_dec = I_req - I_mix
    cycle = I_mix * tau_mix + I_dec * tau_dec
    wait = cycle * (B / N - 1) if B > N else 0.0
    prefill = phase(s, "prefill", S, mixed, k_own, p)
    decode = None
    tpot = None
    if decodes:
        decode_mixed = max(I_mix - k_own, 0.0)
        parts = [(decode_mixed / decodes, mixed), (I_dec / decodes, pure)]
        decode = phase(s, "decode", N, blend([pt for pt in parts if pt[0] > 0]), 1, p, context=S + T / 2)
        tpot = decode.time_s
    ttft = wait + prefill.time_s
    e2e = ttft + decodes * (tpot or 0.0)
    prefill_busy = I_mix * (tau_mix - tau_dec) if decodes else cycle
    total_time = None
    if w.num_requests is not None:
        total_time = _finite_run(w.num_requests, N, cycle, I_dec * tau_dec, decodes, iteration)
    serving = Serving(batching="continuous", engine=eng.id, concurrency=B, running=N, waiting=max(B - N, 0),
                      limited_by=limited_by, token_budget=budget, iterations_per_request=I_req,
                      prefill_iterations=k_own, mixed_iteration_share=I_mix / I_req, prefill_tokens_per_iteration=n_p,
                      decode_requests_per_iteration=n_d_mix if not decodes else (n_d_mix * I_mix + N * I_dec) / I_req,
                      cycle_time_s=cycle, requests_per_cycle=N, prefill_busy_s=prefill_busy,
                      decode_busy_s=cycle - prefill_busy, queue_wait_s=wait, num_requests=w.num_requests,
                      total_time_s=total_time)
    return Schedule(prefill=prefill, decode=decode, ttft_s=ttft, tpot_s=tpot, e2e_s=e2e, serving=serving)


def _finite_run(num: int, running: int, cycle: float, pure_decode_s: float, decodes: int, iteration) -> float:
    """Wall time of an offline run of ``num`` requests at an infinite rate. While requests wait, the engine runs in
    its steady state (a cycle per ``running`` requests); over the last cycle the running requests drain, so its
    decode-only iterations (``pure_decode_s`` of the cycle) carry half the load on average."""
    if num <= running:
        return cycle
    last = cycle
    if decodes and pure_decode_s > 0:
        full, half = iteration(running, 0.0, 0.0).time_s, iteration(running / 2, 0.0, 0.0).time_s
        last = cycle - pure_decode_s * (1 - half / full)
    return (num - running) / running * cycle + last
