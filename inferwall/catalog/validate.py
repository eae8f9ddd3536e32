"""Field readers that validate catalog entries; every error carries ``file: entry.field: problem``."""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs start-up; its names are only needed by type checkers
if TYPE_CHECKING:
    from typing import Any

from inferwall.core.limits import Limit
from inferwall.errors import InputError
from inferwall.units import UnitError, brief, in_range, parse_quantity

_MISSING = object()


class Fields:
    """Typed access to one mapping, with errors that name where the value came from."""

    def __init__(self, data: Any, where: str):
        if not isinstance(data, dict):
            raise InputError(f"{where}: expected a mapping, got {type(data).__name__}")
        self.data = data
        self.where = where

    def fail(self, key: str, problem: str) -> InputError:
        return InputError(f"{self.where}.{key}: {problem}")

    def sub(self, key: str, required: bool = False) -> "Fields | None":
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.fail(key, "missing")
            return None
        return Fields(value, f"{self.where}.{key}")

    def str(self, key: str, default: Any = _MISSING) -> Any:
        value = self.data.get(key, default)
        if value is _MISSING:
            raise self.fail(key, "missing")
        if value is not None and not isinstance(value, str):
            raise self.fail(key, f"must be text, got {value!r}")
        return value

    def _value(self, key: str, default: Any) -> Any:
        """The value at ``key``; ``null`` counts as absent (the default, or 'missing' when there is none)."""
        value = self.data.get(key)
        if value is None:
            if default is _MISSING:
                raise self.fail(key, "missing" if key not in self.data else "missing (null)")
            return default
        return value

    def _bounded(self, key: str, value: Any, limit: Limit | None) -> Any:
        try:
            in_range(value, f"{self.where}.{key}", limit)
        except UnitError as exc:
            raise InputError(str(exc)) from None
        return value

    def int(self, key: str, default: Any = _MISSING, minimum: int = 0, limit: Limit | None = None) -> Any:
        value = self._value(key, default)
        if value is default:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"must be a whole number, got {brief(value)}")
        if value < minimum:
            raise self.fail(key, f"must be >= {minimum}, got {brief(value)}")
        return self._bounded(key, value, limit)

    def bool(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, got {value!r}")
        return value

    def number(self, key: str, default: Any = _MISSING, minimum: float | None = None,
               limit: Limit | None = None) -> Any:
        value = self._value(key, default)
        if value is default:
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(key, f"must be a number, got {brief(value)}")
        if minimum is not None and value < minimum:
            raise self.fail(key, f"must be >= {minimum}, got {brief(value)}")
        from inferwall.units import to_float

        return self._bounded(key, to_float(value), limit)

    def quantity(self, key: str, kind: str, default: Any = _MISSING, limit: Limit | None = None) -> Any:
        value = self._value(key, default)
        if value is default:
            return value
        try:
            quantity = parse_quantity(value, kind, f"{self.where}.{key}")
        except UnitError as exc:
            text = str(exc)
            if "must be a positive" in text:
                raise self.fail(key, f"must be > 0, got {brief(value)}") from None
            raise InputError(text) from None
        return self._bounded(key, quantity, limit)

    def list_of_str(self, key: str) -> list[str]:
        value = self.data.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "must be a list of text")
        return value
