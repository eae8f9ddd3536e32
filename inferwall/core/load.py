"""The load model wired to the cost model: a continuous-batching ``Scenario`` under a request rate.

``queueing`` (closed form) and ``simulate`` (discrete events) describe an in-flight-batching engine through two
inputs; this module builds both from a scenario, runs one of them and turns the result into an ``Estimate``:

* ``IterationTable``: the ``iteration_time(decode_requests, decode_context_tokens, prefill_tokens,
  prefill_context_tokens)`` callable, from ``passes.pass_cost`` with the physics of ``serving.continuous`` (one
  pass per iteration; with p pipeline stages each of p micro-batches carries 1/p of it). ``pass_cost`` takes
  about 30 µs, and a 10,000-request simulation asks for thousands of iterations, so the table evaluates it
  lazily on a grid of decode requests x prompt tokens (whole numbers up to 16, then a ratio of 2^(1/4)) at the
  traffic's mean contexts, with the slope in each context sum beside it, and interpolates bilinearly.
* ``engine_limits``: ``EngineLimits`` from the engine (request cap, token budget, chunked prefill) and the KV
  pool of ``memory.py`` in tokens.
* ``solve``: the steady state of one replica at its share of the rate (closed form, or the seeded simulation).
* ``estimate_under_load``: the ``Estimate`` at the scenario's request rate. Its phases, memory and serving
  section describe the engine at the concurrency the load model finds; latency, throughput and cost come from
  the load model (what the rate delivers, and what the GPUs cost whether busy or not).

Standard library only, no I/O. docs/queueing.md states the load model and its accuracy; docs/model.md the keys.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import replace

from . import architecture as arch
from .memory import footprint, held_tokens, max_batch_for
from .passes import PassWork, pass_cost
from .queueing import EngineLimits, LoadResult, Percentiles, Traffic, saturation_request_rate, solve_load
from .types import Cost, CoreError, Estimate, Latency, LoadLatency, LoadReport, LoadSpec, Scenario, Throughput

EXACT_COUNTS = 16  # decode requests and prompt tokens up to this are grid points themselves
GRID_RATIO = 2 ** 0.25  # above it, the grid's ratio (19%): the cost model is smooth on that scale
CONTEXT_STEP = 0.25  # the relative change of a context sum over which its slope is measured
SLOPE_THRESHOLD = 1e-3  # context sums closer than this to the reference need no slope (attention is part of a pass)
NO_BUDGET = 1 << 30  # the token budget of an engine without one: never binds
DEFAULT_SIMULATED_REQUESTS = 10_000


class IterationTable:
    """``iteration_time`` of a scenario's engine iteration, tabulated from ``passes.pass_cost``.

    Each grid cell (decode requests d, prompt tokens p) holds the time at the reference contexts (every decoder
    at the traffic's mean decode context, prompt tokens at the mean attention span per prompt token) and the
    slopes in the two context sums, measured over a ``CONTEXT_STEP`` change; a call interpolates the cell values
    bilinearly and adds slope x (its context sum - the reference one). Cells are evaluated when first needed.
    ``calls`` counts ``pass_cost`` evaluations; ``exact(...)`` evaluates the cost model without the table."""

    def __init__(self, s: Scenario, traffic: Traffic):
        m = s.model
        self.scenario = s
        self.micro = 1.0 / s.parallelism.pp
        s_len, t_len = traffic.input_lengths, traffic.output_lengths
        self.mean_prompt = s_len.mean
        # the mean span a prompt token attends over (its position in the prompt, chunked or not) ...
        self.span_per_token = s_len.expect(lambda v: v * (v + 1) / 2) / s_len.mean
        # ... and the mean context a decode token attends to: the prompt plus the tokens generated so far
        decode_steps = t_len.mean - 1
        self.context_per_decoder = (s_len.mean + t_len.expect(lambda v: v * (v - 1) / 2) / decode_steps
                                    if decode_steps > 0 else s_len.mean)
        # query-key pairs of all layers per pair of one full causal layer, at the mean prompt (windows, encoders)
        whole = self.mean_prompt * (self.mean_prompt + 1) / 2
        self.pairs_per_span = arch.prefill_pairs(m, 0, self.mean_prompt) / whole if whole > 0 else 0.0
        # the cost model jumps where an iteration's tokens cross a GEMM tile, an expert's tile of tokens or the
        # CUDA-graph size: both axes have grid points on each side (exact for decode-only and prompt-only iterations)
        eng = s.engine
        steps = _steps(s)
        self.d_grid = count_grid(4 * max(eng.max_running_requests or 0, 4096), steps)
        self.p_grid = count_grid(4 * max(eng.max_tokens_per_iteration or 0, traffic.input_lengths.high, 65536), steps)
        self.cells: dict[tuple[int, int], float] = {}
        self.slopes: dict[tuple[int, int, int], float] = {}
        self.calls = 0

    # -- the cost model itself

    def exact(self, decoders: float, decode_context: float, prefill_tokens: float, prefill_context: float) -> float:
        """One iteration's time from ``pass_cost``: the work of ``serving.continuous``'s iterations."""
        m = self.scenario.model
        mic = self.micro
        per_decoder = decode_context / decoders if decoders > 0 else 0.0
        attended = decoders * arch.attended_tokens(m, per_decoder, per_decoder) if decoders > 0 else 0.0
        prompts = prefill_tokens / self.mean_prompt if prefill_tokens > 0 else 0.0
        cached = 0.0
        if prefill_tokens > 0:
            # a chunk of c tokens after s cached ones spans c*s + c(c+1)/2: the cached prefix it reads back
            prefix = prefill_context / prefill_tokens - (prefill_tokens + 1) / 2
            cached = arch.cached_tokens(m, prefix) if prefix >= 1 else 0.0
        work = PassWork(
            tokens=(decoders + prefill_tokens) * mic,
            logit_rows=(decoders + (0.0 if m.encoder else prompts)) * mic,
            prefill_tokens=prefill_tokens * mic, prefill_pairs=prefill_context * self.pairs_per_span * mic,
            prefill_cached_reads=cached * mic, prefill_length=self.mean_prompt, decode_seqs=decoders * mic,
            decode_attended=attended * mic,
            requests=decoders + (max(1.0, prompts) if prefill_tokens > 0 else 0.0))
        self.calls += 1
        return pass_cost(self.scenario, work).time_s

    # -- the table

    def _cell(self, i: int, j: int) -> float:
        found = self.cells.get((i, j))
        if found is None:
            d, p = self.d_grid[i], self.p_grid[j]
            found = self.cells[(i, j)] = self.exact(d, d * self.context_per_decoder, p, p * self.span_per_token)
        return found

    def _slope(self, i: int, j: int, which: int) -> float:
        """d time / d (decode context sum) (``which`` 0) or d time / d (prompt span sum) (1) at a grid point."""
        found = self.slopes.get((i, j, which))
        if found is None:
            d, p = self.d_grid[i], self.p_grid[j]
            ctx, span = d * self.context_per_decoder, p * self.span_per_token
            if (d if which == 0 else p) <= 0:
                found = 0.0
            elif which == 0:
                found = (self.exact(d, ctx * (1 + CONTEXT_STEP), p, span) - self._cell(i, j)) / (ctx * CONTEXT_STEP)
            else:
                found = (self.exact(d, ctx, p, span * (1 + CONTEXT_STEP)) - self._cell(i, j)) / (span * CONTEXT_STEP)
            self.slopes[(i, j, which)] = found
        return found

    def __call__(self, decoders: float, decode_context: float, prefill_tokens: float, prefill_context: float) -> float:
        d_grid, p_grid = self.d_grid, self.p_grid
        if decoders >= d_grid[-1] or prefill_tokens >= p_grid[-1]:
            return self.exact(decoders, decode_context, prefill_tokens, prefill_context)
        i = bisect_right(d_grid, decoders) - 1
        j = bisect_right(p_grid, prefill_tokens) - 1
        u = (decoders - d_grid[i]) / (d_grid[i + 1] - d_grid[i])
        v = (prefill_tokens - p_grid[j]) / (p_grid[j + 1] - p_grid[j])
        corners = [(i, j, (1 - u) * (1 - v))]
        if u:
            corners.append((i + 1, j, u * (1 - v)))
        if v:
            corners.append((i, j + 1, (1 - u) * v))
            if u:
                corners.append((i + 1, j + 1, u * v))
        base = sum(w * self._cell(a, b) for a, b, w in corners)
        time = base
        # the context sums enter linearly, with the slope at the grid points (measured only when they differ from
        # the reference: the closed form asks at the reference contexts, give or take a rounded prompt token)
        extra = decode_context - decoders * self.context_per_decoder
        if abs(extra) > SLOPE_THRESHOLD * decode_context:
            time += extra * sum(w * self._slope(a, b, 0) for a, b, w in corners)
        extra = prefill_context - prefill_tokens * self.span_per_token
        if abs(extra) > SLOPE_THRESHOLD * prefill_context:
            time += extra * sum(w * self._slope(a, b, 1) for a, b, w in corners)
        return max(time, 0.5 * base)


def _steps(s: Scenario, most: int = 64) -> tuple[float, ...]:
    """Token counts per iteration (all micro-batches) at which ``pass_cost`` jumps: multiples of the GEMM tile,
    the token counts at which each expert's share of tokens fills another tile, and the CUDA-graph size."""
    m, eff, par, eng = s.model, s.efficiency, s.parallelism, s.engine
    out: list[float] = []
    if eff.gemm_tile_m > 1:
        out += [k * eff.gemm_tile_m * par.pp for k in range(1, most + 1)]
    if m.moe is not None and eff.moe_tile_m > 1:
        # tokens x experts per token / experts = tokens per expert (over the expert group's ranks)
        per_tile = eff.moe_tile_m * m.moe.num_experts / (m.moe.experts_per_token * par.dp_ranks_per_ep_group)
        out += [k * per_tile * par.pp for k in range(1, most + 1)]
    if eng.cuda_graph_max_batch and eng.cuda_graphs != "none":
        out.append(eng.cuda_graph_max_batch)
    return tuple(float(x) for x in out)


def count_grid(most: float, steps: tuple[float, ...] = ()) -> list[float]:
    """Whole numbers up to ``EXACT_COUNTS``, then a geometric ratio of ``GRID_RATIO`` past ``most``, plus the
    points on both sides of each step in ``steps`` (where the cost model jumps: GEMM tiles, CUDA-graph sizes)."""
    points = set(range(EXACT_COUNTS + 1))
    value = float(EXACT_COUNTS)
    while value <= most:
        value *= GRID_RATIO
        points.add(value)
    for step in steps:  # a step at n: the time changes between n and n + 1 (n + 1e-6 for fractional n)
        if EXACT_COUNTS < step < value:
            points.update((step, math.floor(step) + 1.0))
    return sorted(float(p) for p in points)


# --------------------------------------------------------------------------- limits and traffic


def per_replica(spec: LoadSpec, replicas: int) -> Traffic:
    """The traffic one replica sees: the deployment's process at rate / replicas (an even split that keeps the
    process's shape: bursts reach every replica)."""
    return Traffic(spec.arrivals.at_rate(spec.arrivals.rate / replicas), spec.input_lengths, spec.output_lengths)


def engine_limits(s: Scenario, traffic: Traffic) -> EngineLimits:
    """The engine's limits per replica: its request cap and token budget, chunked prefill, and the KV pool that
    ``memory.py`` leaves, in tokens. The load model reserves input + output tokens at admission (TensorRT-LLM's
    guaranteed-no-evict); an engine that allocates as tokens arrive (vLLM, SGLang: ``kv_reservation`` current)
    holds S + T/2 on average, so its pool counts (S + T) / (S + T/2) times as many reserved tokens."""
    eng = s.engine
    budget = eng.max_tokens_per_iteration or NO_BUDGET
    fit = max_batch_for(s)  # the largest batch whose KV fits: bounds the running requests of an uncapped engine
    fp = footprint(s, s.parallelism)
    held = held_tokens(s)
    per_token = fp.kv_per_seq / held if held > 0 else 0.0
    cap = eng.max_running_requests or max(fit, 1)
    pool = fp.kv_pool(max(1, min(cap, fit or 1)))
    if per_token <= 0:  # no KV cache (a bare model without an attention shape): the cap and budget bind
        kv_tokens = NO_BUDGET
    else:
        kv_tokens = pool / per_token
        if eng.kv_reservation != "full":
            mean_s, mean_t = traffic.input_lengths.mean, traffic.output_lengths.mean
            kv_tokens *= (mean_s + mean_t) / (mean_s + mean_t / 2)
    return EngineLimits(max_running_requests=int(cap), max_tokens_per_iteration=int(budget),
                        kv_capacity_tokens=max(1, int(min(kv_tokens, NO_BUDGET))),
                        chunked_prefill=eng.chunked_prefill)


# --------------------------------------------------------------------------- solving


def _latency(p: Percentiles | None) -> LoadLatency | None:
    return None if p is None else LoadLatency(p50=p.p50, p90=p.p90, p99=p.p99, mean=p.mean)


def solve(s: Scenario, spec: LoadSpec, table: IterationTable | None = None,
          limits: EngineLimits | None = None) -> tuple[LoadResult, EngineLimits]:
    """One replica's steady state at its share of the rate: the closed form or the simulation."""
    traffic = per_replica(spec, s.parallelism.dp)
    table = table or IterationTable(s, traffic)
    limits = limits or engine_limits(s, traffic)
    if spec.method == "simulation":
        from .simulate import simulate_engine

        sat_rate, limited_by = saturation_request_rate(table, limits, traffic)
        run = simulate_engine(table, limits, traffic, requests=spec.requests, seed=spec.seed)
        return run.load_result(sat_rate, limited_by), limits
    if spec.method != "analytic":
        raise CoreError(f"unknown load method {spec.method!r}; valid: analytic, simulation")
    return solve_load(table, limits, traffic), limits


def report(spec: LoadSpec, replicas: int, result: LoadResult, limits: EngineLimits,
           token_budget: int | None, calls: int) -> LoadReport:
    """The deployment's view of one replica's result: rates times the replicas, counts per replica."""
    notes = list(result.notes)
    sat_all = result.saturation_request_rate * replicas
    limit = result.limited_by.replace("_", " ")
    if result.saturated:
        notes = [n for n in notes if not n.startswith("the queue grows without bound")]
        notes.append(f"the queue grows without bound: {spec.arrivals.rate:.4g} req/s is at or past the saturation rate "
                     f"of {sat_all:.4g} req/s ({limit}"
                     + (f", {sat_all / replicas:.4g} per replica" if replicas > 1 else "")
                     + "); latency percentiles are null (they depend on how long the overload lasts), and throughput "
                     "is the engine's capacity")
    elif result.utilization >= 0.8 and result.method == "analytic":
        notes.append(f"at {result.utilization * 100:.0f}% of the saturation rate ({sat_all:.4g} req/s, {limit}) the "
                     "queue terms dominate and the closed form is least accurate (docs/queueing.md); --simulate gives "
                     "the simulated distribution")
    longest = spec.input_lengths.high
    if (not limits.chunked_prefill and result.method == "analytic" and not result.saturated
            and result.decode_batch > limits.max_tokens_per_iteration - longest):
        notes.append(f"without chunked prefill a prompt of {longest:,} tokens is admitted only when at most "
                     f"{max(0, limits.max_tokens_per_iteration - longest):,} requests decode (the budget is "
                     f"{limits.max_tokens_per_iteration:,} tokens), but {result.decode_batch:.0f} decode on average "
                     "here: long prompts wait for the batch to drain, which the closed form does not model "
                     "(docs/queueing.md); --simulate shows it")
    if spec.arrivals.process == "bursty" and spec.arrivals.cv > 2 and result.method == "analytic":
        notes.append(f"bursty arrivals with cv {spec.arrivals.cv:g}: the closed form under-states the tails "
                     "(docs/queueing.md); --simulate gives the simulated distribution")
    return LoadReport(
        method=result.method, request_rate=spec.arrivals.rate, replicas=replicas, arrival=spec.arrivals.label,
        input_lengths=spec.input_lengths.label, input_tokens_mean=spec.input_lengths.mean,
        output_lengths=spec.output_lengths.label, output_tokens_mean=spec.output_lengths.mean,
        saturated=result.saturated, saturation_request_rate=sat_all, limited_by=result.limited_by,
        utilization=result.utilization, concurrency_per_replica=result.concurrency,
        queued_per_replica=result.queued, mean_iteration_s=result.iteration_s,
        decode_requests_per_iteration=result.decode_batch,
        prefill_tokens_per_iteration=result.prefill_tokens_per_iteration, running_cap=limits.running_cap,
        token_budget=token_budget, kv_capacity_tokens=limits.kv_capacity_tokens,
        ttft=_latency(result.ttft), tpot=_latency(result.tpot), e2e=_latency(result.e2e),
        simulated_requests=spec.requests if result.method == "simulation" else None,
        seed=spec.seed if result.method == "simulation" else None, iteration_time_calls=calls,
        notes=tuple(notes))


def _no_room(spec: LoadSpec, replicas: int, limits: EngineLimits, token_budget: int | None,
             weights_fit: bool) -> LoadReport:
    """The KV cache cannot hold the longest request (or the weights leave none): no rate can be served."""
    longest = spec.input_lengths.high + spec.output_lengths.high
    why = (f"the KV cache holds {limits.kv_capacity_tokens:,} tokens per replica, less than the longest request "
           f"({longest:,} tokens)" if weights_fit else "the weights leave no memory for a KV cache")
    return LoadReport(
        method=spec.method, request_rate=spec.arrivals.rate, replicas=replicas, arrival=spec.arrivals.label,
        input_lengths=spec.input_lengths.label, input_tokens_mean=spec.input_lengths.mean,
        output_lengths=spec.output_lengths.label, output_tokens_mean=spec.output_lengths.mean, saturated=True,
        saturation_request_rate=0.0, limited_by="kv_capacity", utilization=None, concurrency_per_replica=0.0,
        queued_per_replica=None, mean_iteration_s=0.0, decode_requests_per_iteration=0.0,
        prefill_tokens_per_iteration=0.0, running_cap=limits.running_cap, token_budget=token_budget,
        kv_capacity_tokens=limits.kv_capacity_tokens, ttft=None, tpot=None, e2e=None,
        notes=(f"{why}: no request rate can be served; more GPUs per replica, a smaller --kv dtype or shorter "
               "requests make room",))


def estimate_under_load(s: Scenario, compute_explicit: bool = False) -> Estimate:
    """The estimate of ``s`` at its request rate (``s.load``)."""
    from .estimate import estimate, prepare

    spec = s.load
    plain = replace(s, load=None)
    prepared, _ = prepare(plain, compute_explicit)
    if prepared.engine.batching != "continuous":
        raise CoreError("a request rate needs an in-flight-batching engine: the load model is continuous batching; "
                        "valid: --batching continuous (--ideal and some engines batch statically)")
    replicas = prepared.parallelism.dp
    traffic = per_replica(spec, replicas)
    table = IterationTable(prepared, traffic)
    limits = engine_limits(prepared, traffic)
    budget = prepared.engine.max_tokens_per_iteration
    longest = spec.input_lengths.high + spec.output_lengths.high
    weights_fit = max_batch_for(prepared) > 0
    if longest > limits.kv_capacity_tokens or not weights_fit:
        load = _no_room(spec, replicas, limits, budget, weights_fit)
        base = estimate(plain, compute_explicit)
        cost = replace(base.cost, usd_per_million_output_tokens=None, usd_per_million_input_tokens=None,
                       usd_per_million_tokens_blended=None)
        return replace(base, scenario=replace(base.scenario, load=spec), latency=Latency(None, None, None),
                       throughput=Throughput(0.0, 0.0, 0.0), cost=cost, load=load,
                       notes=base.notes + load.notes)  # type: ignore[arg-type]
    result, limits = solve(prepared, spec, table, limits)
    load = report(spec, replicas, result, limits, budget, table.calls)
    # the engine's phases and memory at the concurrency the rate sustains (past saturation: the most it holds)
    running = max(1, min(limits.running_cap, int(round(result.concurrency))))
    w = plain.workload
    base = estimate(replace(plain, workload=replace(w, batch=running, batch_max=False, num_requests=None)),
                    compute_explicit)
    if result.saturated:
        latency = Latency(None, None, None)  # type: ignore[arg-type]
    else:
        latency = Latency(result.ttft.mean, result.tpot.mean if result.tpot else None, result.e2e.mean)
    # what the rate delivers: the offered rate, or past saturation the engine's capacity (the closed form's
    # saturation rate, also for a simulation, whose finite run cannot measure a steady state it never reaches)
    delivered = min(result.request_rate, result.saturation_request_rate) * replicas
    out_tokens = 0.0 if plain.model.encoder else delivered * spec.output_lengths.mean
    thr = Throughput(output_tokens_per_s=out_tokens, input_tokens_per_s=delivered * spec.input_lengths.mean,
                     requests_per_s=delivered)
    return replace(base, scenario=replace(base.scenario, load=spec), latency=latency, throughput=thr,
                   cost=_cost_at(base, thr), load=load, notes=tuple(dict.fromkeys(base.notes + load.notes)))


def _cost_at(base: Estimate, thr: Throughput) -> Cost:
    """$ per token at what the rate delivers: every GPU is paid for, busy or not. Input and output tokens share
    the cost as the engine's iterations do at this concurrency (the marginal time of the prompt tokens)."""
    price = base.scenario.accelerator.price_usd_per_hour
    if price is None:
        return base.cost
    usd_per_s = base.scenario.parallelism.gpus * price / 3600
    sv = base.serving
    prefill_share = sv.prefill_busy_s / sv.cycle_time_s if sv is not None and sv.cycle_time_s else 1.0
    has_output = thr.output_tokens_per_s > 0 and base.decode is not None
    tokens = thr.input_tokens_per_s + thr.output_tokens_per_s
    return Cost(
        usd_per_hour=base.cost.usd_per_hour,
        usd_per_million_output_tokens=(usd_per_s * (1 - prefill_share) / thr.output_tokens_per_s * 1e6
                                       if has_output else None),
        usd_per_million_input_tokens=(usd_per_s * prefill_share / thr.input_tokens_per_s * 1e6
                                      if thr.input_tokens_per_s > 0 else None),
        usd_per_million_tokens_blended=usd_per_s / tokens * 1e6 if tokens > 0 else None,
    )
