"""Check one scenario field's value on its own, as its flag reads it: the unit parser and the physical range.

``inputs.build`` parses every field while it assembles a scenario; the user config file needs the same answer
for one value at a time (``estimate: {gpus: 2.9}`` is an error naming the file, at start-up), so this module
holds one parser per field of ``inferwall.fields.FIELDS`` with the limits of ``inferwall.core.limits``. A test
checks that every field has one and that it refuses what ``inputs.build`` refuses at each range's edges.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs start-up; its names are only needed by type checkers
if TYPE_CHECKING:
    from typing import Any, Callable

from inferwall.core import limits as L
from inferwall.errors import InputError
from inferwall.units import (
    UnitError,
    parse_fraction,
    parse_int,
    parse_price,
    parse_quantity,
    parse_seconds,
    parse_share,
)


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise UnitError(f"{what}: expected a name, got {value!r}")
    return value


def _dtype(value: Any, what: str) -> str:
    from inferwall.core import CoreError
    from inferwall.core.dtypes import BYTES_PER_ELEMENT, normalize

    try:
        return normalize(_text(value, what))
    except CoreError:
        raise UnitError(f"{what}: unknown dtype {value!r}; valid: {', '.join(BYTES_PER_ELEMENT)}") from None


def _batch(value: Any, what: str) -> int | str:
    if isinstance(value, str) and value.strip().lower() == "max":
        return "max"
    return parse_int(value, what, 1, limit=L.BATCH)


def _price(value: Any, what: str) -> Any:
    """One $/GPU-hour for every GPU, or GPU=PRICE pairs (the names are resolved against the catalog later)."""
    from inferwall.prices import is_price_map

    if not is_price_map(value):
        return parse_price(value, what)
    pairs = {}
    for item in (part.strip() for part in str(value).split(",")):
        name, eq, amount = (part.strip() for part in item.partition("="))
        if not (name and eq):
            raise UnitError(f"{what}: {item!r} in {value!r} is not a GPU=PRICE pair (e.g. h100=2.1,mi300x=2.5)")
        pairs[name] = parse_price(amount, f"{what} {name}")
    return pairs


def _choice(*valid: str) -> Callable[[Any, str], str]:
    def parse(value: Any, what: str) -> str:
        text = str(value).strip().lower() if not isinstance(value, bool) else str(value).lower()
        if text not in valid:
            raise UnitError(f"{what}: {value!r}; valid: {', '.join(valid)}")
        return text

    return parse


def _switch(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise UnitError(f"{what}: must be true or false, got {value!r}")
    return value


def _count(limit: L.Limit) -> Callable[[Any, str], float]:
    return lambda value, what: parse_quantity(value, "count", what, limit)


def _int(limit: L.Limit, minimum: int = 1) -> Callable[[Any, str], int]:
    return lambda value, what: parse_int(value, what, minimum, limit=limit)


def _quantity(kind: str, limit: L.Limit) -> Callable[[Any, str], float]:
    return lambda value, what: parse_quantity(value, kind, what, limit)


def _lengths(limit: L.Limit, minimum: int, role: str) -> Callable[[Any, str], Any]:
    """A token count, or a length distribution (``inferwall.lengths``: 128..2048, 1024~300, sharegpt, @FILE)."""
    def parse(value: Any, what: str) -> Any:
        try:
            return parse_int(value, what, minimum, limit=limit)
        except UnitError:
            text = str(value).strip()
            if isinstance(value, (int, float)) or (text[:1].isdigit() and not any(m in text for m in ("..", "~"))):
                raise
        from inferwall.lengths import parse_lengths

        return parse_lengths(str(value), what, role)

    return parse


def _rate(value: Any, what: str) -> float:
    from inferwall.arrivals import parse_request_rate

    return parse_request_rate(value, what)


def _duration(value: Any, what: str) -> float:
    return parse_seconds(value, what, limit=L.OVERHEAD)


PARSERS: dict[str, Callable[[Any, str], Any]] = {
    "model": _text,
    "params": _count(L.PARAMS),
    "active_params": _count(L.PARAMS),
    "layers": _int(L.LAYERS),
    "hidden": _int(L.HIDDEN),
    "heads": _int(L.HEADS),
    "kv_heads": _int(L.HEADS),
    "head_dim": _int(L.HEAD_DIM),
    "gpu": _text,
    "flops": _quantity("flops", L.FLOPS),
    "bandwidth": _quantity("bandwidth", L.BANDWIDTH),
    "memory": _quantity("bytes", L.MEMORY),
    "price": _price,
    "link_bandwidth": _quantity("bandwidth", L.BANDWIDTH),
    "gpus": _int(L.GPUS),
    "tp": _int(L.GPUS),
    "pp": _int(L.GPUS),
    "dp": _int(L.GPUS),
    "ep": _int(L.GPUS),
    "batch": _batch,
    "input_tokens": _lengths(L.TOKENS, 1, "input"),
    "output_tokens": _lengths(L.OUTPUT_TOKENS, 0, "output"),
    "engine": _text,
    "engine_file": _text,
    "batching": _choice("continuous", "static"),
    "num_requests": _int(L.BATCH),
    "max_running_requests": _int(L.BATCH),
    "cuda_graph_max_batch": _int(L.BATCH),
    "chunked_prefill": _choice("on", "off", "true", "false", "yes", "no", "1", "0"),
    "token_budget": _int(L.TOKENS),
    "quant": _text,
    "precision": _dtype,
    "weights": _dtype,
    "kv": _dtype,
    "compute": _dtype,
    "ideal": _switch,
    "mfu": lambda value, what: parse_fraction(value, what),
    "mbu": lambda value, what: parse_fraction(value, what),
    "link_efficiency": lambda value, what: parse_fraction(value, what),
    "overhead": _duration,
    "layer_overhead": _duration,
    "collective_latency": _duration,
    "reserve": _quantity("bytes", L.RESERVE),
    "memory_fraction": lambda value, what: parse_fraction(value, what),
    "strict": _switch,
    # issue 12: speculative decoding, the prefix cache, disaggregation (structure checked when the scenario is built)
    "speculative": _int(L.DRAFT_TOKENS),
    "acceptance": parse_share,
    "accepted_length": _quantity("count", L.DRAFT_TOKENS),
    "draft_model": _text,
    "prefix_hit": parse_share,
    "kv_offload": _text,
    "disaggregate": _text,
    "prefill_gpus": _text,
    "decode_gpus": _text,
    # issue 12: load
    "request_rate": _rate,
    "arrival": _text,
    "simulate": _switch,
    "seed": _int(L.SEED, 0),
}


def parse_field(name: str, value: Any, what: str) -> Any:
    """``value`` of scenario field ``name`` parsed as its flag reads it; InputError naming ``what`` if invalid."""
    try:
        return PARSERS[name](value, what)
    except UnitError as exc:
        raise InputError(str(exc)) from None
