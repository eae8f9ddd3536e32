#!/usr/bin/env python3
"""Report: the closed-form load model (``solve_load``) against the engine simulation, region by region.

For every synthetic engine of tests/load_engines.py (plus ``fixed-output``, which shows one divergence), arrival
process and load (a share of the model's saturation rate), it simulates the engine and prints the relative error
of the model's p50/p90/p99 of TTFT, TPOT and E2E, then summaries per region, the TTFT inflation of bursty arrivals
(simulated, modelled, and the factor a Kingman-style wait would apply), and the saturation rate against the
simulator's throughput when overloaded. docs/queueing.md quotes its output.

    python scripts/queueing_report.py               # all regions, 10,000 requests each (~1 min)
    python scripts/queueing_report.py --detail      # also one line per engine, process and load
    python scripts/queueing_report.py --requests 20000 --seeds 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

from load_engines import ENGINES, roofline  # noqa: E402

from inferwall.core.distributions import Arrivals  # noqa: E402
from inferwall.core.distributions import LengthDistribution as Lengths  # noqa: E402
from inferwall.core.queueing import EngineLimits, Traffic, saturation_request_rate, solve_load  # noqa: E402
from inferwall.core.simulate import simulate_engine  # noqa: E402

PROCESSES = {"poisson": Arrivals(1.0), "constant": Arrivals(1.0, "constant"),
             "bursty:2": Arrivals(1.0, "bursty", 2.0), "bursty:4": Arrivals(1.0, "bursty", 4.0)}
LOADS = (0.25, 0.5, 0.75, 0.9, 0.95)
METRICS = ("ttft", "tpot", "e2e")
EXTRA = {"fixed-output": (roofline(), EngineLimits(256, 8192, 1_000_000), Lengths.uniform(128, 2048),
                          Lengths.fixed(256), "every answer 256 tokens: completions come in waves")}


def band(load: float) -> str:
    return "below 80%" if load < 0.8 else "80-95%"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--seeds", type=int, default=1, help="simulations averaged per point")
    parser.add_argument("--detail", action="store_true")
    args = parser.parse_args()
    engines = {**ENGINES, **EXTRA}

    errors: dict[tuple[str, str], dict[str, list[float]]] = {}
    inflation = []
    saturation_rows = []
    if args.detail:
        print("engine        arrivals  load  " + "  ".join(f"{m}.{q:3}" for m in METRICS for q in ("p50", "p90", "p99")))
    for name, (it, limits, inputs, outputs, _) in engines.items():
        means = {}
        for process, arrivals in PROCESSES.items():
            traffic = Traffic(arrivals, inputs, outputs)
            saturation, _ = saturation_request_rate(it, limits, traffic)
            for load in LOADS:
                t = traffic.at_rate(load * saturation)
                model = solve_load(it, limits, t)
                sims = [simulate_engine(it, limits, t, requests=args.requests, seed=s) for s in range(args.seeds)]
                row = []
                for metric in METRICS:
                    for q in ("p50", "p90", "p99"):
                        want = statistics.mean(getattr(s.summary(metric), q) for s in sims)
                        error = getattr(getattr(model, metric), q) / want - 1
                        row.append(error)
                        if q != "p99" and name in ENGINES:
                            errors.setdefault((process, band(load)), {}).setdefault(f"{metric}.{q}", []).append(error)
                if load == 0.5:
                    means[process] = (statistics.mean(statistics.mean(s.ttft_s) for s in sims),
                                      statistics.mean(statistics.mean(s.queue_wait_s) for s in sims), model.ttft.mean)
                if args.detail:
                    print(f"{name:13} {process:9} {load:4.0%}  " + "  ".join(f"{e:+8.0%}" for e in row))
            if process == "poisson":
                over = simulate_engine(it, limits, traffic.at_rate(1.5 * saturation), requests=args.requests, seed=0)
                saturation_rows.append((name, saturation, over.throughput_requests_per_s))
        for process in ("bursty:2", "bursty:4"):
            cv2 = PROCESSES[process].interarrival_scv
            kingman = (cv2 + inputs.scv) / (1 + inputs.scv)
            sim_ttft, sim_wait, model_ttft = means[process]
            base_ttft, base_wait, base_model = means["poisson"]
            inflation.append((name, process, sim_ttft / base_ttft, model_ttft / base_model, sim_wait / base_wait,
                              kingman))

    print("\n## Agreement by region (synthetic engines of tests/load_engines.py; model / simulation - 1)\n")
    print("| arrivals | load | " + " | ".join(f"{m} p50 | {m} p90" for m in METRICS) + " |")
    print("|---|---|" + "---|" * 6)
    for (process, load_band), by_metric in errors.items():
        cells = []
        for metric in METRICS:
            for q in ("p50", "p90"):
                values = by_metric[f"{metric}.{q}"]
                worst = max(values, key=abs)
                cells.append(f"{statistics.median(abs(v) for v in values):.0%} ({worst:+.0%})")
        print(f"| {process} | {load_band} | " + " | ".join(cells) + " |")
    print("\nEach cell: median |error| over engines and loads in the band (the worst error, signed).")

    print("\n## Bursty arrivals: mean TTFT against Poisson at the same rate (50% load)\n")
    print("| engine | arrivals | simulated | modelled | simulated wait for admission | Kingman factor |")
    print("|---|---|---|---|---|---|")
    for name, process, sim, model, wait, kingman in inflation:
        print(f"| {name} | {process} | {sim:.1f}x | {model:.1f}x | {wait:.1f}x | {kingman:.1f}x |")

    print("\n## Saturation rate against the simulator overloaded at 1.5x (Poisson)\n")
    print("| engine | model (req/s) | simulated throughput | difference |")
    print("|---|---|---|---|")
    for name, model, sim in saturation_rows:
        print(f"| {name} | {model:.2f} | {sim:.2f} | {model / sim - 1:+.1%} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
