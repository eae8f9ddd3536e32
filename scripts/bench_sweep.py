#!/usr/bin/env python3
"""Benchmark: ``inferwall sweep`` over 10,000 configurations, end to end, in one process on one core.

Runs the installed command several times with stdout going to /dev/null, and reports the median wall time
against a bare ``python -c pass`` measured in the same run (the interpreter's own start-up). The goal in
the issue is "10,000 configurations in well under 2 s on one core".

    python scripts/bench_sweep.py            # 5 runs
    python scripts/bench_sweep.py --runs 9
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

# 2 GPUs x 4 GPU counts x 25 batches x 50 prompt lengths = 10,000 configurations
SWEEP = ["sweep", "--model", "llama-3.1-70b", "--gpu", "h100,h200", "--gpus", "1,2,4,8",
         "--batch", "1..241:10", "--input-tokens", "100..5000:100", "--format", "tsv"]
CONFIGURATIONS = 2 * 4 * 25 * 50


def command() -> list[str]:
    exe = shutil.which("inferwall", path=os.path.dirname(sys.executable))
    return [exe] if exe else [sys.executable, "-m", "inferwall"]


def timed(argv: list[str]) -> tuple[float, bytes]:
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start, done.stdout


def cpu_timed(argv: list[str]) -> float:
    """The child's user + system CPU seconds: steadier than wall time on a shared machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    cmd = command()
    timed(cmd + ["--version"])  # warm the file cache and the parsed-catalog cache
    _, out = timed(cmd + SWEEP)
    rows = out.count(b"\n") - 1
    if rows != CONFIGURATIONS:
        print(f"expected {CONFIGURATIONS} rows, got {rows}", file=sys.stderr)
        return 1

    base = [timed([sys.executable, "-c", "pass"])[0] for _ in range(args.runs)]
    startup = [timed(cmd + ["--version"])[0] for _ in range(args.runs)]
    sweep = [timed(cmd + SWEEP)[0] for _ in range(args.runs)]
    cpu = [cpu_timed(cmd + SWEEP) for _ in range(args.runs)]
    med_base, med_start, med_sweep = (statistics.median(x) for x in (base, startup, sweep))
    per_config = (med_sweep - med_start) / CONFIGURATIONS * 1e6
    print(f"inferwall {' '.join(SWEEP)}")
    print(f"configurations:        {CONFIGURATIONS:,} (rows checked)")
    print(f"sweep, median of {args.runs}:    {med_sweep:.3f} s  (min {min(sweep):.3f}, max {max(sweep):.3f})")
    print(f"sweep CPU, median:     {statistics.median(cpu):.3f} s  (user + system; wall time includes waiting "
          "for a busy CPU)")
    print(f"python -c pass:        {med_base:.3f} s")
    print(f"inferwall --version:   {med_start:.3f} s")
    print(f"per configuration:     {per_config:.0f} us (sweep minus inferwall start-up)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
