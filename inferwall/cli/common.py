"""Helpers every command shares: output streams, format choice, catalog loading."""

from __future__ import annotations

import sys

from inferwall.render import Format, default_format

from .streams import OutputError, _write_err, flush_out, silence_stdout, write_out  # noqa: F401 - shared here

TYPE_CHECKING = False  # typing costs start-up; its names are only needed by type checkers
if TYPE_CHECKING:
    from typing import Callable


def emit(text: str) -> None:
    """Data goes to stdout, and only data; what a table left out to fit the terminal is said on stderr."""
    write_out(text)
    flush_out()
    table_hints()


def table_hints() -> None:
    """Notes from the tables drawn so far (columns left out to fit the width), on stderr."""
    table = sys.modules.get("inferwall.render.table")  # no table drawn: nothing to import or say
    if table is not None:
        for line in table.take_hints():
            note(f"note: {line}")


_PENDING: list[str] | None = None  # notes held back while a command runs (see ``guarded``)


def note(text: str) -> None:
    """Messages, warnings and notes go to stderr, control characters from names in files escaped: once the command
    has produced its result, never before an error line (inside ``guarded`` they wait; an error run drops them)."""
    from inferwall.render import printable

    line = "\n".join(printable(part) for part in text.rstrip().split("\n")) + "\n"
    if _PENDING is not None:
        _PENDING.append(line)
        return
    _write_err(line)


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

    Bad input 2, a failed check 1, Ctrl-C 130, anything unexpected 3 (``debug`` re-raises instead). A reader that
    goes away (``| head``) ends the run quietly with 0. Notes wait until the run has a result (0 or 1) and are
    dropped otherwise, so an error run prints its error line alone. Shared by the full CLI and the fast path, so
    both report errors alike.
    """
    from inferwall.errors import USAGE_ERRORS, CheckFailed

    global _PENDING
    outer, _PENDING = _PENDING, []
    restore = _catch_interrupts()
    code: int | None = None
    try:
        rv = body()
        code = rv if isinstance(rv, int) else 0
        return code
    except USAGE_ERRORS as exc:
        if debug:
            raise
        code = fail(f"Error: {exc}", 2)
        return code
    except CheckFailed as exc:
        _flush_notes()
        code = fail(str(exc), 1) if str(exc) else 1
        return code
    except (KeyboardInterrupt, Interrupted):
        code = fail("Interrupted.", 130)
        return code
    except BrokenPipeError:
        silence_stdout()  # the reader went away (e.g. `| head`): nothing more to say, not even the notes
        _PENDING.clear()
        code = 0
        return code
    except OutputError as exc:
        silence_stdout()
        code = fail(str(exc), 2)
        return code
    except Exception as exc:  # noqa: BLE001 - the top-level handler
        if debug:
            raise
        code = fail(f"Internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback; "
                    "please report it)", 3)
        return code
    finally:
        if code in (0, 1):
            _flush_notes()
        _PENDING = outer
        restore()


def _flush_notes() -> None:
    if _PENDING:
        _write_err("".join(_PENDING))
        _PENDING.clear()


class Interrupted(BaseException):
    """Ctrl-C while a command runs. Not a KeyboardInterrupt, which the CLI framework turns into a silent exit:
    this one passes through it to ``guarded``, and through every cleanup (``except BaseException: ...; raise``)."""


def _interrupt(signum: int, frame: object) -> None:
    raise Interrupted()


def _catch_interrupts() -> "Callable[[], None]":
    """Let Ctrl-C raise ``Interrupted`` while a command runs (so temporary files are cleaned up and ``guarded``
    prints 'Interrupted.'); returns what puts the previous SIGINT handler back."""
    import signal

    try:
        previous = signal.signal(signal.SIGINT, _interrupt)
    except (ValueError, OSError):  # not the main thread
        return lambda: None

    def restore() -> None:
        try:
            signal.signal(signal.SIGINT, previous)
        except (ValueError, OSError, TypeError):
            pass

    return restore


def fail(message: str, code: int) -> int:
    """One line on stderr: control characters from user input are escaped, never echoed raw."""
    from inferwall.render import printable

    _write_err(printable(message.strip()) + "\n")
    return code
