#!/usr/bin/env python3
"""Start-up and speed benchmark: whole ``inferwall`` processes against a bare ``python -c pass``.

Prints the median (and min/max) wall time of each case over several runs, measured in the same run as the
baseline so a busy machine shifts both. These are benchmark figures, not test assertions; the results of a
run are recorded in docs/performance.md.

    python scripts/bench.py             # 7 runs of each case
    python scripts/bench.py --runs 15
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

CASES = {
    "inferwall --version": ["--version"],
    "estimate -f json": ["estimate", "--model", "llama-3.1-70b", "--gpus", "8", "--batch", "64", "-f", "json"],
    "estimate -f table": ["estimate", "--model", "llama-3.1-70b", "--gpus", "8", "--batch", "64", "-f", "table"],
    "sweep, 10,000 rows": ["sweep", "--model", "llama-3.1-70b", "--gpu", "h100,h200", "--gpus", "1,2,4,8",
                           "--batch", "1..241:10", "--input-tokens", "100..5000:100", "--format", "tsv"],
    "plan, default space": ["plan", "--model", "llama-3.1-70b", "--output-tokens-per-s", "10000",
                            "--max-ttft", "2s", "--max-tpot", "50ms", "--format", "tsv"],
}


def command() -> list[str]:
    exe = shutil.which("inferwall", path=os.path.dirname(sys.executable))
    return [exe] if exe else [sys.executable, "-m", "inferwall"]


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    cmd = command()
    for argv in CASES.values():  # warm the file cache and the parsed-catalog cache
        timed(cmd + argv)
    results = {"python -c pass": [timed([sys.executable, "-c", "pass"]) for _ in range(args.runs)]}
    for name, argv in CASES.items():
        results[name] = [timed(cmd + argv) for _ in range(args.runs)]
    base = statistics.median(results["python -c pass"])
    print(f"{'case':24s} {'median':>9s} {'min':>9s} {'max':>9s} {'over python':>12s}")
    for name, times in results.items():
        med = statistics.median(times)
        print(f"{name:24s} {med * 1e3:7.1f}ms {min(times) * 1e3:7.1f}ms {max(times) * 1e3:7.1f}ms "
              f"{(med - base) * 1e3:+10.1f}ms")
    print(f"runs per case: {args.runs}; interpreter: {sys.version.split()[0]}; cores: {os.cpu_count()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
