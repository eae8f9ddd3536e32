"""The seed texts' economic arguments as functions over ``estimate()``: economies of scale, the two bounds on
forward passes, the utilization a market price implies. Standard library only, no I/O.

Every time, throughput, utilization and cost here is read from an ``Estimate``; this module only chooses
which batches to evaluate (searches over the batch) and does the bookkeeping around them (user base,
ratios). docs/economics.md walks through each argument.

Batches beyond the memory limit. ``estimate()`` reports a batch that does not fit as a result, and searches
for the smallest replica that would hold it, which is slow for very large batches. Time and utilization do
not depend on memory capacity, so the searches here evaluate such batches on a copy of the accelerator with
unlimited memory and report ``fits`` separately, from ``max_batch_for`` on the real one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Callable

from inferwall.units import number  # formatting only: standard library, no I/O

from .energy import IDLE_POWER_FRACTION, energy_of
from .estimate import estimate, max_batch_for, prepare
from .types import CoreError, Estimate, PhaseCost, Scenario

MINUTES_PER_DAY = 1440
BATCH_SEARCH_LIMIT = 1 << 24  # 16.8 M concurrent sequences per replica: beyond any real deployment
UNLIMITED_MEMORY_BYTES = 1e21
DEFAULT_ROWS_LIMIT = 100_000  # the default scale table runs to the largest batch that fits, up to this


def user_base(concurrent: float, minutes_per_user_day: float) -> float:
    """Users needed to keep ``concurrent`` sequences busy all day when each uses the model N minutes a day:
    concurrent x 1440 / N. 1000 concurrent at 10 min/day is 144,000 users."""
    if not minutes_per_user_day > 0 or minutes_per_user_day > MINUTES_PER_DAY:
        raise CoreError(f"minutes per user per day must be in (0, {MINUTES_PER_DAY}], got {minutes_per_user_day:g}")
    return concurrent * MINUTES_PER_DAY / minutes_per_user_day


def series_125(limit: int) -> list[int]:
    """1, 2, 5, 10, 20, 50, ... up to and including ``limit`` (which is appended if not in the series)."""
    out: list[int] = []
    decade = 1
    while decade <= limit:
        out.extend(v for v in (decade, 2 * decade, 5 * decade) if v <= limit)
        decade *= 10
    if limit >= 1 and (not out or out[-1] != limit):
        out.append(limit)
    return out


def token_phase(est: Estimate) -> PhaseCost:
    """The phase that makes the tokens: decode, or prefill for an encoder."""
    return est.decode if est.decode is not None else est.prefill


class BatchProbe:
    """Evaluates one configuration at any batch, caching the estimates.

    ``max_batch`` is the largest batch that fits in memory with this layout (0: the weights alone do not).
    """

    def __init__(self, scenario: Scenario, compute_explicit: bool = False):
        prepared, _ = prepare(scenario, compute_explicit)  # validate once, up front
        self.scenario = scenario
        self.compute_explicit = compute_explicit
        self.max_batch = max_batch_for(prepared)
        acc = scenario.accelerator
        self._unbounded = replace(scenario, accelerator=replace(acc, memory_bytes=max(acc.memory_bytes,
                                                                                     UNLIMITED_MEMORY_BYTES)))
        self._cache: dict[int, Estimate] = {}
        self.evaluations = 0
        self._step: BatchProbe | None = None

    @property
    def step(self) -> "BatchProbe":
        """The same configuration with the batch decoded in lock step: its decode phase is one decode step alone,
        without the prompt chunks in-flight batching mixes in (the roofline's view of a decode step)."""
        if self.scenario.engine.batching == "static":
            return self
        if self._step is None:
            self._step = BatchProbe(replace(self.scenario, engine=replace(self.scenario.engine, batching="static")),
                                    self.compute_explicit)
        return self._step

    def fits(self, batch: int) -> bool:
        return 1 <= batch <= self.max_batch

    def at(self, batch: int) -> Estimate:
        """The estimate at ``batch`` (time, throughput, cost; memory numbers only when it fits)."""
        batch = int(batch)
        if batch < 1:
            raise CoreError(f"batch must be >= 1, got {batch}")
        hit = self._cache.get(batch)
        if hit is None:
            base = self.scenario if self.fits(batch) else self._unbounded
            hit = estimate(replace(base, workload=replace(base.workload, batch=batch)), self.compute_explicit)
            self._cache[batch] = hit
            self.evaluations += 1
        return hit


def first_true(lo: int, hi: int, ok: Callable[[int], bool]) -> int:
    """Smallest b in (lo, hi] with ok(b), given not ok(lo) and ok(hi), for a predicate that stays true once true."""
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def _first_true_above(start: int, limit: int, ok: Callable[[int], bool]) -> int | None:
    """Smallest b in (start, limit] with ok(b), given not ok(start): doubling, then bisection (None: none)."""
    lo, hi = start, min(start * 2, limit)
    while not ok(hi):
        if hi >= limit:
            return None
        lo, hi = hi, min(hi * 2, limit)
    return first_true(lo, hi, ok)


def smallest_batch(probe: BatchProbe, ok: Callable[[Estimate], bool], limit: int = BATCH_SEARCH_LIMIT) -> int | None:
    """Smallest batch in [1, limit] where ``ok`` holds, for a predicate that stays true once true (None: never)."""
    if ok(probe.at(1)):
        return 1
    return _first_true_above(1, limit, lambda b: ok(probe.at(b)))  # O(log B) estimates


def largest_batch(probe: BatchProbe, ok: Callable[[Estimate], bool], limit: int) -> int:
    """Largest batch in [1, limit] where ``ok`` holds, for a predicate that stays false once false (0: none)."""
    if limit < 1 or not ok(probe.at(1)):
        return 0
    if ok(probe.at(limit)):
        return limit
    return first_true(1, limit, lambda b: not ok(probe.at(b))) - 1


def is_compute_bound(est: Estimate) -> bool:
    phase = token_phase(est)
    return phase.compute_time_s >= phase.memory_time_s


def critical_batch(probe: BatchProbe, limit: int = BATCH_SEARCH_LIMIT) -> int | None:
    """Smallest batch at which a decode step's compute time reaches its memory time (None: never, because the
    KV-cache reads grow with the batch as fast as the FLOPs do)."""
    return smallest_batch(probe.step, is_compute_bound, limit)


# --------------------------------------------------------------------------- economies of scale


@dataclass(frozen=True)
class ScaleRow:
    batch: int  # concurrent sequences per replica
    concurrent_users: int  # batch x replicas
    user_base: float  # users at the given minutes per day
    step_time_s: float  # one decode step = the time between two tokens one user sees
    user_tokens_per_s: float  # 1 / step time: each user's streaming speed
    ttft_s: float
    utilization: float
    bandwidth_utilization: float
    bound: str
    output_tokens_per_s: float  # all replicas
    usd_per_million_output_tokens: float | None
    joules_per_output_token: float | None
    fits: bool
    marks: tuple[str, ...] = ()


@dataclass(frozen=True)
class TargetUtilization:
    target: float
    batch: int | None  # smallest batch reaching the target; None when utilization saturates below it
    concurrent_users: int | None
    user_base: float | None
    fits: bool
    best_utilization: float  # the highest utilization seen (at the search limit when unreachable)


@dataclass(frozen=True)
class InteractivityFloor:
    user_tokens_per_s: float
    last_batch: int | None  # largest batch whose users still get at least the floor (0: not even batch 1; None: any)


@dataclass(frozen=True)
class ScaleResult:
    rows: tuple[ScaleRow, ...]
    max_batch: int
    critical_batch: int | None
    minutes_per_user_day: float
    target: TargetUtilization | None
    floor: InteractivityFloor | None
    summary: str
    notes: tuple[str, ...]


def _scale_row(probe: BatchProbe, batch: int, minutes: float, idle: float, marks: tuple[str, ...]) -> ScaleRow:
    est = probe.at(batch)
    phase = token_phase(est)
    replicas = est.scenario.parallelism.dp
    concurrent = batch * replicas
    step = est.latency.tpot_s if est.decode is not None else est.prefill.time_s
    return ScaleRow(
        batch=batch, concurrent_users=concurrent, user_base=user_base(concurrent, minutes), step_time_s=step,
        user_tokens_per_s=1.0 / step if step > 0 else math.inf, ttft_s=est.latency.ttft_s,
        utilization=phase.utilization, bandwidth_utilization=phase.bandwidth_utilization, bound=phase.bound,
        output_tokens_per_s=est.throughput.output_tokens_per_s,
        usd_per_million_output_tokens=est.cost.usd_per_million_output_tokens,
        joules_per_output_token=energy_of(est, idle).joules_per_output_token, fits=probe.fits(batch), marks=marks,
    )


def _pct(x: float) -> str:
    if not math.isfinite(x):
        return "-"  # summaries never say "inf%"
    return f"{x * 100:.3g}%" if x >= 0.001 else f"{x * 100:.2g}%"


def scale(scenario: Scenario, compute_explicit: bool = False, batches: list[int] | None = None,
          minutes_per_user_day: float = 10.0, target_utilization: float | None = None,
          min_user_tokens_per_s: float | None = None, idle_power_fraction: float = IDLE_POWER_FRACTION) -> ScaleResult:
    """The economies-of-scale table: one row per batch (default the 1-2-5 series up to the largest batch that
    fits), plus the batch reaching ``target_utilization`` and the last batch meeting an interactivity floor."""
    user_base(1, minutes_per_user_day)  # validates the minutes
    if target_utilization is not None and not 0 < target_utilization <= 1:
        raise CoreError(f"target utilization must be in (0, 1], got {target_utilization:g}")
    if min_user_tokens_per_s is not None and not min_user_tokens_per_s > 0:
        raise CoreError(f"per-user tokens/s must be > 0, got {min_user_tokens_per_s:g}")
    probe = BatchProbe(scenario, compute_explicit)
    notes: list[str] = []
    mb = probe.max_batch
    crit = critical_batch(probe)
    if batches:
        if any(b < 1 for b in batches):
            raise CoreError("batch sizes must be >= 1")
        wanted = sorted(set(batches))
    elif 1 <= mb <= DEFAULT_ROWS_LIMIT:
        wanted = series_125(mb)
    else:
        # Past the critical batch nothing changes but the step time; show a little of the compute-bound side.
        top = max(1000, 2 * crit) if crit else 1000
        wanted = series_125(top)
        if mb == 0:
            notes.append(f"the weights alone do not fit in memory with this layout: the rows show batches 1 to {top:,} "
                         "ignoring the memory limit (add GPUs, or lower --precision)")
        else:
            notes.append(f"memory hardly limits the batch (no KV cache: a --params model without "
                         f"--layers/--heads/--kv-heads/--head-dim): the rows stop at {top:,}")
    marks: dict[int, list[str]] = {b: [] for b in wanted}
    if mb >= 1 and mb in marks:
        marks[mb].append("largest batch that fits")
    if crit is not None and crit in marks:
        marks[crit].append("turns compute-bound")

    target = None
    if target_utilization is not None:
        reach = smallest_batch(probe, lambda e: token_phase(e).utilization >= target_utilization)
        if reach is None:
            best = token_phase(probe.at(BATCH_SEARCH_LIMIT)).utilization
            target = TargetUtilization(target_utilization, None, None, None, False, best)
        else:
            reps = scenario.parallelism.dp
            target = TargetUtilization(target_utilization, reach, reach * reps,
                                       user_base(reach * reps, minutes_per_user_day), probe.fits(reach),
                                       token_phase(probe.at(reach)).utilization)
            marks.setdefault(reach, []).append(f"reaches {_pct(target_utilization)} utilization")
    floor = None
    if min_user_tokens_per_s is not None:
        step = lambda e: e.latency.tpot_s if e.decode is not None else e.prefill.time_s  # noqa: E731
        too_slow = smallest_batch(probe, lambda e: step(e) * min_user_tokens_per_s > 1.0)
        last = BATCH_SEARCH_LIMIT if too_slow is None else too_slow - 1
        floor = InteractivityFloor(min_user_tokens_per_s, last if too_slow is not None else None)
        if 1 <= last < BATCH_SEARCH_LIMIT:
            marks.setdefault(last, []).append(f"last batch at >= {min_user_tokens_per_s:g} tok/s per user")
            for b in marks:
                if b > last:
                    marks[b].append(f"slower than {min_user_tokens_per_s:g} tok/s per user")

    rows = tuple(_scale_row(probe, b, minutes_per_user_day, idle_power_fraction, tuple(marks[b]))
                 for b in sorted(marks))
    first = probe.at(1)
    energy_note = energy_of(first, idle_power_fraction).notes
    notes.extend(energy_note)
    return ScaleResult(rows=rows, max_batch=mb, critical_batch=crit, minutes_per_user_day=minutes_per_user_day,
                       target=target, floor=floor, summary=_scale_summary(probe, crit, target, floor, rows),
                       notes=tuple(notes))


def _scale_summary(probe: BatchProbe, crit: int | None, target: TargetUtilization | None,
                   floor: InteractivityFloor | None, rows: tuple[ScaleRow, ...]) -> str:
    first = token_phase(probe.at(1))
    mb = probe.max_batch
    parts = [f"At batch 1 decode is {first.bound}-bound at {_pct(first.utilization)} utilization."]
    if crit is None:
        top = token_phase(probe.at(BATCH_SEARCH_LIMIT))
        parts.append(f"It never turns compute-bound: KV-cache reads grow with the batch as fast as the FLOPs, "
                     f"so utilization saturates near {_pct(top.utilization)}.")
    elif mb and crit > mb:
        parts.append(f"Compute would catch up with memory traffic at batch {crit:,}, but only {mb:,} sequences fit: "
                     f"memory capacity, not arithmetic, ends the economies of scale.")
    elif mb:
        room = ("memory does not limit the batch" if mb > BATCH_SEARCH_LIMIT else f"below the {mb:,} that fit")
        parts.append(f"It turns compute-bound at batch {crit:,} ({room}): past it, more users "
                     f"barely lower the cost per token.")
    else:
        parts.append(f"It would turn compute-bound at batch {crit:,}, but the weights do not fit in memory.")
    if target is not None:
        if target.batch is None:
            parts.append(f"{_pct(target.target)} utilization is out of reach (at most {_pct(target.best_utilization)}).")
        else:
            fit = "" if target.fits else " (more than fit in memory)"
            parts.append(f"{_pct(target.target)} utilization needs batch {target.batch:,}{fit}: "
                         f"{target.concurrent_users:,} concurrent users, a user base of {target.user_base:,.0f}.")
    if floor is not None:
        if floor.last_batch is None:
            parts.append(f"Every batch gives each user at least {floor.user_tokens_per_s:g} tokens/s.")
        elif floor.last_batch == 0:
            parts.append(f"Not even one user gets {floor.user_tokens_per_s:g} tokens/s.")
        else:
            parts.append(f"Users get at least {floor.user_tokens_per_s:g} tokens/s up to batch {floor.last_batch:,}.")
    return " ".join(parts)


# --------------------------------------------------------------------------- bounds


@dataclass(frozen=True)
class BoundsResult:
    """The names follow ``Estimate.bounds``: ``compute_forward_passes_per_s`` is per replica everywhere; the
    fleet's figure (every replica together) is ``..._all_replicas``."""

    gpus: int
    replicas: int
    batch: int
    compute_forward_passes_per_s: float  # per replica: replica GPUs x peak / (2 x matmul params per token)
    memory_forward_passes_per_s: float  # per replica: replica GPUs x bandwidth / weight bytes (batch-1 steps)
    compute_forward_passes_per_s_all_replicas: float
    memory_forward_passes_per_s_all_replicas: float
    compute_forward_passes_per_s_per_gpu: float
    memory_forward_passes_per_s_per_gpu: float
    bounds_ratio: float  # compute / memory bound: the batch at which weight reads stop binding, ignoring the KV cache
    decode_steps_per_s: float | None  # decode steps (forward passes of the whole batch) per second, all replicas
    # tokens per second while decoding (batch x decode steps/s), all replicas: comparable with the bounds, which
    # count forward passes; it leaves out prefill time, unlike the estimate's throughput.output_tokens_per_s
    decode_tokens_per_s: float | None
    output_tokens_per_s: float | None  # the estimate's throughput: output tokens over the whole request, prefill too
    fraction_of_compute_bound: float | None
    multiple_of_memory_bound: float | None
    bound: str | None  # what binds the estimated decode step
    utilization: float | None
    critical_batch: int | None
    max_batch: int
    summary: str
    estimate: Estimate = field(repr=False, compare=False)  # at ``batch``


def bounds(scenario: Scenario, compute_explicit: bool = False) -> BoundsResult:
    """The forward-passes-per-second band of a model on a GPU or fleet, and where the estimate falls in it."""
    probe = BatchProbe(scenario, compute_explicit)
    batch = scenario.workload.batch
    est = probe.at(batch)
    reps = est.scenario.parallelism.dp
    gpus = est.scenario.parallelism.gpus
    per_replica_hi, per_replica_lo = est.bounds.compute_forward_passes_per_s, est.bounds.memory_forward_passes_per_s
    hi, lo = per_replica_hi * reps, per_replica_lo * reps
    steps = tokens = frac = mult = util = output = None
    bound = None
    crit = None
    if est.decode is not None:
        steps = reps / est.decode.time_s
        tokens = batch * steps
        output = est.throughput.output_tokens_per_s
        frac, mult = tokens / hi, tokens / lo
        bound, util = est.decode.bound, est.decode.utilization
        crit = critical_batch(probe)
    fleet = f" ({reps:,} replicas together)" if reps > 1 else ""
    parts = [f"FLOP-bound: {number(hi)} forward passes/s{fleet}; bandwidth-bound: {number(lo)}/s (weights re-read "
             f"every pass), a ratio of {number(hi / lo)}."]
    if tokens is not None:
        parts.append(f"At batch {batch:,} the estimate decodes {number(tokens)} tokens/s: {number(mult)}x the "
                     f"bandwidth bound and {_pct(frac)} of the FLOP bound; decode is {bound}-bound. Counting prefill, "
                     f"{number(output)} output tokens/s (estimate's throughput).")
        if crit is not None and crit > batch:
            mb = probe.max_batch
            fit = ("" if mb > BATCH_SEARCH_LIMIT else f" (at most {mb:,} fit in memory)" if mb
                   else " (the weights do not fit in memory on this layout)")
            parts.append(f"Compute binds from batch {crit:,}{fit}.")
    else:
        parts.append("The model has no decode phase (encoder or one output token): no estimate to place in the band.")
    return BoundsResult(gpus=gpus, replicas=reps, batch=batch, compute_forward_passes_per_s=per_replica_hi,
                        memory_forward_passes_per_s=per_replica_lo, compute_forward_passes_per_s_all_replicas=hi,
                        memory_forward_passes_per_s_all_replicas=lo, compute_forward_passes_per_s_per_gpu=hi / gpus,
                        memory_forward_passes_per_s_per_gpu=lo / gpus, bounds_ratio=hi / lo, decode_steps_per_s=steps,
                        decode_tokens_per_s=tokens, output_tokens_per_s=output, fraction_of_compute_bound=frac,
                        multiple_of_memory_bound=mult, bound=bound, utilization=util, critical_batch=crit,
                        max_batch=probe.max_batch, summary=" ".join(parts), estimate=est)


# --------------------------------------------------------------------------- implied utilization


@dataclass(frozen=True)
class ImpliedResult:
    usd_per_million_tokens: float
    usd_per_gpu_hour: float
    gpus: int
    tokens_per_s_per_gpu: float  # what the price implies: $/GPU-hour / 3600 / ($ per token)
    tokens_per_s: float  # all GPUs
    compute_bound_tokens_per_s_per_gpu: float
    memory_bound_tokens_per_s_per_gpu: float
    fraction_of_compute_bound: float
    multiple_of_memory_bound: float
    batch_needed: int | None  # smallest batch per replica whose estimated output tokens/s reach the implied rate
    batch_fits: bool
    max_batch: int
    utilization_at_batch: float | None
    tpot_s_at_batch: float | None
    summary: str
    estimate: Estimate = field(repr=False, compare=False)  # at the batch needed (batch 1 when there is none)


def implied_tokens_per_s_per_gpu(usd_per_million_tokens: float, usd_per_gpu_hour: float) -> float:
    """The output rate a GPU must sustain to break even at a market price: ($/h / 3600) / ($/token)."""
    if not usd_per_million_tokens > 0:
        raise CoreError(f"price per million tokens must be > 0, got {usd_per_million_tokens:g}")
    return usd_per_gpu_hour / 3600.0 / (usd_per_million_tokens / 1e6)


def implied(scenario: Scenario, usd_per_million_tokens: float, compute_explicit: bool = False) -> ImpliedResult:
    """What a market price per million tokens implies about the utilization of the GPUs serving it."""
    price = scenario.accelerator.price_usd_per_hour
    if price is None:
        raise CoreError(f"no price for {scenario.accelerator.id}: give --price ($ per GPU-hour)")
    per_gpu = implied_tokens_per_s_per_gpu(usd_per_million_tokens, price)
    probe = BatchProbe(scenario, compute_explicit)
    one = probe.at(1)
    par = one.scenario.parallelism
    n = par.gpus_per_replica
    hi = one.bounds.compute_forward_passes_per_s / n
    lo = one.bounds.memory_forward_passes_per_s / n
    frac, mult = per_gpu / hi, per_gpu / lo
    need = per_gpu * par.gpus
    batch = util = tpot = None
    if one.decode is not None:
        batch = smallest_batch(probe, lambda e: e.throughput.output_tokens_per_s >= need)
    if batch is not None:
        est = probe.at(batch)
        util, tpot = token_phase(est).utilization, est.latency.tpot_s
    parts = [f"${usd_per_million_tokens:g} per million tokens at ${price:g}/GPU-hour pays for {number(per_gpu)} tokens/s "
             f"per GPU: {_pct(frac)} of the FLOP bound ({number(hi)}/s) and {number(mult)}x the bandwidth bound "
             f"({number(lo)}/s)."]
    if one.decode is None:
        parts.append("The model generates no tokens here (an encoder, or one output token): no batch to estimate.")
    elif batch is None:
        parts.append("No batch reaches that rate in this configuration: utilization saturates below it.")
    else:
        fit = "fits in memory" if probe.fits(batch) else f"does not fit in memory (at most {probe.max_batch:,})"
        parts.append(f"inferwall estimates it takes batch {batch:,} per replica ({_pct(util)} utilization, "
                     f"{tpot * 1e3:.3g} ms per token), which {fit}.")
    return ImpliedResult(usd_per_million_tokens=usd_per_million_tokens, usd_per_gpu_hour=price, gpus=par.gpus,
                         tokens_per_s_per_gpu=per_gpu, tokens_per_s=need, compute_bound_tokens_per_s_per_gpu=hi,
                         memory_bound_tokens_per_s_per_gpu=lo, fraction_of_compute_bound=frac,
                         multiple_of_memory_bound=mult, batch_needed=batch,
                         batch_fits=batch is not None and probe.fits(batch), max_batch=probe.max_batch,
                         utilization_at_batch=util, tpot_s_at_batch=tpot, summary=" ".join(parts),
                         estimate=probe.at(batch or 1))


# --------------------------------------------------------------------------- what moves the bottleneck


@dataclass(frozen=True)
class BoundShift:
    """Where the binding term of the token phase changes as the batch grows from the current one."""

    bound: str  # what binds at the current batch
    batch: int | None  # smallest larger batch where something else binds (None: nothing up to the limit)
    new_bound: str | None


def bound_shift(scenario: Scenario, compute_explicit: bool = False, limit: int = BATCH_SEARCH_LIMIT) -> BoundShift:
    """The next batch, above the current one, at which the decode step (prefill for encoders) changes bound."""
    probe = BatchProbe(scenario, compute_explicit)
    start = scenario.workload.batch
    now = token_phase(probe.at(start)).bound

    def differs(b: int) -> bool:
        return token_phase(probe.at(b)).bound != now

    batch = _first_true_above(start, limit, differs)
    return BoundShift(now, batch, token_phase(probe.at(batch)).bound if batch else None)
