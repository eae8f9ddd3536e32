"""Scenario field values given as Python or YAML objects (the Python API, fleet files): their types, checked
against the field table, so a wrong type is one line naming the field instead of a traceback deep in the code.

What a value means (units, ranges, catalog names) is ``inputs.build``'s job, with the CLI's messages; this module
only checks that a value is of a kind the field can read, and turns Python conveniences into the CLI's text (a
``{"h100": 2.1}`` price map into ``"h100=2.1"``, a path into its string). Pure logic, standard library only.
"""

from __future__ import annotations

import math
import os
TYPE_CHECKING = False  # typing costs start-up; its names are only needed by type checkers
if TYPE_CHECKING:
    from typing import Any

from inferwall.errors import InputError
from inferwall.fields import BY_NAME

_WHAT = {
    "text": "text", "dtype": "a dtype name", "int": "a whole number", "int0": "a whole number",
    "batch": "a whole number or 'max'", "count": "a number or text with a unit", "quantity": "a number or text with a unit",
    "price": "a number, text or a {gpu: price} mapping", "fraction": "a number or a percentage",
    "duration": "seconds or a duration", "switch": "True or False",
}


def example(name: str) -> str:
    f = BY_NAME[name]
    shown = f.example if f.example is not None else (f.default if f.default is not None else None)
    return f"; e.g. {name}={shown!r}" if shown is not None else ""


def field_value(name: str, value: Any, where: str) -> Any:
    """``value`` for field ``name`` as the CLI would receive it (text, a number or a bool), or InputError naming
    ``where`` (e.g. ``estimate(): gpus`` or ``fleet.yaml:4: workload.gpus``)."""
    f = BY_NAME[name]
    if f.is_switch:
        if not isinstance(value, bool):
            raise InputError(f"{where}: expected True or False, got {value!r}")
        return value
    if isinstance(value, os.PathLike) and f.kind == "text":
        return os.fspath(value)
    if f.kind == "price" and isinstance(value, dict):
        return price_map(value, where)
    wrong = isinstance(value, bool) or not isinstance(value, (str, int, float))
    if not wrong and f.kind in ("text", "dtype") and not isinstance(value, str):
        wrong = True
    if wrong:
        plural = " (one value here; several values go to compare or sweep)" if isinstance(value, (list, tuple, set)) else ""
        raise InputError(f"{where}: expected {_WHAT[f.kind]}, got {value!r} ({type(value).__name__}){plural}"
                         f"{example(name)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(f"{where}: must be finite, got {value!r}")
    if isinstance(value, str) and not value.strip():
        raise InputError(f"{where}: empty text{example(name)}")
    return value


def price_map(value: dict, where: str) -> str:
    """``{"h100": 2.1, "mi300x": "2.5"}`` -> ``"h100=2.1,mi300x=2.5"``: one per-accelerator map."""
    if not value:
        raise InputError(f"{where}: an empty price mapping; give {{gpu: price}} pairs, e.g. {{'h100': 2.1}}")
    parts = []
    for gpu, price in value.items():
        if not isinstance(gpu, str) or isinstance(price, bool) or not isinstance(price, (int, float, str)):
            raise InputError(f"{where}: expected {{gpu name: price}} pairs, got {gpu!r}: {price!r}")
        parts.append(f"{gpu}={price}")
    return ",".join(parts)
