"""Helpers every command shares: output streams, format choice, catalog loading."""

from __future__ import annotations

import sys

from inferwall.render import Format, default_format


def emit(text: str) -> None:
    """Data goes to stdout, and only data."""
    sys.stdout.write(text)
    sys.stdout.flush()


def note(text: str) -> None:
    """Messages, warnings and notes go to stderr."""
    sys.stderr.write(text.rstrip() + "\n")


def pick_format(fmt: Format | None) -> Format:
    return fmt or default_format()


def catalog(paths: list[str] | None):
    from inferwall.catalog import load_catalog

    cat = load_catalog(paths)
    for line in cat.notes:
        note(line)
    return cat


def fail(message: str, code: int) -> int:
    """One line on stderr: control characters from user input are escaped, never echoed raw."""
    line = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in message.strip())
    sys.stderr.write(line + "\n")
    return code
