#!/usr/bin/env python3
"""Benchmark: ``estimate --request-rate`` on real models and GPUs, closed form and ``--simulate`` of 10,000 requests.

Each case is one ``estimate()`` of a scenario built from the flags a user types (``inputs.build``), in one process on
one core: the iteration table from the cost model, the engine limits, the queueing model or the simulation, and the
estimate at the concurrency found. The median wall time of ``--runs`` runs is printed with the cost-model calls the
table made; the issue's target is a 10,000-request ``--simulate`` under 1 s. The end-to-end command (start-up
included) is timed once per case as a subprocess.

    python scripts/bench_load.py            # 5 runs of each case
    python scripts/bench_load.py --runs 9
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

from inferwall.catalog import load_catalog
from inferwall.core import estimate
from inferwall.inputs import Options, build

REQUESTS = 10_000
# (label, estimate flags as Options fields); every case at about half its saturation rate
CASES = [
    ("Llama 3.1 70B, 8 x H100, ShareGPT, 20 req/s",
     dict(model="llama-3.1-70b", gpus=8, input_tokens="sharegpt", output_tokens="sharegpt", request_rate=20)),
    ("Llama 3.1 8B, H100, 1024~30% / 256~30%, 10 req/s",
     dict(model="llama-3.1-8b", input_tokens="1024~30%", output_tokens="256~30%", request_rate=10)),
    ("DeepSeek-V3, 8 x H200, 2k / 512, bursty:2, 4 req/s",
     dict(model="deepseek-v3", gpu="h200", gpus=8, input_tokens="2048~50%", output_tokens="512~50%",
          arrival="bursty:2", request_rate=4)),
    ("Llama 3.1 70B, 2 x (4 x H100), 4k prompts, 3 req/s",
     dict(model="llama-3.1-70b", gpus=8, tp=4, input_tokens="4096~25%", output_tokens="256", request_rate=3)),
]


def timed(options: dict, catalog) -> tuple[float, object]:
    start = time.perf_counter()
    resolved = build(Options(**options), catalog)
    est = estimate(resolved.scenario, resolved.compute_explicit)
    return time.perf_counter() - start, est


def command() -> list[str]:
    exe = shutil.which("inferwall", path=os.path.dirname(sys.executable))
    return [exe] if exe else [sys.executable, "-m", "inferwall"]


def argv_of(options: dict) -> list[str]:
    out = ["estimate"]
    for key, value in options.items():
        if value is True:
            out.append(f"--{key.replace('_', '-')}")
        else:
            out += [f"--{key.replace('_', '-')}", str(value)]
    return out + ["-f", "json"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    catalog = load_catalog()
    timed(CASES[0][1], catalog)  # warm the catalog and the model caches
    print(f"cpus: {os.cpu_count()}, python {sys.version.split()[0]}, median of {args.runs} runs, one core")
    print(f"{'case':52s} {'closed form':>12s} {'simulate 10k':>13s} {'calls':>6s} {'CLI simulate':>13s}  p99 TTFT sim/model")
    for label, options in CASES:
        analytic = [timed(options, catalog) for _ in range(args.runs)]
        sim_options = {**options, "simulate": True, "num_requests": REQUESTS}
        simulated = [timed(sim_options, catalog) for _ in range(args.runs)]
        est_a, est_s = analytic[0][1], simulated[0][1]
        start = time.perf_counter()
        done = subprocess.run(command() + argv_of(sim_options), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              check=False)
        wall = time.perf_counter() - start
        if done.returncode:
            sys.stderr.write(done.stderr.decode())
            return 1
        ratio = est_s.load.ttft.p99 / est_a.load.ttft.p99 if est_s.load.ttft and est_a.load.ttft else float("nan")
        print(f"{label:52s} {statistics.median(t for t, _ in analytic):10.3f} s {statistics.median(t for t, _ in simulated):11.3f} s "
              f"{est_s.load.iteration_time_calls:6d} {wall:11.3f} s  {ratio:.3f} "
              f"(utilization {est_a.load.utilization:.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
