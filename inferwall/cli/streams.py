"""stdout and stderr for the CLI: writes that fail become one line, closed streams stand-ins. Light: the console
script installs these before anything else is imported (``inferwall --version`` answers with them alone)."""

from __future__ import annotations

import sys


class OutputError(Exception):
    """stdout cannot take the output (a full disk, a closed stream): exit code 2, one line."""


def write_out(text: str) -> None:
    """Write data to stdout; an I/O failure other than a vanished reader becomes one ``OutputError`` line."""
    try:
        sys.stdout.write(text)
    except BrokenPipeError:
        raise
    except (OSError, AttributeError, ValueError) as exc:  # full disk, closed or missing stdout
        raise OutputError(_output_problem(exc)) from None


def flush_out() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except (OSError, AttributeError, ValueError) as exc:
        raise OutputError(_output_problem(exc)) from None


def emit(text: str) -> None:
    """Data goes to stdout, and only data."""
    write_out(text)
    flush_out()


def _output_problem(exc: BaseException) -> str:
    if isinstance(exc, UnicodeEncodeError):
        char = exc.object[exc.start:exc.end] if isinstance(exc.object, str) else "?"
        return (f"Error: cannot write the output: stdout's encoding ({exc.encoding}) cannot encode {char!r}; "
                "use a UTF-8 locale or PYTHONIOENCODING=utf-8")
    if sys.stdout is None or isinstance(exc, (AttributeError, ValueError)):
        return "Error: cannot write the output: stdout is closed"
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return f"Error: cannot write the output: {reason}"


def _write_err(text: str) -> None:
    try:
        sys.stderr.write(text)
        sys.stderr.flush()
    except (OSError, AttributeError, ValueError):
        pass  # nowhere left to report anything


def silence_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's final flush of what is left cannot fail again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, AttributeError, ValueError):
        sys.stdout = Discard()


class Discard:
    """A stream that drops what it is given: stands in for a stdout or stderr that is closed or gone."""

    encoding = "utf-8"

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        return None

    def isatty(self) -> bool:
        return False


class ClosedStdout(Discard):
    """Stands in for a stdout the shell closed (``>&-``): every write fails, so the run reports it in one line."""

    def write(self, text: str) -> int:
        raise OSError(9, "stdout is closed")


class GuardedStdout:
    """The console script's stdout: a write that fails (a full disk, a closed stream) raises ``OutputError``, which
    the top-level handler reports in one line, whoever wrote (a command, or the framework printing help). A reader
    that went away still raises BrokenPipeError (exit 0, quietly). Everything else is the real stream's."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise
        except (OSError, UnicodeEncodeError) as exc:
            raise OutputError(_output_problem(exc)) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise OutputError(_output_problem(exc)) from None

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


