"""Discrete-event simulation: a generic G/G/c queue, and an in-flight-batching engine under a request rate.

Standard library only, no I/O, seeded: the same inputs and seed give the same numbers on every machine.
The engine simulation is the test oracle of the closed-form load model (``inferwall.core.queueing``) and the
engine behind ``--simulate``; docs/queueing.md describes both.

The engine, iteration by iteration (vLLM's and TensorRT-LLM's in-flight batching with chunked prefill):

1. Requests that have arrived join the waiting queue (FCFS).
2. Every decoding request takes one token of the iteration's budget.
3. Requests already admitted but not fully prefilled continue their prompts, in admission order, each taking
   what is left of the budget up to the rest of its prompt.
4. Waiting requests are admitted in FCFS order while the budget lasts, fewer than ``running_cap`` requests
   run, and the KV cache can reserve their input + output tokens; the first one that cannot be admitted stops
   admission (no overtaking). Without chunked prefill a prompt is admitted only if it fits the budget whole.
5. The iteration takes ``iteration_time(decoders, their contexts, prefill tokens, their attention spans)``.
   At its end every decoder has one more token; a request whose prompt completed has its first token
   (TTFT); a request with all its output tokens leaves and frees its slot and KV reservation.

``iteration_time`` may be slow (the lead's cost model: 50-200 us a call), so it is called through
``CachedIterationTime``: continuous arguments are rounded to a geometric grid (``resolution``, relative), and
each grid point is evaluated once. Between events, runs of decode-only iterations are stepped in a tight loop.
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass
from heapq import heappop, heappush, heapreplace

from .distributions import Arrivals, gamma_sampler
from .queueing import (EngineLimits, IterationTime, LoadResult, Percentiles, Traffic, check_traffic_fits,
                       percentile, summarize)
from .types import CoreError

DEFAULT_RESOLUTION = 1 / 16  # relative grid step of cached iteration-time arguments: each <= 3% off
EXACT_COUNTS = 16  # request and prefill-token counts up to this are used exactly; above, rounded to the grid
SATURATION_BACKLOG = 0.05  # a waiting queue this share of the recorded requests long at the end: unbounded


class CachedIterationTime:
    """``iteration_time`` memoized on arguments rounded to a geometric grid with ratio ``1 + resolution``.

    Counts (decoders, prefill tokens) up to ``EXACT_COUNTS`` are exact; larger counts and the two context
    sums are rounded to the nearest grid point, so each argument is within ``resolution / 2`` of its true
    value, and the function is called once per grid point. ``resolution=0`` calls it with exact arguments
    (caching exact repeats only). ``calls`` counts the underlying evaluations."""

    def __init__(self, iteration_time: IterationTime, resolution: float = DEFAULT_RESOLUTION):
        if not (resolution == 0 or 0 < resolution <= 0.25):
            raise CoreError(f"the iteration-time grid resolution must be 0 (exact) or in (0, 0.25], got {resolution}")
        self.fn = iteration_time
        self.resolution = resolution
        self.calls = 0
        self._cache: dict[tuple, float] = {}
        self._step = math.log1p(resolution) if resolution else 0.0
        self._inverse = 1.0 / self._step if resolution else 0.0

    def _grid(self, x: float) -> int:
        return int(math.log(x) * self._inverse + 0.5) if x >= 1 else -1

    def _value(self, index: int) -> float:
        return 0.0 if index < 0 else math.exp(index * self._step)

    def _count(self, n: int) -> int:
        """Key of a count: itself if small, else -2 - its grid index."""
        return n if n <= EXACT_COUNTS else -2 - self._grid(n)

    def _count_value(self, key: int) -> int:
        return key if key >= 0 else int(round(self._value(-2 - key)))

    def __call__(self, decoders: int, decode_context: float, prefill_tokens: int, prefill_context: float) -> float:
        if not self.resolution:
            key = args = (decoders, decode_context, prefill_tokens, prefill_context)
        else:
            key = (self._count(decoders), self._grid(decode_context), self._count(prefill_tokens),
                   self._grid(prefill_context))
            args = (self._count_value(key[0]), self._value(key[1]), self._count_value(key[2]), self._value(key[3]))
        value = self._cache.get(key)
        if value is None:
            value = float(self.fn(*args))
            self.calls += 1
            if not (value > 0 and math.isfinite(value)):
                raise CoreError(f"iteration_time{args} returned {value!r}; it must be a positive finite time")
            self._cache[key] = value
        return value

    def decode_step(self, decoders: int, decode_context: float) -> tuple[float, float]:
        """A decode-only iteration's time, and the context sum from which that time changes (the next grid
        boundary; with exact arguments, the next token)."""
        tau = self(decoders, decode_context, 0, 0)
        if not self.resolution:
            return tau, decode_context + 1
        return tau, math.exp((self._grid(decode_context) + 0.5) * self._step)


# --------------------------------------------------------------------------- G/G/c

@dataclass(frozen=True)
class QueueSimulation:
    """A G/G/c run: per-customer waits in queue and sojourn times (wait + service), after the warm-up."""

    waits: tuple[float, ...]
    sojourns: tuple[float, ...]
    utilization: float

    @property
    def mean_wait(self) -> float:
        return sum(self.waits) / len(self.waits)

    @property
    def mean_sojourn(self) -> float:
        return sum(self.sojourns) / len(self.sojourns)

    def wait_quantile(self, q: float) -> float:
        return percentile(sorted(self.waits), q)

    def sojourn_quantile(self, q: float) -> float:
        return percentile(sorted(self.sojourns), q)

    def standard_error(self, values: tuple[float, ...] | None = None, batches: int = 30) -> float:
        """Standard error of the mean of ``values`` (default: the waits) by batch means; successive waits
        are correlated, so the naive sd/sqrt(n) understates it."""
        values = self.waits if values is None else values
        size = len(values) // batches
        if size < 2:
            raise CoreError("too few samples for batch means")
        means = [sum(values[i * size:(i + 1) * size]) / size for i in range(batches)]
        grand = sum(means) / batches
        return math.sqrt(sum((m - grand) ** 2 for m in means) / (batches - 1) / batches)


def simulate_queue(arrivals: Arrivals, service_mean: float, service_cv: float = 1.0, servers: int = 1,
                   customers: int = 100_000, warmup: int | None = None, seed: int = 0) -> QueueSimulation:
    """FCFS queue with ``servers`` identical servers, renewal arrivals and gamma service times with this mean
    and coefficient of variation (0: deterministic, 1: exponential, so ``Arrivals(rate)`` with cv 1 and one
    server is M/M/1)."""
    if not (service_mean > 0 and math.isfinite(service_mean)):
        raise CoreError(f"service time must be positive and finite, got {service_mean!r}")
    if not (0 <= service_cv <= 100):
        raise CoreError(f"service coefficient of variation must be in [0, 100], got {service_cv!r}")
    if servers < 1 or customers < 1:
        raise CoreError("a queue simulation needs at least one server and one customer")
    warmup = customers // 10 if warmup is None else warmup
    gap = arrivals.gap_sampler(random.Random(f"{seed}:arrivals"))
    service = gamma_sampler(random.Random(f"{seed}:service"), service_mean, service_cv)
    free = [0.0] * servers  # heap of the times each server becomes free
    waits: list[float] = []
    sojourns: list[float] = []
    t = busy = 0.0
    start_time = None
    for i in range(warmup + customers):
        t += gap()
        earliest = free[0]
        start = earliest if earliest > t else t
        s = service()
        heapreplace(free, start + s)
        if i >= warmup:
            if start_time is None:
                start_time = t
            waits.append(start - t)
            sojourns.append(start - t + s)
            busy += s
    span = t - start_time if start_time is not None and t > start_time else float("nan")
    return QueueSimulation(tuple(waits), tuple(sojourns), busy / (servers * span))


# --------------------------------------------------------------------------- the engine

@dataclass(frozen=True)
class EngineSimulation:
    """An engine run: one entry per recorded request (arrival order, after the warm-up), and time averages
    over the recorded window (from the first to the last recorded arrival)."""

    request_rate: float
    arrival: str
    input_tokens: tuple[int, ...]
    output_tokens: tuple[int, ...]
    ttft_s: tuple[float, ...]
    e2e_s: tuple[float, ...]
    queue_wait_s: tuple[float, ...]  # arrival to admission
    concurrency: float  # time-average requests running
    queued: float  # mean requests arrived but not admitted
    iteration_s: float  # mean iteration time
    decode_batch: float  # mean decoders per iteration
    prefill_tokens_per_iteration: float
    throughput_requests_per_s: float
    throughput_input_tokens_per_s: float
    throughput_output_tokens_per_s: float
    backlog_at_end: int  # requests waiting when the last recorded one arrived
    saturated: bool
    iterations: int
    iteration_time_calls: int

    @property
    def tpot_s(self) -> tuple[float, ...]:
        return tuple((e - f) / (n - 1) for f, e, n in zip(self.ttft_s, self.e2e_s, self.output_tokens) if n > 1)

    def summary(self, name: str) -> Percentiles | None:
        return summarize(self.tpot_s if name == "tpot" else getattr(self, f"{name}_s"))

    def load_result(self, saturation_request_rate: float, limited_by: str) -> LoadResult:
        """As a ``LoadResult`` (percentiles ``None`` if the run or the closed form says the queue grows without
        bound); the saturation rate comes from the closed-form model."""
        saturated = self.saturated or self.request_rate >= saturation_request_rate
        notes: tuple[str, ...] = ()
        if self.saturated != (self.request_rate >= saturation_request_rate):
            notes = (f"the simulation {'found' if self.saturated else 'did not find'} an unbounded queue at "
                     f"{self.request_rate:g} req/s; the closed form puts saturation at "
                     f"{saturation_request_rate:.4g} req/s",)
        return LoadResult(
            method="simulation", request_rate=self.request_rate, arrival=self.arrival, saturated=saturated,
            saturation_request_rate=saturation_request_rate, limited_by=limited_by,
            utilization=self.request_rate / saturation_request_rate, concurrency=self.concurrency,
            queued=None if saturated else self.queued,
            throughput_requests_per_s=self.throughput_requests_per_s,
            throughput_input_tokens_per_s=self.throughput_input_tokens_per_s,
            throughput_output_tokens_per_s=self.throughput_output_tokens_per_s,
            iteration_s=self.iteration_s, decode_batch=self.decode_batch,
            prefill_tokens_per_iteration=self.prefill_tokens_per_iteration,
            ttft=None if saturated else self.summary("ttft"), tpot=None if saturated else self.summary("tpot"),
            e2e=None if saturated else self.summary("e2e"), notes=notes)


def simulate_engine(iteration_time: IterationTime, limits: EngineLimits, traffic: Traffic, *,
                    requests: int = 10_000, warmup: int | None = None, seed: int = 0,
                    resolution: float = DEFAULT_RESOLUTION) -> EngineSimulation:
    """Simulate the engine until ``requests`` requests after ``warmup`` (default ``requests // 10``) have
    finished. Arrivals continue meanwhile, so the recorded requests all see steady load."""
    if requests < 1:
        raise CoreError(f"simulate at least one request, got {requests}")
    check_traffic_fits(limits, traffic)
    warmup = requests // 10 if warmup is None else warmup
    first_recorded, end_recorded = warmup, warmup + requests
    max_arrivals = 4 * end_recorded  # past saturation the tail of arrivals is cut here
    cost = iteration_time if isinstance(iteration_time, CachedIterationTime) \
        else CachedIterationTime(iteration_time, resolution)
    budget_total = limits.max_tokens_per_iteration
    cap = limits.running_cap
    kv_capacity = limits.kv_capacity_tokens
    chunked = limits.chunked_prefill

    gap = traffic.arrivals.gap_sampler(random.Random(f"{seed}:arrivals"))
    draw_input = traffic.input_lengths.sampler(random.Random(f"{seed}:input"))
    draw_output = traffic.output_lengths.sampler(random.Random(f"{seed}:output"))

    inputs: list[int] = []
    outputs: list[int] = []
    arrived: list[float] = []
    admitted: list[float] = []
    first_token: list[float] = []
    finished: list[float] = []
    prefilled: list[int] = []

    waiting: deque[int] = deque()
    prefilling: deque[int] = deque()
    finishing: list[tuple[int, int]] = []  # heap of (iteration of the last decode, request)
    decoders = 0
    context = 0  # sum over decoders of the context their next token attends to
    kv_used = 0
    running = 0
    t = 0.0
    iteration = 0
    next_arrival = gap()
    left = requests
    measuring = False
    window_start = window_end = 0.0
    running_area = busy_time = 0.0
    window_iterations = window_decode = window_prefill = 0
    backlog_at_end = 0
    completed_in_window = output_in_window = input_in_window = 0

    while left > 0:
        while next_arrival <= t:
            rid = len(inputs)
            inputs.append(draw_input())
            outputs.append(draw_output())
            arrived.append(next_arrival)
            admitted.append(-1.0)
            first_token.append(-1.0)
            finished.append(-1.0)
            prefilled.append(0)
            waiting.append(rid)
            if rid == first_recorded:
                measuring, window_start = True, next_arrival
            if rid == end_recorded - 1:
                measuring, window_end, backlog_at_end = False, next_arrival, len(waiting) - 1
            next_arrival = next_arrival + gap() if rid + 1 < max_arrivals else math.inf
        if not decoders and not prefilling and not waiting:
            t = next_arrival
            continue

        # -- a run of decode-only iterations until the next completion or arrival
        if decoders and not prefilling and (not waiting or running >= cap
                                             or kv_used + inputs[waiting[0]] + outputs[waiting[0]] > kv_capacity
                                             or (not chunked and inputs[waiting[0]] > budget_total - decoders)):
            stop = finishing[0][0] - 1  # iterations before the one that finishes a request
            horizon = next_arrival if not waiting else math.inf
            start_t, start_iteration = t, iteration
            while iteration < stop and t < horizon:
                tau, boundary = cost.decode_step(decoders, context)
                # iterations with this time: until the context crosses the grid boundary, the next
                # completion, or the first start at or after the next arrival
                steps = min(stop - iteration, max(1, math.ceil((boundary - context) / decoders)))
                if horizon < math.inf:
                    steps = min(steps, max(1, math.ceil((horizon - t) / tau)))
                t += steps * tau
                context += steps * decoders
                iteration += steps
            if measuring and iteration > start_iteration:
                span = t - start_t
                running_area += running * span
                busy_time += span
                steps = iteration - start_iteration
                window_iterations += steps
                window_decode += steps * decoders
                output_in_window += steps * decoders
            if iteration < stop:
                continue  # an arrival came first

        # -- one general iteration
        budget = budget_total - decoders
        tokens = 0
        spans = 0
        for rid in prefilling:
            if budget <= 0:
                break
            done = prefilled[rid]
            chunk = inputs[rid] - done
            if chunk > budget:
                chunk = budget
            spans += chunk * done + chunk * (chunk + 1) // 2
            tokens += chunk
            budget -= chunk
            prefilled[rid] = done + chunk
        while waiting and budget > 0 and running < cap:
            rid = waiting[0]
            prompt = inputs[rid]
            need = prompt + outputs[rid]
            if kv_used + need > kv_capacity or (not chunked and prompt > budget):
                break
            waiting.popleft()
            running += 1
            kv_used += need
            admitted[rid] = t
            chunk = prompt if prompt <= budget else budget
            spans += chunk * (chunk + 1) // 2
            tokens += chunk
            budget -= chunk
            prefilled[rid] = chunk
            prefilling.append(rid)
        tau = cost(decoders, context, tokens, spans)
        if measuring:
            running_area += running * tau
            busy_time += tau
            window_iterations += 1
            window_decode += decoders
            window_prefill += tokens
            output_in_window += decoders
            input_in_window += tokens
        t += tau
        iteration += 1
        context += decoders
        while finishing and finishing[0][0] == iteration:
            rid = heappop(finishing)[1]
            decoders -= 1
            running -= 1
            need = inputs[rid] + outputs[rid]
            context -= need
            kv_used -= need
            finished[rid] = t
            if first_recorded <= rid < end_recorded:
                left -= 1
            if measuring:
                completed_in_window += 1
        while prefilling and prefilled[prefilling[0]] == inputs[prefilling[0]]:
            rid = prefilling.popleft()
            first_token[rid] = t
            if measuring:
                output_in_window += 1
            if outputs[rid] == 1:
                running -= 1
                kv_used -= inputs[rid] + 1
                finished[rid] = t
                if first_recorded <= rid < end_recorded:
                    left -= 1
                if measuring:
                    completed_in_window += 1
            else:
                decoders += 1
                context += inputs[rid] + 1
                heappush(finishing, (iteration + outputs[rid] - 1, rid))

    recorded = range(first_recorded, end_recorded)
    window = window_end - window_start
    if not window > 0:
        window = busy_time or 1.0
    iterations = window_iterations or 1
    return EngineSimulation(
        request_rate=traffic.arrivals.rate, arrival=traffic.arrivals.label,
        input_tokens=tuple(inputs[i] for i in recorded), output_tokens=tuple(outputs[i] for i in recorded),
        ttft_s=tuple(first_token[i] - arrived[i] for i in recorded),
        e2e_s=tuple(finished[i] - arrived[i] for i in recorded),
        queue_wait_s=tuple(admitted[i] - arrived[i] for i in recorded),
        # waiting: arrived and not yet admitted (Little's law; arrivals join the list only at iteration
        # boundaries, so its time average would miss the wait for the iteration in progress)
        concurrency=running_area / window,
        queued=sum(admitted[i] - arrived[i] for i in recorded) / window,
        iteration_s=busy_time / iterations, decode_batch=window_decode / iterations,
        prefill_tokens_per_iteration=window_prefill / iterations,
        throughput_requests_per_s=completed_in_window / window,
        throughput_input_tokens_per_s=input_in_window / window,
        throughput_output_tokens_per_s=output_in_window / window,
        backlog_at_end=backlog_at_end,
        saturated=backlog_at_end > max(10, SATURATION_BACKLOG * requests),
        iterations=iteration, iteration_time_calls=cost.calls)
