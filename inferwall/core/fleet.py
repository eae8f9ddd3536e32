"""A fleet of accelerators over a day: tokens, the two bounds, users, energy and cost. Standard library only, no I/O.

The caller has already chosen, for every accelerator type and model, the serving configuration of one replica
(layout and batch, by ``planner.plan``) and estimated it (``estimate()``, ``dp = 1``): a ``Placement``. This module
only does the fleet's bookkeeping around those estimates, so every time, throughput and joule comes from the cost
model and nothing is computed twice:

* **Allocation.** A type's GPUs are split among the models it serves so that its requests follow the traffic
  shares: model m gets the share (s_m / r_m) / sum_k (s_k / r_k) of the GPUs, where r is requests/s per GPU of its
  placement. Whole replicas are then handed out, largest remainder first; GPUs left over serve nothing.
* **The day.** ``utilization`` is the share of the fleet's capacity in use, per equal slice of the day (one value:
  flat). In a slice at u, u of the replicas run at their operating point and the rest of the GPUs idle. Tokens per
  day scale with the mean; concurrent users at the peak use the largest value.
* **Bounds.** Per GPU, the FLOP bound is peak / (2 x matmul parameters per token) and the bandwidth bound is
  bandwidth / weight bytes (``Estimate.bounds``), times the GPUs each model is allotted (a type that serves none
  of the models within the objectives still has them: its GPUs split by traffic share). The estimate is placed
  between them by its output tokens/s at full capacity.
* **Users.** Concurrent users are the requests in flight (``Serving.running``) of every replica; the user base at N
  minutes a day is ``economics.user_base``: the concurrent users averaged over the day x 1440 / N.
* **Energy.** A busy replica draws what ``energy_of`` charges its tokens (J/token x tokens/s), an idle GPU
  ``idle_power_fraction`` x TDP; facility energy is device energy x PUE.
* **Cost.** Every GPU of the fleet is paid all day (busy or idle) at its $/GPU-hour, plus facility energy at the
  electricity price when one is given. Output tokens carry the decode share of a replica's time
  (``Serving.prefill_busy_s``), input tokens the prefill share, as in ``estimate()``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from .economics import user_base
from .energy import IDLE_POWER_FRACTION, energy_of
from .types import CoreError, Estimate

SECONDS_PER_DAY = 86400.0
JOULES_PER_MWH = 3.6e9


@dataclass(frozen=True)
class Placement:
    """One model on one accelerator type: the chosen serving configuration, as one replica's estimate."""

    model: str
    share: float  # of the requests, over the whole fleet
    replica: Estimate  # dp = 1, at the operating batch


@dataclass(frozen=True)
class ModelBounds:
    """A model's two bounds on one GPU of a type (``Estimate.bounds`` per GPU), whether or not the type can serve it
    within the objectives: the bounds are the hardware's."""

    model: str
    share: float
    flop_bound_per_gpu: float  # forward passes/s: peak / (2 x matmul parameters per token)
    bandwidth_bound_per_gpu: float  # forward passes/s: bandwidth / weight bytes


@dataclass(frozen=True)
class TypeInput:
    gpu: str
    count: int
    placements: tuple[Placement, ...]  # the models this type can serve (others are left out, with a reason)
    price_usd_per_gpu_hour: float | None
    tdp_w: float | None
    bounds: tuple[ModelBounds, ...] = ()  # of every model the type can run at all, for a type that serves none


@dataclass(frozen=True)
class Operation:
    """How the fleet runs over the day."""

    utilization: tuple[float, ...] = (1.0,)  # share of capacity in use, per equal slice of the day
    minutes_per_user_day: float = 10.0
    pue: float = 1.0
    electricity_usd_per_kwh: float | None = None
    idle_power_fraction: float = IDLE_POWER_FRACTION

    def validate(self) -> None:
        if not self.utilization or any(not (0.0 <= u <= 1.0) or u != u for u in self.utilization):
            raise CoreError("utilization: every value must be in [0, 1]")
        user_base(1, self.minutes_per_user_day)
        if not (self.pue >= 1.0 and math.isfinite(self.pue)):
            raise CoreError(f"PUE must be >= 1, got {self.pue:g}")
        if self.electricity_usd_per_kwh is not None and not self.electricity_usd_per_kwh >= 0:
            raise CoreError(f"the electricity price must be >= 0, got {self.electricity_usd_per_kwh:g}")

    @property
    def mean(self) -> float:
        return sum(self.utilization) / len(self.utilization)

    @property
    def peak(self) -> float:
        return max(self.utilization)


@dataclass(frozen=True)
class ModelServing:
    """A model's part of one accelerator type."""

    model: str
    share: float
    gpus_allotted: float  # the type's GPUs for this model before whole replicas (fractional)
    replicas: int
    gpus_per_replica: int
    gpus: int  # replicas x gpus_per_replica
    tp: int
    pp: int
    ep: int
    batch: int  # requests per replica at the operating point
    running: int  # of which in flight
    ttft_s: float
    tpot_s: float | None
    output_tokens_per_s: float  # at full capacity, all replicas
    input_tokens_per_s: float
    requests_per_s: float
    output_tokens_per_day: float
    input_tokens_per_day: float
    flop_bound_tokens_per_s: float  # the allotted GPUs at the FLOP bound
    bandwidth_bound_tokens_per_s: float
    replica: Estimate


@dataclass(frozen=True)
class Totals:
    """The quantities of a type, or of the whole fleet; ``None`` where an input is missing (a price, a TDP)."""

    gpus: int
    gpus_serving: int
    output_tokens_per_s: float
    input_tokens_per_s: float
    requests_per_s: float
    output_tokens_per_day: float
    input_tokens_per_day: float
    flop_bound_tokens_per_s: float | None
    bandwidth_bound_tokens_per_s: float | None
    fraction_of_flop_bound: float | None  # output tokens/s at capacity / the FLOP bound
    multiple_of_bandwidth_bound: float | None
    position_between_bounds: float | None  # 0 at the bandwidth bound, 1 at the FLOP bound, on a log scale
    concurrent_users_peak: float
    concurrent_users_mean: float
    user_base: float
    device_mwh_per_day: float | None
    facility_mwh_per_day: float | None
    tokens_per_mwh: float | None  # input and output tokens per facility MWh
    output_tokens_per_mwh: float | None
    gpu_usd_per_day: float | None
    electricity_usd_per_day: float | None
    usd_per_day: float | None
    usd_per_million_output_tokens: float | None
    usd_per_million_input_tokens: float | None
    usd_per_million_tokens_blended: float | None


@dataclass(frozen=True)
class TypeResult:
    gpu: str
    count: int
    price_usd_per_gpu_hour: float | None
    tdp_w: float | None
    models: tuple[ModelServing, ...]
    totals: Totals


@dataclass(frozen=True)
class FleetResult:
    types: tuple[TypeResult, ...]
    total: Totals
    operation: Operation


def _allot(count: int, placements: tuple[Placement, ...]) -> list[tuple[float, int]]:
    """(GPUs allotted, whole replicas) per placement: GPUs in proportion to the requests each model must serve per
    request/s of capacity, then whole replicas, largest remainder first."""
    if not placements:
        return []
    need = []
    for p in placements:
        n = p.replica.scenario.parallelism.gpus_per_replica
        per_gpu = p.replica.throughput.requests_per_s / n
        need.append(p.share / per_gpu if per_gpu > 0 else math.inf)
    total_need = sum(need)
    if not math.isfinite(total_need) or total_need <= 0:
        return [(0.0, 0) for _ in placements]
    gpus = [count * x / total_need for x in need]
    sizes = [p.replica.scenario.parallelism.gpus_per_replica for p in placements]
    replicas = [int(g // n) for g, n in zip(gpus, sizes)]
    left = count - sum(r * n for r, n in zip(replicas, sizes))
    while True:  # hand leftover GPUs to the model furthest below its allotment that still fits
        fits = [i for i, n in enumerate(sizes) if n <= left]
        if not fits:
            break
        i = max(fits, key=lambda k: (gpus[k] / sizes[k] - replicas[k], -k))
        if gpus[i] / sizes[i] - replicas[i] <= 0 and len(placements) > 1:
            break  # every model has its share: keep the rest idle rather than skew the mix
        replicas[i] += 1
        left -= sizes[i]
    return list(zip(gpus, replicas))


def _serving(p: Placement, allotted: float, replicas: int, op: Operation) -> ModelServing:
    e = p.replica
    par = e.scenario.parallelism
    n = par.gpus_per_replica
    day = op.mean * SECONDS_PER_DAY
    running = e.serving.running if e.serving is not None else e.scenario.workload.batch
    return ModelServing(
        model=p.model, share=p.share, gpus_allotted=allotted, replicas=replicas, gpus_per_replica=n,
        gpus=replicas * n, tp=par.tp, pp=par.pp, ep=par.ep, batch=e.scenario.workload.batch, running=running,
        ttft_s=e.latency.ttft_s, tpot_s=e.latency.tpot_s,
        output_tokens_per_s=replicas * e.throughput.output_tokens_per_s,
        input_tokens_per_s=replicas * e.throughput.input_tokens_per_s,
        requests_per_s=replicas * e.throughput.requests_per_s,
        output_tokens_per_day=replicas * e.throughput.output_tokens_per_s * day,
        input_tokens_per_day=replicas * e.throughput.input_tokens_per_s * day,
        flop_bound_tokens_per_s=allotted * e.bounds.compute_forward_passes_per_s / n,
        bandwidth_bound_tokens_per_s=allotted * e.bounds.memory_forward_passes_per_s / n,
        replica=e,
    )


@dataclass(frozen=True)
class _Sums:
    """Additive quantities of some ModelServings, with what a price or TDP adds."""

    gpus: int = 0
    serving: int = 0
    out_s: float = 0.0
    in_s: float = 0.0
    req_s: float = 0.0
    flop: float = 0.0
    band: float = 0.0
    users: float = 0.0  # concurrent at full capacity
    joules: float | None = 0.0  # per day, device
    usd: float | None = 0.0  # GPUs, per day
    usd_output: float | None = 0.0  # of which charged to output tokens, over the types that serve
    usd_unserved: float | None = 0.0  # of types that serve nothing: split between input and output like the rest


def _type_sums(t: TypeInput, models: list[ModelServing], op: Operation) -> _Sums:
    day = SECONDS_PER_DAY
    serving = sum(m.gpus for m in models)
    out_s = sum(m.output_tokens_per_s for m in models)
    in_s = sum(m.input_tokens_per_s for m in models)
    joules = usd = usd_output = None
    usd_unserved: float | None = 0.0
    if t.tdp_w is not None:
        busy = 0.0  # W of every serving replica at its operating point
        for m in models:
            en = energy_of(m.replica, op.idle_power_fraction)
            busy += ((en.joules_per_output_token or 0.0) * m.output_tokens_per_s
                     + (en.joules_per_input_token or 0.0) * m.input_tokens_per_s)
        idle_w = op.idle_power_fraction * t.tdp_w
        # In a slice at u: u of the serving GPUs busy, the rest of the type's GPUs idle.
        joules = day * (op.mean * busy + (t.count - op.mean * serving) * idle_w)
    if t.price_usd_per_gpu_hour is not None:
        usd = t.count * t.price_usd_per_gpu_hour * 24.0
        weights = [(m.gpus, _decode_share(m.replica)) for m in models]
        served = sum(g for g, _ in weights)
        usd_output = (usd * sum(g * share for g, share in weights) / served) if served else 0.0
        usd_unserved = 0.0 if served else usd
    else:
        usd_unserved = None
    flop = sum(m.flop_bound_tokens_per_s for m in models)
    band = sum(m.bandwidth_bound_tokens_per_s for m in models)
    if not models and t.bounds:  # it serves nothing, but its GPUs have the bounds: split them by traffic share
        shares = sum(b.share for b in t.bounds)
        flop = sum(t.count * b.share / shares * b.flop_bound_per_gpu for b in t.bounds)
        band = sum(t.count * b.share / shares * b.bandwidth_bound_per_gpu for b in t.bounds)
    return _Sums(gpus=t.count, serving=serving, out_s=out_s, in_s=in_s, req_s=sum(m.requests_per_s for m in models),
                 flop=flop, band=band, users=float(sum(m.replicas * m.running for m in models)), joules=joules,
                 usd=usd, usd_output=usd_output, usd_unserved=usd_unserved)


def _decode_share(e: Estimate) -> float:
    """The share of a replica's time charged to output tokens (as ``estimate()`` splits its cost)."""
    sv = e.serving
    if sv is None or not sv.cycle_time_s or e.decode is None or not e.throughput.output_tokens_per_s:
        return 0.0
    return 1.0 - sv.prefill_busy_s / sv.cycle_time_s


def _add(a: _Sums, b: _Sums) -> _Sums:
    def plus(x, y):
        return None if x is None or y is None else x + y

    return _Sums(gpus=a.gpus + b.gpus, serving=a.serving + b.serving, out_s=a.out_s + b.out_s, in_s=a.in_s + b.in_s,
                 req_s=a.req_s + b.req_s, flop=a.flop + b.flop, band=a.band + b.band,
                 users=a.users + b.users, joules=plus(a.joules, b.joules), usd=plus(a.usd, b.usd),
                 usd_output=plus(a.usd_output, b.usd_output), usd_unserved=plus(a.usd_unserved, b.usd_unserved))


def _ratio(x: float | None, y: float | None) -> float | None:
    return None if x is None or not y else x / y


def _totals(s: _Sums, op: Operation) -> Totals:
    day = op.mean * SECONDS_PER_DAY
    out_day, in_day = s.out_s * day, s.in_s * day
    position = None
    if s.flop and s.band and s.out_s > 0 and s.flop > s.band:
        position = (math.log(s.out_s) - math.log(s.band)) / (math.log(s.flop) - math.log(s.band))
    device_mwh = None if s.joules is None else s.joules / JOULES_PER_MWH
    facility_mwh = None if device_mwh is None else device_mwh * op.pue
    electricity = (None if facility_mwh is None or op.electricity_usd_per_kwh is None
                   else facility_mwh * 1000.0 * op.electricity_usd_per_kwh)
    usd = s.usd
    if usd is not None and electricity is not None:
        usd = usd + electricity
    usd_output = s.usd_output
    if usd_output is not None and s.usd is not None and s.usd_unserved is not None:
        served = s.usd - s.usd_unserved
        usd_output = usd_output * s.usd / served if served > 0 else None  # idle types' GPU-hours split alike
    if usd_output is not None and electricity is not None and s.usd:
        usd_output = usd_output * usd / s.usd  # electricity split like the GPU-hours
    return Totals(
        gpus=s.gpus, gpus_serving=s.serving, output_tokens_per_s=s.out_s, input_tokens_per_s=s.in_s,
        requests_per_s=s.req_s, output_tokens_per_day=out_day, input_tokens_per_day=in_day,
        flop_bound_tokens_per_s=s.flop, bandwidth_bound_tokens_per_s=s.band,
        fraction_of_flop_bound=_ratio(s.out_s, s.flop), multiple_of_bandwidth_bound=_ratio(s.out_s, s.band),
        position_between_bounds=position, concurrent_users_peak=s.users * op.peak,
        concurrent_users_mean=s.users * op.mean, user_base=user_base(s.users * op.mean, op.minutes_per_user_day),
        device_mwh_per_day=device_mwh, facility_mwh_per_day=facility_mwh,
        tokens_per_mwh=_ratio(out_day + in_day, facility_mwh), output_tokens_per_mwh=_ratio(out_day, facility_mwh),
        gpu_usd_per_day=s.usd, electricity_usd_per_day=electricity, usd_per_day=usd,
        usd_per_million_output_tokens=_ratio(None if usd_output is None else usd_output * 1e6, out_day),
        usd_per_million_input_tokens=_ratio(None if usd is None or usd_output is None else (usd - usd_output) * 1e6,
                                            in_day),
        usd_per_million_tokens_blended=_ratio(None if usd is None else usd * 1e6, out_day + in_day),
    )


def fleet(types: list[TypeInput], op: Operation = Operation()) -> FleetResult:
    """The fleet's day: each type's GPUs split among its placements, then summed per type and in total."""
    op.validate()
    results = []
    total = _Sums()
    for t in types:
        if t.count < 0:
            raise CoreError(f"{t.gpu}: the count must be >= 0, got {t.count}")
        models = [_serving(p, allotted, reps, op) for p, (allotted, reps) in zip(t.placements, _allot(t.count, t.placements))]
        sums = _type_sums(t, models, op)
        total = _add(total, sums)
        totals = _totals(sums, op)
        if not models and not t.bounds:  # it cannot run any of the models: nothing to bound
            totals = replace(totals, flop_bound_tokens_per_s=None, bandwidth_bound_tokens_per_s=None)
        results.append(TypeResult(gpu=t.gpu, count=t.count, price_usd_per_gpu_hour=t.price_usd_per_gpu_hour,
                                  tdp_w=t.tdp_w, models=tuple(models), totals=totals))
    return FleetResult(types=tuple(results), total=_totals(total, op), operation=op)
