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

Two optional features enter through small hooks (docs/model.md): with speculative decoding (``speculative.py``) a
decode iteration is a verification pass of K + 1 tokens per sequence plus the draft, a request decodes in
(T - 1) / tokens_per_step iterations and the token budget counts K + 1 tokens per decoding request; with a
prefix-cache hit (``prefix.py``) a prompt prefills only its missed tokens, reading the cached prefix as KV.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import architecture as arch
from .dtypes import peak_flops
from .passes import PassContext, PassCost, PassWork, pass_context, pass_cost
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
    sums = _weighted_fields([(wt, c.__dict__) for wt, c in parts], ("times", "fixed"))
    sums["times"] = KernelTimes(**_weighted_fields([(wt, c.times.__dict__) for wt, c in parts]))
    sums["fixed"] = FixedCosts(**_weighted_fields([(wt, c.fixed.__dict__) for wt, c in parts]))
    sums["collectives"] = round(sums["collectives"])
    return PassCost(**sums)


def _weighted_fields(parts: list[tuple[float, dict]], skip: tuple[str, ...] = ()) -> dict[str, float]:
    """Field by field, the weighted sum of dataclasses' number fields (a plain loop: sweeps call it per row)."""
    out = {k: 0.0 for k in parts[0][1] if k not in skip}
    for wt, fields in parts:
        for k in out:
            out[k] += wt * fields[k]
    return out


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


def _step_pass(s: Scenario, w: PassWork, ctx: PassContext | None = None) -> PassCost:
    """One pass, or with speculative decoding one iteration: verification plus draft (``speculative.py``)."""
    if s.speculative is None:
        return pass_cost(s, w, ctx)
    from . import speculative

    return speculative.step_cost(s, w)


def _decode_iterations(s: Scenario, decode_tokens: float) -> float:
    """Iterations in which a request decodes ``decode_tokens`` tokens (fewer with speculation)."""
    if s.speculative is None:
        return decode_tokens
    from . import speculative

    return speculative.iterations(s, decode_tokens)


def _per_token(s: Scenario, iteration_s: float | None) -> float | None:
    """Time per output token from a decode iteration's time (it yields several with speculation)."""
    if s.speculative is None:
        return iteration_s
    from . import speculative

    return speculative.per_token(s, iteration_s)


def _decode_width(s: Scenario) -> int:
    """Tokens a decoding request puts through an iteration: 1, or K + 1 when speculation verifies K drafts."""
    if s.speculative is None:
        return 1
    from . import speculative

    return speculative.decode_tokens_per_sequence(s)


def _cached_prefix(s: Scenario) -> float:
    """Prompt tokens a request reads from the prefix cache (``prefix.py``)."""
    if not s.workload.prefix_hit:
        return 0.0
    from . import prefix

    return prefix.cached_tokens(s)


def static(s: Scenario) -> Schedule:
    m, w, par = s.model, s.workload, s.parallelism
    p = par.pp
    S, T, B = w.input_tokens, w.output_tokens, w.batch
    cached = _cached_prefix(s)
    S = S - cached if cached else S  # the prompt tokens prefilled; the cached ones are read as KV
    micro = math.ceil(B / p)
    n_micro = math.ceil(B / micro)
    pre = PassWork(tokens=micro * S, logit_rows=0 if m.encoder else micro, prefill_tokens=micro * S,
                   prefill_pairs=micro * arch.prefill_pairs(m, cached, S), prefill_length=S, requests=B,
                   prefill_cached_reads=micro * arch.cached_tokens(m, cached))
    fill = (n_micro + p - 1) / p  # the last of n micro-batches leaves the last of p stages after n + p - 1 stage-times
    prefill = phase(s, "prefill", B * S, pass_cost(s, pre), fill, n_micro)
    cached_busy = 0.0
    if cached:  # the prefill's marginal time over a prompt of only its uncached tokens
        from . import prefix

        miss = prefix.uncached_tokens(s)
        bare = pass_cost(s, PassWork(tokens=micro * miss, logit_rows=micro, prefill_tokens=micro * miss,
                                     prefill_pairs=micro * arch.prefill_pairs(m, 0, miss), prefill_length=miss,
                                     requests=B)).time_s * fill if miss > 0 else 0.0
        cached_busy = prefill.time_s * prefix.cached_share(prefill.time_s, bare, 0.0)
    decode = None
    if not m.encoder and T > 1:
        attended = _decode_attended(s)
        dec = PassWork(tokens=micro, logit_rows=micro, decode_seqs=micro, decode_attended=micro * attended, requests=B)
        decode = phase(s, "decode", B, _step_pass(s, dec), 1, n_micro, context=w.input_tokens + T / 2)
    steps = _decode_iterations(s, max(T - 1, 0)) if decode else 0
    tpot = decode.time_s if decode else None
    e2e = prefill.time_s + steps * (tpot or 0.0)
    serving = Serving(batching="static", engine=s.engine.id, concurrency=B, running=B, waiting=0,
                      limited_by="concurrency", token_budget=None, iterations_per_request=1 + steps,
                      prefill_iterations=1, mixed_iteration_share=1 / (1 + steps), prefill_tokens_per_iteration=B * S,
                      decode_requests_per_iteration=B if decode else 0, cycle_time_s=e2e, requests_per_cycle=B,
                      prefill_busy_s=prefill.time_s, decode_busy_s=steps * (tpot or 0.0), queue_wait_s=0.0,
                      cached_prefill_busy_s=cached_busy)
    return Schedule(prefill=prefill, decode=decode, ttft_s=prefill.time_s, tpot_s=_per_token(s, tpot), e2e_s=e2e,
                    serving=serving)


def continuous(s: Scenario, running: int, limited_by: str) -> Schedule:
    """The steady state of in-flight batching with ``running`` requests in flight per replica."""
    m, w, par, eng = s.model, s.workload, s.parallelism, s.engine
    p = par.pp
    S, T, B = w.input_tokens, w.output_tokens, w.batch
    cached = _cached_prefix(s)
    S = S - cached if cached else S  # the prompt tokens prefilled; the cached ones are read as KV
    width = _decode_width(s)  # tokens per decoding request per iteration (K + 1 with speculation)
    N = max(running, 1)
    budget = eng.max_tokens_per_iteration
    decodes = 0 if m.encoder else _decode_iterations(s, max(T - 1, 0))
    k_min = math.ceil(S / budget) if (budget and eng.chunked_prefill) else 1
    I_req = float(k_min + decodes)
    if budget:
        I_req = max(I_req, N * (S + decodes * width) / budget)
    n_d_avg = N * decodes / I_req
    room = max((budget - n_d_avg * width) if budget else S, 1.0)
    if budget and not eng.chunked_prefill:
        room = max(room, S)  # a whole prompt in one iteration: the engine waits for room rather than split it
    chunks = max(1.0, math.ceil(S / room - 1e-9)) if eng.chunked_prefill else 1.0  # whole chunks per prompt
    I_mix = min(I_req, N * chunks)
    k_own = I_req - decodes
    n_p = N * S / I_mix
    n_d_mix = N * max(0.0, 1 - k_own / I_mix)
    prompts = N / I_mix  # prompts finishing (and starting) per mixed iteration
    attended = _decode_attended(s) if decodes else 0.0
    cached_reads = prompts * arch.cached_tokens(m, S) * (chunks - 1) / 2 if chunks > 1 else 0.0
    if cached:
        cached_reads += prompts * arch.cached_tokens(m, cached) * chunks  # every chunk reads the cached prefix

    ctx = pass_context(s)

    def iteration(decoding: float, prefill_tokens: float, prompts_done: float, start: float = cached,
                  length: float = S, reads: float = cached_reads) -> PassCost:
        mic = 1 / p  # each of p micro-batches carries 1/p of the iteration
        return _step_pass(s, PassWork(
            tokens=(decoding + prefill_tokens) * mic, logit_rows=(decoding + (0 if m.encoder else prompts_done)) * mic,
            prefill_tokens=prefill_tokens * mic, prefill_pairs=prompts_done * arch.prefill_pairs(m, start, length) * mic,
            prefill_cached_reads=reads * mic, prefill_length=length, decode_seqs=decoding * mic,
            decode_attended=decoding * attended * mic, requests=N), ctx)

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
        decode = phase(s, "decode", N, blend([pt for pt in parts if pt[0] > 0]), 1, p,
                       context=w.input_tokens + T / 2)
        tpot = decode.time_s
    ttft = wait + prefill.time_s
    e2e = ttft + decodes * (tpot or 0.0)
    prefill_busy = I_mix * (tau_mix - tau_dec) if decodes else cycle
    cached_busy = 0.0
    if cached:  # the mixed iterations' marginal time over the same iterations carrying only the uncached tokens
        from . import prefix

        miss = prefix.uncached_tokens(s)
        bare = iteration(n_d_mix, N * miss / I_mix, prompts if miss > 0 else 0.0, 0.0, miss, 0.0).time_s
        cached_busy = prefill_busy * prefix.cached_share(tau_mix, bare, tau_dec if decodes else 0.0)
    total_time = None
    if w.num_requests is not None:
        total_time = _finite_run(w.num_requests, N, cycle, I_dec * tau_dec, decodes, iteration)
    serving = Serving(batching="continuous", engine=eng.id, concurrency=B, running=N, waiting=max(B - N, 0),
                      limited_by=limited_by, token_budget=budget, iterations_per_request=I_req,
                      prefill_iterations=k_own, mixed_iteration_share=I_mix / I_req, prefill_tokens_per_iteration=n_p,
                      decode_requests_per_iteration=n_d_mix if not decodes else (n_d_mix * I_mix + N * I_dec) / I_req,
                      cycle_time_s=cycle, requests_per_cycle=N, prefill_busy_s=prefill_busy,
                      decode_busy_s=cycle - prefill_busy, queue_wait_s=wait, num_requests=w.num_requests,
                      total_time_s=total_time, cached_prefill_busy_s=cached_busy)
    return Schedule(prefill=prefill, decode=decode, ttft_s=ttft, tpot_s=_per_token(s, tpot), e2e_s=e2e,
                    serving=serving)


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
