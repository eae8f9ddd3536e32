"""Measured rows -> cases: the ``Options`` a user would type, and the number to compare.

Inputs:

* YAML or CSV rows in the schema of ``shared/validation/calibration.yaml`` (id, group, engine, hardware{name,count},
  model{name}, precision{weights,...}, parallelism{tp,pp,...}, workload{batch,input_len,output_len,...}, metric,
  value, unit). CSV columns are the same keys flattened with dots (``hardware.name``, ``workload.input_len``).
* The JSON ``vllm bench serve --save-result`` writes (one run per file): throughput, mean TTFT and TPOT, with the
  hardware and layout taken from the flags given to ``inferwall calibrate``.

Hardware and model names are resolved as their sources write them ("H100 80GB HBM3", "A100-SXM4-80GB",
"Llama 3.1 70B Instruct") through the catalog's ids and aliases, widened by dropping the words sources add
(vendor, memory type, "Instruct", org prefixes, checkpoint suffixes). Rows that cannot be expressed are returned
with the reason.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass, field
from typing import Any

from inferwall.catalog import Catalog
from inferwall.errors import InputError

# Report groups. The batch is given in the first three; the engine chooses it in the max-throughput ones.
STATIC = "trtllm static batch (v0.5/v0.6.1)"
FTL = "trtllm first-token latency"
BATCH1 = "gpt-fast batch-1 decode"
MAXT_15 = "trtllm max-throughput (v0.15)"
MAXT_19 = "trtllm max-throughput (v0.19)"
HBM = "hw: HBM bandwidth"
GEMM = "hw: GEMM TFLOPS"
ATTN = "hw: attention TFLOPS"
LINK = "hw: NCCL all-reduce"
CEILING = "hw: best-shape matmul (ceiling)"
USER = "user measurements"
BATCH_GIVEN = (STATIC, FTL, BATCH1)
MAX_THROUGHPUT = (MAXT_15, MAXT_19)
KERNEL_GROUPS = (HBM, GEMM, ATTN, LINK)

GPT_FAST_OUTPUT_TOKENS = 200  # gpt-fast generate.py default --max_new_tokens; its README table does not say
GEMM_MIN_DIM = 4096  # smaller GEMMs are shape-bound (waves, split-K); inferwall's efficiency is for LLM-sized GEMMs
NCCL_MESSAGE_BYTES = 8e9


@dataclass
class Case:
    """One expressible measurement: what to run and what was measured."""

    id: str
    group: str
    kind: str  # estimate | hbm | gemm | attention | allreduce | ceiling
    measured: float
    metric: str  # output_tokens_per_s | per_gpu_output_tokens_per_s | ttft_ms | tpot_ms | tokens_per_s_per_user | ...
    gpu: str  # catalog id
    options: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    assumption: str = ""
    source: str = ""

    @property
    def fitted(self) -> bool:
        """Ceiling rows bound the GEMM efficiency from above; they are reported, not fitted."""
        return self.kind != "ceiling"


@dataclass(frozen=True)
class Skipped:
    id: str
    group: str
    reason: str


# ----------------------------------------------------------------- names

_NOISE = {"nvidia", "tesla", "amd", "intel", "instinct", "gpu", "hbm3", "hbm3e", "hbm2e", "hbm2", "cg1", "the",
          "blackwell", "hopper", "ampere", "sxm5"}
_MODEL_SUFFIXES = ("-instruct", "-chat", "-hf", "-base", "-fp8", "-fp4", "-awq", "-gptq", "-int4", "-int8")


def _tokens(text: str) -> list[str]:
    text = re.sub(r"\(.*?\)", " ", text.lower())
    text = re.sub(r"sxm\d", "sxm", text)
    return [t for t in re.split(r"[\s\-_/,]+", text) if t and t not in _NOISE]


class Resolver:
    """Source spellings of GPUs and models -> catalog ids."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self._gpu_tokens: list[tuple[str, set[str], set[str]]] = []
        for gid, entry in catalog.gpus.items():
            names = {gid, *entry.aliases}
            tokens: set[str] = set()
            for n in names:
                tokens.update(_tokens(n))
            tokens.update(_tokens(entry.accelerator.name))
            self._gpu_tokens.append((gid, tokens, {n.lower() for n in names}))

    def gpu(self, name: str) -> str:
        try:
            return self.catalog.gpu(name).accelerator.id
        except InputError:
            pass
        want = _tokens(name)
        want += [a + b for a, b in zip(want, want[1:])]  # "Gaudi 2" is the alias gaudi2
        keys = [t for t in want if any(t in aliases for _, _, aliases in self._gpu_tokens)]
        if not keys:
            raise LookupError(f"hardware {name!r}: no catalog accelerator or alias matches")
        best, best_score = None, None
        for gid, tokens, aliases in self._gpu_tokens:
            if not any(k in tokens for k in keys):
                continue
            matched = sum(1 for t in want if t in tokens)
            score = (matched, any(k in aliases for k in keys), -len(tokens - set(want)))
            if best_score is None or score > best_score:
                best, best_score = gid, score
        if best is None:
            raise LookupError(f"hardware {name!r}: no catalog accelerator matches {keys}")
        return best

    def model(self, name: str) -> str:
        candidates = []
        inner = re.findall(r"\((.*?)\)", name)
        for text in [*inner, re.sub(r"\(.*?\)", "", name), name]:
            text = text.strip().split(" per ")[0].strip()
            if "/" in text:
                text = text.split("/", 1)[1]
            slug = re.sub(r"[\s_]+", "-", text.strip().lower())
            candidates.append(slug)
            for suffix in _MODEL_SUFFIXES:
                slug = slug.replace(suffix, "")
            candidates.append(slug)
            candidates.append(re.sub(r"^meta-", "", slug))
        for c in candidates:
            if c and self.catalog.has_model_name(c):
                return self.catalog.model(c).model.id
        for c in candidates:  # an HF id: the catalog's hf_id fields
            for mid, entry in self.catalog.models.items():
                if entry.hf_id and entry.hf_id.split("/")[-1].lower() == c:
                    return mid
        raise LookupError(f"model {name!r}: not in the catalog (add it, or a catalog file with --catalog)")


# ----------------------------------------------------------------- precision and engine


def precision_options(weights: str, kv: str = "") -> tuple[dict[str, Any], str]:
    """Row precision text -> Options precision fields, and a note."""
    w = str(weights or "").lower()
    if "modelopt" in w and "fp4" in w:
        return {"quant": "modelopt-fp4"}, "ModelOpt NVFP4 checkpoint (block scales, 16-bit embedding and LM head)"
    if "modelopt" in w and "fp8" in w:
        return {"quant": "modelopt-fp8"}, "ModelOpt FP8 checkpoint (16-bit embedding and LM head, FP8 KV)"
    if w.startswith("fp8"):
        return {"precision": "fp8"}, ""
    if w.startswith("fp16"):
        return {"precision": "fp16"}, ""
    if w.startswith("int8"):
        return {"weights": "int8"}, "weight-only int8, 16-bit compute and KV"
    if w.startswith("int4"):
        group = re.search(r"group size (\d+)", w)
        fmt = f"int4-g{group.group(1)}" if group and group.group(1) in ("32", "128") else "int4-g128"
        return {"weights": fmt}, f"weight-only {fmt} (with its group scales), 16-bit compute and KV"
    if w.startswith(("16-bit", "bf16")) or "mixed" in w:
        return {"precision": "bf16"}, ""
    raise LookupError(f"precision {weights!r} has no inferwall counterpart")


def engine_of(text: str) -> tuple[str, str, str]:
    """(engine id, batching, version) from a row's engine text."""
    t = str(text or "").lower()
    version = (re.search(r"(\d+\.\d+(?:\.\d+)?)", t) or re.search(r"v(\d+\.\d+)", t))
    v = version.group(1) if version else ""
    batching = "static" if "static" in t else "continuous"
    if "tensorrt" in t or "trt-llm" in t or "trtllm" in t:
        # the PyTorch backend from 0.19 on; TensorRT engines and the C++ runtime before
        legacy = "pytorch" not in t and (not v or tuple(int(x) for x in v.split(".")[:2]) < (0, 19))
        return ("trtllm-cpp" if legacy else "trtllm"), batching, v
    if "gpt-fast" in t:
        return "gptfast", "static", v
    if "sglang" in t:
        return "sglang", batching, v
    if "llama.cpp" in t or "llamacpp" in t:
        return "llamacpp", batching, v
    if "vllm" in t:
        return "vllm", batching, v
    raise LookupError(f"engine {text!r}: not one of the profiles (vllm, sglang, trtllm, llamacpp, gptfast)")


# ----------------------------------------------------------------- trtllm-bench sizing


def _round_up(x: float, step: int) -> int:
    return int(step * math.ceil(x / step))


def trtllm_bench_limits(catalog: Catalog, model_id: str, gpu_id: str, tp: int, pp: int, isl: int, osl: int,
                        weight_bytes: float, kv_bytes: float, version: str) -> tuple[int, int]:
    """The max_batch_size and max_num_tokens ``trtllm-bench`` picks from the dataset when given neither
    (specs/engines/trtllm.yaml ``limits.bench_rules``: tensorrt_llm/bench/build/tuning.py finetune_setting)."""
    m = catalog.model(model_id).model
    acc = catalog.gpu(gpu_id).accelerator
    from inferwall.core.architecture import kv_elements_per_token_per_layer, total_params

    kv_per_token = kv_elements_per_token_per_layer(m, tp) * tp * m.num_layers * kv_bytes  # over all GPUs
    legacy = version.startswith("0.15")
    engine = total_params(m) * weight_bytes / (1000**3 if legacy else 1024**3)  # v0.15 counts GB against GiB
    available = acc.memory_bytes / 2**30 * tp * pp - engine
    requests = 0.95 * available * 2**30 / (kv_per_token * (isl + osl)) if available > 0 else 1
    raw_bs = min(requests, 4096) / pp
    raw_tok = min(raw_bs * (1 + isl / osl), 32768)
    if raw_bs < 256:
        bs = max(64, _round_up(raw_bs, 32))
    elif raw_bs < 1024:
        bs = _round_up(raw_bs, 128)
    else:
        bs = _round_up(raw_bs, 256)
    if raw_tok < 4096:
        tok = max(2048, _round_up(raw_tok, 256))
    elif raw_tok < 8192:
        tok = _round_up(raw_tok, 512)
    else:
        tok = _round_up(raw_tok, 1024)
    if not legacy:
        tok = max(tok, isl + bs)  # without chunked context a whole prompt must fit (get_settings)
    return bs, tok


# ----------------------------------------------------------------- rows -> cases


def _num(value: Any) -> float:
    """A row's number: finite and not subnormal (core/limits.py), else the row is skipped with the reason."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise LookupError(f"value {value!r} is not a number") from None
    if not math.isfinite(number) or (number != 0 and abs(number) < sys.float_info.min):
        raise LookupError("a value is infinite, not a number, or subnormal; give finite numbers")
    return number


def _measured(value: Any) -> float:
    """A measured time or rate: a positive finite number, else the row is skipped with the reason."""
    number = _num(value)
    if number <= 0:
        raise LookupError(f"the measured value must be > 0, got {number:g}")
    return number


def _gemm_dims(scenario: str) -> tuple[int, ...] | None:
    found = re.search(r"(\d+)x(\d+)x(\d+)", scenario)
    return tuple(int(x) for x in found.groups()) if found else None


def _gpu_options(name: str, resolver: Resolver) -> tuple[str, dict[str, Any], str]:
    """Catalog id, flags for a part of a package, and a note."""
    gid = resolver.gpu(name)
    low = name.lower()
    if "one gcd" in low or "one die" in low:  # an MI250X GCD is half the OAM package
        acc = resolver.catalog.gpu(gid).accelerator
        peak = max(acc.peak_flops.get("bf16", 0.0), acc.peak_flops.get("fp16", 0.0))
        return gid, {"memory": f"{acc.memory_bytes / 2 / 2**30:g}GiB", "bandwidth": acc.bandwidth_bytes_per_s / 2,
                     "flops": peak / 2}, "one die of the package: half its memory, bandwidth and FLOP/s"
    note = "power-capped clocks are not modelled" if "power" in low and "limit" in low else ""
    return gid, {}, note


def _serving_case(r: dict, resolver: Resolver, file_label: str) -> Case:
    hw, model, w, par = r["hardware"], r.get("model") or {}, r.get("workload") or {}, r.get("parallelism") or {}
    metric = r["metric"]
    gid, gpu_flags, gnote = _gpu_options(hw["name"], resolver)
    mid = resolver.model(model.get("name", ""))
    prec, pnote = precision_options((r.get("precision") or {}).get("weights", ""))
    engine, batching, version = engine_of(r.get("engine", ""))
    tp, pp = int(par.get("tp") or 1), int(par.get("pp") or 1)
    n = int(hw.get("count") or tp * pp)
    if n != tp * pp:
        raise LookupError(f"hardware count {n} is not tp x pp = {tp * pp}")
    isl = int(_num(w.get("input_len")))
    out = w.get("output_len")
    notes = [x for x in (gnote, pnote) if x]
    opts: dict[str, Any] = {"model": mid, "gpu": gid, **gpu_flags, **prec, "tp": tp, "pp": pp, "engine": engine,
                            "batching": batching, "input_tokens": isl}
    shared = r.get("group") in ("trtllm_perf_overview", "batch1_decode")
    if metric in ("output_token_throughput_total", "vllm_output_throughput") and not shared:
        opts.update(output_tokens=int(_num(out)), batch=w.get("batch") or "max")
        if w.get("num_requests"):
            opts["num_requests"] = int(w["num_requests"])
        group, extract = f"{r.get('group') or USER}: output tokens/s", "output_tokens_per_s"
    elif metric in ("vllm_mean_ttft_ms", "ttft_ms") or (metric == "first_token_latency" and not shared):
        opts.update(output_tokens=int(_num(out or 1)), batch=w.get("batch") or 1)
        group, extract = f"{r.get('group') or USER}: TTFT", "ttft_ms"
    elif metric in ("vllm_mean_tpot_ms", "tpot_ms"):
        opts.update(output_tokens=int(_num(out)), batch=w.get("batch") or 1)
        group, extract = f"{r.get('group') or USER}: TPOT", "tpot_ms"
    elif metric == "output_token_throughput_total":
        osl = int(_num(out))
        group = MAXT_19 if version.startswith("0.19") else MAXT_15
        opts.update(output_tokens=osl, batch="max")
        if w.get("num_requests"):
            opts["num_requests"] = int(w["num_requests"])
        if engine in ("trtllm", "trtllm-cpp"):
            fp8 = prec.get("precision") == "fp8" or prec.get("quant") == "modelopt-fp8"
            fp4 = prec.get("quant") == "modelopt-fp4"
            if prec.get("precision") == "fp8":
                notes.append("FP8 KV cache (trtllm-bench builds FP8 quantization with an FP8 cache)")
            bs, tok = trtllm_bench_limits(resolver.catalog, mid, gid, tp, pp, isl, osl,
                                          0.5 if fp4 else (1.0 if fp8 else 2.0), 1.0 if (fp8 or fp4) else 2.0,
                                          version)
            opts.update(max_running_requests=bs, token_budget=tok, memory_fraction=0.95)
            opts["chunked_prefill"] = "on" if version.startswith("0.15") else "off"
            if engine == "trtllm":
                opts["cuda_graph_max_batch"] = bs  # the bench captures decode batches up to max_batch_size
            notes.append(f"trtllm-bench sizing: max_batch_size {bs}, max_num_tokens {tok}; KV fraction 0.95")
        extract = "output_tokens_per_s"
    elif metric == "output_token_throughput":
        osl = int(_num(out))
        group = STATIC
        opts.update(output_tokens=osl, batch=int(_num(w.get("batch"))))
        extract = "per_gpu_output_tokens_per_s"
        if "ambiguous" in str(r.get("unit")) and n > 1:
            notes.append("per-GPU reading of an ambiguous unit")
    elif metric == "first_token_latency":
        group = FTL
        opts.update(output_tokens=1, batch=int(_num(w.get("batch") or 1)))
        extract = "ttft_ms"
    elif metric == "decode_tokens_per_second_per_user":
        group = BATCH1
        opts.update(output_tokens=GPT_FAST_OUTPUT_TOKENS, batch=1)
        notes.append(f"{GPT_FAST_OUTPUT_TOKENS} output tokens assumed (gpt-fast's default)")
        extract = "tokens_per_s_per_user"
    else:
        raise LookupError(f"metric {metric!r} has no inferwall counterpart")
    return Case(id=str(r["id"]), group=group, kind="estimate", measured=_measured(r["value"]), metric=extract, gpu=gid,
                options=opts, extra={"version": version}, assumption="; ".join(notes), source=file_label)


def _hardware_case(r: dict, resolver: Resolver, file_label: str) -> Case:
    hw, metric = r["hardware"], r["metric"]
    gid, _, _ = _gpu_options(hw["name"], resolver)
    base = dict(id=str(r["id"]), gpu=gid, measured=_measured(r["value"]), source=file_label)
    scenario = str((r.get("workload") or {}).get("scenario") or "")
    dtype = str((r.get("precision") or {}).get("weights") or "bf16")
    if metric in ("hbm_bandwidth_achieved", "hbm_bandwidth_empirical_peak"):
        scale = 1e12 if r.get("unit") == "TB/s" else 1e9
        return Case(**base, group=HBM, kind="hbm", metric="bandwidth", extra={"scale": scale},
                    assumption="predicted = weight-stream efficiency x datasheet bandwidth")
    if metric == "gemm_tflops_achieved":
        dims = _gemm_dims(scenario)
        if dims and min(dims) < GEMM_MIN_DIM:
            raise LookupError(f"GEMM {'x'.join(map(str, dims))} is shape-bound (a dimension < {GEMM_MIN_DIM}); "
                              "inferwall's GEMM efficiency describes LLM-sized GEMMs")
        return Case(**base, group=GEMM, kind="gemm", metric="tflops", extra={"dtype": dtype},
                    assumption="predicted = GEMM efficiency x dense peak")
    if metric == "max_achievable_matmul_tflops":
        return Case(**base, group=CEILING, kind="ceiling", metric="tflops", extra={"dtype": dtype},
                    assumption="best-shape search: an upper bound on the LLM-shape GEMM efficiency (ratio <= 1 holds)")
    if metric == "attention_tflops_achieved":
        arch = resolver.catalog.gpu(gid).accelerator.architecture
        if arch != "ampere":
            raise LookupError("FlashAttention-2 on Hopper: engines there run FA3 or TensorRT-LLM FMHA, the kernel "
                              "specs/kernels.yaml describes (FA2's 0.33 is the low end of its box)")
        seq = re.search(r"seq (\d+)", scenario)
        return Case(**base, group=ATTN, kind="attention", metric="tflops",
                    extra={"seq": int(seq.group(1)) if seq else 8192},
                    assumption="predicted = attention efficiency at the sequence length x 16-bit peak")
    if metric == "allreduce_bus_bandwidth":
        return Case(**base, group=LINK, kind="allreduce", metric="busbw", extra={"n": int(hw.get("count") or 8)},
                    assumption="8-GPU all-reduce of 8 GB: busbw = 2(n-1)/n x m / (latency + 2(n-1)/n x m / "
                               "(link x all-reduce efficiency))")
    raise LookupError(f"metric {metric} has no inferwall counterpart")


def cases_from_rows(rows: list[dict], catalog: Catalog, file_label: str = "") -> tuple[list[Case], list[Skipped]]:
    """Split rows into expressible cases and skipped rows with reasons."""
    resolver = Resolver(catalog)
    cases: list[Case] = []
    skipped: list[Skipped] = []
    for r in rows:
        rid = str(r.get("id", "?")) if isinstance(r, dict) else "?"
        group = str(r.get("group", "")) if isinstance(r, dict) else ""
        if not isinstance(r, dict):
            skipped.append(Skipped(rid, group, "not a mapping"))
            continue
        if group == "analytic_kim2023":
            skipped.append(Skipped(rid, group, "analytic FLOP/byte tables: reproduced by tests/test_intensity.py"))
            continue
        if group == "api_prices":
            skipped.append(Skipped(rid, group, "an API price includes margin and utilization: an order-of-magnitude "
                                               "band, not a calibration target"))
            continue
        try:
            if group == "hardware_efficiency":
                cases.append(_hardware_case(r, resolver, file_label))
            else:
                cases.append(_serving_case(r, resolver, file_label))
        except (LookupError, KeyError, TypeError, ValueError) as exc:
            reason = str(exc).strip("'\"") if not isinstance(exc, KeyError) else f"missing field {exc}"
            skipped.append(Skipped(rid, group, reason))
    return cases, skipped


# ----------------------------------------------------------------- files


def _unflatten(row: dict[str, str]) -> dict:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key is None:
            continue
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value if value != "" else None
    return out


def vllm_bench_rows(data: dict, label: str, scenario: dict[str, Any]) -> list[dict]:
    """A ``vllm bench serve`` result as calibration rows (throughput, mean TTFT, mean TPOT)."""
    completed = data.get("completed") or 0
    if not completed:
        raise InputError(f"{label}: no completed requests in this vllm bench result")
    isl = round((data.get("total_input_tokens") or 0) / completed)
    osl = round((data.get("total_output_tokens") or 0) / completed)
    rate = data.get("request_rate")
    concurrency = data.get("max_concurrency")
    gpu = scenario.get("gpu")
    if not gpu:
        raise InputError(f"{label}: a vllm bench result does not say the hardware; give --gpu (and --tp/--dp)")
    tp, pp = int(scenario.get("tp") or 1), int(scenario.get("pp") or 1)
    common = {"group": "vllm_bench_serve", "engine": f"vLLM {data.get('backend', '')}".strip(),
              "hardware": {"name": gpu, "count": tp * pp}, "model": {"name": data.get("model_id") or scenario.get("model")},
              "precision": {"weights": scenario.get("precision") or "16-bit"},
              "parallelism": {"tp": tp, "pp": pp}}
    if rate not in (None, "inf", float("inf")) and not concurrency:
        raise InputError(f"{label}: a fixed request rate ({rate}/s) needs the load model; calibrate on runs with "
                         "--max-concurrency or an infinite rate")
    workload = {"input_len": isl, "output_len": osl, "batch": int(concurrency) if concurrency else "max",
                "num_requests": int(data.get("num_prompts") or completed)}
    rows = []
    stem = label.rsplit("/", 1)[-1]
    if data.get("output_throughput"):
        rows.append({**common, "id": f"{stem}:output_throughput", "metric": "vllm_output_throughput",
                     "workload": workload, "value": data["output_throughput"]})
    for key, metric in (("mean_ttft_ms", "vllm_mean_ttft_ms"), ("mean_tpot_ms", "vllm_mean_tpot_ms")):
        if data.get(key):
            rows.append({**common, "id": f"{stem}:{key}", "metric": metric, "workload": workload, "value": data[key]})
    return rows


def load_rows(path: str, scenario: dict[str, Any] | None = None) -> list[dict]:
    """Rows from a calibration YAML/CSV or a vllm bench JSON; one-line errors for files that do not parse."""
    from inferwall.catalog.yamlio import load_document, read_text

    if path.endswith(".csv"):
        import csv
        import io

        reader = csv.DictReader(io.StringIO(read_text(path)))
        return [_unflatten(row) for row in reader]
    data = load_document(path)
    if path.endswith(".json") and isinstance(data, dict) and "output_throughput" in data:
        return vllm_bench_rows(data, path, scenario or {})
    if isinstance(data, dict) and isinstance(data.get("rows"), list):
        data = data["rows"]
    if not isinstance(data, list):
        raise InputError(f"{path}: expected a list of measured rows (the schema of shared/validation/"
                         "calibration.yaml) or a vllm bench serve JSON result")
    return data
