"""The command-line interface. ``run`` is the console script's entry point."""

from __future__ import annotations

import os
import signal
import sys


def _interrupted(signum: int, frame: object) -> None:
    """Ctrl-C while starting up (importing, parsing flags): nothing to clean up yet, so say so and leave."""
    try:
        os.write(2, b"Interrupted.\n")
    finally:
        os._exit(130)


def run() -> None:
    # First thing: from here on Ctrl-C prints "Interrupted." and exits 130, never a traceback. While a command runs,
    # ``common.guarded`` lets it raise KeyboardInterrupt instead, so that temporary files are removed.
    signal.signal(signal.SIGINT, _interrupted)
    from .streams import ClosedStdout, GuardedStdout, Discard

    # A failed write to stdout is one line and exit 2, whoever writes; a closed stdout (`>&-`) fails at the first
    # write (commands that print nothing still work), a closed stderr (`2>&-`) is silent.
    sys.stdout = GuardedStdout(sys.stdout if sys.stdout is not None else ClosedStdout())
    if sys.stderr is None:
        sys.stderr = Discard()
    argv = sys.argv[1:]
    if argv == ["--version"]:  # answer without importing the CLI framework
        from inferwall import __version__

        from .streams import OutputError, emit, silence_stdout

        try:
            emit(f"inferwall {__version__}\n")
        except BrokenPipeError:
            silence_stdout()
        except OutputError as exc:
            silence_stdout()
            sys.stderr.write(f"{exc}\n")
            sys.exit(2)
        sys.exit(0)
    from .fast import run_fast

    code = run_fast(argv)  # a plain `estimate` one-liner skips the CLI framework's start-up
    if code is not None:
        sys.exit(code)
    from .main import main

    sys.exit(main(argv))
