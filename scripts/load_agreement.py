#!/usr/bin/env python3
"""Report: the closed-form load model against the simulation on real models and GPUs (the cost model's iterations).

scripts/queueing_report.py measures the approximation on synthetic engines; this script does it on the engines
``inferwall estimate --request-rate`` builds: the iteration table from the cost model (core/load.py) and the engine
limits of the profile, for several models, GPUs, layouts and length distributions. Both sides use the same
iteration table, so the difference is the queueing approximation alone. For every scenario, arrival process and load
(a share of the saturation rate) it prints the relative error of the model's p50/p90/p99 of TTFT, TPOT and E2E
against a seeded simulation, then the median |error| and the worst signed error per region. docs/queueing.md
quotes its output.

    python scripts/load_agreement.py                 # 10,000 simulated requests per point (~1-2 min)
    python scripts/load_agreement.py --detail        # one line per scenario, process and load
    python scripts/load_agreement.py --requests 20000
"""

from __future__ import annotations

import argparse
import statistics
import sys

from inferwall.catalog import load_catalog
from inferwall.core import prepare
from inferwall.core.load import IterationTable, engine_limits, per_replica
from inferwall.core.queueing import saturation_request_rate, solve_load
from inferwall.core.simulate import simulate_engine
from inferwall.inputs import Options, build

SCENARIOS = {
    "70b-h100x8-sharegpt": dict(model="llama-3.1-70b", gpus=8, input_tokens="sharegpt", output_tokens="sharegpt"),
    "8b-h100-1k": dict(model="llama-3.1-8b", input_tokens="1024~300", output_tokens="256~100"),
    "dsv3-h200x8-2k": dict(model="deepseek-v3", gpu="h200", gpus=8, input_tokens="2048~50%",
                           output_tokens="512~50%"),
    "70b-tp4pp2-fixed": dict(model="llama-3.1-70b", gpus=8, tp=4, pp=2, input_tokens="1024", output_tokens="256"),
    "8b-l40s-4k-prompts": dict(model="llama-3.1-8b", gpu="l40s", input_tokens="4096~25%", output_tokens="128..512"),
    "8b-h100-trtllm-2k": dict(model="llama-3.1-8b", engine="trtllm", input_tokens="2048~30%", output_tokens="256~50%"),
}
PROCESSES = ("poisson", "constant", "bursty:2")
LOADS = (0.25, 0.5, 0.75, 0.9)
METRICS = ("ttft", "tpot", "e2e")


def band(load: float) -> str:
    return "below 80%" if load < 0.8 else "at 90%"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--detail", action="store_true")
    args = parser.parse_args()
    catalog = load_catalog()
    errors: dict[tuple[str, str], dict[str, list[float]]] = {}
    for name, options in SCENARIOS.items():
        for process in PROCESSES:
            resolved = build(Options(**options, request_rate=1, arrival=process), catalog)
            s, _ = prepare(resolved.scenario, resolved.compute_explicit)
            traffic = per_replica(s.load, 1)
            table, limits = IterationTable(s, traffic), engine_limits(s, traffic)
            saturation, limited_by = saturation_request_rate(table, limits, traffic)
            for load in LOADS:
                at = traffic.at_rate(load * saturation)
                model = solve_load(table, limits, at)
                sim = simulate_engine(table, limits, at, requests=args.requests, seed=args.seed)
                cells = errors.setdefault((process, band(load)), {})
                line = []
                for metric in METRICS:
                    got, want = getattr(model, metric), sim.summary(metric)
                    for q in ("p50", "p90", "p99"):
                        if got is None or want is None or sim.saturated:
                            line.append(f"{metric} {q}: the simulated queue is unbounded")
                            continue
                        e = getattr(got, q) / getattr(want, q) - 1
                        cells.setdefault(f"{metric} {q}", []).append(e)
                        line.append(f"{metric} {q} {e:+.0%}")
                if args.detail:
                    print(f"{name:20s} {process:9s} {load:4.0%} (sat {saturation:.3g} req/s, {limited_by}): "
                          + ", ".join(line))
    print(f"closed form against {args.requests:,}-request simulations (seed {args.seed}) on {len(SCENARIOS)} real "
          "scenarios: median |error| (worst signed error)")
    head = [f"{m} {q}" for m in METRICS for q in ("p50", "p90", "p99")]
    print("| arrivals | load | " + " | ".join(head) + " |")
    print("|---|---|" + "---|" * len(head))
    for (process, where), cells in errors.items():
        row = []
        for key in head:
            values = cells.get(key, [])
            if not values:
                row.append("-")
                continue
            worst = max(values, key=abs)
            row.append(f"{statistics.median(abs(v) for v in values):.0%} ({worst:+.0%})")
        print(f"| {process} | {where} | " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
