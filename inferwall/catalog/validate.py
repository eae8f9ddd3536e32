"""Field readers that validate catalog entries; every error carries ``file: entry.field: problem``."""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs start-up; its names are only needed by type checkers
if TYPE_CHECKING:
    from typing import Any

from inferwall.errors import InputError
from inferwall.units import UnitError, parse_quantity

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

    def int(self, key: str, default: Any = _MISSING, minimum: int = 0) -> Any:
        value = self.data.get(key, default)
        if value is _MISSING:
            raise self.fail(key, "missing")
        if value is None or value is default:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"must be a whole number, got {value!r}")
        if value < minimum:
            raise self.fail(key, f"must be >= {minimum}, got {value}")
        return value

    def bool(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, got {value!r}")
        return value

    def number(self, key: str, default: Any = _MISSING, minimum: float | None = None) -> Any:
        value = self.data.get(key, default)
        if value is _MISSING:
            raise self.fail(key, "missing")
        if value is None or value is default:
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(key, f"must be a number, got {value!r}")
        if minimum is not None and value < minimum:
            raise self.fail(key, f"must be >= {minimum}, got {value}")
        return float(value)

    def quantity(self, key: str, kind: str, default: Any = _MISSING) -> Any:
        value = self.data.get(key, default)
        if value is _MISSING:
            raise self.fail(key, "missing")
        if value is None or value is default:
            return value
        try:
            return parse_quantity(value, kind, f"{self.where}.{key}")
        except UnitError as exc:
            text = str(exc)
            if "must be a positive" in text:
                raise self.fail(key, f"must be > 0, got {value!r}") from None
            raise InputError(text) from None

    def list_of_str(self, key: str) -> list[str]:
        value = self.data.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "must be a list of text")
        return value
