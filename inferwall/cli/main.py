"""Entry point: the Typer app, and a top-level handler that maps errors to exit codes.

0 ok · 1 a check failed · 2 bad input or usage · 3 internal error · 130 interrupted.
"""

from __future__ import annotations

import sys

import typer

from inferwall import __version__

from .common import fail, guarded

app = typer.Typer(
    name="inferwall",
    help="What does it cost to serve this LLM on this hardware, and why? A roofline cost calculator.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


def _version(value: bool) -> None:
    if value:
        from .common import emit

        emit(f"inferwall {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors (also INFERWALL_DEBUG=1)."),
) -> None:
    """inferwall: memory-bound vs compute-bound time, utilization, latency, throughput and $/token."""


_REGISTERED: set[str] = set()

_COMPARE_HAS_NO_CHART = ("compare has no chart: its configurations differ in every way, so no one picture fits them. "
                         "For several GPUs on one roofline: inferwall roofline --gpu h100,h200 --chart; for curves "
                         "against the batch: inferwall sweep --batch 1..256 --chart (also --output FILE.png)")
NO_CHART = {("compare", "--chart"): _COMPARE_HAS_NO_CHART, ("compare", "--output"): _COMPARE_HAS_NO_CHART}


def register_commands(argv: list[str] | None = None) -> None:
    """Add commands to the app: only the one ``argv`` names when it is known, else every module found."""
    import importlib
    import pkgutil

    from . import commands

    wanted = next((a for a in argv or [] if not a.startswith("-")), None)
    if wanted in commands.MODULE_OF:
        names = [commands.MODULE_OF[wanted]]
    else:
        names = sorted(i.name for i in pkgutil.iter_modules(commands.__path__) if not i.name.startswith("_"))
    for name in names:
        if name not in _REGISTERED:
            _REGISTERED.add(name)
            importlib.import_module(f"{commands.__name__}.{name}").register(app)


_BUILT: tuple[frozenset, object] | None = None


def _click_command():
    """The Click command tree of the registered commands, built once per set of commands (building it costs
    ~25 ms, which in-process callers such as the test suite would otherwise pay on every call)."""
    global _BUILT
    key = frozenset(_REGISTERED)
    if _BUILT is None or _BUILT[0] != key:
        _BUILT = (key, typer.main.get_command(app))
    return _BUILT[1]


def _debug_requested(argv: list[str]) -> bool:
    from inferwall.config import env_flag

    return "--debug" in argv or env_flag("INFERWALL_DEBUG")


def _fail(message: str, code: int) -> int:
    return fail(message, code)




def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (never raises, except SystemExit from within)."""
    # Typer re-exports click's exceptions (vendored from 0.28 on); find them without importing click.
    mro = {c.__name__: c for c in typer.BadParameter.__mro__}
    usage_error, click_exception = mro["UsageError"], mro["ClickException"]

    argv = list(sys.argv[1:] if argv is None else argv)
    debug = _debug_requested(argv)

    def invoke() -> int:
        try:
            from inferwall.config import load_user_config

            config = load_user_config()  # defaults below flags and INFERWALL_* variables
            register_commands(None if config else argv)  # a config file is checked against every command
            command = _click_command()
            default_map = None
            if config:
                from .config_check import config_default_map

                default_map = config_default_map(command, *config)
            rv = command.main(args=argv, prog_name="inferwall", standalone_mode=False, default_map=default_map)
            if rv == 130:  # Typer answers a KeyboardInterrupt with a silent 130; no command returns 130 itself
                raise KeyboardInterrupt
            return rv if isinstance(rv, int) else 0
        except typer.Exit as exc:
            if isinstance(exc.__cause__, KeyboardInterrupt):  # Typer turns Ctrl-C into a silent Exit(130)
                raise KeyboardInterrupt from None
            return exc.exit_code
        except typer.Abort:
            raise KeyboardInterrupt from None
        except SystemExit as exc:
            # Click answers a broken pipe with sys.exit(1), which would read as "a check failed"; a reader that
            # went away (`| head`) ends the run quietly with 0, as on the fast path.
            if isinstance(exc.__context__, BrokenPipeError):
                raise exc.__context__ from None
            raise
        except usage_error as exc:
            if type(exc).__name__ == "NoArgsIsHelpError" or not exc.format_message():
                return 0  # a bare command group printed its help
            if debug:
                raise
            missing = getattr(exc, "option_name", None)
            if exc.ctx and (exc.ctx.info_name, missing) in NO_CHART:
                return _fail(f"Error: {NO_CHART[exc.ctx.info_name, missing]}", 2)
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            return _fail(f"Error: {exc.format_message()}{hint}".replace("\n", " "), 2)
        except click_exception as exc:
            return _fail(f"Error: {exc.format_message()}", exc.exit_code or 2)

    return guarded(invoke, debug)


def run() -> None:
    sys.exit(main())
