"""The user config file: per-command defaults, below flags and INFERWALL_* variables in precedence.

``$INFERWALL_CONFIG`` or ``~/.config/inferwall/config.yaml``::

    estimate:
      gpu: h200
      price: 3.5
"""

from __future__ import annotations

import os

from inferwall.errors import InputError


def env_flag(name: str) -> bool:
    """A boolean environment variable as people write it: 1/true/yes/on are on; unset, empty, 0/false/no/off are
    off (any case); any other value counts as on, since setting the variable at all asks for it."""
    from inferwall.units import parse_bool

    value = parse_bool(os.environ.get(name, ""))
    return True if value is None else value


def config_path() -> str:
    explicit = os.environ.get("INFERWALL_CONFIG")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "inferwall", "config.yaml")


def load_user_config() -> dict | None:
    path = config_path()
    if not os.path.isfile(path):
        if os.environ.get("INFERWALL_CONFIG"):
            raise InputError(f"INFERWALL_CONFIG={path}: no such file")
        return None
    from inferwall.catalog.yamlio import load_document

    data = load_document(path)
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise InputError(f"{path}: expected a mapping of command name to option defaults, e.g. 'estimate: {{gpu: h200}}'")
    return {cmd: {k.replace("-", "_"): v for k, v in opts.items()} for cmd, opts in data.items()}
