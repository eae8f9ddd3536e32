"""Parse and format quantities with units: ``70B``, ``80GiB``, ``3.35TB/s``, ``989TFLOPS``, ``$2.5/h``.

Decimal prefixes are powers of 1000 and binary prefixes (``Ki``, ``Mi``, ``Gi``, ``Ti``) powers of 1024,
so ``80GB`` is 80e9 bytes and ``80GiB`` is 80 * 2**30 bytes. Standard library only.
"""

from __future__ import annotations

import math
import re

from inferwall.core.limits import FRACTION, PRICE, SMALLEST_NORMAL, Limit

DECIMAL = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "B": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}
# Counts are written in either case (70b, 1.6t, 125m): a count has no milli, so "m" can only be a million.
COUNT_SUFFIXES = {**DECIMAL, "m": 1e6, "g": 1e9, "b": 1e9, "t": 1e12}
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


def brief(value: object, width: int = 40) -> str:
    """``repr(value)``, cut short when long: a message never echoes a 4,000-digit number."""
    try:
        text = repr(value)
    except ValueError:  # an int too long for str()
        return "a number too long to print"
    return text if len(text) <= width else f"{text[:width - 12]}... ({len(text):,} characters)"


def to_float(value: int | float) -> float:
    """``float(value)``, with inf for an int beyond the float range instead of an OverflowError."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def in_range(value: float, what: str, limit: Limit | None = None, text: object = None) -> float:
    """``value`` if it is finite, not subnormal and inside ``limit``; else a UnitError naming ``what``."""
    shown = brief(value if text is None else text)
    number = to_float(value)  # an int beyond the float range is inf here, not an OverflowError
    if not math.isfinite(number):
        raise UnitError(f"{what}: must be a finite number, got {shown}")
    if number != 0 and abs(number) < SMALLEST_NORMAL:
        floor = "0 or a larger value" if limit is None or limit.low == 0 and not limit.above_zero else "a larger value"
        raise UnitError(f"{what}: {shown} is too close to zero to compute with; use {floor}")
    if limit is not None:
        problem = limit.problem(value)
        if problem:
            raise UnitError(f"{what}: {problem}")
    return value


def parse_bool(text: str) -> bool | None:
    """A boolean as people write it: yes/no, on/off, true/false, 1/0 (any case); None if it is none of them."""
    word = str(text).strip().lower()
    if word in ("1", "true", "yes", "on", "y", "t"):
        return True
    if word in ("", "0", "false", "no", "off", "n", "f", "none"):
        return False
    return None


def is_bare_number(text: object) -> bool:
    """True when ``text`` is a plain number with no unit (``50``, ``0.5``): a duration then means seconds."""
    if isinstance(text, bool):
        return False
    if isinstance(text, (int, float)):
        return True
    return re.fullmatch(rf"\s*{_NUMBER}\s*", str(text)) is not None


def bare_duration_note(text: object, seconds: float, what: str, plausible_s: float) -> str | None:
    """A note when a duration written without a unit is implausibly long, e.g. ``--max-tpot 50`` (50 seconds,
    where 50ms was probably meant); None otherwise. A bare number is read as seconds, as documented."""
    if not is_bare_number(text) or seconds <= plausible_s:
        return None
    return (f"{what} {text} is read as {seconds:g} seconds (a bare number is seconds); "
            f"write a unit if you meant less, e.g. {text}ms")


def _split_prefix(unit: str) -> tuple[float, str]:
    for prefix, factor in BINARY.items():
        if unit.startswith(prefix):
            return factor, unit[len(prefix):]
    if unit and unit[0] in "kKMGTPE":
        return DECIMAL[unit[0]], unit[1:]
    return 1.0, unit


def parse_quantity(text: str | float | int, kind: str, what: str = "value", limit: Limit | None = None) -> float:
    """Parse ``text`` as a quantity of ``kind`` (bytes, bandwidth, flops, count) in SI base units.

    Without ``limit`` the value must be positive and finite; with one, it must lie in that physical range.
    """
    if isinstance(text, bool):
        raise UnitError(f"{what}: expected a number, got {brief(text)}")
    if isinstance(text, (int, float)):
        value = to_float(text)
    else:
        match = _QUANTITY.match(str(text))
        examples = {
            "bytes": "80GB, 80GiB, 1.5e11",
            "bandwidth": "3.35TB/s, 3350GB/s, 3e12",
            "flops": "989TFLOPS, 1.979PFLOPS, 3e15",
            "count": "70B, 1.6T, 405e9, 7000000000",
        }[kind]
        if not match:
            raise UnitError(f"{what}: cannot parse {brief(text)} as a quantity (e.g. {examples})")
        value = float(match["num"].replace("_", ""))
        unit = match["unit"]
        if unit:
            factor, rest = _split_prefix(unit)
            rest_l = rest.lower()
            if kind == "count":
                if unit not in COUNT_SUFFIXES:  # "70B" = 70 billion, "1.6T" = 1.6 trillion, "k" = 1000
                    raise UnitError(f"{what}: unknown suffix {unit!r} in {brief(text)}; use k (1000), M, B, T "
                                    f"(e.g. {examples})")
                factor = COUNT_SUFFIXES[unit]
            elif kind == "bytes" and rest_l not in _KIND_SUFFIXES["bytes"]:
                raise UnitError(f"{what}: unknown unit {unit!r} in {brief(text)}; use B, GB, GiB, TB (e.g. {examples})")
            elif kind == "bandwidth" and rest_l not in _KIND_SUFFIXES["bandwidth"]:
                raise UnitError(f"{what}: unknown unit {unit!r} in {brief(text)}; use GB/s, TB/s, GiB/s (e.g. {examples})")
            elif kind == "flops" and rest_l not in _KIND_SUFFIXES["flops"]:
                raise UnitError(f"{what}: unknown unit {unit!r} in {brief(text)}; use TFLOPS, PFLOPS, TOPS (e.g. {examples})")
            value *= factor
    if limit is not None:
        return in_range(value, what, limit, text)
    if not math.isfinite(value) or value <= 0:
        raise UnitError(f"{what}: must be a positive finite number, got {brief(text)}")
    return in_range(value, what, None, text)


def parse_price(text: str | float | int, what: str = "--price") -> float:
    """Parse a $/hour price: ``2.5``, ``$2.5``, ``$2.5/h``, ``2.5/hr``. Zero is allowed (owned hardware)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = to_float(text)
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
            raise UnitError(f"{what}: cannot parse {brief(text)} as dollars per GPU-hour (e.g. 2.5, $2.5/h)") from None
    if not math.isfinite(value) or value < 0:
        raise UnitError(f"{what}: must be a non-negative dollar amount per GPU-hour, got {brief(text)}")
    return in_range(value, what, PRICE, text)


def parse_share(text: str | float | int, what: str) -> float:
    """A share in [0, 1] (zero allowed), written as ``0.5`` or ``50%``: acceptance and hit rates."""
    if isinstance(text, bool):
        raise UnitError(f"{what}: expected a number in [0, 1] (0.5 or 50%), got {brief(text)}")
    raw = str(text).strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise UnitError(f"{what}: cannot parse {brief(text)}; valid: a number in [0, 1] (0.5 or 50%)") from None
    if not 0.0 <= value <= 1.0:
        raise UnitError(f"{what}: {brief(text)} is outside [0, 1]; valid: a number in [0, 1] (0.5 or 50%)")
    if 0 < value < SMALLEST_NORMAL:
        raise UnitError(f"{what}: {brief(text)} is too close to zero to compute with (subnormal); use 0 or a larger "
                        "value")
    return value


def parse_fraction(text: str | float | int, what: str, limit: Limit = FRACTION) -> float:
    """Parse a fraction in (0, 1], written as ``0.6`` or ``60%``; below ``limit.low`` (1e-6) is refused too."""
    if isinstance(text, bool):
        raise UnitError(f"{what}: expected a fraction (e.g. 0.6 or 60%), got {brief(text)}")
    try:
        if isinstance(text, (int, float)):
            value = to_float(text)
        else:
            s = str(text).strip()
            value = float(s[:-1]) / 100 if s.endswith("%") else float(s)
    except ValueError:
        raise UnitError(f"{what}: cannot parse {brief(text)} as a fraction (e.g. 0.6 or 60%)") from None
    if not (0 < value <= 1):
        raise UnitError(f"{what}: must be in (0, 1], got {brief(text)}")
    return in_range(value, what, limit, text)


def parse_int(text: str | int, what: str, minimum: int = 1, limit: Limit | None = None) -> int:
    """Parse a whole number >= ``minimum``, accepting ``k``/``M`` suffixes (``4k`` = 4000, k is 1000).

    ``limit`` bounds it to a physical range; without one it is at most 1e15.
    """
    if isinstance(text, bool):
        raise UnitError(f"{what}: expected a whole number >= {minimum}, got {brief(text)}")
    if isinstance(text, (int, float)):
        value = to_float(text)
    else:
        stripped = str(text).strip()
        plain = stripped.lstrip("+-").replace(".", "", 1)
        try:
            value = float(stripped) if plain.isascii() and plain.isdigit() else parse_quantity(text, "count", what)
        except UnitError:
            raise UnitError(f"{what}: expected a whole number >= {minimum}, got {brief(text)}") from None
    if not math.isfinite(value):
        raise UnitError(f"{what}: {brief(text)} is too large (a whole number >= {minimum} is expected)")
    if value != int(value):
        raise UnitError(f"{what}: must be a whole number, got {brief(text)}")
    if value < minimum:
        raise UnitError(f"{what}: must be >= {minimum}, got {brief(text)}")
    if limit is not None:
        in_range(value, what, limit, text)
    elif value > 1e15:
        raise UnitError(f"{what}: {brief(text)} is too large (at most 1e15)")
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


def parse_seconds(text: str | float | int, what: str, allow_zero: bool = True, limit: Limit | None = None) -> float:
    """Parse a duration: ``20us``, ``1.5ms``, ``0.002`` (seconds); ``limit`` bounds it to a physical range."""
    if isinstance(text, bool):
        raise UnitError(f"{what}: cannot parse {brief(text)} as a duration (e.g. 20us, 1.5ms, 0.002)")
    match = _TIME.match(str(text))
    if not match or match["unit"] not in ("", *_TIME_UNITS):
        raise UnitError(f"{what}: cannot parse {brief(text)} as a duration (e.g. 20us, 1.5ms, 0.002)")
    value = float(match["num"].replace("_", "")) * _TIME_UNITS.get(match["unit"] or "s", 1.0)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise UnitError(f"{what}: must be a {'non-negative' if allow_zero else 'positive'} finite duration, got {brief(text)}")
    return in_range(value, what, limit, text)


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
