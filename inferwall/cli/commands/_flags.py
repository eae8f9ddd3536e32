"""Shared plumbing of the economics commands: the scenario flags on other commands, list and unit parsing.

``with_estimate_flags`` gives a command the scenario options of ``inferwall estimate`` (generated from
``inferwall.fields.FIELDS`` by ``inferwall.cli.flags``, so names, help, defaults and panels never drift apart),
minus the ones it excludes. The command receives them as one ``flags`` dict and turns them into an ``Options``
with ``options_from``; ``inputs.build`` does the rest, exactly as for ``estimate``. Not a command module (the
leading underscore keeps discovery away).
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

from inferwall.errors import InputError

ECONOMICS = "Economics"


def _scenario_parameters() -> dict[str, inspect.Parameter]:
    from ..flags import with_scenario_flags

    def body(scenario: dict) -> None:  # only its generated signature is used
        return None

    return dict(with_scenario_flags(body, "estimate").__signature__.parameters)  # type: ignore[attr-defined]


def with_estimate_flags(exclude: tuple[str, ...] = ()) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate ``func(flags: dict, **own)``: estimate's scenario options (by field name) except ``exclude``,
    then the command's own options."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        from ..flags import CONTEXT, origins

        own = [p for name, p in inspect.signature(func, eval_str=True).parameters.items() if name != "flags"]
        names = {p.name for p in own}
        shared = [p for name, p in _scenario_parameters().items()
                  if name not in exclude and name not in names and name != CONTEXT]
        context = _scenario_parameters()[CONTEXT]

        def command(**kwargs: Any) -> Any:
            ctx = kwargs.pop(CONTEXT)
            flags = {p.name: kwargs.pop(p.name) for p in shared}
            flags["origins"] = origins(ctx, flags)
            return func(flags=flags, **kwargs)

        params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in shared + own + [context]]
        command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        command.__name__ = func.__name__
        command.__qualname__ = func.__qualname__
        command.__doc__ = func.__doc__
        command.__module__ = func.__module__
        return command

    return decorate


def options_from(flags: dict[str, Any], **overrides: Any):
    """An ``inputs.Options`` from the scenario flags; ``overrides`` set fields directly."""
    from inferwall.inputs import Options

    values = dict(flags)
    values.update(overrides)
    return Options(**values)


def split_list(text: str | None, flag: str) -> list[str]:
    """'1,10,100' or '1 10 100' -> ['1', '10', '100']."""
    if text is None:
        return []
    items = [part for part in str(text).replace(",", " ").split() if part]
    if not items:
        raise InputError(f"{flag}: empty list; give comma-separated values, e.g. {flag} 1,10,100")
    return items


def int_list(text: str | None, flag: str, minimum: int = 1, limit: Any = None) -> list[int]:
    from inferwall.units import UnitError, parse_int

    try:
        return [parse_int(item, flag, minimum, limit=limit) for item in split_list(text, flag)]
    except UnitError as exc:
        raise InputError(str(exc)) from None


def whole(text: str | None, flag: str, minimum: int = 1, limit: Any = None) -> int | None:
    """A whole number as counts are written everywhere (``4k`` is 4000); None when not given."""
    if text is None:
        return None
    from inferwall.units import UnitError, parse_int

    try:
        return parse_int(text, flag, minimum, limit=limit)
    except UnitError as exc:
        raise InputError(str(exc)) from None


def positive(text: str | None, flag: str, kind: str = "count", limit: Any = None) -> float | None:
    """A positive number with optional unit prefix (10k, 2.5M), inside ``limit`` if given; None when not given."""
    if text is None:
        return None
    from inferwall.units import UnitError, parse_quantity

    try:
        return parse_quantity(text, kind, flag, limit)
    except UnitError as exc:
        raise InputError(str(exc)) from None


def bounded(value: float | None, flag: str, limit: Any) -> float | None:
    """A number option (already a float) checked against its physical range: finite, not subnormal, in range."""
    if value is None:
        return None
    from inferwall.units import UnitError, in_range

    try:
        return in_range(value, flag, limit)
    except UnitError as exc:
        raise InputError(str(exc)) from None


def fraction(text: str | None, flag: str) -> float | None:
    if text is None:
        return None
    from inferwall.units import UnitError, parse_fraction

    try:
        return parse_fraction(text, flag)
    except UnitError as exc:
        raise InputError(str(exc)) from None


def duration(text: str | None, flag: str) -> float | None:
    """A positive duration (``50ms``; a bare number is seconds) up to ``limits.SLO_SECONDS``."""
    if text is None:
        return None
    from inferwall.core.limits import SLO_SECONDS
    from inferwall.units import UnitError, parse_seconds

    try:
        return parse_seconds(text, flag, allow_zero=False, limit=SLO_SECONDS)
    except UnitError as exc:
        raise InputError(str(exc)) from None


def dollars(text: str | None, flag: str) -> float | None:
    """'$4.9', '4.9' -> 4.9 (must be > 0)."""
    if text is None:
        return None
    raw = str(text).strip().lower().replace(" ", "").removeprefix("$").removeprefix("usd")
    for suffix in ("/m", "/mtok", "/million"):
        raw = raw.removesuffix(suffix)
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"{flag}: cannot parse {text!r} as dollars (e.g. 4.9 or $4.9)") from None
    if not (value > 0 and value < float("inf")):
        raise InputError(f"{flag}: must be a positive dollar amount, got {text!r}")
    from inferwall.core.limits import USD_PER_MILLION_TOKENS

    return bounded(value, flag, USD_PER_MILLION_TOKENS)
