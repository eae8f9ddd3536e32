"""Parse and format quantities with units: ``70B``, ``80GiB``, ``3.35TB/s``, ``989TFLOPS``, ``$2.5/h``.

Decimal prefixes are powers of 1000 and binary prefixes (``Ki``, ``Mi``, ``Gi``, ``Ti``) powers of 1024,
so ``80GB`` is 80e9 bytes and ``80GiB`` is 80 * 2**30 bytes. Standard library only.
"""

from __future__ import annotations

import math
import re

DECIMAL = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "B": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}
BINARY = {"Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40, "Pi": 2.0**50}

# unit kind -> accepted suffixes (after the prefix), lower-cased
_KIND_SUFFIXES = {
    "bytes": ("b", "byte", "bytes"),
    "bandwidth": ("b/s", "bps", "byte/s", "bytes/s"),
    "flops": ("flops", "flop/s", "ops", "op/s"),
    "count": ("",),
}

_NUMBER = r"[+-]?(?:\d+(?:_\d+)*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_QUANTITY = re.compile(rf"^\s*(?P<num>{_NUMBER})\s*(?P<unit>[A-Za-z/$]*)\s*$")


class UnitError(ValueError):
    """A quantity could not be parsed; the message says what would be valid."""


def _split_prefix(unit: str) -> tuple[float, str]:
    for prefix, factor in BINARY.items():
        if unit.startswith(prefix):
            return factor, unit[len(prefix):]
    if unit and unit[0] in "kKMGTPE":
        return DECIMAL[unit[0]], unit[1:]
    return 1.0, unit


def parse_quantity(text: str | float | int, kind: str, what: str = "value") -> float:
    """Parse ``text`` as a quantity of ``kind`` (bytes, bandwidth, flops, count) in SI base units."""
    if isinstance(text, bool):
        raise UnitError(f"{what}: expected a number, got {text!r}")
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        match = _QUANTITY.match(str(text))
        examples = {
            "bytes": "80GB, 80GiB, 1.5e11",
            "bandwidth": "3.35TB/s, 3350GB/s, 3e12",
            "flops": "989TFLOPS, 1.979PFLOPS, 3e15",
            "count": "70B, 1.6T, 405e9, 7000000000",
        }[kind]
        if not match:
            raise UnitError(f"{what}: cannot parse {text!r} as a quantity (e.g. {examples})")
        value = float(match["num"].replace("_", ""))
        unit = match["unit"]
        if unit:
            factor, rest = _split_prefix(unit)
            rest_l = rest.lower()
            if kind == "count":
                if unit not in DECIMAL:  # "70B" = 70 billion, "1.6T" = 1.6 trillion
                    raise UnitError(f"{what}: unknown suffix {unit!r} in {text!r}; use k, M, B, T (e.g. {examples})")
                factor = DECIMAL[unit]
            elif kind == "bytes" and rest_l not in _KIND_SUFFIXES["bytes"]:
                raise UnitError(f"{what}: unknown unit {unit!r} in {text!r}; use B, GB, GiB, TB (e.g. {examples})")
            elif kind == "bandwidth" and rest_l not in _KIND_SUFFIXES["bandwidth"]:
                raise UnitError(f"{what}: unknown unit {unit!r} in {text!r}; use GB/s, TB/s, GiB/s (e.g. {examples})")
            elif kind == "flops" and rest_l not in _KIND_SUFFIXES["flops"]:
                raise UnitError(f"{what}: unknown unit {unit!r} in {text!r}; use TFLOPS, PFLOPS, TOPS (e.g. {examples})")
            value *= factor
    if not math.isfinite(value) or value <= 0:
        raise UnitError(f"{what}: must be a positive finite number, got {text!r}")
    return value


def parse_price(text: str | float | int, what: str = "--price") -> float:
    """Parse a $/hour price: ``2.5``, ``$2.5``, ``$2.5/h``, ``2.5/hr``. Zero is allowed (owned hardware)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        s = str(text).strip().lower().replace(" ", "")
        s = s.removeprefix("$").removeprefix("usd")
        for suffix in ("/gpu-hour", "/gpu/h", "/hour", "/hr", "/h"):
            if s.endswith(suffix):
                s = s[: -len(suffix)]
                break
        try:
            value = float(s)
        except ValueError:
            raise UnitError(f"{what}: cannot parse {text!r} as dollars per GPU-hour (e.g. 2.5, $2.5/h)") from None
    if not math.isfinite(value) or value < 0:
        raise UnitError(f"{what}: must be a non-negative dollar amount per GPU-hour, got {text!r}")
    return value


def parse_fraction(text: str | float | int, what: str) -> float:
    """Parse a fraction in (0, 1], written as ``0.6`` or ``60%``."""
    s = str(text).strip()
    try:
        value = float(s[:-1]) / 100 if s.endswith("%") else float(s)
    except ValueError:
        raise UnitError(f"{what}: cannot parse {text!r} as a fraction (e.g. 0.6 or 60%)") from None
    if not (0 < value <= 1):
        raise UnitError(f"{what}: must be in (0, 1], got {text!r}")
    return value


def parse_int(text: str | int, what: str, minimum: int = 1) -> int:
    """Parse a positive integer, accepting ``1k``-style prefixes (``4k`` = 4000)."""
    stripped = str(text).strip()
    try:
        value = float(stripped) if stripped.lstrip("+-").replace(".", "", 1).isdigit() else parse_quantity(text, "count", what)
    except UnitError:
        raise UnitError(f"{what}: expected a whole number >= {minimum}, got {text!r}") from None
    if not math.isfinite(value) or value != int(value):
        raise UnitError(f"{what}: must be a whole number, got {text!r}")
    if value < minimum:
        raise UnitError(f"{what}: must be >= {minimum}, got {text!r}")
    if value > 1e15:
        raise UnitError(f"{what}: {text!r} is too large (at most 1e15)")
    return int(value)


def si(value: float, unit: str = "", digits: int = 3) -> str:
    """Format ``value`` with a decimal SI prefix: ``si(3.35e12, 'B/s')`` -> ``3.35 TB/s``."""
    if value is None or not math.isfinite(value):
        return "-"  # people never read "inf" or "nan"; machine formats carry null
    if value == 0:
        return f"0 {unit}".strip()
    prefixes = [(1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1, ""),
                (1e-3, "m"), (1e-6, "µ"), (1e-9, "n")]
    mag = abs(value)
    for factor, prefix in prefixes:
        if mag >= factor * 0.9995:
            return f"{value / factor:.{digits}g} {prefix}{unit}".strip()
    return f"{value:.{digits}g} {unit}".strip()


def seconds(value: float | None) -> str:
    """Format a duration: ``0.0267`` -> ``26.7 ms``."""
    if value is None or not math.isfinite(value):
        return "-"
    if value >= 3600:
        return f"{value / 3600:.3g} h"
    if value >= 60:
        return f"{value / 60:.3g} min"
    return si(value, "s")


_TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9, "min": 60.0, "h": 3600.0}
_TIME = re.compile(rf"^\s*(?P<num>{_NUMBER})\s*(?P<unit>[a-zµ]*)\s*$")


def parse_seconds(text: str | float | int, what: str, allow_zero: bool = True) -> float:
    """Parse a duration: ``20us``, ``1.5ms``, ``0.002`` (seconds)."""
    match = _TIME.match(str(text))
    if not match or match["unit"] not in ("", *_TIME_UNITS):
        raise UnitError(f"{what}: cannot parse {text!r} as a duration (e.g. 20us, 1.5ms, 0.002)")
    value = float(match["num"].replace("_", "")) * _TIME_UNITS.get(match["unit"] or "s", 1.0)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise UnitError(f"{what}: must be a {'non-negative' if allow_zero else 'positive'} finite duration, got {text!r}")
    return value


def count(value: float | None) -> str:
    """Format a count the way model sizes are written: ``70.6B``, ``1.6T``, ``124M``."""
    if value is None or not math.isfinite(value):
        return "-"
    for factor, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.3g}{suffix}"
    return f"{value:.3g}"


# ----------------------------------------------------------------- numbers for people (one style everywhere)


def number(value: float | None) -> str:
    """A plain number in tables and sentences: grouped digits from 1,000 on (``56,948``), else 3-4 significant
    figures (``189.9``, ``3.6``, ``0.123``). Machine formats keep full precision instead."""
    if value is None or isinstance(value, bool) or not math.isfinite(value):
        return "-"
    mag = abs(value)
    if mag >= 1e15:
        return f"{value:.4g}"
    if mag >= 999.95:
        return f"{value:,.0f}"
    if mag >= 1:
        return f"{value:.4g}"
    return f"{value:.3g}"


_BINARY_UNITS = ((2.0**40, "TiB"), (2.0**30, "GiB"), (2.0**20, "MiB"), (2.0**10, "KiB"))


def binary_bytes(value: float | None, unit: str | None = None) -> str:
    """Memory capacity in binary units, as catalogs and engines state it: ``85899345920`` -> ``80 GiB``.
    ``unit`` forces one of TiB, GiB, MiB, KiB, B."""
    if value is None or not math.isfinite(value):
        return "-"
    factors = dict((u, f) for f, u in _BINARY_UNITS)
    if unit is None:
        unit = next((u for f, u in _BINARY_UNITS if abs(value) >= f * 0.9995), "B")
    if unit == "B":
        return f"{value:,.0f} B"
    return f"{value / factors[unit]:.4g} {unit}"


def plural(n: int | float, word: str, many: str | None = None) -> str:
    """``plural(1, "GPU")`` -> ``1 GPU``; ``plural(8, "GPU")`` -> ``8 GPUs``."""
    shown = f"{int(n):,}" if float(n).is_integer() else f"{n:g}"
    return f"{shown} {word if n == 1 else (many or word + 's')}"
