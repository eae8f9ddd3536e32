"""Turn user options (flags, plan-file fields) into a core ``Scenario``, recording where each input came from.

Shared by every command, so ``estimate``, ``sweep`` and ``check`` accept the same fields the same way.
"""

from __future__ import annotations

import os
from operator import attrgetter
from dataclasses import dataclass, field, fields, replace
TYPE_CHECKING = False  # typing costs start-up; its names are only needed by type checkers
if TYPE_CHECKING:
    from typing import Any

from inferwall.catalog import Catalog, GpuEntry, ModelEntry, load_model_file
from inferwall.core import (
    CoreError,
    Efficiency,
    Engine,
    MemoryPolicy,
    ModelArch,
    Parallelism,
    Precision,
    Scenario,
    Workload,
    prepare,
)
from inferwall.core import limits as L
from inferwall.core.dtypes import BYTES_PER_ELEMENT, STORAGE_BITS, normalize, sixteen_bit_for
from inferwall.errors import InputError
from inferwall.prices import missing_note, parse_price_spec, unverified_note
from inferwall.units import (
    UnitError,
    bare_duration_note,
    count,
    parse_fraction,
    parse_int,
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
    engine: str | None = None
    engine_file: str | None = None
    batching: str | None = None
    num_requests: Any = None
    max_running_requests: Any = None
    cuda_graph_max_batch: Any = None
    chunked_prefill: Any = None
    token_budget: Any = None
    precision: str | None = None
    quant: str | None = None
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
    speculative: Any = None
    acceptance: Any = None
    accepted_length: Any = None
    draft_model: str | None = None
    prefix_hit: Any = None
    kv_offload: str | None = None
    disaggregate: str | None = None
    prefill_gpus: str | None = None
    decode_gpus: str | None = None
    strict: bool = False  # warnings about the inputs are errors (see input_checks)
    request_rate: Any = None  # issue 12: load (see _load)
    arrival: str | None = None
    simulate: bool = False
    seed: Any = None
    # field -> where its value came from when not a flag (env, config file, plan line, default): provenance.py
    origins: dict[str, str] = field(default_factory=dict)

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls) if f.name != "origins"]  # the inputs, not where they came from


_WORKLOAD_FIELDS = ("batch", "input_tokens", "output_tokens", "num_requests")
_memo_key = attrgetter(*(name for name in Options.field_names() if name not in _WORKLOAD_FIELDS))  # build shares


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
    elif entry.compute_estimated:
        notes.append(entry.estimate_note())
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
    spec = parse_price_spec(o.price, catalog) if o.price is not None else None
    price = spec.price_for(acc.id) if spec else None
    if price is not None:
        changes["price_usd_per_hour"] = price
        prov["price"] = "flag --price" + (f" ({acc.id} in {spec.text})" if spec.per_gpu else "")
    else:
        if spec is not None:
            notes.append(missing_note(entry, spec))
        if acc.price_usd_per_hour is not None:
            prov["price"] = f"catalog {acc.id}: {entry.price_label()}" + (f"; {entry.price_url}" if entry.price_url else "")
            if not entry.price_verified and spec is None:
                notes.append(unverified_note(entry))
    if o.flops is not None or o.bandwidth is not None:
        notes.append(_borrowed(o, entry, price is not None))
    if changes:
        acc = replace(acc, **changes)
        if any(k in changes for k in ("peak_flops", "bandwidth_bytes_per_s", "memory_bytes")):
            acc = replace(acc, id=f"{acc.id}*")  # mark the accelerator as modified
    return acc, entry


def _borrowed(o: Options, entry: GpuEntry, price_given: bool) -> str:
    """The note of a hypothetical chip (--flops/--bandwidth): which properties it takes from the catalog GPU."""
    acc = entry.accelerator
    kept = []
    if o.flops is None:
        kept.append("peak FLOP/s")
    if o.bandwidth is None:
        kept.append(f"bandwidth {acc.bandwidth_bytes_per_s / 1e12:g} TB/s")
    if o.memory is None:
        kept.append(f"memory {acc.memory_bytes / 2**30:g} GiB")
    if o.link_bandwidth is None and acc.scale_up_bytes_per_s:
        kept.append(f"scale-up link {acc.scale_up_bytes_per_s / 1e9:g} GB/s")
    if acc.tdp_w:
        kept.append(f"TDP {acc.tdp_w:g} W (for energy)")
    if not price_given and acc.price_usd_per_hour is not None:
        kept.append(f"price ${acc.price_usd_per_hour:g}/GPU-hour")
    base = f"{acc.id}" + ("" if o.gpu else " (the default --gpu)")
    flags = ", ".join(f for f, v in (("--memory", o.memory), ("--link-bandwidth", o.link_bandwidth),
                                     ("--price", None if not price_given else 1)) if v is None)
    return (f"hypothetical chip: --flops/--bandwidth change {base}; it keeps that GPU's "
            f"{', '.join(kept)}" + (f" (set them with {flags})" if flags else ""))


@dataclass(frozen=True)
class LayoutRequest:
    """The layout flags as given (None: not given)."""

    gpus: int | None
    tp: int | None
    pp: int | None
    dp: int | None
    ep: int


def _layout_request(o: Options) -> LayoutRequest:
    def opt(value: Any, flag: str) -> int | None:
        return _int(value, flag) if value is not None else None

    return LayoutRequest(gpus=opt(o.gpus, "--gpus"), tp=opt(o.tp, "--tp"), pp=opt(o.pp, "--pp"), dp=opt(o.dp, "--dp"),
                         ep=opt(o.ep, "--ep") or 1)


def _explicit_layout(req: LayoutRequest) -> Parallelism:
    """The layout when the flags fix it (or one replica spans every GPU, for a model without heads)."""
    pp, gpus = req.pp or 1, req.gpus
    tp, dp = req.tp, req.dp
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
    par = Parallelism(tp=tp or 1, pp=pp, dp=dp or 1, ep=req.ep)
    if par.gpus > 10**7:
        raise InputError(f"{par.gpus} GPUs is more than the 10,000,000 this tool evaluates")
    return par


def _needs_choice(req: LayoutRequest, m: ModelArch) -> bool:
    """--gpus without --tp or --dp on a model with heads: inferwall picks the layout."""
    return req.gpus is not None and req.tp is None and req.dp is None and m.has_attention


def _precision(o: Options, m: ModelArch, acc, catalog_recipe: dict | None) -> tuple[Precision, bool, dict[str, str], list[str]]:
    prov: dict[str, str] = {}
    notes: list[str] = []
    sixteen = sixteen_bit_for(acc) or "bf16"
    module: dict[str, str] = {}
    recipe_id = expert_compute = ""
    if o.quant:
        recipe_id, recipe = _recipe(o.quant)
        weights, compute, kv, module = recipe["weights"], recipe["compute"], recipe["kv"], recipe["modules"]
        expert_compute = recipe["expert_compute"]
        prov["precision"] = f"--quant {recipe_id}: {recipe['source']}"
        if o.precision:
            raise InputError("give --quant or --precision, not both (--weights/--kv/--compute refine either)")
    elif o.precision:
        base = _dtype(o.precision, "--precision")
        weights = compute = base
        # No common engine quantizes the KV cache to 4 bits: 4-bit precisions keep a 16-bit cache.
        kv = base if STORAGE_BITS.get(base, 16) >= 8 else sixteen
        if base == "fp4":
            weights = "nvfp4" if acc.vendor == "NVIDIA" else "mxfp4"
            notes.append(f"--precision fp4 stores {weights} (block-scaled: {BYTES_PER_ELEMENT[weights]:g} bytes per "
                         "weight with its scales); --weights fp4 gives bare 4-bit codes")
        prov["precision"] = "flag --precision"
    else:
        native = normalize(m.native_dtype) if m.native_dtype else "bf16"
        weights = native if native not in ("bf16", "fp16", "fp32") else sixteen
        kv = sixteen
        compute = native if native in QUANTIZED_NATIVE else sixteen
        prov["precision"] = f"model native dtype ({native})" if native != "bf16" else "default 16-bit"
        if catalog_recipe is not None:
            recipe_id = catalog_recipe["id"]
            weights, compute, module = catalog_recipe["weights"], catalog_recipe["compute"], catalog_recipe["modules"]
            expert_compute = catalog_recipe["expert_compute"]
            prov["precision"] = f"model native checkpoint ({recipe_id}: {catalog_recipe['source']})"
    if o.weights:
        weights = _dtype(o.weights, "--weights")
        module, expert_compute = {}, ""
        prov["weights_dtype"] = "flag --weights"
    if o.kv:
        kv = _dtype(o.kv, "--kv")
        prov["kv_dtype"] = "flag --kv"
    if o.compute:
        compute = _dtype(o.compute, "--compute")
        prov["compute_dtype"] = "flag --compute"
    prec = Precision(weights=weights, kv=kv, compute=compute, attention_weights=module.get("attention", ""),
                     expert_weights=module.get("experts", ""), head_weights=module.get("head", ""), recipe=recipe_id,
                     expert_compute=expert_compute)
    return prec, bool(o.compute), prov, notes


def _recipe(name: str) -> tuple[str, dict]:
    from inferwall.catalog.quant import recipe

    return recipe(name)


def _engine(o: Options, acc, prov: dict[str, str], notes: list[str]):
    from inferwall.catalog.profiles import DEFAULT_ENGINE, load_engine, load_engine_file, resolve

    if o.engine and o.engine_file:
        raise InputError("give --engine or --engine-file, not both")
    if o.engine_file:
        profile = load_engine_file(o.engine_file)
        prov["engine"] = f"file {o.engine_file}"
    else:
        name = o.engine or ("ideal" if o.ideal else DEFAULT_ENGINE)
        profile = load_engine(name)
        prov["engine"] = (f"flag --engine {profile.id}" if o.engine else
                          ("--ideal implies --engine ideal" if o.ideal else f"default engine {profile.id}"))
    eff, engine, policy, kprov = resolve(acc, profile)
    prov.update(kprov)
    if o.ideal and profile.id != "ideal":
        eff = Efficiency.ideal()
        prov["efficiency"] = "--ideal: pure roofline (every efficiency 1, every fixed cost 0)"
    if o.batching is not None:
        batching = str(o.batching).strip().lower()
        if batching not in ("continuous", "static"):
            raise InputError(f"--batching: {o.batching!r}; valid: continuous, static")
        engine = replace(engine, batching=batching)
        prov["batching"] = "flag --batching"
    elif o.ideal:
        engine = replace(engine, batching="static")
        prov["batching"] = "--ideal implies --batching static"
    else:
        prov["batching"] = f"engine {engine.id} ({engine.batching})"
    if o.max_running_requests is not None:
        engine = replace(engine, max_running_requests=_int(o.max_running_requests, "--max-running-requests", limit=L.BATCH))
        prov["max_running_requests"] = "flag --max-running-requests"
    if o.cuda_graph_max_batch is not None:
        engine = replace(engine, cuda_graph_max_batch=_int(o.cuda_graph_max_batch, "--cuda-graph-max-batch", limit=L.BATCH))
        prov["cuda_graph_max_batch"] = "flag --cuda-graph-max-batch"
    if o.chunked_prefill is not None:
        text = str(o.chunked_prefill).strip().lower()
        if text not in ("on", "off", "true", "false", "yes", "no", "1", "0"):
            raise InputError(f"--chunked-prefill: {o.chunked_prefill!r}; valid: on, off")
        engine = replace(engine, chunked_prefill=text in ("on", "true", "yes", "1"))
        prov["chunked_prefill"] = "flag --chunked-prefill"
    if o.token_budget is not None:
        budget = _int(o.token_budget, "--token-budget", limit=L.TOKENS)
        engine = replace(engine, max_tokens_per_iteration=budget)
        policy = replace(policy, prefill_chunk_tokens=budget)
        prov["max_tokens_per_iteration"] = "flag --token-budget"
    return profile, _efficiency(o, eff, prov), engine, _memory_policy(o, policy, prov)


def _efficiency(o: Options, eff: Efficiency, prov: dict[str, str]) -> Efficiency:
    """The user's efficiency flags over the profile's: --mfu sets every GEMM dtype (attention keeps its class),
    --overhead the exposed host time per iteration, --layer-overhead the kernel floor per layer."""
    changes: dict[str, Any] = {}
    if o.mfu is not None:
        mfu = _wrap(parse_fraction, o.mfu, "--mfu")
        changes.update(mfu=mfu, gemm=tuple((k, mfu) for k, _ in eff.gemm), weight_only=mfu)
        prov["mfu"] = "flag --mfu (every GEMM dtype; attention keeps its own efficiency)"
    if o.mbu is not None:
        changes["mbu"] = _wrap(parse_fraction, o.mbu, "--mbu")
        prov["mbu"] = "flag --mbu (weight and activation streaming; decode attention keeps its own)"
    if o.link_efficiency is not None:
        link = _wrap(parse_fraction, o.link_efficiency, "--link-efficiency")
        changes.update(link_efficiency=link, all_to_all_efficiency=link, scale_out_efficiency=link)
        prov["link_efficiency"] = "flag --link-efficiency (all-reduce, all-to-all, scale-out)"
    if o.overhead is not None:
        changes.update(host_per_iteration_s=_wrap(parse_seconds, o.overhead, "--overhead", limit=L.OVERHEAD),
                       host_per_request_s=0.0, host_hidden_fraction=0.0)
        prov["step_overhead"] = "flag --overhead (host time per iteration, fully exposed; replaces the engine's)"
    if o.layer_overhead is not None:
        per_layer = _wrap(parse_seconds, o.layer_overhead, "--layer-overhead", limit=L.OVERHEAD)
        kernels = eff.kernels_per_layer or 1.0
        changes.update(kernel_floor_s=per_layer / kernels, kernels_per_layer=kernels)
        prov["layer_overhead"] = "flag --layer-overhead (kernel floor x kernels per layer)"
    if o.collective_latency is not None:
        latency = _wrap(parse_seconds, o.collective_latency, "--collective-latency", limit=L.OVERHEAD)
        changes.update(collective_latency_s=latency, all_to_all_latency_s=latency)
        prov["collective_latency"] = "flag --collective-latency (all-reduce and all-to-all)"
    return replace(eff, **changes) if changes else eff


def _memory_policy(o: Options, policy: MemoryPolicy, prov: dict[str, str]) -> MemoryPolicy:
    changes: dict[str, Any] = {}
    if o.reserve is not None:
        changes["reserve_bytes"] = _wrap(parse_quantity, o.reserve, "bytes", "--reserve", limit=L.RESERVE)
        prov["reserve"] = "flag --reserve"
    if o.memory_fraction is not None:
        changes["memory_fraction"] = _wrap(parse_fraction, o.memory_fraction, "--memory-fraction")
        prov["memory_fraction"] = f"flag --memory-fraction (of {policy.fraction_of} memory, the engine's semantics)"
    return replace(policy, **changes) if changes else policy


def _choose_layout(scenario: Scenario, req: LayoutRequest, notes: list[str]) -> Parallelism:
    """--gpus alone: the widest tensor group inside the scale-up domain that divides the heads and the GPUs, data
    parallelism across replicas, and pipeline stages only when one domain cannot hold the model."""
    from inferwall.core.layout import divisors, is_valid
    from inferwall.core.memory import max_batch_for

    gpus, pp_given, ep = req.gpus, req.pp, req.ep
    m, acc = scenario.model, scenario.accelerator
    domain = max(acc.scale_up_domain, 1)
    pps = [pp_given] if pp_given else [p for p in divisors(gpus, limit=64) if p <= max(m.num_layers, 1)]
    fallback = None
    for pp in pps:
        if gpus % pp:
            continue
        per_stage = gpus // pp
        tps = sorted((t for t in divisors(per_stage, limit=1 << 20) if t <= domain), reverse=True)
        for tp in tps:
            par = Parallelism(tp=tp, pp=pp, dp=per_stage // tp, ep=ep)
            if not is_valid(m, par):
                continue
            fallback = fallback or par
            if max_batch_for(replace(scenario, parallelism=par)) >= 1:
                if par.tp * par.pp != gpus or par.dp > 1 or pp > 1:
                    notes.append(f"layout: {gpus} GPUs as --tp {tp}" + (f" --pp {pp}" if pp > 1 else "")
                                 + (f" --dp {par.dp}" if par.dp > 1 else "") + " (the widest tensor group inside the "
                                 f"{domain}-GPU scale-up domain that divides the heads; give --tp to choose)")
                return par
            break  # a narrower tensor group holds less: add pipeline stages instead
    if fallback is None:
        raise InputError(f"no valid layout of {gpus} GPUs for {m.id}: tensor parallelism must divide its "
                         f"{m.num_heads} heads within the {domain}-GPU scale-up domain; give --tp/--pp/--dp")
    notes.append(f"layout: no layout of {gpus} GPUs holds {m.id}; showing --tp {fallback.tp} --pp {fallback.pp}"
                 + (f" --dp {fallback.dp}" if fallback.dp > 1 else ""))
    return fallback


@dataclass(frozen=True)
class _Fixed:
    """What ``build`` resolves from the options other than the workload: a sweep shares it between rows."""

    model: Any
    model_entry: Any
    acc: Any
    gpu_entry: Any
    req: Any
    pools: Any
    par: Any
    precision: Any
    compute_explicit: bool
    eff: Any
    engine: Any
    mem: Any
    prov: tuple[tuple[str, str], ...]
    notes: tuple[str, ...]


def _fixed_part(o: Options, catalog: Catalog) -> _Fixed:
    prov: dict[str, str] = {}
    notes: list[str] = []
    model, model_entry = _model(o, catalog, prov, notes)
    acc, gpu_entry = _gpu(o, catalog, prov, notes)
    req = _layout_request(o)
    pools = _pool_requests(o, req)  # disaggregated prefill and decode instances (None: one pool)
    par = _explicit_layout(req if pools is None else pools.decode)
    native_recipe = None
    if model_entry is not None and getattr(model_entry, "native_quant", None) and not o.precision and not o.quant:
        native_recipe = _recipe(model_entry.native_quant)[1] | {"id": model_entry.native_quant}
    precision, compute_explicit, pprov, pnotes = _precision(o, model, acc, native_recipe)
    prov.update(pprov)
    notes.extend(pnotes)
    _profile, eff, engine, mem = _engine(o, acc, prov, notes)
    return _Fixed(model, model_entry, acc, gpu_entry, req, pools, par, precision, compute_explicit, eff, engine, mem,
                  tuple(prov.items()), tuple(notes))


def build(o: Options, catalog: Catalog, memo: dict | None = None) -> Resolved:
    """Validate every option and assemble the scenario. Raises InputError/CoreError on bad input.

    ``memo`` (a dict the caller keeps for one run, such as a sweep) shares what does not depend on the workload
    between configurations that differ only in it."""
    key = None
    if memo is not None:
        key = _memo_key(o)
        try:
            fixed = memo.get(key)
        except TypeError:  # an unhashable value: no sharing
            key, fixed = None, None
    else:
        fixed = None
    if fixed is None:
        fixed = _fixed_part(o, catalog)
        if key is not None:
            memo[key] = fixed
    prov = dict(fixed.prov)
    notes = list(fixed.notes)
    model, model_entry, acc, engine, precision = fixed.model, fixed.model_entry, fixed.acc, fixed.engine, fixed.precision
    compute_explicit, req, par = fixed.compute_explicit, fixed.req, fixed.par
    input_tokens, input_lengths = _token_lengths(o.input_tokens, "--input-tokens", "input", DEFAULT_INPUT_TOKENS, 1,
                                                 L.TOKENS)
    output_tokens, output_lengths = _token_lengths(o.output_tokens, "--output-tokens", "output", DEFAULT_OUTPUT_TOKENS, 0,
                                                   L.OUTPUT_TOKENS)
    from inferwall.input_checks import check_context

    longest_in = input_lengths.high if input_lengths is not None else input_tokens
    longest_out = output_lengths.high if output_lengths is not None else output_tokens
    notes.extend(check_context(model, model_entry, longest_in, longest_out, o.strict))
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
    num_requests = _int(o.num_requests, "--num-requests", limit=L.BATCH) if o.num_requests is not None else None
    if num_requests is not None and engine.batching != "continuous":
        raise InputError("--num-requests is a run of an in-flight-batching engine; it needs --batching continuous")
    # issue 12: a request rate replaces the fixed concurrency (the load model, core/load.py)
    load = _load(o, model, engine, input_tokens, output_tokens, input_lengths, output_lengths, prov, notes)
    if load is not None:
        num_requests = None  # with --simulate it is the simulation's size (load.requests), not an offline run
    workload = Workload(batch=batch, input_tokens=input_tokens, output_tokens=output_tokens, num_requests=num_requests,
                        batch_max=batch_max)
    scenario = Scenario(accelerator=acc, model=model, precision=precision, parallelism=par, workload=workload,
                        efficiency=fixed.eff, memory=fixed.mem, engine=engine, load=load)
    scenario = _serving_features(o, catalog, scenario, prov, notes)
    if fixed.pools is not None:
        scenario = _disaggregated(scenario, fixed.pools, compute_explicit, notes, prov)
    elif _needs_choice(req, model):
        # The choice depends on the context length (the KV cache must fit), not on the batch.
        layout_key = (key, "layout", input_tokens, output_tokens) if key is not None else None
        chosen = memo.get(layout_key) if layout_key is not None else None
        if chosen is None:
            from inferwall.core.dtypes import resolve_precision

            resolved_prec, _ = resolve_precision(acc, precision, compute_explicit)
            layout_notes: list[str] = []
            chosen = (_choose_layout(replace(scenario, precision=resolved_prec), req, layout_notes), layout_notes)
            if layout_key is not None:
                memo[layout_key] = chosen
        par = chosen[0]
        notes.extend(chosen[1])
        scenario = replace(scenario, parallelism=par)
    prepared, core_notes = prepare(scenario, compute_explicit)
    notes.extend(core_notes)
    if batch_max:
        best, why = _batch_max(prepared)
        scenario = replace(scenario, workload=replace(scenario.workload, batch=best))
        prov["batch"] = f"--batch max: {best} ({why})"
        if best == 1 and why == "the weights alone do not fit":
            notes.append("--batch max: the weights alone do not fit; showing batch 1")
    prov = _labelled(prov, o, key, memo)
    return Resolved(scenario=scenario, compute_explicit=compute_explicit, model_entry=model_entry,
                    gpu_entry=fixed.gpu_entry, provenance=prov, notes=tuple(dict.fromkeys(notes)), batch_max=batch_max)


def _labelled(prov: dict[str, str], o: Options, key: tuple | None, memo: dict | None) -> dict[str, str]:
    """``label_origins``, shared between configurations with the same fixed part and provenance."""
    from inferwall.provenance import label_origins

    if key is None:
        return label_origins(prov, o)
    label_key = (key, "labels", tuple(prov.items()), tuple(getattr(o, n) is None for n in _WORKLOAD_FIELDS))
    labels = memo.get(label_key)
    if labels is None:
        labels = memo[label_key] = label_origins(prov, o)
    return dict(labels)


def _token_lengths(value: Any, flag: str, role: str, default: int, minimum: int, limit: Any = None):
    """(the whole number of tokens the fixed-batch estimate uses, the distribution or None): a plain number as
    before, else a length distribution (``inferwall.lengths``: 128..2048, 1024~300, sharegpt, @FILE), whose
    fixed-batch stand-in is its mean, rounded."""
    if value is None:
        return default, None
    try:
        return _int(value, flag, minimum, limit=limit), None
    except InputError as exc:
        text = str(value).strip()
        if text[:1].isdigit() and not any(mark in text for mark in ("..", "~")):
            raise exc from None  # a number out of range: the number's own message
    from inferwall.lengths import parse_lengths

    lengths = parse_lengths(str(value), flag, role)
    return max(1, int(round(lengths.mean))), lengths


def _load(o: Options, model: ModelArch, engine: Engine, input_tokens: int, output_tokens: int, input_lengths,
          output_lengths, prov: dict[str, str], notes: list[str]):
    """The ``LoadSpec`` of ``--request-rate`` (None without it), and the checks of the flags that go with it."""
    if o.request_rate is None:
        for flag, given in (("--arrival", o.arrival is not None), ("--simulate", o.simulate),
                            ("--seed", o.seed is not None)):
            if given:
                raise InputError(f"{flag} describes traffic at a request rate; it needs --request-rate (e.g. "
                                 "--request-rate 12)")
        for flag, lengths, used in (("--input-tokens", input_lengths, input_tokens),
                                    ("--output-tokens", output_lengths, output_tokens)):
            if lengths is not None and len(lengths.values) > 1:
                notes.append(f"{flag} is a distribution ({lengths.label}, mean {lengths.mean:.4g} tokens): a fixed "
                             f"batch uses its mean, {used} tokens; --request-rate gives percentiles over it")
        return None
    from inferwall.arrivals import parse_arrivals, parse_request_rate
    from inferwall.core.distributions import LengthDistribution
    from inferwall.core.types import LoadSpec

    rate = parse_request_rate(o.request_rate, "--request-rate")
    arrivals = parse_arrivals(o.arrival if o.arrival is not None else "poisson", rate, "--arrival")
    batch_origin = o.origins.get("batch", "")
    if o.batch is not None and batch_origin != "default" and not batch_origin.startswith("config "):
        raise InputError("--batch and --request-rate both set the load: --batch fixes the requests in flight, "
                         "--request-rate lets them follow from the arrivals; give one")
    if engine.batching != "continuous":
        raise InputError("--request-rate needs an in-flight-batching engine (the load model is continuous "
                         f"batching), but {engine.id} batches statically here; valid: --batching continuous "
                         "(--ideal implies static batching)")
    if input_lengths is None:
        input_lengths = LengthDistribution.fixed(input_tokens)
    if model.encoder:
        output_lengths = LengthDistribution.fixed(1)  # an encoder answers in one pass: its latency is the TTFT
    elif output_lengths is None:
        if output_tokens < 1:
            raise InputError("--output-tokens: under --request-rate every request generates at least one token; "
                             "valid: >= 1")
        output_lengths = LengthDistribution.fixed(output_tokens)
    if o.simulate:
        requests = _int(o.num_requests, "--num-requests") if o.num_requests is not None else 10_000
        if requests > 1_000_000:
            raise InputError(f"--num-requests: {requests:,} simulated requests is more than the 1,000,000 allowed "
                             "(10,000 take about 0.2 s)")
        seed = _int(o.seed, "--seed", 0, limit=L.SEED) if o.seed is not None else 0
        prov["load"] = f"simulation of {requests:,} requests (seed {seed})"
        method = "simulation"
    else:
        if o.seed is not None:
            raise InputError("--seed seeds the simulation; it needs --simulate")
        if o.num_requests is not None:
            raise InputError("--num-requests with --request-rate is the size of the simulation; it needs --simulate")
        requests, seed, method = 10_000, 0, "analytic"
        prov["load"] = "closed-form queueing model (docs/queueing.md)"
    prov["batch"] = "--request-rate: the requests in flight at that rate (load.concurrency_per_replica)"
    return LoadSpec(arrivals=arrivals, input_lengths=input_lengths, output_lengths=output_lengths, method=method,
                    requests=requests, seed=seed)


def _batch_max(s: Scenario) -> tuple[int, str]:
    """The largest batch: the KV fit in a static batch; under continuous batching the smallest of the KV fit and
    the engine's caps (running requests, the token budget), with the one that binds."""
    from inferwall.core.memory import max_batch_for

    fit = max_batch_for(s)
    if fit == 0:
        return 1, "the weights alone do not fit"
    limits = [(fit, "the KV cache fit")]
    if s.engine.batching == "continuous":
        if s.engine.max_running_requests:
            limits.append((s.engine.max_running_requests, f"the {s.engine.id} cap on running requests"))
        if s.engine.max_tokens_per_iteration:
            limits.append((s.engine.max_tokens_per_iteration, "the token budget per iteration"))
    best, why = min(limits, key=lambda x: x[0])
    return best, f"{why} binds"


# --------------------------------------------------------------------------- issue 12: serving features


def _share(value: Any, flag: str) -> float:
    """A share in [0, 1], written as 0.5 or 50%."""
    from inferwall.units import parse_share

    share = _wrap(parse_share, value, flag)
    return share


def _speculation(o: Options, catalog: Catalog, model: ModelArch, prov: dict[str, str], notes: list[str]):
    """--speculative K with --acceptance A or --accepted-length L, and the draft: --draft-model, the model's MTP
    layers, or an EAGLE-style head."""
    given = [f for f, v in (("--acceptance", o.acceptance), ("--accepted-length", o.accepted_length),
                            ("--draft-model", o.draft_model)) if v is not None]
    if o.speculative is None:
        if given:
            raise InputError(f"{given[0]} goes with --speculative K (the tokens drafted per step)")
        return None
    from inferwall.core.types import Speculation

    k = _int(o.speculative, "--speculative", limit=L.DRAFT_TOKENS)
    if (o.acceptance is None) == (o.accepted_length is None):
        raise InputError("--speculative needs one of --acceptance A (in [0, 1]) or --accepted-length L "
                         f"(in [1, {k + 1}])")
    acceptance = _share(o.acceptance, "--acceptance") if o.acceptance is not None else None
    length = None
    if o.accepted_length is not None:
        length = _wrap(parse_quantity, o.accepted_length, "count", "--accepted-length")
        if not 1.0 <= length <= k + 1:
            raise InputError(f"--accepted-length: {length:g} tokens per step is outside [1, K + 1 = {k + 1}]")
    if o.draft_model:
        if _is_path(o.draft_model) and not catalog.has_model_name(o.draft_model):
            draft_arch = load_model_file(o.draft_model).model
        else:
            draft_arch = catalog.model(o.draft_model).model
        if not draft_arch.has_attention:
            raise InputError(f"--draft-model {o.draft_model}: needs a full shape (layers, heads, KV heads, head dim)")
        kind = "model"
        prov["speculative_draft"] = f"flag --speculative {k} with --draft-model {draft_arch.id}"
    else:
        draft_arch = None
        kind = "mtp" if model.mtp_layers else "eagle"
        prov["speculative_draft"] = (f"flag --speculative {k}: the model's {model.mtp_layers} MTP layer(s) as the draft"
                               if kind == "mtp" else f"flag --speculative {k}: an EAGLE-style head of one layer")
    if model.encoder:
        raise InputError(f"--speculative: {model.id} is an encoder; it generates no tokens to draft")
    return Speculation(draft_tokens=k, acceptance=acceptance, accepted_length=length, draft=kind,
                       draft_model=draft_arch)


_OFFLOAD: dict | None = None


def _offload_defaults() -> dict:
    global _OFFLOAD
    if _OFFLOAD is None:
        from inferwall.catalog import specs_dir
        from inferwall.catalog.yamlio import load_builtin

        _OFFLOAD = load_builtin(os.path.join(specs_dir(), "offload.yaml"))["tiers"]
    return _OFFLOAD


def _kv_offload(o: Options, prov: dict[str, str]):
    """--kv-offload TIER[:CAPACITY][@BANDWIDTH], per GPU."""
    if o.kv_offload is None:
        return None
    from inferwall.core.types import KVOffload

    text = str(o.kv_offload).strip()
    head, _, bandwidth_text = text.partition("@")
    tier, _, capacity_text = head.partition(":")
    tier = tier.strip().lower()
    tiers = _offload_defaults()
    if tier not in tiers:
        raise InputError(f"--kv-offload: unknown tier {tier!r} in {text!r}; valid: {', '.join(tiers)}, optionally "
                         "with :CAPACITY@BANDWIDTH (host:512GiB@50GB/s)")
    entry = tiers[tier]
    capacity = _wrap(parse_quantity, capacity_text.strip() or entry["capacity_bytes"]["value"], "bytes",
                     "--kv-offload capacity")
    bandwidth = _wrap(parse_quantity, bandwidth_text.strip() or entry["bandwidth_bytes_per_s"]["value"], "bandwidth",
                      "--kv-offload bandwidth")
    parts = [f"flag --kv-offload {text}"]
    if not capacity_text.strip():
        parts.append(f"capacity {entry['capacity_bytes']['value']} per GPU: {entry['capacity_bytes']['source']}")
    if not bandwidth_text.strip():
        parts.append(f"bandwidth {entry['bandwidth_bytes_per_s']['value']} per GPU: "
                     f"{entry['bandwidth_bytes_per_s']['source']}")
    prov["kv_offload_tier"] = "; ".join(parts)
    return KVOffload(tier=tier, capacity_bytes=capacity, bandwidth_bytes_per_s=bandwidth)


@dataclass(frozen=True)
class PoolRequest:
    """The layout requests of disaggregated prefill and decode instances (per instance), and how many of each."""

    prefill_instances: int
    decode_instances: int
    prefill: LayoutRequest
    decode: LayoutRequest
    described: str


_POOL_LAYOUT_KEYS = ("tp", "pp", "dp", "ep")


def _pool(text: Any, flag: str, base: LayoutRequest) -> tuple[int, LayoutRequest]:
    """GPUS or GPUS:LAYOUT (tp8, tp4pp2, tp1dp8ep8) -> (instances, one instance's layout request)."""
    import re

    raw = str(text).strip().lower()
    gpus_text, colon, layout = raw.partition(":")
    gpus = _int(gpus_text.strip(), flag)
    if not colon:
        return 1, LayoutRequest(gpus=gpus, tp=base.tp, pp=base.pp, dp=None, ep=base.ep)
    parts = re.findall(r"(tp|pp|dp|ep)(\d+)", layout.replace(" ", "").replace(",", ""))
    if not parts or "".join(k + v for k, v in parts) != layout.replace(" ", "").replace(",", ""):
        raise InputError(f"{flag}: cannot read the layout {layout!r} in {text!r}; valid: GPUS:LAYOUT with LAYOUT made "
                         "of tpN, ppN, dpN, epN (e.g. 16:tp8, 8:tp4pp2, 16:tp1dp16ep16)")
    values = {k: int(v) for k, v in parts}
    if any(v < 1 for v in values.values()):
        raise InputError(f"{flag}: layout degrees must be >= 1 in {text!r}")
    tp, pp, dp = values.get("tp", 1), values.get("pp", 1), values.get("dp", 1)
    per_instance = tp * pp * dp
    if gpus % per_instance:
        raise InputError(f"{flag}: {gpus} GPUs do not split into instances of {per_instance} ({layout}); valid: a "
                         f"multiple of {per_instance}")
    return gpus // per_instance, LayoutRequest(gpus=per_instance, tp=tp, pp=pp, dp=dp, ep=values.get("ep", 1))


def _pool_requests(o: Options, req: LayoutRequest) -> PoolRequest | None:
    """--disaggregate xPyD (each instance the layout given, --gpus split evenly), or --prefill-gpus/--decode-gpus."""
    import re

    long_form = o.prefill_gpus is not None or o.decode_gpus is not None
    if o.disaggregate is None and not long_form:
        return None
    if o.disaggregate is not None and long_form:
        raise InputError("give --disaggregate xPyD or --prefill-gpus with --decode-gpus, not both")
    if long_form:
        if o.prefill_gpus is None or o.decode_gpus is None:
            raise InputError("--prefill-gpus and --decode-gpus go together (the two pools of disaggregated serving)")
        if req.gpus is not None or req.dp is not None:
            raise InputError("--prefill-gpus/--decode-gpus give the GPUs of each pool; drop --gpus and --dp")
        x, pre = _pool(o.prefill_gpus, "--prefill-gpus", req)
        y, dec = _pool(o.decode_gpus, "--decode-gpus", req)
        return PoolRequest(x, y, pre, dec, f"--prefill-gpus {o.prefill_gpus} --decode-gpus {o.decode_gpus}")
    text = str(o.disaggregate).strip()
    match = re.fullmatch(r"(\d+)\s*[pP]\s*(\d+)\s*[dD]", text)
    if not match or int(match[1]) < 1 or int(match[2]) < 1:
        raise InputError(f"--disaggregate: {o.disaggregate!r}; valid: xPyD with x, y >= 1 (e.g. 1P1D, 2P3D)")
    x, y = int(match[1]), int(match[2])
    if x + y > 10**5:
        raise InputError(f"--disaggregate: {x + y} instances; valid: at most 100,000")
    one = req
    if req.gpus is not None:
        if req.gpus % (x + y):
            raise InputError(f"--disaggregate {text}: --gpus {req.gpus} does not split evenly over {x + y} instances; "
                             f"valid: a multiple of {x + y}")
        one = replace(req, gpus=req.gpus // (x + y))
    return PoolRequest(x, y, one, one, f"--disaggregate {text}")


def _disaggregated(scenario: Scenario, pools: PoolRequest, compute_explicit: bool, notes: list[str],
                   prov: dict[str, str]) -> Scenario:
    """The scenario with both pools' layouts resolved; its parallelism is a decode instance's."""
    from inferwall.core.dtypes import resolve_precision
    from inferwall.core.layout import validate_layout
    from inferwall.core.types import Disaggregation

    prec, _ = resolve_precision(scenario.accelerator, scenario.precision, compute_explicit)
    chooser = replace(scenario, precision=prec)

    def layout(r: LayoutRequest, role: str) -> Parallelism:
        if _needs_choice(r, scenario.model):
            before = len(notes)
            par = _choose_layout(chooser, r, notes)
            del notes[before:]  # the per-instance choice is stated once below
        else:
            par = _explicit_layout(r)
        try:
            validate_layout(scenario.model, par)
        except CoreError as exc:
            raise InputError(f"{pools.described}: the {role} instance layout: {exc}") from None
        return par

    pre = layout(pools.prefill, "prefill")
    dec = layout(pools.decode, "decode")
    d = Disaggregation(prefill_instances=pools.prefill_instances, decode_instances=pools.decode_instances,
                       prefill=pre, decode=dec)
    from inferwall.core.layout import describe

    prov["disaggregation"] = (f"{pools.described}: {d.prefill_instances} prefill instance(s) of "
                              f"{describe(pre.tp, pre.pp, pre.dp, pre.ep)} and {d.decode_instances} decode instance(s) "
                              f"of {describe(dec.tp, dec.pp, dec.dp, dec.ep)}, {d.gpus} GPUs")
    return replace(scenario, parallelism=dec, disaggregation=d)


def _serving_features(o: Options, catalog: Catalog, scenario: Scenario, prov: dict[str, str],
                      notes: list[str]) -> Scenario:
    """--speculative (with --acceptance/--accepted-length/--draft-model), --prefix-hit and --kv-offload."""
    changes: dict[str, Any] = {}
    spec = _speculation(o, catalog, scenario.model, prov, notes)
    if spec is not None:
        changes["speculative"] = spec
    if o.prefix_hit is not None:
        hit = _share(o.prefix_hit, "--prefix-hit")
        changes["workload"] = replace(scenario.workload, prefix_hit=hit)
        prov["prefix_hit"] = "flag --prefix-hit"
    offload = _kv_offload(o, prov)
    if offload is not None:
        changes["kv_offload"] = offload
    return replace(scenario, **changes) if changes else scenario
