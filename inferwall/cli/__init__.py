"""The command-line interface. ``run`` is the console script's entry point."""

from __future__ import annotations

import sys


def run() -> None:
    argv = sys.argv[1:]
    if argv == ["--version"]:  # answer without importing the CLI framework
        from inferwall import __version__

        sys.stdout.write(f"inferwall {__version__}\n")
        sys.exit(0)
    from .fast import run_fast

    code = run_fast(argv)  # a plain `estimate` one-liner skips the CLI framework's start-up
    if code is not None:
        sys.exit(code)
    from .main import main

    sys.exit(main(argv))
