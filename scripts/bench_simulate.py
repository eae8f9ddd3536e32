#!/usr/bin/env python3
"""Benchmark: the engine simulation of 10,000 requests (the ``--simulate`` mode), and the closed-form load model.

In one process on one core, median wall time over repeated runs of ``simulate_engine`` (10,000 recorded requests
after a 1,000-request warm-up) on the synthetic engines of tests/load_engines.py, against a baseline measured in
the same run: drawing the same requests' arrival times and lengths alone. The issue's target is "10,000 requests
in under 1 s". The iteration-time model is a cheap closure here; ``--cost-us N`` makes every call of it busy-wait
N microseconds, like the full cost model (the simulator caches it on a 1/16 grid; the calls are printed).

    python scripts/bench_simulate.py              # 5 runs
    python scripts/bench_simulate.py --runs 9 --cost-us 100
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

from load_engines import ENGINES  # noqa: E402

from inferwall.core.distributions import Arrivals  # noqa: E402
from inferwall.core.queueing import Traffic, saturation_request_rate, solve_load  # noqa: E402
from inferwall.core.simulate import simulate_engine  # noqa: E402

REQUESTS = 10_000
CASES = [("8b-mixed", "poisson", 0.1), ("8b-mixed", "poisson", 0.5), ("8b-mixed", "poisson", 0.9),
         ("70b-chat", "bursty:2", 0.7), ("long-prompt", "poisson", 0.7), ("host-bound", "poisson", 0.7)]


def slowed(fn, micros: float):
    if micros <= 0:
        return fn

    def iteration_time(*args):
        end = time.perf_counter() + micros * 1e-6
        while time.perf_counter() < end:
            pass
        return fn(*args)
    return iteration_time


def arrivals_of(text: str) -> Arrivals:
    name, _, cv = text.partition(":")
    return Arrivals(1.0, name, float(cv)) if cv else Arrivals(1.0, name)


def draw_only(traffic: Traffic, requests: int, seed: int) -> None:
    """The baseline: the same number of arrival gaps and lengths, drawn and stored, nothing simulated."""
    gap = traffic.arrivals.gap_sampler(random.Random(f"{seed}:arrivals"))
    draw_in = traffic.input_lengths.sampler(random.Random(f"{seed}:input"))
    draw_out = traffic.output_lengths.sampler(random.Random(f"{seed}:output"))
    t, rows = 0.0, []
    for _ in range(requests):
        t += gap()
        rows.append((t, draw_in(), draw_out()))


def median_time(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cost-us", type=float, default=0.0, help="busy-wait per iteration-time call (us)")
    args = parser.parse_args()

    print(f"simulate_engine, {REQUESTS:,} requests (+{REQUESTS // 10:,} warm-up), median of {args.runs} runs, "
          f"iteration-time call cost {args.cost_us:g} us")
    print(f"{'engine':12} {'arrivals':9} {'load':>5} {'baseline':>9} {'simulate':>9} {'x base':>7} "
          f"{'iterations':>10} {'calls':>6} {'closed form':>11}")
    worst = 0.0
    for name, process, load in CASES:
        it, limits, inputs, outputs, _ = ENGINES[name]
        traffic = Traffic(arrivals_of(process), inputs, outputs)
        rate = load * saturation_request_rate(it, limits, traffic)[0]
        traffic = traffic.at_rate(rate)
        cost = slowed(it, args.cost_us)
        base = median_time(lambda: draw_only(traffic, REQUESTS * 11 // 10, 0), args.runs)
        last = {}

        def run():
            last["sim"] = simulate_engine(cost, limits, traffic, requests=REQUESTS, seed=0)
        sim_time = median_time(run, args.runs)
        solve_time = median_time(lambda: solve_load(cost, limits, traffic), args.runs)
        worst = max(worst, sim_time)
        sim = last["sim"]
        print(f"{name:12} {process:9} {load:5.0%} {base * 1e3:7.0f}ms {sim_time * 1e3:7.0f}ms "
              f"{sim_time / base:6.1f}x {sim.iterations:10,} {sim.iteration_time_calls:6,} {solve_time * 1e3:9.1f}ms")
    print(f"slowest: {worst:.2f} s for {REQUESTS:,} requests (target: under 1 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
