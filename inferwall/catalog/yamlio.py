"""Safe YAML and JSON reading with one-line errors that name the file (and line, where known)."""

from __future__ import annotations

import json
import os
import stat
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


def _check_tree(data: Any, path: str) -> None:
    """Nesting at most MAX_DEPTH levels, and every text valid Unicode (a lone surrogate such as "\\ud800" could be
    read from JSON or YAML escapes, but not written to any output). Iterative: deep input cannot overflow the stack."""
    stack = [(data, 0)]
    while stack:
        obj, level = stack.pop()
        if isinstance(obj, str):
            if not obj.isascii():
                try:
                    obj.encode("utf-8")
                except UnicodeEncodeError as exc:
                    bad = obj[exc.start].encode("unicode_escape").decode("ascii")
                    raise InputError(f"{path}: text with an unpaired surrogate ({bad}) is not valid Unicode") from None
            continue
        if isinstance(obj, (dict, list)):
            if level >= MAX_DEPTH:
                raise InputError(f"{path}: nesting deeper than {MAX_DEPTH} levels")
            if isinstance(obj, dict):
                stack.extend((k, level + 1) for k in obj)
                stack.extend((v, level + 1) for v in obj.values())
            else:
                stack.extend((v, level + 1) for v in obj)


_SPECIAL = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
            (stat.S_ISSOCK, "a socket"))


def _not_regular(mode: int) -> str | None:
    """What a non-regular file is ("a FIFO", "a directory"), or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    return next((name for test, name in _SPECIAL if test(mode)), "not a regular file")


def read_bytes(path: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; InputError (one line naming ``path``) otherwise.

    FIFOs, devices (/dev/zero), sockets and directories are refused before they are opened for reading, and the
    file is opened non-blocking and checked again, so nothing swapped in meanwhile can hang the read. At most
    ``limit`` + 1 bytes are ever read, whatever the file claims its size is.
    """
    path = str(path)
    if not path:
        raise InputError("'': empty file name; give the path of a file")
    try:
        kind = _not_regular(os.stat(path).st_mode)
        if kind == "a directory":
            raise InputError(f"{path}: is a directory, expected a file")
        if kind:
            raise InputError(f"{path}: is {kind}, not a regular file; give a YAML or JSON file")
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        try:
            st = os.fstat(fd)
            kind = _not_regular(st.st_mode)
            if kind:
                raise InputError(f"{path}: is {kind}, not a regular file; give a YAML or JSON file")
            if st.st_size > limit:
                raise InputError(f"{path}: file is {st.st_size} bytes, larger than the {limit} byte limit")
            chunks, total = [], 0
            while total <= limit:
                chunk = os.read(fd, min(1 << 20, limit + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
        finally:
            os.close(fd)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if total > limit:
        raise InputError(f"{path}: file is larger than the {limit} byte limit")
    return b"".join(chunks)


def read_text(path: str) -> str:
    """A small regular text file (UTF-8, no NUL bytes), as ``read_bytes`` reads it."""
    raw = read_bytes(path)
    if b"\x00" in raw:
        raise InputError(f"{path}: looks like a binary file, expected YAML or JSON text")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None


def _value_problem(exc: Exception) -> str:
    """A one-line reason for a ValueError raised while building values (not a syntax error)."""
    text = str(exc)
    if "integer string conversion" in text:
        return "a number with more than 4,300 digits"
    return f"invalid value: {text.splitlines()[0] if text else type(exc).__name__}"


def load_document(path: str) -> Any:
    """Load one YAML (or JSON) document safely. Empty files, tags, anchors and deep nesting are errors."""
    return parse_document(path, read_text(path))


def parse_document(path: str, text: str) -> Any:
    """Parse ``text`` read from ``path`` (YAML, or JSON for a .json name) with one-line errors naming ``path``."""
    if not text.strip():
        raise InputError(f"{path}: file is empty")
    try:
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
        raise InputError(f"{path}: nesting deeper than {MAX_DEPTH} levels") from None
    except (ValueError, OverflowError) as exc:  # an over-long integer, an impossible date
        raise InputError(f"{path}: {_value_problem(exc)}") from None
    _check_tree(data, path)
    return data


def _cache_dir() -> str | None:
    from inferwall.config import env_flag

    if env_flag("INFERWALL_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "inferwall")


CACHE_FORMAT = 2
_CATALOG_KEYS = frozenset({"schema_version", "accelerators", "models", "compiled"})


def _checksum(data: bytes) -> str:
    import zlib

    return f"{len(data)}-{zlib.crc32(data):08x}"


def catalog_shape(data: Any) -> bool:
    """What ``Catalog.add_file`` relies on from a shipped file: lists of entries, each with a text id."""
    if not isinstance(data, dict) or not set(data) <= _CATALOG_KEYS:
        return False
    for key in ("accelerators", "models"):
        items = data.get(key) or []
        if not isinstance(items, list):
            return False
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
                return False
            aliases = item.get("aliases")
            if aliases is not None and not (isinstance(aliases, list) and all(isinstance(a, str) for a in aliases)):
                return False
    return True


def _read_cache(target: str, source: str, valid: Any = None) -> Any:
    """The cached parse of a shipped file whose checksum is ``source``, or None to parse it again.

    The cache is a header line (format, the source's checksum, the body's checksum) and a JSON body. It is used
    only when the header matches the shipped file exactly, the body's checksum matches (an edited value, say the
    H100's bandwidth, changes it), and the body passes ``valid`` (a catalog's shape); anything else is ignored.
    """
    try:
        blob = read_bytes(target, limit=4 * MAX_FILE_BYTES)  # regular files only: a FIFO here cannot hang us
    except InputError:
        return None
    header, newline, body = blob.partition(b"\n")
    try:
        if not newline or json.loads(header) != {"format": CACHE_FORMAT, "source": source, "body": _checksum(body)}:
            return None
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return data if valid is None or valid(data) else None


def _write_cache(cache: str, target: str, source: str, data: Any) -> None:
    """Write the cache atomically; any problem (read-only home, a directory in the way) only skips it."""
    tmp = f"{target}.{os.getpid()}.tmp"
    try:
        os.makedirs(cache, exist_ok=True)
        body = json.dumps(data, separators=(",", ":")).encode("utf-8")
        header = json.dumps({"format": CACHE_FORMAT, "source": source, "body": _checksum(body)}).encode("utf-8")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(tmp, flags, 0o644)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(header + b"\n" + body)
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    except (OSError, ValueError, TypeError):
        pass


def load_builtin(path: str, valid: Any = None) -> Any:
    """Load a shipped spec file, through a JSON cache keyed by the file's content checksum.

    Parsing YAML costs tens of milliseconds at every start; the cache makes a one-liner instant. The cache is
    never trusted over the shipped file: it is checked against the file's checksum, its own checksum and the
    catalog's shape, and any mismatch (corrupt, edited, truncated, a FIFO or directory in its place) parses the
    YAML again and rewrites it. CRC-32 plus the length are the checksums: they catch corruption and edits, and
    avoid loading hashlib at start-up. ``valid`` checks the shape the caller relies on (``catalog_shape``); files
    whose parser validates every entry anyway (engine profiles, kernels) need none.
    """
    raw = read_bytes(path)
    source = _checksum(raw)
    cache = _cache_dir()
    target = None
    if cache is not None:
        stem = os.path.splitext(os.path.basename(path))[0]
        target = os.path.join(cache, f"{stem}-{source}.json")
        data = _read_cache(target, source, valid)
        if data is not None:
            return data
    import yaml

    data = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - safe loaders only
    if target is not None and cache is not None:
        _write_cache(cache, target, source, data)
    return data
