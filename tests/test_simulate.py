"""The discrete-event simulators against queueing theory, and the engine simulation's mechanics."""

from __future__ import annotations

import math

import pytest
from load_engines import ENGINES, constant, roofline

from inferwall.core.distributions import Arrivals
from inferwall.core.distributions import LengthDistribution as Lengths
from inferwall.core.queueing import (EngineLimits, Traffic, erlang_c, kingman_wait, mmc_mean_wait,
                                     mmc_wait_quantile, percentile, saturation_request_rate)
from inferwall.core.simulate import CachedIterationTime, QueueSimulation, simulate_engine, simulate_queue
from inferwall.core.types import CoreError


def quantile_standard_error(values, q: float, batches: int = 20) -> float:
    """Standard error of a sample quantile by batch quantiles (waits are autocorrelated)."""
    size = len(values) // batches
    qs = [percentile(sorted(values[i * size:(i + 1) * size]), q) for i in range(batches)]
    mean = sum(qs) / batches
    return math.sqrt(sum((x - mean) ** 2 for x in qs) / (batches - 1) / batches)


# ----------------------------------------------------------------------------- G/G/c against exact results

@pytest.fixture(scope="module")
def mm1() -> QueueSimulation:
    return simulate_queue(Arrivals(0.7), service_mean=1.0, service_cv=1.0, servers=1, customers=200_000, seed=3)


def test_mm1_mean_wait_is_exact_within_sampling_error(mm1):
    exact = 0.7 / (1.0 - 0.7)  # rho / (mu - lambda)
    assert abs(mm1.mean_wait - exact) < 4 * mm1.standard_error()
    assert mm1.utilization == pytest.approx(0.7, abs=0.01)


@pytest.mark.parametrize("q", [0.5, 0.9, 0.99])
def test_mm1_percentiles_are_exact_within_sampling_error(mm1, q):
    wait_exact = mmc_wait_quantile(0.7, 1.0, 1, q)  # P(W > t) = rho e^-(mu - lambda) t
    sojourn_exact = -math.log(1 - q) / 0.3  # sojourn time ~ exponential(mu - lambda)
    assert abs(mm1.wait_quantile(q) - wait_exact) < 4 * quantile_standard_error(mm1.waits, q) + 1e-3
    assert abs(mm1.sojourn_quantile(q) - sojourn_exact) < 4 * quantile_standard_error(mm1.sojourns, q)


def test_mmc_matches_erlang_c():
    lam, mu, c = 3.0, 1.0, 4
    sim = simulate_queue(Arrivals(lam), 1 / mu, 1.0, servers=c, customers=150_000, seed=5)
    waited = sum(1 for w in sim.waits if w > 0) / len(sim.waits)
    assert waited == pytest.approx(erlang_c(c, lam / mu), abs=0.015)
    assert abs(sim.mean_wait - mmc_mean_wait(lam, mu, c)) < 4 * sim.standard_error()
    q = 0.9
    assert abs(sim.wait_quantile(q) - mmc_wait_quantile(lam, mu, c, q)) < 4 * quantile_standard_error(sim.waits, q)


@pytest.mark.parametrize("service_cv", [0.0, 0.5])
def test_mg1_matches_pollaczek_khinchine(service_cv):
    """With Poisson arrivals Kingman's formula is exact (Pollaczek-Khinchine)."""
    sim = simulate_queue(Arrivals(0.8), 1.0, service_cv, servers=1, customers=150_000, seed=2)
    assert abs(sim.mean_wait - kingman_wait(0.8, 1.0, 1.0, service_cv**2)) < 4 * sim.standard_error()


def test_erlang_c_closed_forms():
    assert erlang_c(1, 0.6) == pytest.approx(0.6)
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang_c(3, 3.0) == 1.0 and erlang_c(5, 0) == 0.0


def test_queue_simulation_is_seeded():
    a = simulate_queue(Arrivals(0.5, "bursty", 2.0), 1.0, 0.7, servers=2, customers=2000, seed=11)
    b = simulate_queue(Arrivals(0.5, "bursty", 2.0), 1.0, 0.7, servers=2, customers=2000, seed=11)
    c = simulate_queue(Arrivals(0.5, "bursty", 2.0), 1.0, 0.7, servers=2, customers=2000, seed=12)
    assert a == b and a.waits != c.waits


# ----------------------------------------------------------------------------- the engine as a textbook queue

@pytest.mark.parametrize("outputs", [Lengths.fixed(20), Lengths.uniform(5, 35)])
def test_engine_with_one_slot_is_an_mg1_queue(outputs):
    """One running request at a time and a constant iteration time: a request holds the engine for T
    iterations (its prefill, then T - 1 decodes), so the engine is an M/G/1 queue with service T x tau, and
    the mean end-to-end time is the Pollaczek-Khinchine wait plus the service."""
    tau, rate = 0.01, 3.0
    limits = EngineLimits(max_running_requests=1, max_tokens_per_iteration=8192, kv_capacity_tokens=10**6)
    sim = simulate_engine(constant(tau), limits, Traffic(Arrivals(rate), Lengths.fixed(100), outputs),
                          requests=40_000, seed=4)
    service_mean = tau * outputs.mean
    service_second = tau**2 * (outputs.variance + outputs.mean**2)
    rho = rate * service_mean
    exact = rate * service_second / (2 * (1 - rho)) + service_mean
    e2e = sum(sim.e2e_s) / len(sim.e2e_s)
    wait_se = QueueSimulation(sim.queue_wait_s, sim.e2e_s, rho).standard_error()
    assert abs(e2e - exact) < 4 * wait_se
    # every token after the first comes one iteration later; the first after one prefill iteration
    assert all(x == pytest.approx(tau) for x in sim.tpot_s)
    assert all(t - w == pytest.approx(tau) for t, w in zip(sim.ttft_s, sim.queue_wait_s))


def test_engine_counts_through_littles_law_and_delivers_the_offered_rate():
    it, limits, inputs, outputs, _ = ENGINES["8b-mixed"]
    traffic = Traffic(Arrivals(12.0), inputs, outputs)
    sim = simulate_engine(it, limits, traffic, requests=10_000, seed=1)
    assert sim.throughput_requests_per_s == pytest.approx(12.0, rel=0.05)
    assert sim.throughput_output_tokens_per_s == pytest.approx(12.0 * outputs.mean, rel=0.06)
    in_flight = sum(e - w for e, w in zip(sim.e2e_s, sim.queue_wait_s)) / len(sim.e2e_s)
    assert sim.concurrency == pytest.approx(12.0 * in_flight, rel=0.06)
    assert not sim.saturated and sim.queued < 1


def test_isolated_request_gets_its_prefill_at_once_and_chunks_long_prompts():
    """At a rate so low that requests never meet, TTFT is the prefill iteration(s) alone: one iteration for
    a prompt within the budget, ceil(S / budget) for a longer one."""
    tau = 0.02
    for prompt, budget, iterations in ((500, 1024, 1), (5000, 1024, 5)):
        limits = EngineLimits(8, budget, 10**6)
        sim = simulate_engine(constant(tau), limits, Traffic(Arrivals(0.01), Lengths.fixed(prompt),
                                                             Lengths.fixed(10)), requests=200, seed=1)
        assert percentile(sorted(sim.ttft_s), 0.5) == pytest.approx(iterations * tau)


class Recorder(CachedIterationTime):
    """Records the largest decode batch and iteration token count the engine ever ran."""

    def __init__(self, fn):
        super().__init__(fn, 0)
        self.max_decoders = self.max_tokens = 0

    def __call__(self, decoders, context, tokens, spans):
        self.max_decoders = max(self.max_decoders, decoders)
        self.max_tokens = max(self.max_tokens, decoders + tokens)
        return super().__call__(decoders, context, tokens, spans)


def test_engine_respects_the_running_cap_the_token_budget_and_the_kv_cache():
    # fixed 600 + 400 tokens per request and a KV cache of 10 requests: never more than 10 run
    kv = Recorder(roofline())
    simulate_engine(kv, EngineLimits(64, 4096, 10_000), Traffic(Arrivals(40.0), Lengths.fixed(600),
                                                                Lengths.fixed(400)), requests=2000, seed=1)
    assert kv.max_decoders == 10 and kv.max_tokens <= 4096
    capped = Recorder(roofline())
    simulate_engine(capped, EngineLimits(7, 4096, 10**7), Traffic(Arrivals(40.0), Lengths.fixed(600),
                                                                  Lengths.fixed(400)), requests=2000, seed=1)
    assert capped.max_decoders == 7


def test_requests_that_can_never_run_are_core_errors():
    traffic = Traffic(Arrivals(1.0), Lengths.fixed(3000), Lengths.fixed(100))
    with pytest.raises(CoreError, match="KV cache"):
        simulate_engine(constant(0.01), EngineLimits(8, 8192, 3000), traffic, requests=10)
    with pytest.raises(CoreError, match="token budget"):
        simulate_engine(constant(0.01), EngineLimits(8, 2048, 10**6, chunked_prefill=False), traffic, requests=10)


def test_engine_past_saturation_reports_an_unbounded_queue_and_no_percentiles():
    it, limits, inputs, outputs, _ = ENGINES["8b-mixed"]
    traffic = Traffic(Arrivals(1.0), inputs, outputs)
    saturation, limited_by = saturation_request_rate(it, limits, traffic)
    over = simulate_engine(it, limits, traffic.at_rate(1.5 * saturation), requests=5000, seed=2)
    assert over.saturated and over.backlog_at_end > 250
    result = over.load_result(saturation, limited_by)
    assert result.saturated and result.ttft is None and result.tpot is None and result.e2e is None
    assert result.fields()["latency.ttft_p99_s"] is None
    under = simulate_engine(it, limits, traffic.at_rate(0.7 * saturation), requests=5000, seed=2)
    assert not under.saturated
    assert under.load_result(saturation, limited_by).ttft.p50 > 0


def test_engine_simulation_is_seeded_and_deterministic():
    it, limits, inputs, outputs, _ = ENGINES["70b-chat"]
    traffic = Traffic(Arrivals(8.0, "bursty", 2.0), inputs, outputs)
    a = simulate_engine(it, limits, traffic, requests=1500, seed=9)
    b = simulate_engine(it, limits, traffic, requests=1500, seed=9)
    c = simulate_engine(it, limits, traffic, requests=1500, seed=10)
    assert a == b
    assert a.ttft_s != c.ttft_s


def test_more_rate_never_shortens_the_simulated_wait():
    """Same seed at a higher rate: the same arrivals compressed in time (common random numbers)."""
    it, limits, inputs, outputs, _ = ENGINES["8b-mixed"]
    waits = []
    for rate in (5.0, 12.0, 20.0, 26.0):
        sim = simulate_engine(it, limits, Traffic(Arrivals(rate), inputs, outputs), requests=4000, seed=3)
        waits.append(sum(sim.ttft_s) / len(sim.ttft_s))
    assert waits == sorted(waits)


def test_cached_iteration_time_rounds_within_its_resolution_and_counts_calls():
    seen = []

    def fn(n, c, p, a):
        seen.append((n, c, p, a))
        return 0.01 + 1e-6 * (n + p) + 1e-9 * (c + a)

    cached = CachedIterationTime(fn, 1 / 16)
    for n, c, p, a in ((5, 1000.0, 0, 0.0), (300, 123_456.0, 777, 9e5), (300, 123_500.0, 777, 9.01e5)):
        value = cached(n, c, p, a)
        got = seen[-1]
        assert value == fn(*got)
        assert got[0] == pytest.approx(n, rel=1 / 32 + 1e-9) and got[1] == pytest.approx(c, rel=1 / 32 + 1e-9)
        assert got[2] == pytest.approx(p, rel=1 / 32 + 1e-9, abs=0.5)
    assert cached.calls == 2  # the third call fell on the second's grid point
    exact = CachedIterationTime(fn, 0)
    exact(3, 10.5, 2, 7.0)
    assert seen[-1] == (3, 10.5, 2, 7.0)
    with pytest.raises(CoreError):
        CachedIterationTime(fn, 0.5)
    with pytest.raises(CoreError, match="positive finite"):
        CachedIterationTime(lambda *a: math.nan)(1, 1, 1, 1)
