"""Capacity planning under a request rate (issue 12): replicas sized with the queueing model.

``planner.plan`` hands over here when its candidates carry a ``LoadSpec`` (a request-rate demand). The search
space is the planner's (accelerator x precision x replica size x layout), but there is no batch to choose: the
engine runs what arrives. For each layout the question is the fewest replicas k that keep every objective
(TTFT, TPOT and end-to-end percentiles or means, from ``queueing.solve_load``) at R / k requests per second each:

* k0 = floor(R / saturation rate) + 1 is the fewest that keep each replica's queue bounded;
* latencies grow with the rate (the property ``queueing.max_rate_meeting`` bisects on), so whether k works is
  monotone in k: the search tries k0, doubles until a count works, then bisects between the last failing and the
  first working count. It searches the whole number of replicas directly rather than the rate to a tolerance.

Best-first, so few layouts are solved in full. Every layout starts with a cheap upper bound on the rate a replica
sustains (its decoders at the engine's cap and its prompt tokens at the token budget, each at the cost model's
per-token time there), hence a lower bound on its cost; popped, the bound is refined with the exact saturation
rate; each later pop is one solve at the next count, and the bound is the fewest replicas not yet excluded. Once
N configurations are found, every layout whose bound reaches the N-th cost is left (among equal costs the
first found stays). Standard library only.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, replace

from inferwall.units import number  # formatting only: standard library, no I/O

from .estimate import estimate, prepare
from .load import IterationTable, engine_limits
from .memory import max_batch_for
from .planner import MAX_REPLICA_GPUS, Candidate, Demand, Objectives, PlanConfig, PlanResult, SearchOptions, _layouts
from .queueing import LoadResult, Traffic, saturation_request_rate, solve_load
from .types import CoreError, Parallelism

RATE_BOUND_MARGIN = 1.05  # the cheap bound assumes per-token time falls with the batch; tile steps bend that a little

_LABELS = {"ttft": "max-ttft", "tpot": "max-tpot", "e2e": "max-e2e"}


def objective_label(key: str) -> str:
    """``ttft_p99_s`` -> ``max-ttft p99``; ``tpot_mean_s`` -> ``max-tpot``."""
    name, q, _ = key.split("_")
    return _LABELS[name] + ("" if q == "mean" else f" {q}")


def _violated(result: LoadResult, objectives: dict[str, float]) -> str:
    """The first objective ``result`` breaks (saturation first), or ''."""
    if result.saturated:
        return f"saturation ({result.limited_by})"
    for key, limit in objectives.items():
        name, q, _ = key.split("_")
        value = getattr(result, name)
        if value is not None and getattr(value, q) > limit:
            return objective_label(key)
    return ""


class _Layout:
    """One candidate layout (one replica), its cost model table and engine limits, sized lazily."""

    def __init__(self, cand: Candidate, par: Parallelism, price: float):
        s = cand.scenario
        self.cand, self.par, self.price = cand, par, price
        self.spec = s.load
        self.scenario, _ = prepare(replace(s, parallelism=par, load=None), cand.compute_explicit)
        self.fits = max_batch_for(self.scenario) >= 1
        self.traffic = Traffic(self.spec.arrivals.at_rate(1.0), self.spec.input_lengths, self.spec.output_lengths)
        self.table: IterationTable | None = None
        self.limits = None
        self.saturation: float | None = None
        self.limited_by = ""

    def prepare_model(self) -> None:
        if self.table is None:
            self.table = IterationTable(self.scenario, self.traffic)
            self.limits = engine_limits(self.scenario, self.traffic)

    def holds_longest(self) -> bool:
        s_len, t_len = self.traffic.input_lengths, self.traffic.output_lengths
        return s_len.high + t_len.high <= self.limits.kv_capacity_tokens

    def rate_bound(self) -> float:
        """An upper bound on the requests per second one replica sustains (cheap: two iterations)."""
        self.prepare_model()
        table, limits = self.table, self.limits
        s_len, t_len = self.traffic.input_lengths, self.traffic.output_lengths
        bounds = []
        if t_len.mean > 1:
            most = max(1, min(limits.running_cap, limits.kv_capacity_tokens // max(1, s_len.low + t_len.low)))
            step = table(most, most * table.context_per_decoder, 0, 0)
            bounds.append(most / step / (t_len.mean - 1))
        budget = limits.max_tokens_per_iteration
        if budget < (1 << 30):
            step = table(0, 0.0, budget, budget * table.span_per_token)
            bounds.append(budget / step / s_len.mean)
        return RATE_BOUND_MARGIN * min(bounds) if bounds else math.inf

    def exact_saturation(self) -> float:
        if self.saturation is None:
            self.saturation, self.limited_by = saturation_request_rate(self.table, self.limits, self.traffic)
        return self.saturation

    def solve(self, rate: float) -> LoadResult:
        return solve_load(self.table, self.limits, self.traffic.at_rate(rate))

    # -- the replica count: the smallest k >= k0 (the fewest that keep the queue bounded) at which demand / k
    # meets every objective. Latencies grow with the rate, so whether k works is monotone in k: the search
    # doubles from k0 until one works, then bisects, one solve per step, each step a pop of the best-first
    # search so a layout is only refined while its lower bound is competitive.

    def start(self, demand: float) -> int:
        self.lo = math.floor(demand / self.exact_saturation())  # the most replicas known to fail (saturated)
        self.lo_why = f"saturation ({self.limited_by})"
        self.hi: tuple[int, LoadResult] | None = None  # the fewest known to work
        return self.lo + 1

    def next_count(self) -> int | None:
        """The replica count to try next, or None when the search has converged (``hi`` is the answer)."""
        if self.hi is not None:
            return None if self.hi[0] == self.lo + 1 else (self.lo + self.hi[0]) // 2
        return max(self.lo + 1, 2 * self.lo)

    def step(self, demand: float, objectives: dict[str, float], count: int) -> str:
        """Try ``count`` replicas; returns '' or why no count can work."""
        result = self.solve(demand / count)
        why = _violated(result, objectives)
        if not why:
            self.hi = (count, result)
            return ""
        self.lo, self.lo_why = count, why
        if demand / count < self.exact_saturation() * 1e-4:  # nearly idle replicas and still failing
            return _violated(self.solve(self.exact_saturation() * 1e-6), objectives) + " at any rate"
        return ""

    @property
    def binds(self) -> str:
        count = self.hi[0]
        if count == 1:
            return "demand"
        return self.lo_why


@dataclass(order=True)
class _Item:
    bound: float
    serial: int
    stage: int  # 0: the cheap rate bound; else the replica count to try next (the bound: the fewest not yet excluded)
    layout: _Layout = None  # type: ignore[assignment]


def plan_under_load(candidates: list[Candidate], demand: Demand, slo: Objectives = Objectives(),
                    opts: SearchOptions = SearchOptions()) -> PlanResult:
    """The cheapest configurations serving ``demand.requests_per_s`` within ``slo`` (module docstring)."""
    demand.validate()
    if demand.requests_per_s is None:
        raise CoreError("sizing with the queueing model needs a request-rate demand")
    if opts.pareto:
        raise CoreError("--pareto lists configurations against the batch; with a request rate the replicas follow "
                        "from the objectives instead: drop --pareto, or give --output-tokens-per-s without "
                        "percentile objectives")
    if opts.top < 1:
        raise CoreError(f"top must be >= 1, got {opts.top}")
    rate = demand.requests_per_s
    objectives = slo.load_objectives()
    cap = min(MAX_REPLICA_GPUS, slo.max_gpus or MAX_REPLICA_GPUS)
    skipped: list[tuple[str, str]] = []
    infeasible: dict[str, int] = {}

    def fail(why: str) -> None:
        infeasible[why] = infeasible.get(why, 0) + 1

    heap: list[_Item] = []
    serial = 0
    layouts = 0
    for cand in candidates:
        s = cand.scenario
        price = s.accelerator.price_usd_per_hour
        if price is None:
            skipped.append((s.accelerator.id, "no price"))
            continue
        n, first = 1, None
        found: list[_Layout] = []
        while n <= cap and first is None:  # the smallest power-of-two replica that holds the weights
            here = [_Layout(cand, par, price) for par in _layouts(s, n)]
            if any(lay.fits for lay in here):
                first = n
                found += here
            n *= 2
        if first is None:
            fail(f"weights do not fit in {cap} GPUs")
            continue
        n = first * 2
        while n <= min(cap, first * opts.replica_multiple):
            found += [_Layout(cand, par, price) for par in _layouts(s, n)]
            n *= 2
        for lay in found:
            if not lay.fits:
                continue
            layouts += 1
            lay.prepare_model()
            if not lay.holds_longest():
                fail("the KV cache cannot hold the longest request")
                continue
            bound = lay.rate_bound()
            fewest = math.floor(rate / bound) + 1 if math.isfinite(bound) else 1
            serial += 1
            heapq.heappush(heap, _Item(fewest * lay.par.gpus_per_replica * price, serial, 0, lay))

    best: list[tuple[float, int, _Layout]] = []  # (usd/hour, serial, layout) cheapest first
    solves = pruned = 0
    while heap:
        item = heapq.heappop(heap)
        if len(best) >= opts.top and item.bound >= best[opts.top - 1][0]:
            pruned += 1 + len(heap)
            break
        lay = item.layout
        n = lay.par.gpus_per_replica
        if item.stage == 0:  # refine the bound with the exact saturation rate
            count = lay.start(rate)
        else:
            solves += 1
            why = lay.step(rate, objectives, item.stage)
            if why:
                fail(why)
                continue
            count = lay.next_count()
            if count is None:  # converged: the fewest replicas meeting every objective
                replicas = lay.hi[0]
                if slo.max_gpus is not None and replicas * n > slo.max_gpus:
                    fail("max-gpus")
                    continue
                best.append((replicas * n * lay.price, item.serial, lay))
                # equal cost: the lower latency first (every configuration delivers the same requests)
                best.sort(key=lambda b: (b[0], b[2].hi[1].tpot.mean if b[2].hi[1].tpot else 0.0,
                                         b[2].hi[1].ttft.mean, b[1]))
                continue
        if slo.max_gpus is not None and (lay.lo + 1) * n > slo.max_gpus:
            fail("max-gpus")
            continue
        serial += 1
        heapq.heappush(heap, _Item((lay.lo + 1) * n * lay.price, serial, count, lay))
    configs = tuple(_config(lay, lay.hi[0], lay.binds) for _, _, lay in best[:opts.top])
    result = PlanResult(configs=configs, evaluated_layouts=layouts, evaluations=solves, skipped=tuple(skipped),
                        infeasible=infeasible, summary="")
    return replace(result, summary=_summary(result, demand, pruned))


def _config(lay: _Layout, replicas: int, binds: str) -> PlanConfig:
    """The configuration with ``replicas`` replicas, re-run through ``estimate()`` at the demand."""
    cand, par = lay.cand, lay.par
    est = estimate(replace(cand.scenario, parallelism=replace(par, dp=replicas)), cand.compute_explicit)
    s, load = est.scenario, est.load
    phase = est.decode or est.prefill
    return PlanConfig(
        gpu=s.accelerator.id, precision=cand.precision, weights_dtype=s.precision.weights, kv_dtype=s.precision.kv,
        compute_dtype=s.precision.compute, tp=par.tp, pp=par.pp, ep=par.ep, gpus_per_replica=par.gpus_per_replica,
        replicas=replicas, gpus=replicas * par.gpus_per_replica, batch=s.workload.batch,
        batch_limit=load.running_cap, batch_limited_by=f"load: {load.limited_by}", binds=binds,
        ttft_s=est.latency.ttft_s, tpot_s=est.latency.tpot_s,
        user_tokens_per_s=1.0 / est.latency.tpot_s if est.latency.tpot_s else None,
        output_tokens_per_s=est.throughput.output_tokens_per_s, requests_per_s=est.throughput.requests_per_s,
        usd_per_hour=est.cost.usd_per_hour, usd_per_million_output_tokens=est.cost.usd_per_million_output_tokens,
        usd_per_million_tokens_blended=est.cost.usd_per_million_tokens_blended, utilization=phase.utilization,
        decode_bound=phase.bound, estimate=est)


def _summary(r: PlanResult, demand: Demand, pruned: int) -> str:
    if not r.configs:
        why = ", ".join(f"{k} ({v})" for k, v in sorted(r.infeasible.items(), key=lambda kv: -kv[1])) or "no candidates"
        return f"No configuration serves {demand.describe()} within the objectives; layouts failed on: {why}."
    c = r.configs[0]
    load = c.estimate.load
    layout = f"tp={c.tp} pp={c.pp}" + (f" ep={c.ep}" if c.ep > 1 else "")
    return (f"Cheapest for {demand.describe()}: {c.replicas} x {c.gpus_per_replica} {c.gpu} ({layout}, {c.precision}), "
            f"{number(load.request_rate / load.replicas)} req/s per replica at {load.utilization * 100:.3g}% of its "
            f"saturation rate, ${c.usd_per_hour:,.2f}/h; {c.binds} binds (sized with the queueing model: "
            f"{r.evaluations} solves over {r.evaluated_layouts} layouts, {pruned} left by cost bounds).")
