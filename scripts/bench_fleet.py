#!/usr/bin/env python3
"""Benchmark: ``inferwall fleet`` on a ten-type fleet, end to end and in process.

Runs the installed command several times (stdout to /dev/null) and prints the median wall time against a bare
``python -c pass``, ``inferwall --version`` and a one-configuration ``inferwall estimate`` measured in the same run;
then the median time of ``inferwall.fleet()`` inside one Python process (no start-up). The goal in issue 13: a
ten-type fleet answers in under 1 s. No assertion: the figures are for people (and the changelog).

    python scripts/bench_fleet.py            # 5 runs of each case
    python scripts/bench_fleet.py --runs 9
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEN = os.path.join(ROOT, "specs", "fleets", "global-illustrative.yaml")  # ten accelerator types
CASES = {
    "10 types x 3 models (the file)": ["fleet", TEN, "--format", "json"],
    "10 types x 1 model (--model 70B)": ["fleet", TEN, "--model", "llama-3.1-70b", "--format", "json"],
    "--generations (4 GPUs x 2 precisions)": ["fleet", "--generations", "--format", "json"],
}


def command() -> list[str]:
    exe = shutil.which("inferwall", path=os.path.dirname(sys.executable))
    return [exe] if exe else [sys.executable, "-m", "inferwall"]


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.stderr.write(done.stderr.decode())
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}")
    return elapsed


def in_process(runs: int) -> float:
    sys.path.insert(0, ROOT)
    import inferwall

    inferwall.fleet(TEN)  # warm: imports, the parsed catalog
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        inferwall.fleet(TEN)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    cmd = command()
    timed(cmd + ["--version"])  # warm the file cache and the parsed-catalog cache
    base = statistics.median(timed([sys.executable, "-c", "pass"]) for _ in range(args.runs))
    print(f"cpus: {os.cpu_count()}, python {sys.version.split()[0]}, median of {args.runs} runs")
    print(f"{'python -c pass':44s} {base:7.3f} s")
    for label, argv in {"inferwall --version": ["--version"],
                        "inferwall estimate (one configuration)": ["estimate", "-m", "llama-3.1-70b", "-f", "json"],
                        **{f"fleet: {k}": v for k, v in CASES.items()}}.items():
        wall = statistics.median(timed(cmd + argv) for _ in range(args.runs))
        print(f"{label:44s} {wall:7.3f} s  ({wall - base:.3f} s over python -c pass)")
    print(f"{'inferwall.fleet(10 types x 3 models), in process':44s} {in_process(args.runs):7.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
