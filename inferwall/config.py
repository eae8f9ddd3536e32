"""The user config file and boolean environment variables.

The config file gives per-command defaults, below flags and INFERWALL_* variables in precedence.
``$INFERWALL_CONFIG`` or ``~/.config/inferwall/config.yaml``::

    estimate:
      gpu: h200
      price: 3.5
      input_tokens: 4k
      format: json

Sections are command names; keys are the command's flag names with underscores, as in plan files. The CLI
validates every section against its commands' own options and parsers (``inferwall.cli.config_check``).
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


def load_user_config() -> tuple[str, str, dict] | None:
    """(path, text, sections) of the user config file, or None when there is none (or it is empty).

    Only the file's syntax and outline are checked here: a mapping of section names to mappings.
    """
    path = config_path()
    explicit = bool(os.environ.get("INFERWALL_CONFIG"))
    if not explicit and not os.path.lexists(path):
        return None
    from inferwall.catalog.yamlio import parse_document, read_text

    try:
        text = read_text(path)
    except InputError as exc:
        if explicit and not os.path.lexists(path):
            raise InputError(f"INFERWALL_CONFIG={path}: no such file") from None
        raise exc
    data = parse_document(path, text) if text.strip() else None
    if data is None:
        return None  # empty, or only comments: no defaults
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a mapping of command name to option defaults, e.g. 'estimate: {{gpu: h200}}'")
    return path, text, data
