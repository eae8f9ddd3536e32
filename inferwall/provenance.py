"""Where each input came from, named for people: a flag, an ``INFERWALL_*`` variable, the user config file (with
its path), a plan file (with its line), a catalog entry, or a default.

``inputs.build`` records what it derives (``"flag --price"``, ``"catalog nvidia-h100-sxm-80gb (...)"``);
``label_origins`` then names the real origin of every value that was not typed on the command line, from
``Options.origins`` (filled by the CLI from click's parameter sources, by the fast path, and by ``check`` from the
plan's lines), and adds the inputs ``build`` does not describe (layout and workload). Pure logic, no I/O.
"""

from __future__ import annotations

import re

from inferwall.fields import BY_FLAG, FIELDS

# provenance key -> the fields it already describes
_DESCRIBED = {
    "model": ("model", "params"), "gpu": ("gpu",), "peak_flops": ("flops",), "bandwidth": ("bandwidth",),
    "memory": ("memory",), "link_bandwidth": ("link_bandwidth",), "price": ("price",), "precision": ("precision",),
    "weights_dtype": ("weights",), "kv_dtype": ("kv",), "compute_dtype": ("compute",), "efficiency": ("ideal",),
    "mfu": ("mfu",), "mbu": ("mbu",), "link_efficiency": ("link_efficiency",), "step_overhead": ("overhead",),
    "layer_overhead": ("layer_overhead",), "collective_latency": ("collective_latency",), "reserve": ("reserve",),
    "memory_fraction": ("memory_fraction",), "batch": ("batch",),
}
_WORKLOAD = ("batch", "input_tokens", "output_tokens")  # always an input: given, or the default
_FLAG = re.compile(r"^flag (--[a-z][a-z-]*)")
_INPUTS = tuple((f.name, f.flag, f.name in _WORKLOAD) for f in FIELDS if not f.is_switch)

TYPE_CHECKING = False  # typing costs start-up; its names are only needed by type checkers
if TYPE_CHECKING:
    from typing import Any


def label_origins(prov: dict[str, str], options: Any) -> dict[str, str]:
    """``prov`` with every value named by its real origin (see the module docstring). Runs for every
    configuration of a sweep, so it stays a plain loop."""
    origins: dict[str, str] = getattr(options, "origins", None) or {}
    out: dict[str, str] = {}
    described: set[str] = set()
    for key, text in prov.items():
        described.update(_DESCRIBED.get(key, ()))
        if origins:
            match = _FLAG.match(text) if text.startswith("flag --") else None
            if match and match[1] in BY_FLAG:
                origin = origins.get(BY_FLAG[match[1]].name)
                if origin:
                    text = origin + text[match.end():]
            elif key in ("model", "gpu") and origins.get(key) not in (None, "default"):
                text = f"{text}, named by {origins[key]}"
        out[key] = text
    values = vars(options)
    for name, flag, workload in _INPUTS:
        if name in described:
            continue
        value = values.get(name)
        if value is None:
            if workload:
                out[name] = "default"
        else:
            out[name] = origins.get(name) or f"flag {flag}"
    return out


def origin_label(source: str, field_name: str, command: str | None = None, config: str | None = None) -> str | None:
    """A click parameter source (its enum member's name) as an origin; None for a flag on the command line."""
    if source == "ENVIRONMENT":
        from inferwall.fields import BY_NAME

        return f"env {BY_NAME[field_name].envvar}"
    if source == "DEFAULT_MAP":
        return f"config {config} ({command}.{field_name})" if command else f"config {config}"
    if source == "DEFAULT":
        return "default"
    return None
