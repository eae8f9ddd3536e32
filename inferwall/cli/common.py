"""Helpers every command shares: output streams, format choice, catalog loading."""

from __future__ import annotations

import sys

from inferwall.render import Format, default_format

TYPE_CHECKING = False  # typing costs start-up; its names are only needed by type checkers
if TYPE_CHECKING:
    from typing import Callable


def emit(text: str) -> None:
    """Data goes to stdout, and only data; what a table left out to fit the terminal is said on stderr."""
    sys.stdout.write(text)
    sys.stdout.flush()
    table_hints()


def table_hints() -> None:
    """Notes from the tables drawn so far (columns left out to fit the width), on stderr."""
    table = sys.modules.get("inferwall.render.table")  # no table drawn: nothing to import or say
    if table is not None:
        for line in table.take_hints():
            note(f"note: {line}")


def note(text: str) -> None:
    """Messages, warnings and notes go to stderr; control characters from names in files are escaped."""
    from inferwall.render import printable

    sys.stderr.write("\n".join(printable(line) for line in text.rstrip().split("\n")) + "\n")


def pick_format(fmt: Format | None) -> Format:
    return fmt or default_format()


def catalog(paths: list[str] | None):
    from inferwall.catalog import load_catalog

    cat = load_catalog(paths)
    for line in cat.notes:
        note(line)
    return cat


def guarded(body: "Callable[[], int | None]", debug: bool = False) -> int:
    """Run ``body`` and map what it raises to an exit code, one line on stderr, no traceback.

    Bad input 2, a failed check 1, Ctrl-C 130, anything unexpected 3 (``debug`` re-raises instead).
    Shared by the full CLI and the fast path, so both report errors alike.
    """
    import os

    from inferwall.errors import USAGE_ERRORS, CheckFailed

    try:
        rv = body()
        return rv if isinstance(rv, int) else 0
    except USAGE_ERRORS as exc:
        if debug:
            raise
        return fail(f"Error: {exc}", 2)
    except CheckFailed as exc:
        return fail(str(exc), 1) if str(exc) else 1
    except KeyboardInterrupt:
        return fail("Interrupted.", 130)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); silence the interpreter's complaint at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:  # noqa: BLE001 - the top-level handler
        if debug:
            raise
        return fail(f"Internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback; "
                    "please report it)", 3)


def fail(message: str, code: int) -> int:
    """One line on stderr: control characters from user input are escaped, never echoed raw."""
    from inferwall.render import printable

    sys.stderr.write(printable(message.strip()) + "\n")
    return code
