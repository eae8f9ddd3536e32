#!/usr/bin/env python3
"""Benchmark: ``inferwall plan`` over the default catalog search, end to end.

Runs the installed command several times (stdout to /dev/null) and reports the median wall time against a bare
``python -c pass`` and ``inferwall --version`` measured in the same run, plus the search's own time as the
command reports it on stderr. The goal in the issue: "the default search over the catalog finishes in a few
seconds" (on a slow 2-core machine); with queueing (a request rate and percentile objectives, issue 12) a plan stays
under 2 s.

    python scripts/bench_plan.py            # 5 runs of each case
    python scripts/bench_plan.py --runs 9
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

# The default search space (every priced catalog GPU, native and fp8 precision), three demands.
CASES = {
    "70B, 10k tok/s, TTFT 2s, TPOT 50ms": ["plan", "--model", "llama-3.1-70b", "--output-tokens-per-s", "10000",
                                           "--max-ttft", "2s", "--max-tpot", "50ms", "--format", "tsv"],
    "DeepSeek-V3, 20k tok/s, TPOT 50ms": ["plan", "--model", "deepseek-v3", "--output-tokens-per-s", "20000",
                                          "--max-tpot", "50ms", "--max-ttft", "3s", "--format", "tsv"],
    "70B, --pareto": ["plan", "--model", "llama-3.1-70b", "--output-tokens-per-s", "10000", "--max-ttft", "2s",
                      "--max-tpot", "50ms", "--pareto", "--format", "tsv"],
    # issue 12: a request rate with percentile objectives, sized with the queueing model
    "70B, 20 req/s, TTFT p99 2s, TPOT p90 50ms": ["plan", "--model", "llama-3.1-70b", "--request-rate", "20",
                                                  "--max-ttft", "p99=2s", "--max-tpot", "p90=50ms", "--format", "tsv"],
    "70B, ShareGPT, 40 req/s, bursty, p99 1s": ["plan", "--model", "llama-3.1-70b", "--request-rate", "40",
                                                "--input-tokens", "sharegpt", "--output-tokens", "sharegpt",
                                                "--arrival", "bursty:2", "--max-ttft", "p99=1s",
                                                "--max-tpot", "p90=50ms", "--format", "tsv"],
    "DeepSeek-V3, 10k tok/s, TTFT p99 3s, TPOT p90 50ms": ["plan", "--model", "deepseek-v3", "--output-tokens-per-s",
                                                           "10000", "--max-ttft", "p99=3s", "--max-tpot", "p90=50ms",
                                                           "--format", "tsv"],
}
SEARCH_TIME = re.compile(rb"(?:estimates|solves), .*\) in ([0-9.]+) s")


def command() -> list[str]:
    exe = shutil.which("inferwall", path=os.path.dirname(sys.executable))
    return [exe] if exe else [sys.executable, "-m", "inferwall"]


def timed(argv: list[str]) -> tuple[float, bytes, bytes]:
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.stderr.write(done.stderr.decode())
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}")
    return elapsed, done.stdout, done.stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    cmd = command()
    timed(cmd + ["--version"])  # warm the file cache and the parsed-catalog cache
    base = [timed([sys.executable, "-c", "pass"])[0] for _ in range(args.runs)]
    startup = [timed(cmd + ["--version"])[0] for _ in range(args.runs)]
    print(f"cpus: {os.cpu_count()}, python {sys.version.split()[0]}, median of {args.runs} runs")
    print(f"{'python -c pass':40s} {statistics.median(base):7.3f} s")
    print(f"{'inferwall --version':40s} {statistics.median(startup):7.3f} s")
    for label, argv in CASES.items():
        runs = [timed(cmd + argv) for _ in range(args.runs)]
        wall = statistics.median(r[0] for r in runs)
        search = [float(m.group(1)) for r in runs if (m := SEARCH_TIME.search(r[2]))]
        rows = runs[0][1].count(b"\n") - 1
        inner = f"search {statistics.median(search):.3f} s" if search else "search time not reported"
        print(f"{'plan: ' + label:40s} {wall:7.3f} s  ({inner}, {rows} rows; "
              f"{wall - statistics.median(base):.3f} s over python -c pass)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
