"""Engine profiles (``specs/engines/<id>.yaml``) and kernel physics (``specs/kernels.yaml``): loading, validation
against physical boxes, and resolution into the core's ``Efficiency``, ``Engine`` and ``MemoryPolicy`` for one
accelerator, with the source of every value.

A tunable value is ``{value, box: [lo, hi], source}``: the value must lie in its box, and the box inside the
quantity's physical range (an efficiency in (0, 1], a time >= 0). A fact is ``{value, source}``.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
TYPE_CHECKING = False  # typing costs start-up; its names are only needed by type checkers
if TYPE_CHECKING:
    from typing import Any

from inferwall.core.types import Accelerator, Efficiency, Engine, ErrorBand, MemoryPolicy
from inferwall.errors import InputError

from .yamlio import load_builtin, load_document

BUILTIN_ENGINES = ("vllm", "sglang", "trtllm", "trtllm-cpp", "llamacpp", "gptfast", "ideal")
DEFAULT_ENGINE = "vllm"
FRACTION_OF = ("total", "free", "total_static")
BATCHING = ("static", "continuous")

# Physical ranges: a profile's box must sit inside these (and its value inside its box).
FRACTION = (1e-6, 1.0)
SECONDS = (0.0, 1.0)
PHYSICAL: dict[str, tuple[float, float]] = {
    "memory.fraction": FRACTION, "memory.reserve_bytes": (0.0, 2.0**40),
    "host.per_iteration_s": SECONDS, "host.per_request_s": SECONDS, "host.hidden_fraction": (0.0, 1.0),
    "host.launch_s": SECONDS,
    "kernels_per_layer": (0.0, 1000.0),
}
KERNEL_PHYSICAL_SUFFIX: dict[str, tuple[float, float]] = {
    "all_reduce_efficiency": (1e-6, 1.2),  # NVLink SHARP reduces in the switch: busbw can exceed the link
    "efficiency": FRACTION, "bandwidth_efficiency": FRACTION, "grouped_efficiency": FRACTION,
    "stream_efficiency": FRACTION, "weight_only_efficiency": FRACTION, "latency_s": SECONDS, "floor_s": SECONDS,
    "half_length": (0.0, 1e9), "tile_m": (1.0, 4096.0), "transition_exponent": (1.0, 100.0),
}


@dataclass(frozen=True)
class Param:
    value: Any
    box: tuple[float, float] | None
    source: str
    fitted: str = ""  # how the calibration moved it, if it did


@dataclass(frozen=True)
class EngineProfile:
    id: str
    name: str
    version: str
    batching: str
    description: str
    source_file: str
    params: dict[str, Param]  # "limits.max_running_requests", "memory.fraction", "host.per_request_s", ...
    rules: dict[str, tuple[dict, ...]]  # "limits.max_running_requests" -> rules by accelerator memory
    fraction_of: str
    kv_reservation: str
    kernels: dict[str, dict[str, Param]]  # architecture -> overrides of specs/kernels.yaml
    flags: dict[str, Any]
    error_bands: tuple[ErrorBand, ...]
    raw: dict = field(repr=False, compare=False, default_factory=dict)


def _is_param(node: Any) -> bool:
    return isinstance(node, dict) and "value" in node


def _range_for(key: str, table: dict[str, tuple[float, float]], suffixes: dict[str, tuple[float, float]]):
    if key in table:
        return table[key]
    for suffix, rng in suffixes.items():
        if key.endswith(suffix):
            return rng
    if ".efficiency." in key or key.startswith("efficiency."):
        return FRACTION
    return None


def _number(value: Any, where: str, key: str) -> Any:
    """Byte strings such as "2GiB" are numbers of bytes."""
    if isinstance(value, str) and key.endswith("_bytes"):
        from inferwall.units import UnitError, parse_quantity

        try:
            return 0.0 if value.strip() in ("0", "0B", "0GiB") else parse_quantity(value, "bytes", key)
        except UnitError as exc:
            raise InputError(f"{where}: {exc}") from None
    return value


def _param(node: Any, where: str, key: str, physical: tuple[float, float] | None) -> Param:
    if not _is_param(node):
        raise InputError(f"{where}: {key}: expected {{value, box, source}}, got {node!r}")
    value = _number(node.get("value"), where, key)
    source = node.get("source")
    if not isinstance(source, str) or not source.strip():
        raise InputError(f"{where}: {key}.source: every value needs a source")
    box = node.get("box")
    if isinstance(box, list):
        box = [_number(b, where, key) for b in box]
    if box is not None:
        if (not isinstance(box, list) or len(box) != 2 or not all(isinstance(b, (int, float)) and not isinstance(b, bool)
                                                                   for b in box) or box[0] > box[1]):
            raise InputError(f"{where}: {key}.box: expected [low, high] with low <= high, got {box!r}")
        if physical and (box[0] < physical[0] or box[1] > physical[1]):
            raise InputError(f"{where}: {key}.box: {box} leaves the physical range [{physical[0]:g}, {physical[1]:g}]")
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not box[0] <= value <= box[1]:
            raise InputError(f"{where}: {key}: {value!r} is outside its box; valid: {box[0]:g} to {box[1]:g}")
        box = (float(box[0]), float(box[1]))
    elif physical and value is not None:
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not physical[0] <= value <= physical[1]:
            raise InputError(f"{where}: {key}: {value!r} is outside the physical range; valid: "
                             f"{physical[0]:g} to {physical[1]:g}")
    return Param(value=value, box=box, source=source.strip(), fitted=str(node.get("fitted") or ""))


def _flatten(node: Any, where: str, prefix: str, physical: dict, suffixes: dict, out: dict[str, Param]) -> None:
    for key, value in node.items():
        name = f"{prefix}{key}"
        if _is_param(value):
            out[name] = _param(value, where, name, _range_for(name, physical, suffixes))
        elif isinstance(value, dict):
            _flatten(value, where, name + ".", physical, suffixes, out)


# ----------------------------------------------------------------- kernels.yaml


@dataclass(frozen=True)
class KernelTable:
    source_file: str
    architectures: dict[str, dict[str, Param]]  # inherits resolved
    links: dict[str, dict[str, Param]]
    descriptions: dict[str, str]


def parse_kernels(data: Any, label: str) -> KernelTable:
    if not isinstance(data, dict) or not isinstance(data.get("architectures"), dict):
        raise InputError(f"{label}: expected a mapping with 'architectures'")
    raw = data["architectures"]
    flat: dict[str, dict[str, Param]] = {}
    parents: dict[str, str] = {}
    descriptions: dict[str, str] = {}
    for arch, node in raw.items():
        if not isinstance(node, dict):
            raise InputError(f"{label}: {arch}: expected a mapping")
        params: dict[str, Param] = {}
        _flatten({k: v for k, v in node.items() if k not in ("inherits", "description")}, f"{label}: {arch}", "",
                 {}, KERNEL_PHYSICAL_SUFFIX, params)
        flat[arch] = params
        descriptions[arch] = str(node.get("description") or "")
        if node.get("inherits"):
            parents[arch] = str(node["inherits"])
        elif arch != "generic":
            parents[arch] = "generic"  # every chain ends at generic
    resolved: dict[str, dict[str, Param]] = {}

    def resolve(arch: str, seen: tuple[str, ...] = ()) -> dict[str, Param]:
        if arch in resolved:
            return resolved[arch]
        if arch in seen:
            raise InputError(f"{label}: {arch}: 'inherits' forms a cycle ({' -> '.join(seen + (arch,))})")
        if arch not in flat:
            raise InputError(f"{label}: {seen[-1]}: inherits unknown architecture {arch!r}")
        base = dict(resolve(parents[arch], seen + (arch,))) if arch in parents else {}
        base.update(flat[arch])
        resolved[arch] = base
        return base

    for arch in flat:
        resolve(arch)
    links: dict[str, dict[str, Param]] = {}
    for link, node in (data.get("links") or {}).items():
        params = {}
        _flatten({k: v for k, v in node.items() if k != "description"}, f"{label}: links.{link}", "", {},
                 KERNEL_PHYSICAL_SUFFIX, params)
        links[link] = params
    return KernelTable(source_file=label, architectures=resolved, links=links, descriptions=descriptions)


_KERNELS: KernelTable | None = None
CALIBRATED = "calibrated.yaml"  # the shipped fit: values over the priors of kernels.yaml and the profiles


def specs_path(*parts: str) -> str:
    from . import specs_dir

    return os.path.join(specs_dir(), *parts)


def _calibrated() -> dict:
    path = specs_path(CALIBRATED)
    if not os.path.isfile(path):
        return {}
    data = load_builtin(path)
    return data if isinstance(data, dict) else {}


def _fitted(old: Param, node: Any, where: str, key: str) -> Param:
    """A prior moved by the calibration: the value changes, the box and the prior's source stay."""
    value = node.get("value") if isinstance(node, dict) else None
    if not isinstance(value, (int, float)) or (old.box and not old.box[0] <= value <= old.box[1]):
        raise InputError(f"specs/{CALIBRATED}: {where}.{key}: {value!r} is not inside the prior's box {old.box}")
    return replace(old, value=value, fitted=str(node.get("fitted") or "fitted by the shipped calibration"))


def with_calibration(table: KernelTable, data: dict) -> KernelTable:
    moved = data.get("kernels") or {}
    archs = {}
    for arch, params in table.architectures.items():
        own = moved.get(arch) or {}
        archs[arch] = {k: (_fitted(v, own[k], arch, k) if k in own else v) for k, v in params.items()}
    # an architecture that inherits a fitted value without overriding it inherits the fitted value too
    return replace(table, architectures=archs)


def load_kernels(calibrated: bool = True) -> KernelTable:
    """specs/kernels.yaml, with the shipped calibration's values unless ``calibrated`` is False (the priors)."""
    global _KERNELS
    if not calibrated:
        return parse_kernels(load_builtin(specs_path("kernels.yaml")), "specs/kernels.yaml")
    if _KERNELS is None:
        _KERNELS = with_calibration(load_kernels(False), _calibrated())
    return _KERNELS


# ----------------------------------------------------------------- engine profiles


REQUIRED = ("limits.max_running_requests", "limits.max_tokens_per_iteration", "limits.chunked_prefill",
            "memory.fraction", "memory.reserve_bytes", "host.per_iteration_s", "host.per_request_s",
            "host.hidden_fraction", "kernels_per_layer")


def parse_engine(data: Any, label: str) -> EngineProfile:
    if not isinstance(data, dict):
        raise InputError(f"{label}: expected a mapping (an engine profile)")
    eid = data.get("id")
    if not isinstance(eid, str) or not eid.strip():
        raise InputError(f"{label}: id: missing (a short name such as 'myengine')")
    batching = data.get("batching", "continuous")
    if batching not in BATCHING:
        raise InputError(f"{label}: batching: {batching!r}; valid: {', '.join(BATCHING)}")
    params: dict[str, Param] = {}
    rules: dict[str, tuple[dict, ...]] = {}
    for section in ("limits", "memory", "host", "scheduler"):
        node = data.get(section) or {}
        if not isinstance(node, dict):
            raise InputError(f"{label}: {section}: expected a mapping")
        for key, value in node.items():
            name = f"{section}.{key}"
            if key == "bench_rules":
                continue  # the benchmark's own sizing, applied by the calibration to reproduce its runs
            if key.endswith("_rules"):
                if not isinstance(value, list) or not all(isinstance(r, dict) and "value" in r for r in value):
                    raise InputError(f"{label}: {name}: expected a list of {{min_memory_gib, value, source}}")
                rules[name[: -len("_rules")]] = tuple(value)
            elif _is_param(value):
                params[name] = _param(value, label, name, PHYSICAL.get(name))
    if "kernels_per_layer" in data:
        params["kernels_per_layer"] = _param(data["kernels_per_layer"], label, "kernels_per_layer",
                                             PHYSICAL["kernels_per_layer"])
    for key in REQUIRED:
        if key not in params:
            raise InputError(f"{label}: {key}: missing (every profile gives {{value, box, source}} for it)")
    memory = data.get("memory") or {}
    fraction_of = memory.get("fraction_of", "total")
    if fraction_of not in FRACTION_OF:
        raise InputError(f"{label}: memory.fraction_of: {fraction_of!r}; valid: {', '.join(FRACTION_OF)}")
    scheduler = data.get("scheduler") or {}
    reservation = scheduler.get("kv_reservation", "current")
    if isinstance(reservation, dict):
        reservation = reservation.get("value", "current")
    policy = (data.get("limits") or {}).get("scheduler_policy")
    if isinstance(policy, dict) and "NO_EVICT" in str(policy.get("value", "")).upper():
        reservation = "full"  # a guaranteed-no-evict scheduler reserves a request's final length on admission
    if reservation not in ("current", "full"):
        raise InputError(f"{label}: scheduler.kv_reservation: {reservation!r}; valid: current, full")
    kernels: dict[str, dict[str, Param]] = {}
    for arch, node in (data.get("kernels") or {}).items():
        out: dict[str, Param] = {}
        _flatten(node, f"{label}: kernels.{arch}", "", {}, KERNEL_PHYSICAL_SUFFIX, out)
        kernels[str(arch)] = out
    bands = []
    for i, band in enumerate(data.get("error_bands") or []):
        try:
            bands.append(ErrorBand(regime=str(band["regime"]), p80=float(band["p80"]), n=int(band["n"])))
        except (KeyError, TypeError, ValueError):
            raise InputError(f"{label}: error_bands[{i}]: expected {{regime, p80, n}}") from None
    for key in ("limits.max_running_requests", "limits.max_tokens_per_iteration"):
        value = params[key].value
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise InputError(f"{label}: {key}: {value!r}; valid: a whole number >= 1, or null for no limit")
    return EngineProfile(id=eid.strip(), name=str(data.get("name") or eid), version=str(data.get("version") or ""),
                         batching=batching, description=str(data.get("description") or ""), source_file=label,
                         params=params, rules=rules, fraction_of=fraction_of, kv_reservation=reservation,
                         kernels=kernels, flags=dict(data.get("flags") or {}), error_bands=tuple(bands), raw=data)


_ENGINES: dict[str, EngineProfile] = {}


def load_engine(name: str) -> EngineProfile:
    """A shipped profile by id (case-insensitive), or a one-line error with the valid names and a did-you-mean."""
    key = str(name).strip().lower()
    if key in _ENGINES:
        return _ENGINES[key]
    if key not in BUILTIN_ENGINES:
        import difflib

        close = difflib.get_close_matches(key, BUILTIN_ENGINES, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise InputError(f"unknown engine {name!r}{hint} (valid: {', '.join(BUILTIN_ENGINES)}; "
                         "or --engine-file PROFILE.yaml)")
    if key not in _ENGINES:
        _ENGINES[key] = engine_with_calibration(load_engine_prior(key), _calibrated())
    return _ENGINES[key]


def load_engine_prior(key: str) -> EngineProfile:
    """A shipped profile as written, before the shipped calibration."""
    return parse_engine(load_builtin(specs_path("engines", f"{key}.yaml")), f"specs/engines/{key}.yaml")


def engine_with_calibration(profile: EngineProfile, data: dict) -> EngineProfile:
    moved = (data.get("engines") or {}).get(profile.id) or {}
    params = {k: (_fitted(v, moved[k], profile.id, k) if k in moved else v) for k, v in profile.params.items()}
    bands = (data.get("error_bands") or {}).get(profile.id)
    kernels = dict(profile.kernels)
    for arch, keys in ((data.get("engine_kernels") or {}).get(profile.id) or {}).items():
        base = dict(kernels.get(arch, {}))
        for k, node in keys.items():
            if k in base:
                base[k] = _fitted(base[k], node, f"{profile.id}.kernels.{arch}", k)
        kernels[arch] = base
    out = replace(profile, params=params, kernels=kernels)
    if bands:
        out = replace(out, error_bands=tuple(ErrorBand(regime=str(b["regime"]), p80=float(b["p80"]), n=int(b["n"]))
                                             for b in bands))
    return out


def load_engine_file(path: str) -> EngineProfile:
    return parse_engine(load_document(path), path)


def reset() -> None:
    """Forget the loaded tables (after the shipped calibration is rewritten)."""
    global _KERNELS
    _KERNELS = None
    _ENGINES.clear()


@contextmanager
def using(kernels: KernelTable, engines: dict[str, EngineProfile]):
    """Hand out these tables instead of the shipped ones while the block runs (the calibration fit)."""
    global _KERNELS
    saved_kernels, saved_engines = _KERNELS, dict(_ENGINES)
    _KERNELS = kernels
    _ENGINES.update({k.lower(): v for k, v in engines.items()})
    try:
        yield
    finally:
        _KERNELS = saved_kernels
        _ENGINES.clear()
        _ENGINES.update(saved_engines)


# ----------------------------------------------------------------- resolution for one accelerator


# The compute capability of each architecture, for rules that test it (vLLM, SGLang).
COMPUTE_CAPABILITY = {"volta": "7.0", "turing": "7.5", "ampere": "8.0", "ada": "8.9", "hopper": "9.0",
                      "blackwell": "10.0", "blackwell-geforce": "12.0"}
RULE_TEXT = ("value", "source", "rule", "description", "note")


@dataclass(frozen=True)
class RuleContext:
    """What an engine's default rules look at."""

    memory_gib: float
    device: str  # id and name, lower case
    capability: str  # e.g. "9.0"
    tp: int = 1
    pp: int = 1
    usage_context: str = "openai_api_server"  # vLLM: `vllm serve`; llm_class for offline runs


def _matches(rule: dict, ctx: RuleContext) -> bool:
    """A rule matches when every condition it states holds; a condition inferwall does not model never does."""
    for key, cond in rule.items():
        if key in RULE_TEXT:
            continue
        if key == "min_memory_gib":
            ok = ctx.memory_gib >= float(cond)
        elif key == "max_memory_mib":
            ok = cond is None or ctx.memory_gib * 1024 <= float(cond)
        elif key == "exclude_device_name_contains":
            ok = not any(str(x).lower() in ctx.device for x in cond)
        elif key == "exclude_compute_capability":
            ok = ctx.capability not in [str(x) for x in cond]
        elif key == "compute_capability_family":
            ok = ctx.capability.split(".")[0] == str(cond)
        elif key == "usage_context":
            ok = cond == ctx.usage_context
        elif key == "tp_lt":
            ok = ctx.tp < int(cond)
        elif key == "tp_ge":
            ok = ctx.tp >= int(cond)
        else:
            ok = False
        if not ok:
            return False
    return True


def _pick(profile: EngineProfile, key: str, ctx: RuleContext) -> tuple[Any, str]:
    """A profile value, or the value of its first rule that matches (rules without a value only describe)."""
    param = profile.params[key]
    for rule in profile.rules.get(key, ()):
        if rule.get("value") is not None and _matches(rule, ctx):
            return rule["value"], str(rule.get("source") or param.source)
    return param.value, param.source


def rule_context(acc: Accelerator, tp: int = 1, pp: int = 1, offline: bool = False) -> RuleContext:
    return RuleContext(memory_gib=acc.memory_bytes / 2**30, device=f"{acc.id} {acc.name}".lower(),
                       capability=COMPUTE_CAPABILITY.get(acc.architecture, ""), tp=tp, pp=pp,
                       usage_context="llm_class" if offline else "openai_api_server")


def _static_fraction(profile: EngineProfile, ctx: RuleContext, budget: int | None) -> tuple[float, str] | None:
    """SGLang's mem_fraction_static: (memory - reserved) / memory, with the reserve its heuristic sizes from the
    chunk size, the GPUs and the CUDA-graph batch (``memory.fraction_from_reserved`` in the profile)."""
    node = (profile.raw.get("memory") or {}).get("fraction_from_reserved")
    if not isinstance(node, dict):
        return None
    mem_mib = ctx.memory_gib * 1024
    graph = _pick(profile, "limits.cuda_graph_max_batch", ctx)[0] if "limits.cuda_graph_max_batch" in profile.params else 0
    reserved = (float(node["base_mib"]) + float(node["per_chunk_token_mib"]) * max(budget or 0, int(node["min_chunk_tokens"]))
                + float(node["per_gpu_mib"]) * ctx.tp * ctx.pp + float(node["per_graph_batch_mib"]) * float(graph or 0))
    if mem_mib > float(node["floor_above_memory_mib"]):
        reserved = max(reserved, float(node["floor_mib"]))
    return round((mem_mib - reserved) / mem_mib, 3), str(node["source"])


def _scale_up_kind(acc: Accelerator) -> str:
    return getattr(acc, "scale_up_kind", "") or ""


def kernel_params(acc: Accelerator, profile: EngineProfile, table: KernelTable) -> tuple[dict[str, Param], str]:
    """The architecture's kernel parameters with the engine's overrides (and a PCIe fabric's collectives)."""
    arch = acc.architecture if acc.architecture in table.architectures else "generic"
    params = dict(table.architectures[arch])
    kind = _scale_up_kind(acc)
    if kind and kind in table.links:
        params.update(table.links[kind])
    for name in ("generic", arch):
        params.update(profile.kernels.get(name, {}))
    return params, arch


_RESOLVED: dict[tuple, tuple] = {}


def resolve(acc: Accelerator, profile: EngineProfile, table: KernelTable | None = None,
            ctx: RuleContext | None = None) -> tuple[Efficiency, Engine, MemoryPolicy, dict[str, str]]:
    """The core inputs an engine profile gives this accelerator, and where each value came from. Remembered per
    accelerator, profile and table (a grid resolves the same few thousands of times)."""
    table = table or (None if profile.id == "ideal" else load_kernels())
    ctx = ctx or rule_context(acc)
    key = (acc.id, acc.name, acc.memory_bytes, acc.architecture, acc.scale_up_kind, id(profile), id(table), ctx)
    hit = _RESOLVED.get(key)
    if hit is not None and hit[0] is profile and hit[1] is table:
        eff, engine, policy, prov = hit[2]
        return eff, engine, policy, dict(prov)
    out = _resolve(acc, profile, table, ctx)
    if len(_RESOLVED) > 4096:
        _RESOLVED.clear()
    _RESOLVED[key] = (profile, table, out)
    return out[0], out[1], out[2], dict(out[3])


def _resolve(acc: Accelerator, profile: EngineProfile, table: KernelTable | None,
             ctx: RuleContext) -> tuple[Efficiency, Engine, MemoryPolicy, dict[str, str]]:
    prov: dict[str, str] = {}
    p = profile.params
    max_running, src_running = _pick(profile, "limits.max_running_requests", ctx)
    budget, src_budget = _pick(profile, "limits.max_tokens_per_iteration", ctx)
    prov["max_running_requests"] = f"engine {profile.id}: {src_running}"
    prov["max_tokens_per_iteration"] = f"engine {profile.id}: {src_budget}"
    graphs = p["limits.cuda_graphs"].value if "limits.cuda_graphs" in p else "all"
    graph_max = _pick(profile, "limits.cuda_graph_max_batch", ctx)[0] if "limits.cuda_graph_max_batch" in p else None
    if graphs not in ("all", "decode", "none"):
        raise InputError(f"{profile.source_file}: limits.cuda_graphs: {graphs!r}; valid: all, decode, none")
    engine = Engine(id=profile.id, name=profile.name, version=profile.version, batching=profile.batching,
                    max_running_requests=max_running, max_tokens_per_iteration=budget,
                    chunked_prefill=bool(p["limits.chunked_prefill"].value), kv_reservation=profile.kv_reservation,
                    cuda_graphs=graphs, cuda_graph_max_batch=graph_max if isinstance(graph_max, int) else None,
                    error_bands=profile.error_bands)
    fraction, src_fraction = _pick(profile, "memory.fraction", ctx)
    static = _static_fraction(profile, ctx, budget) if profile.fraction_of == "total_static" else None
    if static is not None:
        fraction, src_fraction = static
    reserve, src_reserve = _pick(profile, "memory.reserve_bytes", ctx)
    policy = MemoryPolicy(memory_fraction=float(fraction), reserve_bytes=float(reserve),
                          prefill_chunk_tokens=int(budget or MemoryPolicy().prefill_chunk_tokens),
                          fraction_of=profile.fraction_of)
    prov["memory_fraction"] = f"engine {profile.id}: {fraction:g} of {profile.fraction_of} memory ({src_fraction})"
    prov["reserve"] = f"engine {profile.id}: {src_reserve}"
    if profile.id == "ideal":
        prov["efficiency"] = "engine ideal: the pure roofline (every efficiency 1, no fixed cost)"
        return Efficiency.ideal(), engine, policy, prov
    k, arch = kernel_params(acc, profile, table)

    def val(key: str, default: float) -> float:
        param = k.get(key)
        if param is None or param.value is None:
            return default
        prov[f"kernel {key}"] = f"{table.source_file} {arch}: {param.source}"
        return float(param.value)

    gemm = tuple((key.rsplit(".", 1)[1], float(prm.value)) for key, prm in sorted(k.items())
                 if key.startswith("gemm.efficiency.") and prm.value is not None)
    for key, prm in k.items():
        if key.startswith("gemm.efficiency."):
            prov[f"kernel {key}"] = f"{table.source_file} {arch}: {prm.source}"
    gemm_map = dict(gemm)
    if "bf16" in gemm_map and "fp16" not in gemm_map:
        gemm = gemm + (("fp16", gemm_map["bf16"]),)
    mfu = gemm_map.get("bf16", next(iter(gemm_map.values()), 0.6))
    attn_bf16 = val("attention.prefill.bf16", mfu)
    attention = (("bf16", attn_bf16), ("fp16", attn_bf16))
    if "attention.prefill.fp8" in k:
        attention += (("fp8", val("attention.prefill.fp8", attn_bf16)),)
    eff = Efficiency(
        mfu=mfu, mbu=val("memory.stream_efficiency", 0.8), gemm=gemm, gemm_tile_m=int(val("gemm.tile_m", 1)),
        gemm_transition=val("gemm.transition_exponent", 0.0),
        weight_only=val("gemm.weight_only_efficiency", 0.0), attention=attention,
        weight_only_stream=val("memory.weight_only_stream_efficiency", 0.0),
        attention_half_length=val("attention.prefill.half_length", 0.0),
        decode_attention=val("attention.decode.bandwidth_efficiency", 0.8),
        moe_grouped=val("moe.grouped_efficiency", 1.0), moe_tile_m=int(val("moe.tile_m", 1)),
        link_efficiency=val("collectives.all_reduce_efficiency", 0.8),
        collective_latency_s=val("collectives.all_reduce_latency_s", 10e-6),
        all_to_all_efficiency=val("collectives.all_to_all_efficiency", 0.6),
        all_to_all_latency_s=val("collectives.all_to_all_latency_s", 15e-6),
        scale_out_efficiency=val("collectives.scale_out_efficiency", 0.7),
        scale_out_latency_s=val("collectives.scale_out_latency_s", 30e-6),
        kernel_floor_s=val("fixed.kernel_floor_s", 0.0),
        kernels_per_layer=float(p["kernels_per_layer"].value),
        host_per_iteration_s=float(p["host.per_iteration_s"].value),
        host_per_request_s=float(p["host.per_request_s"].value),
        host_hidden_fraction=float(p["host.hidden_fraction"].value),
        launch_s=float(p["host.launch_s"].value) if "host.launch_s" in p else 0.0,
    )
    for key in ("kernels_per_layer", "host.per_iteration_s", "host.per_request_s", "host.hidden_fraction",
                "host.launch_s"):
        if key not in p:
            continue
        prov[key] = f"engine {profile.id}: {p[key].source}"
    prov["efficiency"] = (f"kernel physics for {arch} ({table.source_file}) with engine {profile.id} "
                          f"({profile.source_file})")
    return eff, engine, policy, prov


def with_param(profile: EngineProfile, key: str, value: float, fitted: str) -> EngineProfile:
    """A copy with one engine parameter moved (the calibration fit)."""
    params = dict(profile.params)
    params[key] = replace(params[key], value=value, fitted=fitted)
    return replace(profile, params=params)
