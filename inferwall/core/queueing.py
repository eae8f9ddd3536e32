"""The load model: an in-flight-batching engine fed by a request rate, in closed form.

Given the engine's cost of one iteration, its limits, and the traffic (arrival process, rate, input and output
length distributions), ``solve_load`` returns the steady state: achieved concurrency, utilization, throughput,
p50/p90/p99 of time to first token (TTFT), time per output token (TPOT) and end-to-end latency (E2E), and the
saturation request rate. Past saturation the queue grows without bound and every percentile is ``None``.
Standard library only, no I/O. docs/queueing.md states the approximation and where it holds; the
discrete-event simulator (``inferwall.core.simulate``) is its test oracle.

Also here: textbook queue formulas (Erlang C, M/M/c, Kingman, Allen-Cunneen) that the model uses and the tests
check against the simulator.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass
from typing import Callable

from .distributions import Arrivals, LengthDistribution
from .types import CoreError

IterationTime = Callable[[int, float, int, float], float]
"""``iteration_time(decode_requests, decode_context_tokens, prefill_tokens, prefill_context_tokens) -> s``.

One engine iteration: one decode token for each of ``decode_requests`` running requests whose attended
contexts sum to ``decode_context_tokens``, plus ``prefill_tokens`` prompt tokens (chunks of new requests)
whose attention spans sum to ``prefill_context_tokens`` (a chunk of ``c`` tokens starting after ``s`` cached
ones spans ``c*s + c*(c+1)/2``). Pure and deterministic; it may be slow, so callers here cache it."""

PERCENTILES = (0.5, 0.9, 0.99)


@dataclass(frozen=True)
class EngineLimits:
    """The serving engine's limits (from its profile).

    * ``max_running_requests``: requests in flight at once (vLLM ``max_num_seqs``, TensorRT-LLM
      ``max_batch_size``); a request holds its slot from admission (its first prefill chunk) to its last token.
    * ``max_tokens_per_iteration``: the token budget of one iteration, shared by the decode tokens (one per
      decoding request) and prefill chunks (vLLM ``max_num_batched_tokens``, TensorRT-LLM ``max_num_tokens``).
      A running request needs a token of the budget each iteration, so at most this many run.
    * ``kv_capacity_tokens``: KV-cache tokens available. A request reserves its input + output tokens when it
      is admitted and frees them when it finishes (TensorRT-LLM's guaranteed-no-evict policy; engines that
      allocate as they go and preempt, like vLLM, hold fewer tokens on average and can admit a little more).
    * ``chunked_prefill``: if false a prompt is prefilled whole, in one iteration, next to the decodes, and
      must fit in the budget left by them.
    """

    max_running_requests: int
    max_tokens_per_iteration: int
    kv_capacity_tokens: int
    chunked_prefill: bool = True

    def __post_init__(self) -> None:
        for name in ("max_running_requests", "max_tokens_per_iteration", "kv_capacity_tokens"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise CoreError(f"engine limit {name} must be a whole number >= 1, got {value!r}")

    @property
    def running_cap(self) -> int:
        """Requests that can run at once: the request cap, or the token budget if that is smaller."""
        return min(self.max_running_requests, self.max_tokens_per_iteration)


@dataclass(frozen=True)
class Traffic:
    """What arrives: the arrival process at its rate, and the input (prompt) and output (answer) lengths.
    Lengths are independent of each other and of the arrival times."""

    arrivals: Arrivals
    input_lengths: LengthDistribution
    output_lengths: LengthDistribution

    def at_rate(self, rate: float) -> Traffic:
        return Traffic(self.arrivals.at_rate(rate), self.input_lengths, self.output_lengths)


@dataclass(frozen=True)
class Percentiles:
    """p50, p90, p99 and the mean of one latency, in seconds."""

    p50: float
    p90: float
    p99: float
    mean: float


@dataclass(frozen=True)
class LoadResult:
    """The steady state of an engine at a request rate (from ``solve_load`` or a simulation).

    * ``saturation_request_rate``: the rate above which the queue grows without bound, and ``limited_by``,
      the limit that sets it: ``running_requests`` (the request cap or the token budget's share of it),
      ``kv_capacity`` or ``token_budget`` (prefill and decode tokens fill every iteration).
    * ``utilization``: request_rate / saturation_request_rate (>= 1 past saturation).
    * ``concurrency``: mean requests in flight (admitted, prefilling or decoding); ``queued``: mean requests
      waiting for admission. Past saturation ``concurrency`` is the most the engine holds and ``queued`` is
      ``None`` (it grows without bound).
    * ``throughput_*``: what the engine delivers (the offered rate below saturation, its capacity above).
    * ``iteration_s``: mean iteration time; ``decode_batch``: mean decoding requests per iteration;
      ``prefill_tokens_per_iteration``: mean prompt tokens per iteration.
    * ``ttft``, ``tpot``, ``e2e``: percentiles, ``None`` past saturation. TPOT is a request's
      (E2E - TTFT) / (output tokens - 1), over requests with at least two output tokens.
    """

    method: str
    request_rate: float
    arrival: str
    saturated: bool
    saturation_request_rate: float
    limited_by: str
    utilization: float
    concurrency: float
    queued: float | None
    throughput_requests_per_s: float
    throughput_input_tokens_per_s: float
    throughput_output_tokens_per_s: float
    iteration_s: float
    decode_batch: float
    prefill_tokens_per_iteration: float
    ttft: Percentiles | None
    tpot: Percentiles | None
    e2e: Percentiles | None
    notes: tuple[str, ...] = ()

    def fields(self) -> dict[str, float | None]:
        """The issue's flat keys: ``latency.ttft_p50_s`` ... ``latency.e2e_p99_s``, ``load.*``."""
        out: dict[str, float | None] = {}
        for name in ("ttft", "tpot", "e2e"):
            pct = getattr(self, name)
            for q in ("p50", "p90", "p99", "mean"):
                out[f"latency.{name}_{q}_s"] = None if pct is None else getattr(pct, q)
        out.update({
            "load.request_rate": self.request_rate,
            "load.saturation_request_rate": self.saturation_request_rate,
            "load.utilization": self.utilization,
            "load.concurrency": self.concurrency,
            "load.queued": self.queued,
        })
        return out


def check_traffic_fits(limits: EngineLimits, traffic: Traffic) -> None:
    """Raise ``CoreError`` if some request could never run: longer than the KV cache, or (without chunked
    prefill) a prompt longer than the token budget."""
    longest = traffic.input_lengths.high + traffic.output_lengths.high
    if longest > limits.kv_capacity_tokens:
        raise CoreError(f"the longest request ({traffic.input_lengths.high} input + {traffic.output_lengths.high} "
                        f"output tokens) does not fit the KV cache of {limits.kv_capacity_tokens} tokens; "
                        f"valid: input + output <= {limits.kv_capacity_tokens}")
    if not limits.chunked_prefill and traffic.input_lengths.high > limits.max_tokens_per_iteration:
        raise CoreError(f"without chunked prefill a prompt must fit one iteration: the longest prompt "
                        f"({traffic.input_lengths.high} tokens) exceeds the token budget of "
                        f"{limits.max_tokens_per_iteration}; valid: input <= {limits.max_tokens_per_iteration}")


def percentile(sorted_values, q: float) -> float:
    """The q-quantile of sorted samples, interpolating linearly between order statistics (numpy's default)."""
    n = len(sorted_values)
    if n == 0:
        raise CoreError("percentile of no samples")
    pos = q * (n - 1)
    lo = int(pos)
    hi = min(lo + 1, n - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def summarize(samples) -> Percentiles | None:
    values = sorted(samples)
    if not values:
        return None
    return Percentiles(*(percentile(values, q) for q in PERCENTILES), mean=sum(values) / len(values))


# --------------------------------------------------------------------------- textbook queues

def erlang_c(servers: int, offered_load: float) -> float:
    """Probability that an arrival waits in an M/M/c queue with ``servers`` and offered load a = lambda/mu
    (Erlang C). 1 at or past saturation (a >= c)."""
    if servers < 1:
        raise CoreError("a queue needs at least one server")
    if offered_load <= 0:
        return 0.0
    if offered_load >= servers:
        return 1.0
    # Erlang B by its stable recursion, then C from B
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = offered_load * blocking / (k + offered_load * blocking)
    rho = offered_load / servers
    return blocking / (1 - rho + rho * blocking)


def erlang_c_continuous(servers: float, offered_load: float) -> float:
    """Erlang C for a fractional number of servers, interpolated linearly between the neighbouring integers
    (the KV cache offers a fractional number of average-sized slots)."""
    lo = max(1, int(math.floor(servers)))
    hi = max(lo, int(math.ceil(servers)))
    if lo == hi:
        return erlang_c(lo, offered_load)
    w = servers - lo
    return (1 - w) * erlang_c(lo, offered_load) + w * erlang_c(hi, offered_load)


def mmc_mean_wait(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean wait in queue of M/M/c: C(c, a) / (c mu - lambda); infinite past saturation."""
    if arrival_rate >= servers * service_rate:
        return math.inf
    return erlang_c(servers, arrival_rate / service_rate) / (servers * service_rate - arrival_rate)


def mmc_wait_quantile(arrival_rate: float, service_rate: float, servers: int, q: float) -> float:
    """The q-quantile of the M/M/c wait: P(W > t) = C e^(-(c mu - lambda) t)."""
    if arrival_rate >= servers * service_rate:
        return math.inf
    waits = erlang_c(servers, arrival_rate / service_rate)
    if 1 - q >= waits:
        return 0.0
    return math.log(waits / (1 - q)) / (servers * service_rate - arrival_rate)


def allen_cunneen_wait(arrival_rate: float, service_mean: float, servers: float, arrival_scv: float,
                       service_scv: float) -> float:
    """Mean wait in a G/G/c queue, Allen-Cunneen: W(M/M/c) x (c_a^2 + c_s^2) / 2. With one server this is
    Kingman's formula rho/(1-rho) x (c_a^2 + c_s^2)/2 x E[S]."""
    capacity = servers / service_mean
    if arrival_rate >= capacity:
        return math.inf
    waits = erlang_c_continuous(servers, arrival_rate * service_mean)
    return waits / (capacity - arrival_rate) * (arrival_scv + service_scv) / 2


def kingman_wait(arrival_rate: float, service_mean: float, arrival_scv: float, service_scv: float) -> float:
    """Kingman's G/G/1 mean wait: rho/(1-rho) x (c_a^2 + c_s^2)/2 x E[S]."""
    rho = arrival_rate * service_mean
    if rho >= 1:
        return math.inf
    return rho / (1 - rho) * (arrival_scv + service_scv) / 2 * service_mean


# --------------------------------------------------------------------------- the engine under load

LENGTH_POINTS = 24  # length distributions are compressed to this many equal-probability points
TTFT_POINTS = 8  # input lengths for the TTFT distribution
TTFT_GRID_TOP = 0.9999  # the TTFT distribution is tabulated up to this quantile for E2E
RESIDUAL_KINDS = 4  # kinds of iteration in progress at an arrival
QUANTILE_GRID = 48  # points of the grid on which percentiles are bracketed
_GAUSS_HERMITE_3 = ((-math.sqrt(3.0), 1 / 6), (0.0, 2 / 3), (math.sqrt(3.0), 1 / 6))
LIMITS = ("running_requests", "kv_capacity", "token_budget")


class _Cost:
    """``iteration_time`` at fractional mean counts: linear in the decoder count between its neighbouring
    integers (their contexts scale with it), prompt tokens rounded to whole tokens; memoized."""

    def __init__(self, iteration_time: IterationTime):
        self.fn = iteration_time
        self.cache: dict[tuple, float] = {}
        self.calls = 0

    def exact(self, decoders: int, context: float, tokens: int, spans: float) -> float:
        key = (decoders, context, tokens, spans)
        value = self.cache.get(key)
        if value is None:
            value = float(self.fn(decoders, context, tokens, spans))
            self.calls += 1
            if not (value > 0 and math.isfinite(value)):
                raise CoreError(f"iteration_time{key} returned {value!r}; it must be a positive finite time")
            self.cache[key] = value
        return value

    def __call__(self, decoders: float, context_per_decoder: float, tokens: float, spans: float) -> float:
        tokens_i = int(round(tokens))
        spans = spans if tokens_i else 0.0
        low = int(math.floor(decoders))
        w = decoders - low
        value = self.exact(low, low * context_per_decoder, tokens_i, spans)
        if w > 1e-9:
            high = self.exact(low + 1, (low + 1) * context_per_decoder, tokens_i, spans)
            value += w * (high - value)
        return value


@dataclass(frozen=True)
class _State:
    """The engine's mean-field steady state when ``x`` requests arrive per mean iteration."""

    x: float
    decoders: float
    budget: float  # prompt tokens an iteration can take after the decodes
    prefill_share: float  # share of iterations that carry prompt tokens
    decode_s: float  # a decode-only iteration
    prefill_s: float  # an iteration with prompt tokens (their mean load)
    full_s: float  # an iteration whose prompt budget is full
    iteration_s: float  # mean iteration
    mean_chunks: float  # E[iterations a prompt's prefill spans]

    @property
    def rate(self) -> float:
        return self.x / self.iteration_s


class _Model:
    def __init__(self, iteration_time: IterationTime, limits: EngineLimits, traffic: Traffic):
        check_traffic_fits(limits, traffic)
        self.cost = _Cost(iteration_time)
        self.limits = limits
        self.traffic = traffic
        s, t = traffic.input_lengths, traffic.output_lengths
        self.s_points = s.compressed(LENGTH_POINTS)
        self.t_points = t.compressed(LENGTH_POINTS)
        self.mean_s = s.mean
        self.mean_t = t.mean
        self.decode_steps = t.mean - 1  # D: decode iterations per request (the first token comes from prefill)
        self.span_per_request = s.expect(lambda v: v * (v + 1) / 2)  # attention span of a whole prompt
        self.span_per_token = self.span_per_request / self.mean_s
        decode_tokens = t.expect(lambda v: v * (v - 1) / 2)  # sum over decode steps of the generated length
        # mean context a decode token attends to: prompt + tokens generated so far, over all decode steps
        self.context_per_decoder = (self.mean_s + decode_tokens / self.decode_steps) if self.decode_steps > 0 \
            else self.mean_s
        self.t_second = t.expect(lambda v: v * v)
        self.ca2 = traffic.arrivals.interarrival_scv
        self._saturation: tuple[_State, str] | None = None

    # -- the state at x requests per mean iteration

    def chunks(self, budget: float, length: float) -> float:
        if not self.limits.chunked_prefill:
            return 1.0
        return max(1.0, math.ceil(length / max(budget, 1.0) - 1e-9))

    def state(self, x: float) -> _State:
        limits = self.limits
        decoders = x * self.decode_steps
        budget = max(1.0, limits.max_tokens_per_iteration - decoders)
        mean_chunks = sum(p * self.chunks(budget, v) for v, p in self.s_points)
        tokens = x * self.mean_s
        share = 1 - self.traffic.arrivals.empty_probability(x * mean_chunks)
        share = min(1.0, max(share, tokens / budget))
        decode_s = self.cost(decoders, self.context_per_decoder, 0, 0)
        if share > 0:
            per = tokens / share
            prefill_s = self.cost(decoders, self.context_per_decoder, per, per * self.span_per_token)
        else:
            prefill_s = decode_s
        full_s = self.cost(decoders, self.context_per_decoder, budget, budget * self.span_per_token)
        iteration_s = (1 - share) * decode_s + share * prefill_s
        return _State(x, decoders, budget, share, decode_s, prefill_s, full_s, iteration_s, mean_chunks)

    # -- the limits, as functions of x that reach 1 at saturation

    def occupancy(self, x: float) -> dict[str, float]:
        """Mean use of each limit over its capacity, at x (Little's law in units of iterations)."""
        limits = self.limits
        budget = max(1.0, limits.max_tokens_per_iteration - x * self.decode_steps)
        chunks = [(v, p, self.chunks(budget, v)) for v, p in self.s_points]
        mean_chunks = sum(p * m for _, p, m in chunks)
        s_m = sum(p * v * m for v, p, m in chunks)
        running = x * (mean_chunks + self.decode_steps)
        # KV: a request holds input + output tokens over its life of (chunks + T - 1) iterations
        kv = x * (s_m + self.mean_s * self.decode_steps + self.mean_t * mean_chunks + self.t_second - self.mean_t)
        return {
            "running_requests": running / limits.running_cap,
            "kv_capacity": kv / limits.kv_capacity_tokens,
            "token_budget": x * (self.decode_steps + self.mean_s) / limits.max_tokens_per_iteration,
        }

    def saturation(self) -> tuple[_State, str]:
        """The state at which the first limit is reached, and its name (cached)."""
        if self._saturation is None:
            # the token budget is reached at x = B / (D + S); the others no later than that, or never
            bound = self.limits.max_tokens_per_iteration / (self.decode_steps + self.mean_s)
            reached = {"token_budget": bound}
            top = self.occupancy(bound)
            for name in ("running_requests", "kv_capacity"):
                if top[name] < 1:
                    continue
                lo, hi = 0.0, bound
                while hi - lo > 1e-9 * bound:
                    mid = (lo + hi) / 2
                    lo, hi = (mid, hi) if self.occupancy(mid)[name] < 1 else (lo, mid)
                reached[name] = lo
            name = min(reached, key=lambda n: (reached[n], LIMITS.index(n)))
            self._saturation = (self.state(reached[name]), name)
        return self._saturation

    def state_at_rate(self, rate: float, saturation: _State) -> _State:
        """The state whose rate x / iteration_s is ``rate`` (below the saturation rate): regula falsi
        (Illinois) on x, which the rate grows with."""
        lo, f_lo = 0.0, -rate
        hi, f_hi = saturation.x, saturation.rate - rate
        state = saturation
        side = 0
        for _ in range(100):
            x = (lo * f_hi - hi * f_lo) / (f_hi - f_lo)
            if not lo < x < hi:
                x = (lo + hi) / 2
            state = self.state(x)
            f = state.rate - rate
            if abs(f) <= 1e-9 * rate or hi - lo <= 1e-12 * saturation.x:
                break
            if f < 0:
                lo, f_lo = x, f
                if side == -1:
                    f_hi /= 2
                side = -1
            else:
                hi, f_hi = x, f
                if side == 1:
                    f_lo /= 2
                side = 1
        return state

    def result(self) -> LoadResult:
        rate = self.traffic.arrivals.rate
        sat, limited_by = self.saturation()
        sat_rate = sat.rate
        t = self.traffic
        common = dict(method="analytic", request_rate=rate, arrival=t.arrivals.label,
                      saturation_request_rate=sat_rate, limited_by=limited_by, utilization=rate / sat_rate)
        if rate >= sat_rate:
            running = sat.x * (sat.mean_chunks + self.decode_steps)
            return LoadResult(
                **common, saturated=True, concurrency=running, queued=None,
                throughput_requests_per_s=sat_rate, throughput_input_tokens_per_s=sat_rate * self.mean_s,
                throughput_output_tokens_per_s=sat_rate * self.mean_t, iteration_s=sat.iteration_s,
                decode_batch=sat.decoders, prefill_tokens_per_iteration=sat.x * self.mean_s,
                ttft=None, tpot=None, e2e=None,
                notes=(f"the queue grows without bound: {rate:g} req/s is past the saturation rate of "
                       f"{sat_rate:.4g} req/s ({limited_by.replace('_', ' ')})",))
        st = self.state_at_rate(rate, sat)
        lat = self.latencies(st, rate)
        return LoadResult(
            **common, saturated=False, concurrency=lat["concurrency"], queued=lat["queued"],
            throughput_requests_per_s=rate, throughput_input_tokens_per_s=rate * self.mean_s,
            throughput_output_tokens_per_s=rate * self.mean_t, iteration_s=st.iteration_s,
            decode_batch=st.decoders, prefill_tokens_per_iteration=st.x * self.mean_s,
            ttft=lat["ttft"], tpot=lat["tpot"], e2e=lat["e2e"])

    # -- latencies at a stable state

    def latencies(self, st: _State, rate: float) -> dict:
        cost = self.cost
        ctx = self.context_per_decoder
        tau = st.iteration_s
        k = st.budget
        per_token = self.span_per_token
        s_points = self.traffic.input_lengths.compressed(TTFT_POINTS)
        arrivals = self.traffic.arrivals
        # tokens of other prompts in an iteration that carries prompt tokens, beside one prompt's own chunk
        own_share = self.mean_s / st.mean_chunks
        extra = max(0.0, (st.x * self.mean_s / st.prefill_share - own_share)) if st.prefill_share > 0 else 0.0

        # an iteration's time against its prompt tokens, at this state's decoders: tabulated on a geometric
        # grid (0, then 16 tokens up to the budget, ratio sqrt 2) and interpolated linearly, to spend few calls
        # of the cost model
        token_grid = sorted({0.0, *(min(k, 2 ** (i / 2)) for i in range(8, 2 * max(4, math.ceil(math.log2(k))) + 1))})
        token_times = [cost(st.decoders, ctx, g, g * per_token) for g in token_grid]

        def iteration(tokens: float) -> float:
            tokens = min(max(tokens, 0.0), k)
            i = bisect_left(token_grid, tokens)
            if i == 0:
                return token_times[0]
            if i >= len(token_grid):
                return token_times[-1]
            lo, hi = token_grid[i - 1], token_grid[i]
            return token_times[i - 1] + (token_times[i] - token_times[i - 1]) * (tokens - lo) / (hi - lo)

        # -- the iteration in progress when a request arrives: decode-only, or one carrying prompt chunks.
        # Arrivals land in each kind in proportion to its frequency x its length (length-biased).
        kinds: list[tuple[float, float]] = [(st.decode_s, 1 - st.prefill_share)]
        # other prompts sharing an iteration: a count whose spread the feedback (longer iterations gather more
        # arrivals) widens by 1 / (1 - rho_c), rho_c the share of time spent on prompt tokens
        marginal = max(0.0, st.full_s - st.decode_s) / k  # time per prompt token beside the decodes
        feedback = min(0.9, rate * self.mean_s * marginal)
        others = _counts(extra / self.mean_s, self.ca2 / (1 - feedback))
        chunk_iterations = []
        for v, p in s_points:
            m = self.chunks(k, v)
            if m > 1:
                chunk_iterations.append((p * (m - 1), st.full_s))
            for count, q in others:
                chunk_iterations.append((p * q, iteration(v - (m - 1) * k + count * self.mean_s)))
        per_prompt = sum(f for f, _ in chunk_iterations)
        kinds += [(length, st.prefill_share * f / per_prompt) for f, length in chunk_iterations]
        residual_kinds = _merge_kinds([(length, length * f) for length, f in kinds], RESIDUAL_KINDS)
        residual = sum(length / 2 * w for length, w in residual_kinds)

        # -- its own prefill: its tokens, in chunks of the budget ...
        own = []
        for v, p in s_points:
            m = self.chunks(k, v)
            room = k - (v - (m - 1) * k)
            own.append(((m - 1) * st.full_s + iteration(v - (m - 1) * k) if m > 1 else iteration(v), p, room))
        # ... with the prompts that arrived during the iteration in progress: those ahead of it delay it,
        # those behind share its last iteration if there is room (a count with mean rate x L, variance c_a^2
        # times that, of mean-sized prompts)
        stretch = rate * self.mean_s * marginal  # prompts that arrive while it waits join its last iteration
        # the decoder count drifts around its mean (variance ~ mean x (1 + c_a^2) / 2, widened by 1 / (1 - e),
        # e = d ln(tau) / d ln(decoders): more decoders make iterations slower and keep requests longer)
        step = max(1.0, st.decoders * 0.05)
        low = max(0.0, st.decoders - step)
        slope = (cost(st.decoders + step, ctx, 0, 0) - cost(low, ctx, 0, 0)) / (st.decoders + step - low)
        elasticity = max(0.0, min(0.9, slope * st.decoders / tau))
        count_var = st.decoders * (1 + self.ca2) / 2 / (1 - elasticity)
        drift = slope * math.sqrt(count_var)  # standard deviation of an iteration's time from the drift
        terms = []
        for length, w in residual_kinds:
            # seen from an arrival, others cluster around it (bursty) or keep away (constant): the renewal
            # function gives how many fall within half the iteration on each side
            for count, q in _counts(2 * arrivals.expected_after(rate * length / 2), self.ca2):
                # the co-arrivals' total length varies too: two points at its mean +- its standard deviation
                spread = math.sqrt(count * self.traffic.input_lengths.variance)
                for total in ((count * self.mean_s,) if count == 0 else
                              (count * self.mean_s - spread, count * self.mean_s + spread)):
                    tokens = max(0.0, total) / 2
                    share = q if count == 0 else q / 2
                    for d, p, room in own:
                        for sign in (-1, 1):
                            terms.append((d + sign * drift + marginal * (tokens + min(tokens, room)), length,
                                          w * share * p / 2, 1 + stretch * min(1.0, room / self.mean_s)))
        ahead = rate * residual * self.mean_s

        # -- waiting for admission: c slots, each held for a request's life of (chunks + T - 1) iterations
        # (Allen-Cunneen M/G/c). The slots are the running cap, or, if the KV cache binds first, as many as
        # hold its mean use at the same occupancy; the occupancy is the one that sets the saturation rate.
        use = self.occupancy(st.x)
        lives = [(self.chunks(k, v) + tv - 1, p * q) for v, p in self.s_points for tv, q in self.t_points]
        mean_life = sum(life * w for life, w in lives)
        life_scv = max(0.0, sum(life * life * w for life, w in lives) / mean_life ** 2 - 1)
        offered = st.x * mean_life  # requests running: rate x life
        binding = max(use["running_requests"], use["kv_capacity"])
        slots = offered / binding if binding > 0 else float(self.limits.running_cap)
        admit_waits = erlang_c_continuous(slots, offered) if offered < slots else 1.0
        admit_wait = allen_cunneen_wait(rate, mean_life * tau, slots, self.ca2, life_scv)

        # -- waiting for the prompts ahead: the token budget as one FCFS server that works through prompt
        # tokens at a full iteration's time per token, tau_k / k (G/G/1, Kingman). Its wait counts all prompt
        # work ahead; the part in the iteration in progress and in the arrival's own first iteration is counted
        # above, so only the rest (backlog that spills into later iterations) is added, with Kingman's tail.
        prompt_service = self.mean_s * st.full_s / k
        rho = min(1.0, rate * prompt_service)
        kingman = kingman_wait(rate, prompt_service, self.ca2, self.traffic.input_lengths.scv)
        counted = (residual - st.decode_s / 2) + ahead * st.full_s / k
        prompt_wait = max(0.0, kingman - counted)
        prompt_waits = rho * prompt_wait / kingman if kingman > 0 else 0.0
        waits = 1 - (1 - admit_waits) * (1 - prompt_waits)
        wait_mean = admit_wait + prompt_wait
        ttft_cdf = _ttft_cdf(terms, waits, wait_mean)
        ttft_mean = sum(w * (d + length / 2 + wait_mean * stretch) for d, length, w, stretch in terms)
        found, ttft_grid, ttft_values = _quantiles(ttft_cdf, PERCENTILES, min(d for d, *_ in terms), ttft_mean,
                                                   top=TTFT_GRID_TOP)
        ttft = Percentiles(*found, mean=ttft_mean)
        ttft_table = _interpolated(ttft_grid, ttft_values) if ttft_grid else ttft_cdf

        # -- TPOT: a request's mean iteration over its decode steps. Prompts arriving meanwhile (a renewal
        # count, variance c_a^2 x mean) each add their prefill's extra iteration time Y; the decoder count
        # drifts slowly (variance ~ mean x (1 + c_a^2) / 2), averaged over the request's decode time
        extra_time = []  # (the prompt's prefill time beyond decode-only iterations, probability)
        for v, p in s_points:
            m = self.chunks(k, v)
            alone = (m - 1) * st.full_s + iteration(v - (m - 1) * k) if m > 1 else iteration(v)
            extra_time.append((max(0.0, alone - m * st.decode_s), p))
        y_mean = sum(y * p for y, p in extra_time)
        scale = (tau - st.decode_s) / (st.x * y_mean) if st.x * y_mean > 0 else 0.0
        y_mean *= scale
        y_second = sum((y * scale) ** 2 * p for y, p in extra_time)
        # a request's decode window is itself lengthened by the prompts that arrive in it (a share
        # busy = 1 - tau_d / tau of the time), which amplifies their count's spread by 1 / (1 - busy)
        busy = max(0.0, min(0.95, 1 - st.decode_s / tau))
        # the prompt queue also bunches prefill iterations into its busy periods: by 1 / sqrt(1 - rho)
        prefill_var = st.x * (y_second - y_mean ** 2 + self.ca2 * y_mean ** 2) / (1 - busy) ** 2 \
            / math.sqrt(1 - min(rho, 0.9))
        drift_var = slope * slope * count_var
        correlation_s = max(self.decode_steps * tau, tau) / (1 - elasticity)
        tpot_points = []
        for tv, q in self.t_points:
            steps = tv - 1
            if steps < 1 - 1e-9:
                continue
            r = correlation_s / (steps * tau)
            averaging = 2 * r * (1 - r * (1 - math.exp(-1 / r))) if r < 1e6 else 1.0
            tpot_points.append((steps, q, math.sqrt(prefill_var / steps + drift_var * averaging)))
        weight = sum(q for _, q, _ in tpot_points)
        tpot = None
        if tpot_points:
            def tpot_cdf(value: float) -> float:
                return sum(q * _normal_cdf_at(value, tau, sd) for _, q, sd in tpot_points) / weight
            tpot = Percentiles(*_quantiles(tpot_cdf, PERCENTILES, 0.0, tau)[0], mean=tau)

        # -- E2E = TTFT + decode steps x TPOT: the TTFT distribution (tabulated above) shifted by the decode
        # time of each output length, whose TPOT is normal (three-point Gauss-Hermite)
        first_only = 1 - weight
        shifts = [(q * w, steps * max(0.0, tau + z * sd)) for steps, q, sd in tpot_points for z, w in _GAUSS_HERMITE_3]

        def e2e_cdf(value: float) -> float:
            total = first_only * ttft_table(value) if first_only > 1e-12 else 0.0
            for w, shift in shifts:
                total += w * ttft_table(value - shift)
            return total

        e2e_mean = ttft_mean + self.decode_steps * tau
        e2e = Percentiles(*_quantiles(e2e_cdf, PERCENTILES, ttft.p50 * 0.5, e2e_mean)[0], mean=e2e_mean)
        # requests in flight (Little's law): from their first chunk to their last token
        running = rate * (sum(d * p for d, p, _ in own) + self.decode_steps * tau)
        # requests waiting for their first iteration: the rest of the one in progress, then the queues
        queued = rate * (residual + wait_mean)
        return {"ttft": ttft, "tpot": tpot, "e2e": e2e, "concurrency": running, "queued": queued}


def _normal_cdf_at(value: float, mean: float, sd: float) -> float:
    if sd <= 0:
        return 1.0 if value >= mean else 0.0
    return 0.5 * math.erfc((mean - value) / (sd * math.sqrt(2.0)))


def _ttft_cdf(terms: list[tuple[float, float, float, float]], waits: float, wait_mean: float):
    """CDF of D + U + sW: for each term (d, L, w, s), with probability w, a fixed delay d plus U uniform on
    [0, L] (the rest of the iteration in progress) plus s times W, which is zero with probability 1 - waits
    and else exponential with mean wait_mean / waits (the queue)."""
    base = wait_mean / waits if waits > 0 and wait_mean > 0 else 0.0
    # terms whose delays are within 0.5% of each other (same span and stretch) are merged
    merged: dict[tuple, list[float]] = {}
    for d, span, w, s in terms:
        if w <= 0:
            continue
        key = (round(math.log(max(d, 1e-12)) * 200), span, s)
        slot = merged.setdefault(key, [0.0, 0.0])
        slot[0] += w * d
        slot[1] += w
    terms = [(dw / w, max(key[1], 1e-12), w, base * key[2]) for key, (dw, w) in merged.items()]

    def cdf(x: float) -> float:
        total = 0.0
        for d, u, w, conditional in terms:
            y = x - d
            if y <= 0:
                continue
            a = y if y < u else u
            plain = a / u
            if conditional:
                inverse = 1 / conditional
                queued = (a - conditional * (math.exp((a - y) * inverse) - math.exp(-y * inverse))) / u
                total += w * ((1 - waits) * plain + waits * queued)
            else:
                total += w * plain
        return total

    return cdf


def _merge_kinds(kinds: list[tuple[float, float]], groups: int) -> list[tuple[float, float]]:
    """(length, weight) pairs merged into at most ``groups`` by length, weights normalized to 1."""
    kinds = sorted((length, w) for length, w in kinds if w > 0)
    total = sum(w for _, w in kinds)
    out: list[tuple[float, float]] = []
    target = total / groups
    mass = weighted = 0.0
    for length, w in kinds:
        while w > 1e-15 * total:
            take = min(w, target - mass)
            mass += take
            weighted += take * length
            w -= take
            if mass >= target * (1 - 1e-9):
                out.append((weighted / mass, mass / total))
                mass = weighted = 0.0
    if mass > 1e-12 * total:
        out.append((weighted / mass, mass / total))
    return out


def _counts(mean: float, dispersion: float, most: int = 3) -> list[tuple[int, float]]:
    """A count of arrivals in a window: mean ``mean``, variance ``dispersion x mean`` (1: Poisson; more:
    negative binomial; less: towards the two whole numbers around the mean); counts above ``most`` are folded
    into ``most`` with their mean kept by the weights."""
    if mean <= 1e-12:
        return [(0, 1.0)]
    if dispersion > 1 + 1e-9:  # negative binomial: r = mean / (dispersion - 1), p = 1 / dispersion
        r = mean / (dispersion - 1)
        success = 1 / dispersion
        probs = [success ** r]
        for n in range(1, most):
            probs.append(probs[-1] * (n - 1 + r) / n * (1 - success))
    else:
        poisson = [math.exp(-mean)]
        for n in range(1, most):
            poisson.append(poisson[-1] * mean / n)
        low = int(mean)
        two_point = [0.0] * (most + 1)
        if low < most:
            two_point[low] = 1 - (mean - low)
            two_point[low + 1] = mean - low
        else:
            two_point[most] = 1.0
        probs = [dispersion * pp + (1 - dispersion) * tp for pp, tp in zip(poisson, two_point)]
    rest = max(0.0, 1 - sum(probs))
    tail_mean = max(float(most), (mean - sum(n * p for n, p in enumerate(probs))) / rest) if rest > 1e-12 else most
    out = [(n, p) for n, p in enumerate(probs) if p > 0]
    if rest > 1e-12:
        out.append((tail_mean, rest))
    return out


def _quantiles(cdf, levels, low: float, scale: float, top: float | None = None):
    """The smallest x with cdf(x) >= q for each level q: the CDF on a geometric grid from ``low`` (where it
    is ~0) to where it passes ``top`` (default: the highest level), then bisection inside the bracketing cell
    (relative precision ~0.1%). Returns the quantiles, and the grid with its CDF values."""
    top = max(levels) if top is None else top
    low = max(low, 1e-9 * scale)
    high = max(2 * scale, 2 * low)
    while cdf(high) < top:
        high *= 2
        if high > 1e12:
            return [math.inf] * len(levels), [], []
    ratio = (high / low) ** (1 / (QUANTILE_GRID - 1))
    grid = [low * ratio**i for i in range(QUANTILE_GRID)]
    values = [cdf(x) for x in grid]
    out = []
    for q in levels:
        i = next((j for j, v in enumerate(values) if v >= q), len(grid) - 1)
        if i == 0:
            out.append(grid[0])
            continue
        lo, hi = grid[i - 1], grid[i]
        while hi - lo > 1e-3 * hi:
            mid = (lo + hi) / 2
            lo, hi = (lo, mid) if cdf(mid) >= q else (mid, hi)
        out.append(hi)
    return out, grid, values


def _interpolated(grid: list[float], values: list[float]):
    """A CDF from its values on a grid: 0 below it, linear inside, 1 above."""
    def cdf(x: float) -> float:
        if x <= grid[0]:
            return 0.0 if x < grid[0] else values[0]
        i = bisect_left(grid, x)
        if i >= len(grid):
            return 1.0
        lo, hi = grid[i - 1], grid[i]
        return values[i - 1] + (values[i] - values[i - 1]) * (x - lo) / (hi - lo)
    return cdf


def solve_load(iteration_time: IterationTime, limits: EngineLimits, traffic: Traffic) -> LoadResult:
    """The engine's steady state under ``traffic`` (closed form; docs/queueing.md).

    Raises ``CoreError`` if a request could never run (longer than the KV cache, or a prompt longer than the
    token budget without chunked prefill). Past the saturation rate the result says so: ``saturated`` is
    true, percentiles and ``queued`` are ``None``, throughput is the engine's capacity."""
    model = _Model(iteration_time, limits, traffic)
    return model.result()


def saturation_request_rate(iteration_time: IterationTime, limits: EngineLimits, traffic: Traffic) -> tuple[float, str]:
    """The request rate above which the queue grows without bound, and the limit that sets it."""
    state, name = _Model(iteration_time, limits, traffic).saturation()
    return state.rate, name


def max_rate_meeting(iteration_time: IterationTime, limits: EngineLimits, traffic: Traffic,
                     objectives: dict[str, float], tolerance: float = 0.01) -> tuple[float, LoadResult | None]:
    """The largest request rate (below saturation) at which every objective holds, and the result there.

    ``objectives`` maps ``{ttft,tpot,e2e}_{p50,p90,p99,mean}_s`` to a limit in seconds, e.g.
    ``{"ttft_p99_s": 2.0, "tpot_p90_s": 0.05}``. Latencies grow with the rate, so this bisects on the rate to
    ``tolerance`` (relative). Returns ``(0.0, None)`` if even a vanishing rate misses an objective. ``plan`` sizes
    replicas with it: a demand of R req/s needs ``ceil(R / rate)`` of them. ``traffic``'s own rate is ignored."""
    keys = {f"{m}_{q}_s": (m, q) for m in ("ttft", "tpot", "e2e") for q in ("p50", "p90", "p99", "mean")}
    for key, limit in objectives.items():
        if key not in keys:
            raise CoreError(f"unknown latency objective {key!r}; valid: {', '.join(keys)}")
        if not (isinstance(limit, (int, float)) and limit > 0 and math.isfinite(limit)):
            raise CoreError(f"latency objective {key} must be a positive number of seconds, got {limit!r}")
    saturation, _ = saturation_request_rate(iteration_time, limits, traffic)

    def meets(rate: float) -> LoadResult | None:
        result = solve_load(iteration_time, limits, traffic.at_rate(rate))
        if result.saturated:
            return None
        for key, limit in objectives.items():
            metric, q = keys[key]
            value = getattr(result, metric)
            if value is not None and getattr(value, q) > limit:
                return None
        return result

    lo, best = saturation * 1e-6, None
    best = meets(lo)
    if best is None:
        return 0.0, None
    hi = saturation * (1 - 1e-9)
    top = meets(hi)
    if top is not None:
        return hi, top
    while hi - lo > tolerance * lo:
        mid = (lo * hi) ** 0.5 if hi > 4 * lo else (lo + hi) / 2
        found = meets(mid)
        if found is None:
            hi = mid
        else:
            lo, best = mid, found
    return lo, best
