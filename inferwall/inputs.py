"""Turn user options (flags, plan-file fields) into a core ``Scenario``, recording where each input came from.

Shared by every command, so ``estimate``, ``sweep`` and ``check`` accept the same fields the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
TYPE_CHECKING = False  # typing costs start-up; its names are only needed by type checkers
if TYPE_CHECKING:
    from typing import Any

from inferwall.catalog import Catalog, GpuEntry, ModelEntry, load_model_file
from inferwall.core import (
    CoreError,
    Efficiency,
    MemoryPolicy,
    ModelArch,
    Parallelism,
    Precision,
    Scenario,
    Workload,
    max_batch_for,
    prepare,
)
from inferwall.core import limits as L
from inferwall.core.defaults import default_efficiency, efficiency_class
from inferwall.core.dtypes import BYTES_PER_ELEMENT, normalize, sixteen_bit_for
from inferwall.errors import InputError
from inferwall.units import (
    UnitError,
    bare_duration_note,
    count,
    parse_fraction,
    parse_int,
    parse_price,
    parse_quantity,
    parse_seconds,
)

DEFAULT_GPU = "h100"
DEFAULT_INPUT_TOKENS = 1024
DEFAULT_OUTPUT_TOKENS = 256
QUANTIZED_NATIVE = ("fp8", "fp4", "mxfp4", "nvfp4", "int8", "int4")


@dataclass(eq=False)
class Options:
    """Raw inputs, as typed. ``None`` means "not given"."""

    model: str | None = None
    params: Any = None
    active_params: Any = None
    layers: Any = None
    hidden: Any = None
    heads: Any = None
    kv_heads: Any = None
    head_dim: Any = None
    gpu: str | None = None
    flops: Any = None
    bandwidth: Any = None
    memory: Any = None
    price: Any = None
    link_bandwidth: Any = None
    gpus: Any = None
    tp: Any = None
    pp: Any = None
    dp: Any = None
    ep: Any = None
    batch: Any = None
    input_tokens: Any = None
    output_tokens: Any = None
    precision: str | None = None
    weights: str | None = None
    kv: str | None = None
    compute: str | None = None
    ideal: bool = False
    mfu: Any = None
    mbu: Any = None
    link_efficiency: Any = None
    overhead: Any = None
    layer_overhead: Any = None
    collective_latency: Any = None
    reserve: Any = None
    memory_fraction: Any = None

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


@dataclass(frozen=True)
class Resolved:
    """A ready scenario plus what the user should know about how it was built."""

    scenario: Scenario
    compute_explicit: bool
    model_entry: ModelEntry | None
    gpu_entry: GpuEntry | None
    provenance: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    batch_max: bool = False


def _wrap(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except UnitError as exc:
        raise InputError(str(exc)) from None


def _int(value: Any, flag: str, minimum: int = 1, limit: L.Limit = L.GPUS) -> int:
    return _wrap(parse_int, value, flag, minimum, limit=limit)


# The physical range of each bare-model shape flag (inferwall.core.limits; docs/limits.md).
SHAPE_LIMITS = {"layers": L.LAYERS, "heads": L.HEADS, "kv_heads": L.HEADS, "head_dim": L.HEAD_DIM, "hidden": L.HIDDEN}
# Durations a bare number makes implausibly long (seconds): a note says how it was read.
PLAUSIBLE_BARE_SECONDS = {"overhead": 1.0, "layer_overhead": 1.0, "collective_latency": 1.0}


def _dtype(value: str, flag: str) -> str:
    try:
        return normalize(value)
    except CoreError:
        raise InputError(f"{flag}: unknown dtype {value!r}; valid: {', '.join(BYTES_PER_ELEMENT)}") from None


def _is_path(name: str) -> bool:
    return name.endswith((".json", ".yaml", ".yml")) or "/" in name and os.path.exists(name)


def _model(o: Options, catalog: Catalog, prov: dict[str, str], notes: list[str]) -> tuple[ModelArch, ModelEntry | None]:
    shape_flags = {"layers": o.layers, "heads": o.heads, "kv_heads": o.kv_heads, "head_dim": o.head_dim,
                   "hidden": o.hidden}
    if o.model and o.params is not None:
        raise InputError("give either --model or --params, not both")
    if o.model:
        given = [k for k, v in shape_flags.items() if v is not None]
        if given:
            raise InputError(f"--{given[0].replace('_', '-')} describes a --params model; it cannot change --model {o.model}")
        if o.active_params is not None:
            raise InputError("--active-params goes with --params; catalog models carry their own counts")
        if _is_path(o.model) and not catalog.has_model_name(o.model):
            entry = load_model_file(o.model)
            prov["model"] = f"file {o.model}"
        else:
            entry = catalog.model(o.model)
            prov["model"] = f"catalog {entry.model.id} ({entry.source_file})"
            if entry.status == "rumor":
                notes.append(f"{entry.model.id} is a rumored architecture, not a published one")
        return entry.model, entry
    if o.params is None:
        raise InputError("no model: give --model NAME|PATH (see 'inferwall models') or --params N (e.g. 70B)")
    params = _wrap(parse_quantity, o.params, "count", "--params", limit=L.PARAMS)
    active = (_wrap(parse_quantity, o.active_params, "count", "--active-params", limit=L.PARAMS)
              if o.active_params is not None else 0.0)
    if active > params:
        raise InputError(f"--active-params ({o.active_params}) exceeds --params ({o.params})")
    if not active:
        notes.append("--params without --active-params: assuming a dense model (every parameter active per token)")
    shape = {k: (_int(v, f"--{k.replace('_', '-')}", limit=SHAPE_LIMITS[k]) if v is not None else 0)
             for k, v in shape_flags.items()}
    heads = shape["heads"]
    head_dim = shape["head_dim"] or (shape["hidden"] // heads if heads and shape["hidden"] else 0)
    m = ModelArch(id=f"{count(params)}-params", name="bare model", params=params, active_params=active,
                  num_layers=shape["layers"], hidden_size=shape["hidden"], num_heads=heads,
                  num_kv_heads=shape["kv_heads"] or heads, head_dim=head_dim)
    prov["model"] = "flag --params"
    return m, None


def _gpu(o: Options, catalog: Catalog, prov: dict[str, str], notes: list[str]):
    name = o.gpu or DEFAULT_GPU
    entry = catalog.gpu(name)
    acc = entry.accelerator
    prov["gpu"] = f"catalog {acc.id} ({entry.source_file})" + ("" if o.gpu else " [default --gpu]")
    changes: dict[str, Any] = {}
    if o.flops is not None:
        value = _wrap(parse_quantity, o.flops, "flops", "--flops", limit=L.FLOPS)
        changes["peak_flops"] = {k: value for k in ("fp32", "tf32", "bf16", "fp16", "fp8", "int8", "fp6", "fp4", "int4")}
        prov["peak_flops"] = "flag --flops (every dtype)"
    if o.bandwidth is not None:
        changes["bandwidth_bytes_per_s"] = _wrap(parse_quantity, o.bandwidth, "bandwidth", "--bandwidth", limit=L.BANDWIDTH)
        prov["bandwidth"] = "flag --bandwidth"
    if o.memory is not None:
        changes["memory_bytes"] = _wrap(parse_quantity, o.memory, "bytes", "--memory", limit=L.MEMORY)
        prov["memory"] = "flag --memory"
    if o.link_bandwidth is not None:
        changes["scale_up_bytes_per_s"] = _wrap(parse_quantity, o.link_bandwidth, "bandwidth", "--link-bandwidth",
                                                limit=L.BANDWIDTH)
        prov["link_bandwidth"] = "flag --link-bandwidth"
    if o.price is not None:
        changes["price_usd_per_hour"] = _wrap(parse_price, o.price)
        prov["price"] = "flag --price"
    elif acc.price_usd_per_hour is not None:
        verified = "" if entry.price_verified else ", unverified"
        prov["price"] = f"catalog {acc.id}: {entry.price_source}{verified}"
    if changes:
        acc = replace(acc, **changes)
        if any(k in changes for k in ("peak_flops", "bandwidth_bytes_per_s", "memory_bytes")):
            acc = replace(acc, id=f"{acc.id}*")  # mark the accelerator as modified
    return acc, entry


def _layout(o: Options, m: ModelArch) -> Parallelism:
    pp = _int(o.pp, "--pp") if o.pp is not None else 1
    ep = _int(o.ep, "--ep") if o.ep is not None else 1
    tp = _int(o.tp, "--tp") if o.tp is not None else None
    dp = _int(o.dp, "--dp") if o.dp is not None else None
    gpus = _int(o.gpus, "--gpus") if o.gpus is not None else None
    if gpus is not None:
        if tp is None:
            r = dp or 1
            if gpus % (pp * r):
                raise InputError(f"--gpus {gpus} is not divisible by pp x dp = {pp * r}; valid --gpus are multiples of {pp * r}")
            tp = gpus // (pp * r)
        elif dp is None:
            if gpus % (tp * pp):
                raise InputError(f"--gpus {gpus} is not divisible by tp x pp = {tp * pp}; use a multiple of {tp * pp}")
            dp = gpus // (tp * pp)
        elif tp * pp * dp != gpus:
            raise InputError(f"tp x pp x dp = {tp} x {pp} x {dp} = {tp * pp * dp}, but --gpus is {gpus}; they must match")
    par = Parallelism(tp=tp or 1, pp=pp, dp=dp or 1, ep=ep)
    if par.gpus > 10**7:
        raise InputError(f"{par.gpus} GPUs is more than the 10,000,000 this tool evaluates")
    return par


def _precision(o: Options, m: ModelArch, acc) -> tuple[Precision, bool, dict[str, str]]:
    prov: dict[str, str] = {}
    sixteen = sixteen_bit_for(acc) or "bf16"
    if o.precision:
        base = _dtype(o.precision, "--precision")
        weights = kv = compute = base
        prov["precision"] = "flag --precision"
    else:
        native = normalize(m.native_dtype) if m.native_dtype else "bf16"
        weights = native if native not in ("bf16", "fp16", "fp32") else sixteen
        kv = sixteen
        compute = native if native in QUANTIZED_NATIVE else sixteen
        prov["precision"] = f"model native dtype ({native})" if native != "bf16" else "default 16-bit"
    if o.weights:
        weights = _dtype(o.weights, "--weights")
        prov["weights_dtype"] = "flag --weights"
    if o.kv:
        kv = _dtype(o.kv, "--kv")
        prov["kv_dtype"] = "flag --kv"
    if o.compute:
        compute = _dtype(o.compute, "--compute")
        prov["compute_dtype"] = "flag --compute"
    return Precision(weights=weights, kv=kv, compute=compute), bool(o.compute), prov


def _efficiency(o: Options, acc, prov: dict[str, str]) -> Efficiency:
    if o.ideal:
        eff = Efficiency.ideal()
        prov["efficiency"] = "--ideal: pure roofline (every factor 1, every overhead 0)"
    else:
        eff = default_efficiency(acc)
        prov["efficiency"] = f"calibrated defaults for {efficiency_class(acc)} (docs/validation.md)"
    changes: dict[str, Any] = {}
    for name, flag in (("mfu", "--mfu"), ("mbu", "--mbu"), ("link_efficiency", "--link-efficiency")):
        value = getattr(o, name)
        if value is not None:
            changes[name] = _wrap(parse_fraction, value, flag)
            prov[name] = f"flag {flag}"
    if o.overhead is not None:
        changes["step_overhead_s"] = _wrap(parse_seconds, o.overhead, "--overhead", limit=L.OVERHEAD)
        prov["step_overhead"] = "flag --overhead"
    if o.layer_overhead is not None:
        changes["layer_overhead_s"] = _wrap(parse_seconds, o.layer_overhead, "--layer-overhead", limit=L.OVERHEAD)
        prov["layer_overhead"] = "flag --layer-overhead"
    if o.collective_latency is not None:
        changes["collective_latency_s"] = _wrap(parse_seconds, o.collective_latency, "--collective-latency",
                                                limit=L.OVERHEAD)
        prov["collective_latency"] = "flag --collective-latency"
    return replace(eff, **changes) if changes else eff


def _memory_policy(o: Options, prov: dict[str, str]) -> MemoryPolicy:
    policy = MemoryPolicy()
    changes: dict[str, Any] = {}
    if o.reserve is not None:
        changes["reserve_bytes"] = _wrap(parse_quantity, o.reserve, "bytes", "--reserve", limit=L.RESERVE)
        prov["reserve"] = "flag --reserve"
    if o.memory_fraction is not None:
        changes["memory_fraction"] = _wrap(parse_fraction, o.memory_fraction, "--memory-fraction")
        prov["memory_fraction"] = "flag --memory-fraction"
    return replace(policy, **changes) if changes else policy


def build(o: Options, catalog: Catalog) -> Resolved:
    """Validate every option and assemble the scenario. Raises InputError/CoreError on bad input."""
    prov: dict[str, str] = {}
    notes: list[str] = []
    model, model_entry = _model(o, catalog, prov, notes)
    acc, gpu_entry = _gpu(o, catalog, prov, notes)
    par = _layout(o, model)
    precision, compute_explicit, pprov = _precision(o, model, acc)
    prov.update(pprov)
    eff = _efficiency(o, acc, prov)
    mem = _memory_policy(o, prov)
    input_tokens = (_int(o.input_tokens, "--input-tokens", limit=L.TOKENS) if o.input_tokens is not None
                    else DEFAULT_INPUT_TOKENS)
    output_tokens = (_int(o.output_tokens, "--output-tokens", 0, limit=L.OUTPUT_TOKENS) if o.output_tokens is not None
                     else DEFAULT_OUTPUT_TOKENS)
    batch_text = str(o.batch).strip().lower() if o.batch is not None else "1"
    batch_max = batch_text == "max"
    batch = 1 if batch_max else _int(o.batch if o.batch is not None else 1, "--batch", limit=L.BATCH)
    for name, plausible in PLAUSIBLE_BARE_SECONDS.items():
        text = getattr(o, name)
        if text is not None:
            flag = f"--{name.replace('_', '-')}"
            line = bare_duration_note(text, _wrap(parse_seconds, text, flag, limit=L.OVERHEAD), flag, plausible)
            if line:
                notes.append(line)
    scenario = Scenario(accelerator=acc, model=model, precision=precision, parallelism=par,
                        workload=Workload(batch=batch, input_tokens=input_tokens, output_tokens=output_tokens),
                        efficiency=eff, memory=mem)
    prepared, core_notes = prepare(scenario, compute_explicit)
    notes.extend(core_notes)
    if batch_max:
        best = max_batch_for(prepared)
        if best == 0:
            notes.append("--batch max: the weights alone do not fit; showing batch 1")
            best = 1
        scenario = replace(scenario, workload=replace(scenario.workload, batch=best))
        prov["batch"] = f"--batch max: the largest batch that fits ({best})"
    return Resolved(scenario=scenario, compute_explicit=compute_explicit, model_entry=model_entry,
                    gpu_entry=gpu_entry, provenance=prov, notes=tuple(dict.fromkeys(notes)), batch_max=batch_max)
