#!/usr/bin/env python3
"""Fuzz every command with generated argument lists, hostile files and environment variables, and count outcomes.

Each invocation runs in-process (``inferwall.cli.main.main``) with stdout and stderr captured, and is judged
against the CLI's promise:

* the exit code is 0, 1 (only ``check`` and ``plan``: an assertion failed, nothing meets the objectives) or 2;
  3 is an internal error, 130 an interrupt that nobody sent;
* no traceback, anywhere;
* an error (2) is exactly one line on stderr, with nothing on stdout;
* a result (0 or 1) never prints nan or inf, and its JSON and JSONL parse;
* nothing runs longer than ``--timeout`` seconds (a hang).

    python scripts/fuzz.py                      # 30,000 invocations, seed 0
    python scripts/fuzz.py --count 100000 --seed 7 --show 20

It prints the invocations by command, the exit codes, and the count of each kind of failure with the first
examples. ``tests/test_fuzz_commands.py`` runs the same generator at a smaller size in the test suite.
Files it makes (plans, catalogs, models, config files, FIFOs, output targets) live in a temporary folder; the
real /dev/null is never given as an output target.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import json
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAN_INF = re.compile(r"(?<![\w.-])(nan|inf|infinity|-inf)(?![\w.-])", re.IGNORECASE)
QUOTED = re.compile(r"'[^']*'")  # an error or note quoting the user's own input ('inf') is not a computed inf

# ----------------------------------------------------------------------------------------------------------------
# values


INTS = ["1", "2", "8", "3", "0", "-1", "1k", "2.9", "1e3", "1e400", "x", "4096", "4097", "10000", "10001", "²",
        "1_000", " 8 ", "+4", "0x10", "1M", "1e7", "2e7", ""]
COUNTS = ["70B", "70b", "1.6T", "1.6t", "1e15", "2e15", "0", "-5B", "abc", "1e400", "5e-324", "1e-320", "nan", "inf",
          "7", "125m", "4k", "1e308", "405e9", "8B", "1B", "1"]
FLOPS = ["3e15", "989TFLOPS", "1", "0.5", "1e21", "1e22", "nan", "inf", "-inf", "1e-320", "fast", "1PFLOPS", "1e300"]
BANDWIDTH = ["3TB/s", "1", "0.5", "1e18", "1e19", "-1TB/s", "3", "1e-9", "inf", "3.35TB/s", "900GB/s"]
BYTES = ["80GB", "80GiB", "1", "1e18", "1e19", "80XB", "0", "1B", "nan", "24GiB"]
PRICES = ["2.5", "$3/h", "0", "-1", "free", "1e6", "2e6", "nan", "inf", "1e-320", "$0.5"]
FRACTIONS = ["0.5", "60%", "0", "2", "1e-6", "1e-7", "1e-320", "nan", "x", "100%", "0%", "1", "inf%"]
DURATIONS = ["2ms", "0", "1h", "3600", "3601", "-1s", "zz", "1e308s", "5", "1e-320", "nan", "inf", "50us", "0.002"]
DTYPES = ["bf16", "fp8", "int4", "fp4", "fp32", "fp7", "", "nvfp4", "mxfp4", "int8", "fp16", "BF16"]
MODELS = ["llama-3.1-70b", "llama-3.1-8b", "deepseek-v3", "mixtral-8x7b", "bert-base-uncased", "gpt-oss-120b",
          "gemma-3-27b", "gpt-4-rumored", "nope", "", "ünïcødé", "llama-3.1-405b"]
GPUS = ["h100", "a100", "mi300x", "l40s", "tpu-v5e", "b200", "zz", "ünïcødé", "h200", "t4", "m4-max", ""]
FORMATS = ["json", "jsonl", "tsv", "csv", "yaml", "markdown", "table", "xml", "JSON"]
RANGES = ["1..8", "1..64:8", "1,2,4", "1..1e308:1e-10", "1e-300..1e300", "0.5..0.9:0.1", "1k..8k", "8..1", ",",
          "1,,2", "1..4,max", "1..2:0", "1..1e6:1", "1e308..1e308", "max"]

SCENARIO = {
    "--model": MODELS, "--params": COUNTS, "--active-params": COUNTS, "--layers": INTS, "--hidden": INTS,
    "--heads": INTS, "--kv-heads": INTS, "--head-dim": INTS, "--gpu": GPUS, "--flops": FLOPS,
    "--bandwidth": BANDWIDTH, "--memory": BYTES, "--price": PRICES, "--link-bandwidth": BANDWIDTH, "--gpus": INTS,
    "--tp": INTS, "--pp": INTS, "--dp": INTS, "--ep": INTS, "--batch": INTS + ["max", "64", "1e9", "2e9"],
    "--input-tokens": INTS + ["4k", "1e9", "2e9"], "--output-tokens": INTS + ["1e9"], "--precision": DTYPES,
    "--weights": DTYPES, "--kv": DTYPES, "--compute": DTYPES, "--mfu": FRACTIONS, "--mbu": FRACTIONS,
    "--link-efficiency": FRACTIONS, "--overhead": DURATIONS, "--layer-overhead": DURATIONS,
    "--collective-latency": DURATIONS, "--reserve": BYTES, "--memory-fraction": FRACTIONS,
    "--engine": ["vllm", "sglang", "trtllm", "trtllm-cpp", "llamacpp", "gptfast", "ideal", "vlm", ""],
    "--batching": ["continuous", "static", "sideways", ""], "--num-requests": INTS + ["1e9", "2e9"],
    "--max-running-requests": INTS + ["2e9"], "--cuda-graph-max-batch": INTS + ["2e9"],
    "--chunked-prefill": ["on", "off", "maybe", "1", ""], "--token-budget": INTS + ["8k", "2e9"],
    "--quant": ["modelopt-fp8", "modelopt-fp4", "gguf-q4_k_m", "gguf-q8_0", "awq-int4", "nope", ""],
}
SWITCH_FLAGS = ["--ideal", "--strict"]
# Values that are valid on their own, drawn most of the time so that runs get past parsing into the core.
GOOD = {
    "--model": MODELS[:8], "--params": ["70B", "70b", "1.6T", "7", "125m", "405e9", "8B", "1e15", "1"],
    "--active-params": ["1B", "8B", "13B"], "--layers": ["1", "2", "8", "80", "10000"],
    "--hidden": ["8", "4096", "8192", "1048576"], "--heads": ["1", "8", "64", "4096"], "--kv-heads": ["1", "8"],
    "--head-dim": ["1", "64", "128", "16384"], "--gpu": GPUS[:6] + ["h200", "t4", "m4-max"],
    "--flops": ["3e15", "989TFLOPS", "1", "1e21", "1PFLOPS"], "--bandwidth": ["3TB/s", "1", "1e18", "3.35TB/s"],
    "--memory": ["80GB", "80GiB", "1", "1e18", "24GiB"], "--price": ["2.5", "$3/h", "0", "1e6"],
    "--link-bandwidth": ["1", "1e18", "900GB/s"], "--gpus": ["1", "2", "8", "16", "1e7", "4k"],
    "--tp": ["1", "2", "4", "8"], "--pp": ["1", "2"], "--dp": ["1", "2", "1000"], "--ep": ["1", "2", "8"],
    "--batch": ["1", "64", "max", "1e9", "1k"], "--input-tokens": ["1", "128", "4k", "1e9"],
    "--output-tokens": ["0", "1", "2", "256", "1e9"], "--precision": DTYPES[:6] + ["nvfp4", "int8"],
    "--weights": ["int4", "fp8"], "--kv": ["fp8", "bf16"], "--compute": ["bf16", "fp8"],
    "--mfu": ["0.5", "60%", "1e-6", "1"], "--mbu": ["0.5", "1e-6", "1"], "--link-efficiency": ["0.5", "1e-6"],
    "--overhead": ["2ms", "0", "3600", "5"], "--layer-overhead": ["50us", "0", "3600"],
    "--collective-latency": ["10us", "0", "3600"], "--reserve": ["0", "1GiB", "1e18"],
    "--memory-fraction": ["0.9", "1e-6", "1"],
    "--engine": ["vllm", "sglang", "trtllm", "llamacpp", "gptfast", "ideal"], "--batching": ["continuous", "static"],
    "--num-requests": ["1", "100", "1k"], "--max-running-requests": ["1", "256", "1k"],
    "--cuda-graph-max-batch": ["1", "512"], "--chunked-prefill": ["on", "off"], "--token-budget": ["512", "8k"],
    "--quant": ["modelopt-fp8", "modelopt-fp4", "gguf-q4_k_m", "awq-int4"],
}
COLUMNS = ["gpu,batch", "tpot_s", "all", "default", "bound", "nope", "", "gpu,,batch", "fits,notes"]
WHERE = ["tpot_s<0.05", "tpot_s<50ms", "decode.bound==memory", "gpu==*h100*", "fits==true", "tpot_s=10ms",
         "tpot_s<nan", "x<1", "memory.headroom_bytes_per_gpu>10GiB", "decode.utilization>=20%", "fits<1", ""]
SORT = ["usd_per_million_output_tokens", "-tpot_s", "gpu:desc", "nope", "", "cost"]


class Files:
    """Hostile and ordinary input files, FIFOs and output targets in one temporary folder."""

    def __init__(self, base: Path) -> None:
        self.base = base
        b = base
        specs = ROOT / "specs"
        plan = (specs / "plans" / "chat-llama-70b.yaml").read_text()
        write = lambda name, text: self._write(name, text)  # noqa: E731
        self.plans = [str(p) for p in sorted((specs / "plans").glob("*.yaml"))] + [
            write("plan-surrogate.yaml", 'scenarios:\n  "\\ud800":\n    model: llama-3.1-8b\n    assert: {must_fit: true}\n'),
            write("plan-version.yaml", "version: true\n" + plan),
            write("plan-extreme.yaml", "scenarios:\n  a:\n    model: llama-3.1-8b\n    mbu: 1.0e-320\n    assert: {max_tpot_s: 1}\n"),
            write("plan-gpus.yaml", "scenarios:\n  a:\n    model: llama-3.1-8b\n    gpus: 2.9\n    assert: {must_fit: true}\n"),
            write("plan-ctrl.yaml", 'scenarios:\n  "a\\x1b[31mred":\n    model: llama-3.1-8b\n    assert: {must_fit: true}\n'),
            write("plan-bigint.yaml", "scenarios:\n  a:\n    model: llama-3.1-8b\n    batch: " + "9" * 5000 + "\n"),
            write("plan-deep.json", "[" * 100_000 + "]" * 100_000),
            write("plan-fail.yaml", "scenarios:\n  a:\n    model: llama-3.1-405b\n    gpus: 2\n    assert: {max_tpot_s: 1ms}\n"),
            write("plan-thresholds.yaml", "scenarios:\n  a:\n    model: llama-3.1-8b\n    assert: {max_tpot_s: .inf, min_utilization: 1.0e-320}\n"),
            write("plan-empty.yaml", ""), str(b), str(b / "missing.yaml"), "/dev/zero", "",
        ]
        self.catalogs = [str(specs / "gpus.yaml"), str(specs / "models.yaml")] + [
            write("cat-nan.yaml", "accelerators:\n  - id: x1\n    memory: {capacity: 80GiB, bandwidth: 3TB/s}\n    compute: {bf16: 1PFLOPS}\n    price: {usd_per_hour: .nan}\n"),
            write("cat-inf.yaml", "accelerators:\n  - id: x2\n    memory: {capacity: 80GiB, bandwidth: 3TB/s}\n    tdp_w: .inf\n"),
            write("cat-huge.yaml", "accelerators:\n  - id: x3\n    memory: {capacity: 1e30, bandwidth: 1e30}\n"),
            write("cat-tiny.yaml", "accelerators:\n  - id: h100\n    aliases: [tiny]\n    memory: {capacity: 1, bandwidth: 1}\n    compute: {bf16: 1}\n    price: {usd_per_hour: 1000000}\n"),
            write("cat-model.yaml", "models:\n  - id: m1\n    hidden_size: " + "1" * 301 + "\n"),
            write("cat-ok.yaml", "accelerators:\n  - id: mine\n    aliases: [mygpu]\n    memory: {capacity: 24GiB, bandwidth: 1TB/s}\n    compute: {bf16: 100TFLOPS}\n    price: {usd_per_hour: 1}\n"),
            str(b / "missing.yaml"), "/dev/zero", "",
        ]
        model = "id: tiny\nhidden_size: 4096\nnum_layers: 2\nnum_attention_heads: 32\nvocab_size: 1000\nintermediate_size: 100\n"
        self.models = [str(p) for p in sorted((ROOT / "tests" / "configs").glob("*.json"))][:6] + [
            write("m-null.yaml", model + "head_dim: null\n"),
            write("m-huge.yaml", model.replace("4096", "1" * 301)),
            write("m-float.yaml", model.replace("4096", "1.0e+300")),
            write("m-layers.json", json.dumps({"model_type": "deepseek_v3", "num_hidden_layers": 10**12, "hidden_size": 64,
                                               "num_attention_heads": 8, "vocab_size": 1000, "intermediate_size": 100,
                                               "n_routed_experts": 8, "num_experts_per_tok": 2,
                                               "moe_intermediate_size": 32})),
            write("m-deep.json", "[" * 100_000 + "]" * 100_000),
            write("m-bigint.json", '{"a": ' + "1" * 5000 + "}"),
            write("m-binary.yaml", "\x00\x01"),
        ]
        self.configs = [
            write("c-ok.yaml", "estimate:\n  format: json\n  input_tokens: 4k\nsweep: {columns: 'gpu,batch'}\n"),
            write("c-int-key.yaml", "estimate: {1: 2}\n"), write("c-ideal.yaml", "estimate: {ideal: 5}\n"),
            write("c-gpus.yaml", "estimate: {gpus: 2.9}\n"), write("c-help.yaml", "estimate: {help: true}\n"),
            write("c-typo.yaml", "estimat: {gpu: h100}\n"), write("c-list.yaml", "- 1\n"),
            write("c-empty.yaml", ""), write("c-catalog.yaml", f"estimate: {{catalog: [{b / 'cat-ok.yaml'}]}}\n"),
            str(b / "missing-config.yaml"),
        ]
        row = ("- {{id: r{i}, group: mine, engine: vLLM 0.11, hardware: {{name: H100 80GB HBM3, count: 1}}, model: "
               "{{name: Llama 3.1 8B Instruct}}, precision: {{weights: bf16}}, parallelism: {{tp: 1}}, workload: "
               "{{batch: {batch}, input_len: {isl}, output_len: 256}}, metric: tpot_ms, value: {value}}}\n")
        rows = lambda *cases: "".join(row.format(i=i, batch=bt, isl=isl, value=v)  # noqa: E731
                                      for i, (bt, isl, v) in enumerate(cases))
        good = [(1, 1024, 7.8), (32, 1024, 11.5), (128, 1024, 22.0)]
        self.measurements = [
            write("rows-ok.yaml", rows(*good)),
            write("rows-zero.yaml", rows(*good, (8, 1024, 0))),
            write("rows-negative.yaml", rows(*good, (8, 1024, -5))),
            write("rows-subnormal.yaml", rows(*good, (8, 1024, "1.0e-320"))),
            write("rows-inf.yaml", rows(*good, (8, 1024, ".inf"), (8, ".inf", 1.0))),
            write("rows-huge.yaml", rows(*good, (10**12, 10**300, 1.0), (0, 1024, 1.0))),
            write("rows-map.yaml", "rows: 1\n"),
            write("rows.csv", "id,group,engine,hardware.name,model.name,precision.weights,parallelism.tp,"
                              "workload.batch,workload.input_len,workload.output_len,metric,value\n"
                              "c1,mine,vLLM,H100,Llama 3.1 8B Instruct,bf16,1,8,1024,256,tpot_ms,9.0\n"
                              "c2,mine,vLLM,H100,Llama 3.1 8B Instruct,bf16,x,nan,1024,256,tpot_ms,inf\n"),
            write("bench.json", json.dumps({"completed": 100, "total_input_tokens": 102400, "total_output_tokens": 25600,
                                            "output_throughput": 1234.5, "mean_ttft_ms": 80.0, "mean_tpot_ms": 20.0,
                                            "max_concurrency": 16, "num_prompts": 100, "backend": "vllm",
                                            "model_id": "meta-llama/Llama-3.1-8B-Instruct"})),
            write("bench-zero.json", json.dumps({"completed": 0, "total_input_tokens": 0, "total_output_tokens": 0,
                                                 "output_throughput": 0, "mean_ttft_ms": 1e308, "mean_tpot_ms": -1,
                                                 "max_concurrency": 0, "num_prompts": 0, "backend": "vllm"})),
            str(b / "missing.yaml"), "/dev/zero", "",
        ]
        engines = ROOT / "specs" / "engines"
        self.engine_files = [str(engines / "vllm.yaml"), str(engines / "trtllm.yaml")] + [
            write("engine-box.yaml", (engines / "vllm.yaml").read_text().replace("per_request_s:", "per_request_s_x:", 1)),
            write("engine-nan.yaml", "id: x\nhost: {per_request_s: {value: .nan}}\n"),
            str(b / "missing.yaml"), "/dev/zero", "",
        ]
        fifo = b / "fifo.yaml"
        os.mkfifo(fifo)
        for group in (self.plans, self.catalogs, self.models, self.configs, self.measurements, self.engine_files):
            group.append(str(fifo))
        (b / "out").mkdir()
        os.mkfifo(b / "out" / "fifo.png")
        os.mkfifo(b / "out" / "fifo.xml")
        (b / "out" / "dir.png").mkdir()
        self.images = [str(b / "out" / n) for n in ("a.png", "b.svg", "fifo.png", "dir.png", "c.pdf", "")] + [
            str(b / "nope" / "x.png")]
        self.junits = [str(b / "out" / n) for n in ("r.xml", "fifo.xml", "dir.png", "")] + [str(b / "nope" / "r.xml")]

    def _write(self, name: str, text: str) -> str:
        path = self.base / name
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        return str(path)


# ----------------------------------------------------------------------------------------------------------------
# argument lists


def _scenario(rng: random.Random, files: Files, grid: bool, exclude: tuple[str, ...] = (), most: int = 6) -> list[str]:
    args: list[str] = []
    names = [f for f in SCENARIO if f not in exclude]
    for flag in rng.sample(names, rng.randint(0, most)):
        pool = GOOD[flag] if rng.random() < 0.75 else SCENARIO[flag]
        if flag == "--model" and rng.random() < 0.3:
            pool = files.models
        value = rng.choice(pool)
        if grid and rng.random() < 0.5:
            value = rng.choice(RANGES) if flag not in ("--model", "--gpu") else ",".join(rng.sample(pool, 2))
        args += [flag, value] if rng.random() < 0.8 else [f"{flag}={value}"]
    for switch in SWITCH_FLAGS:
        if rng.random() < 0.2 and switch not in exclude:
            args.append(switch)
    if rng.random() < 0.05 and "--engine-file" not in exclude:
        args += ["--engine-file", rng.choice(files.engine_files)]
    if not any(a.startswith(("--model", "--params")) for a in args) and rng.random() < 0.95:
        args += rng.choice([["--model", rng.choice(MODELS[:7])], ["--params", rng.choice(["7B", "70B", "1.6T"])]])
    if any(a.startswith("--model") for a in args) and rng.random() < 0.8:  # mostly keep bare-model shape flags off
        shape = ("--layers", "--hidden", "--heads", "--kv-heads", "--head-dim", "--active-params", "--params")
        kept: list[str] = []
        skip = False
        for a in args:
            if skip:
                skip = False
                continue
            if a in shape:
                skip = True
                continue
            if not a.startswith(tuple(f"{f}=" for f in shape)):
                kept.append(a)
        args = kept
    return args


def _common(rng: random.Random, files: Files, chart: bool = False) -> list[str]:
    args: list[str] = []
    if rng.random() < 0.5:
        args += ["-f", rng.choice(FORMATS[:7] if rng.random() < 0.9 else FORMATS)]
    if rng.random() < 0.1:
        args += ["--catalog", rng.choice(files.catalogs[:2] + files.catalogs[5:7] if rng.random() < 0.6
                                         else files.catalogs)]
    if chart and rng.random() < 0.15:
        args.append("--chart")
    if chart and rng.random() < 0.05:
        args += ["--output", rng.choice(files.images)]
    return args


PLAN_EXCLUDE = ("--gpu", "--flops", "--bandwidth", "--memory", "--link-bandwidth", "--gpus", "--tp", "--pp", "--dp",
                "--ep", "--batch", "--precision", "--weights", "--kv", "--compute")


def generate(rng: random.Random, files: Files) -> list[str]:
    """One argument list for a randomly chosen command (every command is drawn)."""
    command = rng.choice(COMMAND_NAMES)
    if command == "estimate":
        args = ["estimate", *_scenario(rng, files, False), *_common(rng, files, chart=True)]
        if rng.random() < 0.1:
            args.append("--explain")
    elif command == "compare":
        args = ["compare", *_scenario(rng, files, True, most=3), *_common(rng, files)]
    elif command == "sweep":
        args = ["sweep", *_scenario(rng, files, True, most=3), *_common(rng, files, chart=True)]
        for flag, pool, p in (("--columns", COLUMNS, 0.3), ("--where", WHERE, 0.3), ("--sort", SORT, 0.2),
                              ("--top", INTS, 0.2)):
            if rng.random() < p:
                args += [flag, rng.choice(pool)]
        for switch in ("--fits-only", "--skip-invalid"):
            if rng.random() < 0.15:
                args.append(switch)
    elif command == "check":
        args = ["check", *rng.sample(files.plans, rng.randint(1, 2)), *_common(rng, files)]
        if rng.random() < 0.2:
            args += ["--junit", rng.choice(files.junits)]
        if rng.random() < 0.3:
            args += _scenario(rng, files, False, most=2)[:2]
    elif command in ("gpus", "models"):
        args = [command, *([rng.choice(["amd", "h100", "", "zz", "llama", "inf"])] if rng.random() < 0.4 else []),
                *_common(rng, files)]
    elif command == "schema":
        args = ["schema", rng.choice(["plan", "plan", "nope"])]
    elif command == "catalog":
        args = ["catalog", "validate", *rng.sample(files.catalogs, rng.randint(0, 2))]
    elif command == "scale":
        args = ["scale", *_scenario(rng, files, False, exclude=("--batch",)), *_common(rng, files, chart=True)]
        for flag, pool in (("--batch", ["1,10,100", "1k", "0", "1e9", "x", "1,,2"]),
                           ("--minutes-per-user-day", ["10", "0", "1441", "nan", "inf", "1e-320", "x"]),
                           ("--target-utilization", FRACTIONS), ("--per-user-tokens-per-s", ["30", "0", "inf", "nan", "1e16"]),
                           ("--idle-power", ["0.3", "30%", "2", "nan", "1e-320"])):
            if rng.random() < 0.25:
                args += [flag, rng.choice(pool)]
    elif command == "bounds":
        args = ["bounds", *_scenario(rng, files, False), *_common(rng, files)]
    elif command == "implied":
        args = ["implied", *_scenario(rng, files, False, exclude=("--batch",)), *_common(rng, files)]
        if rng.random() < 0.95:
            args += ["--usd-per-million-tokens", rng.choice(["4.9", "$4.9", "0", "-3", "5e-324", "1e-300", "1e10",
                                                             "cheap", "nan", "inf", "1e-9"])]
    elif command == "trend":
        args = ["trend", *_scenario(rng, files, False), *_common(rng, files, chart=True)]
        for flag, pool in (("--years", ["10", "0", "100", "101", "-1", "x"]),
                           ("--flops-growth", ["3", "0", "1e308", "100", "0.01", "nan", "inf", "1e-320"]),
                           ("--bandwidth-growth", ["1.6", "100", "0.001"]), ("--interconnect-growth", ["1.4", "0"]),
                           ("--period", ["2", "1e-300", "inf", "nan", "0.001", "0.003", "100", "101"]),
                           ("--start-year", ["2024", "1800", "99999", "x"])):
            if rng.random() < 0.25:
                args += [flag, rng.choice(pool)]
        if rng.random() < 0.2:
            args.append("--from-catalog")
    elif command == "intensity":
        args = ["intensity", *(["--model", rng.choice(MODELS[:6] + files.models[:4])] if rng.random() < 0.95 else []),
                *_common(rng, files)]
        for flag, pool in (("--seq-len", ["128,4096", "0", "1e9", "2e9", "x", "1k"]),
                           ("--precision", DTYPES), ("--mode", ["encoder", "decoder", "x"])):
            if rng.random() < 0.3:
                args += [flag, rng.choice(pool)]
    elif command == "plan":
        args = ["plan", *_scenario(rng, files, False, exclude=PLAN_EXCLUDE, most=3), *_common(rng, files, chart=True)]
        demand = rng.choice(["--output-tokens-per-s", "--requests-per-s", "--users"])
        args += [demand, rng.choice(["10k", "1e308", "0", "5", "nan", "1e-320", "100", "x", "1e12"])]
        args += ["--gpus-from", rng.choice(["h100", "h100,a100", "l40s", "zz", "t4,h100"])]
        for flag, pool in (("--max-ttft", ["2s", "0", "1e308", "nan", "600", "601"]),
                           ("--max-tpot", ["50ms", "50", "0", "inf", "1e-320"]), ("--max-gpus", INTS),
                           ("--top", INTS), ("--precision", ["native", "fp8", "bf16,fp8", "fp7", ""])):
            if rng.random() < 0.25:
                args += [flag, rng.choice(pool)]
        if rng.random() < 0.2:
            args.append("--pareto")
    elif command == "calibrate":
        args = ["calibrate", *rng.sample(files.measurements, rng.randint(1, 2)), "--rounds", rng.choice(["0", "1"])]
        args += _scenario(rng, files, False, most=2)[:2] if rng.random() < 0.3 else []
        for flag, pool, p in (("--engine", ["vllm", "trtllm", "zz", "sglang"], 0.3),
                              ("--output", [files.junits[0].replace(".xml", ".yaml")] + files.junits[1:], 0.2),
                              ("--id", ["mine", "", "x" * 300], 0.1), ("--gpu", ["h100", "zz"], 0.2)):
            if rng.random() < p:
                args += [flag, rng.choice(pool)]
        args += _common(rng, files)
    else:  # roofline
        args = ["roofline", *_scenario(rng, files, False, exclude=("--gpu",)), *_common(rng, files, chart=True)]
        if rng.random() < 0.5:
            args += ["--gpu", rng.choice(["h100", "h100,h200,mi300x", ",".join(["h100"] * 9), "zz,h100"])]
    if rng.random() < 0.03:
        args.insert(rng.randint(1, len(args)), rng.choice(["--help", "--nope", "-x", "ünï", "--", "--debugg"]))
    return args


COMMAND_NAMES = ("estimate", "compare", "sweep", "check", "gpus", "models", "schema", "catalog", "scale", "bounds",
                 "implied", "trend", "intensity", "plan", "roofline", "calibrate")

ENV_CHOICES = {
    "INFERWALL_GPU": ["h200", "zz", "a100"],
    "INFERWALL_PRICE": ["3", "nan", "-1", "1e-320"],
    "INFERWALL_FORMAT": ["json", "xml", "tsv"],
    "INFERWALL_NO_CACHE": ["1", "no", "off"],
}


def environment(rng: random.Random, files: Files) -> dict[str, str]:
    env: dict[str, str] = {}
    for name, pool in ENV_CHOICES.items():
        if rng.random() < 0.03:
            env[name] = rng.choice(pool)
    if rng.random() < 0.03:
        env["INFERWALL_CATALOG"] = rng.choice(files.catalogs)
    if rng.random() < 0.05:
        env["INFERWALL_CONFIG"] = rng.choice(files.configs)
    return env


# ----------------------------------------------------------------------------------------------------------------
# running and judging


class Hang(BaseException):
    """Raised by the alarm: the invocation ran past the timeout (not an Exception, so no handler swallows it)."""


def _alarm(signum, frame):
    raise Hang()


def invoke(argv: list[str], env: dict[str, str], timeout: float) -> tuple[int | str, str, str]:
    from inferwall.cli.main import main

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    out, err = io.StringIO(), io.StringIO()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code: int | str = main(list(argv))
    except Hang:
        code = "hang"
    except BaseException as exc:  # noqa: BLE001 - a crash past the top-level handler is a finding
        code = f"raised {type(exc).__name__}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return code, out.getvalue(), err.getvalue()


def judge(argv: list[str], code: int | str, out: str, err: str) -> list[str]:
    """The promises this invocation broke (empty: it kept them all)."""
    problems = []
    command = argv[0]
    if code == "hang":
        return ["hang"]
    if isinstance(code, str):
        return ["escaped the handler"]
    if "Traceback" in out or "Traceback" in err:
        problems.append("traceback")
    if code == 3:
        problems.append("internal error (exit 3)")
    elif code not in (0, 1, 2):
        problems.append(f"exit {code}")
    elif code == 1 and command not in ("check", "plan"):
        problems.append("exit 1 outside check/plan")
    if code in (2, 3) and (len(err.strip().splitlines()) != 1 or out):
        problems.append("multi-line error or stdout on error")
    if code in (0, 1):
        if NAN_INF.search(out):
            problems.append("nan/inf in stdout")
        if NAN_INF.search(QUOTED.sub("", err)):
            problems.append("nan/inf in stderr")
        fmt = _format(argv)
        if fmt == "json" and out.strip() and "--chart" not in argv and "--help" not in argv:
            try:
                json.loads(out)
            except ValueError:
                problems.append("invalid JSON")
        if fmt == "jsonl" and "--chart" not in argv and "--help" not in argv:
            try:
                for line in out.splitlines():
                    json.loads(line)
            except ValueError:
                problems.append("invalid JSONL")
    return problems


def _format(argv: list[str]) -> str | None:
    for i, a in enumerate(argv[:-1]):
        if a in ("-f", "--format"):
            return argv[i + 1].lower()
    return None


def fuzz(count: int, seed: int, timeout: float = 60.0, progress: bool = False):
    """Run ``count`` invocations; returns (invocations by command, results (exit 0) by command, exit codes,
    problems -> examples, elapsed seconds)."""
    rng = random.Random(seed)
    by_command: collections.Counter = collections.Counter()
    results: collections.Counter = collections.Counter()
    codes: collections.Counter = collections.Counter()
    problems: dict[str, list] = collections.defaultdict(list)
    base = Path(tempfile.mkdtemp(prefix="inferwall-fuzz-"))
    cwd = os.getcwd()
    saved_env = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("INFERWALL_")}
    started = time.perf_counter()
    try:
        files = Files(base)
        os.chdir(base)  # anything written to a relative path (--junit --nope) lands in the temporary folder
        for i in range(count):
            argv = generate(rng, files)
            env = environment(rng, files)
            code, out, err = invoke(argv, env, timeout)
            by_command[argv[0]] += 1
            results[argv[0]] += code == 0
            codes[code] += 1
            for problem in judge(argv, code, out, err):
                problems[problem].append((argv, env, code, err.strip()[-300:]))
            if progress and (i + 1) % 1000 == 0:
                print(f"{i + 1:,} invocations, {time.perf_counter() - started:.0f} s", file=sys.stderr)
    finally:
        os.chdir(cwd)
        os.environ.update(saved_env)
        shutil.rmtree(base, ignore_errors=True)
    return by_command, results, codes, problems, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before an invocation counts as a hang")
    parser.add_argument("--show", type=int, default=5, help="examples to print per kind of problem")
    args = parser.parse_args()
    by_command, results, codes, problems, elapsed = fuzz(args.count, args.seed, args.timeout, progress=True)
    total = sum(by_command.values())
    print(f"{total:,} invocations in {elapsed:.0f} s (seed {args.seed})")
    print("by command (of which exit 0): " + ", ".join(f"{c} {n:,} ({results[c]:,})"
                                                      for c, n in sorted(by_command.items())))
    print("exit codes: " + ", ".join(f"{c} {n:,}" for c, n in sorted(codes.items(), key=lambda kv: str(kv[0]))))
    kinds = ("traceback", "internal error (exit 3)", "hang", "escaped the handler", "multi-line error or stdout on error",
             "nan/inf in stdout", "nan/inf in stderr", "invalid JSON", "invalid JSONL", "exit 1 outside check/plan")
    for kind in kinds + tuple(k for k in problems if k not in kinds):
        print(f"{kind}: {len(problems.get(kind, ())):,}")
        for argv, env, code, err in problems.get(kind, ())[: args.show]:
            shown_env = " ".join(f"{k}={v}" for k, v in env.items())
            print(f"    {shown_env + ' ' if shown_env else ''}inferwall {' '.join(map(repr, argv))} -> {code}: {err}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
