"""Validate the user config file against the commands' own options, and turn it into Click's default map.

Sections are command names (``estimate``, ``sweep``, ...). Keys are the command's long flag names with
underscores, as in plan files: ``input_tokens`` for ``--input-tokens``, ``format`` for ``--format``,
``catalog`` for ``--catalog`` (a list). Each value goes through the flag's own parser: the option's type
(``--top``, ``--format``), and for scenario fields the unit parser and physical range ``inputs.build`` uses.
An unknown section or key, a wrong type or a bad value is one error naming the file, the line and the key,
with a did-you-mean. ``--help``, ``--version`` and ``--debug`` are not options a file can set.
"""

from __future__ import annotations

import difflib
from typing import Any

from inferwall.errors import InputError

NOT_SETTABLE = frozenset({"help", "version", "debug"})


def _key(option: Any) -> str:
    """An option's config key: its longest ``--`` name with underscores (``--input-tokens`` -> input_tokens)."""
    longs = [o for o in option.opts if o.startswith("--")]
    return max(longs, key=len)[2:].replace("-", "_") if longs else option.name


def _options(command: Any) -> dict[str, Any]:
    return {_key(p): p for p in command.params
            if getattr(p, "param_type_name", "") == "option" and not getattr(p, "hidden", False)
            and _key(p) not in NOT_SETTABLE}


def _leaf_commands(root: Any) -> dict[str, Any]:
    """Commands that take options, by name (groups such as ``catalog`` and ``schema`` have none to set)."""
    return {name: cmd for name, cmd in root.commands.items() if not hasattr(cmd, "commands") and _options(cmd)}


def _suggest(name: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(name, valid, n=2, cutoff=0.6)
    if not close and name.replace("-", "_") in valid:
        close = [name.replace("-", "_")]
    return f"; did you mean {' or '.join(close)}?" if close else ""


class _Where:
    def __init__(self, path: str, text: str) -> None:
        self.path, self.text = path, text
        self._lines: dict[tuple[str, ...], int] | None = None

    def fail(self, where: tuple[str, ...], problem: str) -> InputError:
        if self._lines is None:
            from inferwall.plans import _key_lines

            try:
                self._lines = _key_lines(self.path, self.text)
            except InputError:
                self._lines = {}
        line = self._lines.get(where)
        at = f"{self.path}:{line}" if line else self.path
        return InputError(f"{at}: {'.'.join(where)}: {problem}")


def _scalar_text(value: Any) -> str | None:
    """A YAML scalar as it would be typed on the command line, or None if it is not one."""
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        return None
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (int, str)):
        return str(value) if not isinstance(value, int) or abs(value) < 10**100 else None
    return None


def _convert(option: Any, text: str) -> Any:
    from typer import BadParameter

    try:
        return option.type.convert(text, option, None)
    except BadParameter as exc:
        raise ValueError(exc.message) from None


def _value(w: _Where, where: tuple[str, ...], option: Any, value: Any, mode: str) -> Any:
    from inferwall.fields import BY_NAME

    key = where[-1]
    if option.is_flag:
        if not isinstance(value, bool):
            raise w.fail(where, f"must be true or false, got {value!r}")
        return value
    values = value if option.multiple and isinstance(value, list) else [value]
    texts = []
    for item in values:
        text = _scalar_text(item)
        if text is None:
            expected = "a value or a list of values" if option.multiple else "a value (text or a number)"
            raise w.fail(where, f"expected {expected}, got {item!r}")
        try:
            _convert(option, text)
        except ValueError as exc:
            raise w.fail(where, str(exc)) from None
        texts.append(text)
    if key in BY_NAME and option.name == key:
        _check_field(w, where, key, texts[0], mode)
    return texts if option.multiple else texts[0]


def _check_field(w: _Where, where: tuple[str, ...], name: str, text: str, mode: str) -> None:
    from inferwall.field_values import parse_field

    items = [text]
    if mode == "grid":
        from inferwall.fields import BY_NAME
        from inferwall.grid import expand

        items = expand(text, BY_NAME[name].flag)
    for item in items:
        try:
            parse_field(name, item, name)
        except InputError as exc:
            raise w.fail(where, str(exc).removeprefix(f"{name}: ")) from None


GRID_COMMANDS = frozenset({"compare", "sweep"})


def config_default_map(root: Any, path: str, text: str, data: dict) -> dict[str, dict[str, Any]]:
    """Check every section of the config file against ``root``'s commands; return Click's ``default_map``."""
    w = _Where(path, text)
    commands = _leaf_commands(root)
    default_map: dict[str, dict[str, Any]] = {}
    for section, body in data.items():
        name = str(section)
        if not isinstance(section, str) or name not in commands:
            raise w.fail((name,), f"unknown section {section!r}{_suggest(name, sorted(commands))} "
                                  f"(sections are command names: {', '.join(sorted(commands))})")
        if body is None:
            continue
        if not isinstance(body, dict):
            raise w.fail((name,), f"expected a mapping of option to value, e.g. '{name}: {{format: json}}'; "
                                  f"got {body!r}")
        options = _options(commands[name])
        mode = "grid" if name in GRID_COMMANDS else "single"
        out: dict[str, Any] = {}
        for key, value in body.items():
            where = (name, str(key))
            option = options.get(key) if isinstance(key, str) else None
            if key in NOT_SETTABLE:
                raise w.fail(where, f"--{key} is not an option a config file can set")
            if option is None:
                examples = [k for k in ("format", "input_tokens", "gpu") if k in options] or sorted(options)[:1]
                raise w.fail(where, f"unknown option {key!r}{_suggest(str(key), sorted(options))} (keys are "
                                    f"'inferwall {name}' flag names with underscores, e.g. {', '.join(examples)})")
            out[option.name] = _value(w, where, option, value, mode)
        default_map[name] = out
    return default_map
