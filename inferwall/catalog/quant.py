"""Quantization recipes (``specs/quant.yaml``): the dtypes real checkpoints store each module in.

``--quant modelopt-fp4`` means NVFP4 weights with their block scales, a 16-bit embedding and LM head, FP4
math where the GPU has it, and the checkpoint's KV-cache dtype. ``recipe(name)`` returns the fields
``inputs._precision`` turns into a ``Precision``.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs start-up; its names are only needed by type checkers
if TYPE_CHECKING:
    from typing import Any

from inferwall.core.dtypes import BYTES_PER_ELEMENT, normalize
from inferwall.core.types import CoreError
from inferwall.errors import InputError

from .yamlio import load_builtin

_RECIPES: dict[str, dict[str, Any]] | None = None
# specs/quant.yaml module names -> the core's Precision modules
MODULES = {"attention": "attention", "experts": "experts", "lm_head": "head", "embedding": "head"}


def _dtype(value: Any, where: str) -> str:
    try:
        return normalize(str(value))
    except CoreError:
        raise InputError(f"specs/quant.yaml: {where}: unknown format {value!r}; valid: "
                         f"{', '.join(BYTES_PER_ELEMENT)}") from None


# GGUF mixtures give a measured whole-file bits per weight: the core's averaged formats carry it.
_AVERAGED = {"gguf-q4_k_m": "q4_k_m", "gguf-q5_k_m": "q5_k_m", "gguf-q6_k": "q6_k", "gguf-q8_0": "q8_0"}


def _compute(value: Any, where: str) -> str:
    """A recipe's compute class: a dtype, or ``weight_only`` (a dequantizing kernel on 16-bit tensor cores)."""
    if value in ("weight_only", "gather"):
        return "bf16"
    return _dtype(value, where)


def _parse(data: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    recipes = data.get("recipes") if isinstance(data, dict) else None
    if not isinstance(recipes, dict):
        raise InputError("specs/quant.yaml: expected a mapping with 'recipes'")
    for rid, node in recipes.items():
        weights = node.get("weights") or {}
        compute = node.get("compute") or {}
        default = _dtype(weights.get("default"), f"{rid}.weights.default")
        modules = {}
        for key, module in MODULES.items():
            if weights.get(key) is not None:
                dtype = _dtype(weights[key], f"{rid}.weights.{key}")
                if dtype != default:
                    modules[module] = dtype
        kv = node.get("kv") or "bf16"
        if isinstance(kv, dict):
            kv = kv.get("default", "bf16")
        averaged = _AVERAGED.get(str(rid))
        if averaged and node.get("bits_per_weight"):
            default, modules = averaged, {}  # a mixture: its measured whole-file average, every module alike
        expert = compute.get("experts")
        out[str(rid)] = {
            "weights": default,
            "compute": _compute(compute.get("default", default), f"{rid}.compute.default"),
            "expert_compute": _compute(expert, f"{rid}.compute.experts") if expert not in (None, "weight_only") else "",
            "kv": _dtype(kv, f"{rid}.kv"),
            "modules": modules,
            "source": str(node.get("source") or ""),
            "description": str(node.get("description") or ""),
        }
    return out


def recipes() -> dict[str, dict[str, Any]]:
    global _RECIPES
    if _RECIPES is None:
        from .profiles import specs_path

        _RECIPES = _parse(load_builtin(specs_path("quant.yaml")))
    return _RECIPES


def recipe(name: str) -> tuple[str, dict[str, Any]]:
    """A recipe by id, or one line naming the valid ones with a did-you-mean."""
    table = recipes()
    key = str(name).strip().lower()
    if key in table:
        return key, table[key]
    import difflib

    close = difflib.get_close_matches(key, list(table), n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]}?" if close else ""
    raise InputError(f"--quant: unknown recipe {name!r}{hint} (valid: {', '.join(sorted(table))})")
