"""Capacity planning: the cheapest configurations that serve a demand within latency objectives.

Search space: accelerator type x precision (the ``Candidate`` base scenarios the caller builds) x replica size
x layout (tp, pp, ep) x batch, then replicas until the demand is met. Every latency, throughput and cost comes
from ``estimate()``; the search only decides which configurations to evaluate. Standard library only, no I/O.

Pruning keeps the default catalog search to a few thousand estimates:

* memory: a layout whose weights do not fit is dropped with one ``max_batch_for`` call, and the batch never
  exceeds the largest that fits;
* replica sizes: powers of two from the smallest that holds the weights up to ``replica_multiple`` x it (more
  GPUs per replica only add capacity that replicas add without communication);
* SLO monotonicity: time to first token and time per output token grow with the batch, so the largest batch
  meeting both is found by bisection;
* cost bounds: a configuration's cost per hour is at least (replicas it needs at its largest batch) x GPUs x
  price, and an accelerator's at least demand / (its FLOP bound) x price; configurations whose bound exceeds the
  N-th best cost found so far are skipped (not in Pareto mode, which needs the expensive fast ones too).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field, replace

from inferwall.units import number  # formatting only: standard library, no I/O

from .economics import BatchProbe, first_true, largest_batch, series_125
from .estimate import estimate, validate_layout
from .types import CoreError, Estimate, Parallelism, Scenario

MAX_REPLICA_GPUS = 1024


@dataclass(frozen=True)
class Demand:
    """Exactly one of the three."""

    output_tokens_per_s: float | None = None
    requests_per_s: float | None = None
    concurrent_users: int | None = None

    def validate(self) -> None:
        given = [v for v in (self.output_tokens_per_s, self.requests_per_s, self.concurrent_users) if v is not None]
        if len(given) != 1:
            raise CoreError("give exactly one demand: output tokens/s, requests/s or concurrent users")
        if not given[0] > 0:
            raise CoreError(f"the demand must be > 0, got {given[0]:g}")

    def describe(self) -> str:
        if self.output_tokens_per_s is not None:
            return f"{self.output_tokens_per_s:,.6g} output tokens/s"
        if self.requests_per_s is not None:
            return f"{self.requests_per_s:,.6g} requests/s"
        return f"{self.concurrent_users:,} concurrent users"


@dataclass(frozen=True)
class Objectives:
    max_ttft_s: float | None = None
    max_tpot_s: float | None = None
    max_gpus: int | None = None
    # issue 12: percentile objectives under a request rate, as (key, seconds): ("ttft_p99_s", 2.0)
    percentiles: tuple[tuple[str, float], ...] = ()

    def load_objectives(self) -> dict[str, float]:
        """The objectives as ``queueing.max_rate_meeting`` keys; plain --max-ttft/--max-tpot are the means."""
        out = dict(self.percentiles)
        if self.max_ttft_s is not None:
            out.setdefault("ttft_mean_s", self.max_ttft_s)
        if self.max_tpot_s is not None:
            out.setdefault("tpot_mean_s", self.max_tpot_s)
        return out

    def met(self, est: Estimate) -> bool:
        tpot = est.latency.tpot_s  # None without a decode step (encoders): nothing for --max-tpot to bound
        return ((self.max_ttft_s is None or est.latency.ttft_s <= self.max_ttft_s)
                and (self.max_tpot_s is None or tpot is None or tpot <= self.max_tpot_s))

    def violated(self, est: Estimate) -> str:
        """The objective ``est`` breaks, tpot first (the usual one)."""
        if self.max_tpot_s is not None and (est.latency.tpot_s or 0.0) > self.max_tpot_s:
            return "max-tpot"
        if self.max_ttft_s is not None and est.latency.ttft_s > self.max_ttft_s:
            return "max-ttft"
        return ""


@dataclass(frozen=True)
class Candidate:
    """A base scenario for one accelerator and precision; its layout and batch are searched."""

    scenario: Scenario
    compute_explicit: bool = False
    precision: str = ""  # the user's label for this precision choice (e.g. "bf16", "fp8")


@dataclass(frozen=True)
class SearchOptions:
    top: int = 5
    pareto: bool = False
    replica_multiple: int = 4  # replica sizes from the smallest that fits up to this multiple of it
    disaggregate: bool = False  # also search disaggregated prefill/decode pools (``disagg.py``)


@dataclass(frozen=True)
class PlanConfig:
    gpu: str
    precision: str
    weights_dtype: str
    kv_dtype: str
    compute_dtype: str
    tp: int
    pp: int
    ep: int
    gpus_per_replica: int
    replicas: int
    gpus: int
    batch: int  # per replica, the operating point
    batch_limit: int  # the largest batch per replica meeting every objective and fitting in memory
    batch_limited_by: str  # memory | max-tpot | max-ttft
    binds: str  # what sets the cost: the batch limit (memory, max-tpot, max-ttft), "demand" (one replica with room
    # to spare) or, on the Pareto frontier, "chosen batch" (a batch below the limit, picked for speed)
    ttft_s: float
    tpot_s: float | None  # None without a decode step (encoders)
    user_tokens_per_s: float | None
    output_tokens_per_s: float  # all replicas
    requests_per_s: float
    usd_per_hour: float
    usd_per_million_output_tokens: float | None
    usd_per_million_tokens_blended: float | None
    utilization: float
    decode_bound: str
    estimate: Estimate = field(repr=False, compare=False)
    mode: str = "aggregated"  # aggregated | disaggregated
    prefill_instances: int = 0  # disaggregated: prefill instances and their layout; tp/pp/ep are the decode layout
    decode_instances: int = 0
    prefill_layout: str = ""
    decode_layout: str = ""


@dataclass(frozen=True)
class PlanResult:
    configs: tuple[PlanConfig, ...]  # top-N by cost per hour, or the Pareto frontier (fastest first)
    evaluated_layouts: int
    evaluations: int  # estimate() calls
    skipped: tuple[tuple[str, str], ...]  # (gpu, why) pruned before evaluation
    infeasible: dict[str, int]  # why layouts failed -> how many
    summary: str
    best_by_mode: tuple[tuple[str, PlanConfig | None], ...] = ()  # with --disaggregate: the cheapest of each mode


def _layouts(s: Scenario, n: int) -> list[Parallelism]:
    """tp x pp = n with tp a power of two inside the scale-up domain; ep = 1, and ep = tp for MoE when valid."""
    out = []
    domain = max(s.accelerator.scale_up_domain, 1)
    tp = 1
    while tp <= n:
        if n % tp == 0 and tp <= domain:
            for ep in ([1, tp] if s.model.moe is not None and tp > 1 else [1]):
                par = Parallelism(tp=tp, pp=n // tp, dp=1, ep=ep)
                try:
                    validate_layout(s.model, par)
                except CoreError:
                    continue
                out.append(par)
        tp *= 2
    return out


def _with(s: Scenario, par: Parallelism, batch: int = 1) -> Scenario:
    return replace(s, parallelism=par, workload=replace(s.workload, batch=batch))


class _Search:
    def __init__(self, demand: Demand, slo: Objectives, opts: SearchOptions):
        self.demand, self.slo, self.opts = demand, slo, opts
        self.best: list[tuple[float, float, float, int, PlanConfig]] = []  # max-heap via negation
        self.points: list[PlanConfig] = []
        self.layouts = 0
        self.infeasible: dict[str, int] = {}
        self.serial = 0
        self.mode_best: dict[str, PlanConfig] = {}

    # ---- demand bookkeeping
    def capacity(self, est: Estimate) -> float:
        """What one replica serves, in the unit of the demand."""
        d = self.demand
        if d.output_tokens_per_s is not None:
            return est.throughput.output_tokens_per_s
        if d.requests_per_s is not None:
            return est.throughput.requests_per_s
        return float(est.scenario.workload.batch)

    def target(self) -> float:
        d = self.demand
        return float(d.output_tokens_per_s or d.requests_per_s or d.concurrent_users)

    def replicas_for(self, cap: float) -> int:
        """The fewest replicas whose capacity meets the demand (0: a replica serves nothing)."""
        if cap <= 0:
            return 0
        r = max(1, math.ceil(self.target() / cap))
        return r - 1 if r > 1 and (r - 1) * cap >= self.target() else r

    def cutoff(self) -> float:
        """Cost per hour a configuration must not exceed to enter the top N."""
        if self.opts.pareto or len(self.best) < self.opts.top:
            return math.inf
        return -self.best[0][0]

    def fail(self, why: str) -> None:
        self.infeasible[why] = self.infeasible.get(why, 0) + 1

    # ---- one layout
    def layout(self, cand: Candidate, probe: BatchProbe, par: Parallelism, price: float) -> None:
        self.layouts += 1
        mb = probe.max_batch
        top = probe.at(mb)
        n = par.gpus_per_replica
        lower = self.replicas_for(self.capacity(top)) * n * price
        if lower > self.cutoff():
            self.fail("costlier than the top N")
            return
        limit = largest_batch(probe, self.slo.met, mb)
        if limit == 0:
            self.fail(self.slo.violated(probe.at(1)) + " at batch 1")
            return
        limited_by = "memory" if limit == mb else (self.slo.violated(probe.at(limit + 1)) or "objectives")
        at_limit = probe.at(limit)
        reps = self.replicas_for(self.capacity(at_limit))
        if self.slo.max_gpus is not None and reps * n > self.slo.max_gpus:
            self.fail("max-gpus")
            return
        if self.opts.pareto:
            for b in sorted(set(series_125(limit))):
                est = probe.at(b)
                r = self.replicas_for(self.capacity(est))
                if self.slo.max_gpus is None or r * n <= self.slo.max_gpus:
                    self.points.append(self.config(cand, par, probe, b, r, limit, limited_by, chosen=True))
            return
        if reps * n * price > self.cutoff():
            self.fail("costlier than the top N")
            return
        # Same replicas, smallest batch that still meets the demand: same cost, lower latency.
        if self.demand.concurrent_users is not None:
            batch = math.ceil(self.demand.concurrent_users / reps)
        else:
            batch = _smallest_meeting(probe, lambda e: reps * self.capacity(e) >= self.target(), limit)
        if not self.slo.met(probe.at(batch)):  # the objectives are monotone in the batch; guard the rare step
            batch = limit
        cfg = self.config(cand, par, probe, batch, reps, limit, limited_by)
        self.offer(cfg)

    def offer(self, cfg: PlanConfig) -> None:
        """A configuration meeting the demand and the objectives, into the top N."""
        best = self.mode_best.get(cfg.mode)
        if best is None or cfg.usd_per_hour < best.usd_per_hour:
            self.mode_best[cfg.mode] = cfg
        key = (cfg.usd_per_hour, cfg.usd_per_million_output_tokens or 0.0, cfg.tpot_s or 0.0)
        self.serial += 1
        item = (-key[0], -key[1], -key[2], -self.serial, cfg)
        if len(self.best) < self.opts.top:
            heapq.heappush(self.best, item)
        elif item > self.best[0]:
            heapq.heapreplace(self.best, item)

    def config(self, cand: Candidate, par: Parallelism, probe: BatchProbe, batch: int, reps: int, limit: int,
               limited_by: str, chosen: bool = False) -> PlanConfig:
        """``chosen``: a Pareto point whose batch was picked for speed, so only its own limit can bind."""
        one = probe.at(batch)
        s = one.scenario
        est = _fleet(one, reps)
        if chosen:
            binds = limited_by if batch >= limit else "chosen batch"
        else:
            binds = limited_by if reps > 1 or batch >= limit else "demand"
        return PlanConfig(
            gpu=s.accelerator.id, precision=cand.precision, weights_dtype=s.precision.weights, kv_dtype=s.precision.kv,
            compute_dtype=s.precision.compute, tp=par.tp, pp=par.pp, ep=par.ep, gpus_per_replica=par.gpus_per_replica,
            replicas=reps, gpus=reps * par.gpus_per_replica, batch=batch, batch_limit=limit,
            batch_limited_by=limited_by, binds=binds, ttft_s=est.latency.ttft_s, tpot_s=est.latency.tpot_s,
            user_tokens_per_s=1.0 / est.latency.tpot_s if est.latency.tpot_s else None,
            output_tokens_per_s=est.throughput.output_tokens_per_s, requests_per_s=est.throughput.requests_per_s,
            usd_per_hour=est.cost.usd_per_hour, usd_per_million_output_tokens=est.cost.usd_per_million_output_tokens,
            usd_per_million_tokens_blended=est.cost.usd_per_million_tokens_blended,
            utilization=(est.decode or est.prefill).utilization, decode_bound=(est.decode or est.prefill).bound,
            estimate=est,
        )


def _smallest_meeting(probe: BatchProbe, ok, limit: int) -> int:
    """Smallest batch in (0, limit] meeting ``ok``, given that ``limit`` does."""
    return first_true(0, limit, lambda b: ok(probe.at(b)))


def _fleet(est: Estimate, replicas: int) -> Estimate:
    """The estimate with ``replicas`` replicas: re-run through estimate() so every fleet number is its own."""
    if replicas == est.scenario.parallelism.dp:
        return est
    s = est.scenario
    return estimate(replace(s, parallelism=replace(s.parallelism, dp=replicas)))


def _flop_floor_usd_per_hour(demand: Demand, probe: BatchProbe, price: float) -> float:
    """A lower bound on any configuration's cost per hour on this accelerator: demand / (per-GPU FLOP bound)."""
    one = probe.at(1)
    w = one.scenario.workload
    if w.output_tokens < 2 or demand.concurrent_users is not None:
        return price  # at least one GPU
    per_gpu = one.bounds.compute_forward_passes_per_s / one.scenario.parallelism.gpus_per_replica
    # (T - 1) of every T output tokens come from decode steps of >= 2 x matmul-params FLOPs each.
    max_out = per_gpu * w.output_tokens / (w.output_tokens - 1)
    need = demand.output_tokens_per_s if demand.output_tokens_per_s is not None else demand.requests_per_s * w.output_tokens
    return max(price, need / max_out * price)


def plan(candidates: list[Candidate], demand: Demand, slo: Objectives = Objectives(),
         opts: SearchOptions = SearchOptions()) -> PlanResult:
    """Search ``candidates`` for the cheapest configurations meeting ``demand`` within ``slo``."""
    demand.validate()
    if opts.top < 1:
        raise CoreError(f"top must be >= 1, got {opts.top}")
    if slo.max_gpus is not None and slo.max_gpus < 1:
        raise CoreError(f"max GPUs must be >= 1, got {slo.max_gpus}")
    if any(c.scenario.load is not None for c in candidates):
        from .load_planner import plan_under_load  # issue 12: sized with the queueing model

        return plan_under_load(candidates, demand, slo, opts)
    search = _Search(demand, slo, opts)
    skipped: list[tuple[str, str]] = []
    evaluations = 0
    ranked = []
    for cand in candidates:
        s = cand.scenario
        price = s.accelerator.price_usd_per_hour
        if price is None:
            skipped.append((s.accelerator.id, "no price"))
            continue
        base = BatchProbe(_with(s, Parallelism()), cand.compute_explicit)
        floor = _flop_floor_usd_per_hour(demand, base, price)
        evaluations += base.evaluations
        ranked.append((floor, len(ranked), cand, price))
    ranked.sort(key=lambda item: (item[0], item[1]))
    cap = min(MAX_REPLICA_GPUS, slo.max_gpus or MAX_REPLICA_GPUS)
    for floor, _, cand, price in ranked:
        if floor > search.cutoff():
            skipped.append((cand.scenario.accelerator.id, "costlier than the top N even at its FLOP bound"))
            continue
        s = cand.scenario
        probes: dict[int, list[tuple[Parallelism, BatchProbe]]] = {}
        searched_sizes: list[int] = []
        n, first = 1, None
        while n <= cap:  # the smallest power-of-two replica that holds the weights
            probes[n] = [(par, BatchProbe(_with(s, par), cand.compute_explicit)) for par in _layouts(s, n)]
            if any(p.max_batch >= 1 for _, p in probes[n]):
                first = n
                break
            n *= 2
        if first is None:
            search.fail(f"weights do not fit in {cap} GPUs")
            continue
        n = first
        while n <= min(cap, first * opts.replica_multiple):
            if n not in probes:
                probes[n] = [(par, BatchProbe(_with(s, par), cand.compute_explicit)) for par in _layouts(s, n)]
            for par, probe in probes[n]:
                if probe.max_batch >= 1:
                    search.layout(cand, probe, par, price)
                    evaluations += probe.evaluations
            searched_sizes.append(n)
            n *= 2
        if opts.disaggregate and not opts.pareto:
            layouts = [(par, probe) for size in searched_sizes for par, probe in probes[size] if probe.max_batch >= 1]
            evaluations += _disaggregated(search, cand, layouts, price)
    if opts.pareto:
        configs = _frontier(search.points)
    else:
        configs = tuple(item[-1] for item in sorted(search.best, reverse=True))
    modes = (("aggregated", search.mode_best.get("aggregated")), ("disaggregated", search.mode_best.get("disaggregated")))
    result = PlanResult(configs=configs, evaluated_layouts=search.layouts, evaluations=evaluations,
                        skipped=tuple(skipped), infeasible=dict(search.infeasible), summary="",
                        best_by_mode=modes if opts.disaggregate else ())
    return replace(result, summary=_summary(result, demand, opts))


def _frontier(points: list[PlanConfig]) -> tuple[PlanConfig, ...]:
    """Points no other point beats on both per-user speed and cost per output token; fastest first."""
    pts = sorted(points, key=lambda c: (-(c.user_tokens_per_s or math.inf), c.usd_per_million_output_tokens or math.inf,
                                        c.usd_per_hour))
    out: list[PlanConfig] = []
    best = math.inf
    for c in pts:
        cost = c.usd_per_million_output_tokens if c.usd_per_million_output_tokens is not None else math.inf
        if cost < best:
            out.append(c)
            best = cost
    return tuple(out)


def _summary(r: PlanResult, demand: Demand, opts: SearchOptions) -> str:
    if not r.configs:
        why = ", ".join(f"{k} ({v})" for k, v in sorted(r.infeasible.items(), key=lambda kv: -kv[1])) or "no candidates"
        return f"No configuration serves {demand.describe()} within the objectives; layouts failed on: {why}."
    c = r.configs[0]
    layout = f"tp={c.tp} pp={c.pp}" + (f" ep={c.ep}" if c.ep > 1 else "")
    if opts.pareto and (c.user_tokens_per_s is None or r.configs[-1].user_tokens_per_s is None):  # no decode step
        return (f"Pareto frontier of per-user speed against cost per token: no decode step (one output token, or "
                f"an encoder), so per-user speed does not apply; {len(r.configs)} point(s), the first at "
                f"${c.usd_per_hour:,.2f}/h.")
    if opts.pareto:
        return (f"Pareto frontier of per-user speed against cost per token: {len(r.configs)} points, from "
                f"{number(c.user_tokens_per_s)} tokens/s per user at ${number(c.usd_per_million_output_tokens)}/M to "
                f"{number(r.configs[-1].user_tokens_per_s)} at ${number(r.configs[-1].usd_per_million_output_tokens)}/M.")
    if c.mode == "disaggregated":
        head = (f"Cheapest for {demand.describe()}: disaggregated {c.prefill_instances} prefill x ({c.prefill_layout}) "
                f"+ {c.decode_instances} decode x ({c.decode_layout}) {c.gpu} ({c.precision}) at batch {c.batch} per "
                f"decode instance, ${c.usd_per_hour:,.2f}/h; {c.binds} binds.")
    else:
        head = (f"Cheapest for {demand.describe()}: {c.replicas} x {c.gpus_per_replica} {c.gpu} ({layout}, "
                f"{c.precision}) at batch {c.batch}, ${c.usd_per_hour:,.2f}/h; {c.binds} binds "
                f"(batch limit {c.batch_limit:,}, set by {c.batch_limited_by}).")
    if r.best_by_mode:
        best = dict(r.best_by_mode)
        agg, dis = best.get("aggregated"), best.get("disaggregated")
        if agg is not None and dis is not None:
            win, lose = (agg, dis) if agg.usd_per_hour <= dis.usd_per_hour else (dis, agg)
            head += (f" {win.mode.capitalize()} wins at these objectives: ${win.usd_per_hour:,.2f}/h against "
                     f"${lose.usd_per_hour:,.2f}/h for the cheapest {lose.mode} configuration.")
        elif agg is not None or dis is not None:
            only = agg or dis
            other = "disaggregated" if only is agg else "aggregated"
            head += f" No {other} configuration meets the objectives; {only.mode} wins."
    return head


# --------------------------------------------------------------------------- disaggregated pools


def _demand_rate(search: _Search, s: Scenario, decode_rate_per_slot: float) -> float:
    """The demand in requests per second (concurrent users complete decode_rate_per_slot requests/s each)."""
    d = search.demand
    if d.requests_per_s is not None:
        return d.requests_per_s
    if d.output_tokens_per_s is not None:
        return d.output_tokens_per_s / max(s.workload.output_tokens, 1)
    return d.concurrent_users * decode_rate_per_slot


def _disaggregated(search: _Search, cand: Candidate, layouts: list[tuple[Parallelism, BatchProbe]],
                   price: float) -> int:
    """The cheapest disaggregated configuration of this accelerator and precision: for each decode layout the largest
    batch meeting the TPOT objective and the instances the demand needs; for each prefill layout the fewest
    instances whose time to first token (at their share of the rate) meets the TTFT objective; the cheapest pairs
    are then estimated whole. Returns the estimates it ran."""
    from . import disagg
    from .estimate import prepare, running_requests
    from .types import Disaggregation

    s = cand.scenario
    w = s.workload
    if s.model.encoder or w.output_tokens < 2 or not layouts:
        return 0
    slo = search.slo
    evaluations = 0
    decode_options = []  # (cost per hour, layout, batch, instances, limit, limited_by)
    for par, probe in layouts:
        sd, _ = prepare(_with(s, par, 1), cand.compute_explicit)
        cap = running_requests(replace(sd, workload=replace(sd.workload, batch=1 << 24)))[0] \
            if sd.engine.batching == "continuous" else probe.max_batch
        top = max(min(probe.max_batch, cap), 1)

        def tpot_ok(n: int, sd=sd) -> bool:
            return slo.max_tpot_s is None or disagg.decode_side(sd, n).tpot_s <= slo.max_tpot_s

        if not tpot_ok(1):
            continue
        limit = top if tpot_ok(top) else first_true(1, top, lambda n: not tpot_ok(n)) - 1
        side = disagg.decode_side(sd, limit)
        rate = _demand_rate(search, s, side.requests_per_s / max(limit * par.dp, 1))
        y = max(1, math.ceil(rate / side.requests_per_s * (1 - 1e-9))) if side.requests_per_s > 0 else 0
        if not y:
            continue
        if search.demand.concurrent_users is not None:
            y = max(y, math.ceil(search.demand.concurrent_users / (limit * par.dp)))
        decode_options.append((y * par.gpus * price, par, limit, y, rate, "memory" if limit == top else "max-tpot"))
    if not decode_options:
        search.fail("disaggregated: max-tpot at batch 1")
        return evaluations
    decode_options.sort(key=lambda o: o[0])
    prefill_options = []  # (cost per hour, layout, instances) for the cheapest decode option's rate
    rate = decode_options[0][4]
    for par, probe in layouts:
        sp, _ = prepare(replace(_with(s, par, 1), speculative=None, workload=replace(w, output_tokens=1, batch=1)),
                        cand.compute_explicit)
        pre = BatchProbe(sp, cand.compute_explicit)
        single = pre.at(1)
        if slo.max_ttft_s is not None and single.latency.ttft_s > slo.max_ttft_s:
            continue
        most = running_requests(replace(sp, workload=replace(sp.workload, batch=1 << 24)))[0] \
            if sp.engine.batching == "continuous" else max(pre.max_batch, 1)
        capacity = pre.at(most).throughput.requests_per_s
        x = max(1, math.ceil(rate / capacity)) if capacity > 0 else 0
        if not x:
            continue

        def ttft_at(instances: int, pre=pre, most=most) -> float:
            share = rate / instances
            if pre.at(most).throughput.requests_per_s < share:
                return math.inf
            n = 1 if pre.at(1).throughput.requests_per_s >= share else first_true(
                1, most, lambda k: pre.at(k).throughput.requests_per_s >= share)
            return pre.at(n).latency.ttft_s

        if slo.max_ttft_s is not None:
            bound = max(x, math.ceil(rate / max(single.throughput.requests_per_s, 1e-12)))
            if ttft_at(bound) > slo.max_ttft_s:
                continue
            if ttft_at(x) > slo.max_ttft_s:
                x = first_true(x, bound, lambda k: ttft_at(k) <= slo.max_ttft_s)
        evaluations += pre.evaluations
        prefill_options.append((x * par.gpus * price, par, x))
    if not prefill_options:
        search.fail("disaggregated: max-ttft in the prefill pool")
        return evaluations
    prefill_options.sort(key=lambda o: o[0])
    tried = 0
    for _, dpar, batch, y, _, limited_by in decode_options[:3]:
        for _, ppar, x in prefill_options[:3]:
            for extra in range(3):  # the whole estimate may need one more prefill instance (transfer, rounding)
                scen = replace(_with(s, dpar, batch),
                               disaggregation=Disaggregation(x + extra, y, ppar, dpar))
                try:
                    est = estimate(scen, cand.compute_explicit)
                except CoreError:
                    break
                tried += 1
                if not slo.met(est):
                    if slo.violated(est) == "max-tpot":
                        break
                    continue
                served = (batch * y * dpar.dp if search.demand.concurrent_users is not None
                          else search.capacity(est))
                if served < search.target() * (1 - 1e-9):
                    continue
                if slo.max_gpus is not None and est.disaggregation.gpus > slo.max_gpus:
                    search.fail("max-gpus")
                    break
                search.offer(_disaggregated_config(cand, est, batch, limited_by))
                break
    return evaluations + tried


def _disaggregated_config(cand: Candidate, est: Estimate, batch: int, limited_by: str) -> PlanConfig:
    s = est.scenario
    d, report = s.disaggregation, est.disaggregation
    par = d.decode
    return PlanConfig(
        gpu=s.accelerator.id, precision=cand.precision, weights_dtype=s.precision.weights, kv_dtype=s.precision.kv,
        compute_dtype=s.precision.compute, tp=par.tp, pp=par.pp, ep=par.ep, gpus_per_replica=par.gpus_per_replica,
        replicas=d.decode_instances, gpus=d.gpus, batch=batch, batch_limit=batch, batch_limited_by=limited_by,
        binds=f"{report.limited_by} pool", ttft_s=est.latency.ttft_s, tpot_s=est.latency.tpot_s,
        user_tokens_per_s=1.0 / est.latency.tpot_s if est.latency.tpot_s else None,
        output_tokens_per_s=est.throughput.output_tokens_per_s, requests_per_s=est.throughput.requests_per_s,
        usd_per_hour=est.cost.usd_per_hour, usd_per_million_output_tokens=est.cost.usd_per_million_output_tokens,
        usd_per_million_tokens_blended=est.cost.usd_per_million_tokens_blended,
        utilization=est.decode.utilization, decode_bound=est.decode.bound, estimate=est, mode="disaggregated",
        prefill_instances=d.prefill_instances, decode_instances=d.decode_instances,
        prefill_layout=report.prefill_layout, decode_layout=report.decode_layout)
