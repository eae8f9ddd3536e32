"""Safe YAML and JSON reading with one-line errors that name the file (and line, where known)."""

from __future__ import annotations

import json
import os
TYPE_CHECKING = False  # typing costs start-up; its names are only needed by type checkers
if TYPE_CHECKING:
    from typing import Any

from inferwall.errors import InputError

MAX_FILE_BYTES = 8 * 2**20  # catalogs and plans are small; refuse anything huge
MAX_DEPTH = 32


def _loader():
    import yaml

    class NoAliasSafeLoader(yaml.SafeLoader):
        """SafeLoader that also refuses anchors/aliases (no billion-laughs expansion)."""

        def compose_node(self, parent, index):  # noqa: D401 - yaml API
            if self.check_event(yaml.events.AliasEvent):
                event = self.peek_event()
                raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed", event.start_mark)
            event = self.peek_event()
            anchor = getattr(event, "anchor", None)
            if anchor is not None:
                raise yaml.composer.ComposerError(None, None, f"anchors (&{anchor}) are not allowed", event.start_mark)
            return super().compose_node(parent, index)

    return NoAliasSafeLoader


def _depth(obj: Any, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(obj, dict):
        return max((_depth(v, level + 1) for v in obj.values()), default=level)
    if isinstance(obj, list):
        return max((_depth(v, level + 1) for v in obj), default=level)
    return level


def read_text(path: str) -> str:
    try:
        if os.path.isdir(path):
            raise InputError(f"{path}: is a directory, expected a file")
        size = os.stat(path).st_size
        if size > MAX_FILE_BYTES:
            raise InputError(f"{path}: file is {size} bytes, larger than the {MAX_FILE_BYTES} byte limit")
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if b"\x00" in raw:
        raise InputError(f"{path}: looks like a binary file, expected YAML or JSON text")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None


def load_document(path: str) -> Any:
    """Load one YAML (or JSON) document safely. Empty files, tags, anchors and deep nesting are errors."""
    text = read_text(path)
    if not text.strip():
        raise InputError(f"{path}: file is empty")
    if str(path).endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    else:
        import yaml

        try:
            data = yaml.load(text, Loader=_loader())  # noqa: S506 - a SafeLoader subclass
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = f":{mark.line + 1}" if mark else ""
            problem = exc.problem or exc.context or "invalid YAML"
            raise InputError(f"{path}{line}: invalid YAML: {problem}") from None
        except yaml.YAMLError as exc:
            raise InputError(f"{path}: invalid YAML: {str(exc).splitlines()[0]}") from None
        except RecursionError:
            raise InputError(f"{path}: nesting too deep") from None
    if _depth(data) > MAX_DEPTH:
        raise InputError(f"{path}: nesting deeper than {MAX_DEPTH} levels")
    return data


def _cache_dir() -> str | None:
    if os.environ.get("INFERWALL_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "inferwall")


def load_builtin(path: str) -> Any:
    """Load a shipped spec file, through a JSON cache keyed by the file's content checksum.

    Parsing YAML costs tens of milliseconds at every start; the cache makes a one-liner instant.
    Any cache problem (read-only home, corrupt file) falls back to parsing. CRC-32 plus the length keys
    the cache: these are our own files, so a checksum suffices, and it avoids loading hashlib at start-up.
    """
    import zlib

    with open(path, "rb") as fh:
        raw = fh.read()
    cache = _cache_dir()
    target = None
    if cache is not None:
        stem = os.path.splitext(os.path.basename(path))[0]
        target = os.path.join(cache, f"{stem}-{len(raw)}-{zlib.crc32(raw):08x}.json")
        try:
            with open(target, encoding="utf-8") as fh:
                return json.load(fh)
        except (OSError, ValueError):
            pass
    import yaml

    data = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - safe loaders only
    if target is not None:
        try:
            os.makedirs(cache, exist_ok=True)
            tmp = f"{target}.{os.getpid()}.tmp"
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(json.dumps(data))
            os.replace(tmp, target)
        except OSError:
            pass
    return data
