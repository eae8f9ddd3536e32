"""Scenario flags for every command, generated from ``inferwall.fields.FIELDS`` (one table, no copies).

``with_scenario_flags(body, mode)`` returns a Typer command whose signature is ``body``'s own parameters
plus one option per scenario field. The command calls ``body(scenario, **own)``, where ``scenario`` maps
each field name to its raw value (``None`` when not given).

Modes:

* ``estimate``: one value per flag, whole-number flags typed as integers, the estimate defaults shown.
* ``grid`` (compare, sweep): every flag is text and takes a comma list or a range.
* ``check``: one value per flag; a given flag replaces that field in every scenario of the plans. The
  ``INFERWALL_GPU``/``INFERWALL_PRICE`` variables do not apply: a plan file should mean the same everywhere.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, List, Optional

import typer

from inferwall.fields import BY_NAME, FIELDS
from inferwall.render import Format

OUTPUT = "Output"
FORMATS = "|".join(f.value for f in Format)

GRID_HELP = "Comma list or range (1..256, 1..64:8)."
COUNT_HELP = "4k is 4000 (k = 1000, M = 1,000,000)."
COUNT_FLAGS_HELPED = ("gpus", "batch", "input_tokens", "output_tokens")  # counts often written with k
OVERRIDE_PANEL = "Overrides (replace the plans' value in every scenario)"


def _option(f, mode: str) -> inspect.Parameter:
    decls = [f.flag] + ([f.short] if f.short else [])
    panel = f.panel
    if f.is_switch:
        default, annotation = False, bool
    elif mode == "estimate":
        # Whole numbers arrive as text, so that 4k reads as 4000 here as in plans and grids (units.parse_int).
        default = f.default
        annotation = str if default is not None else Optional[str]
    else:
        default, annotation = None, Optional[str]
    envvar = f.envvar if mode != "check" else None
    help_text = f.help.replace("[", "\\[")  # rich markup would swallow "[default: ...]"
    metavar = None
    if f.cli_int and mode != "grid":
        metavar = "INTEGER"
    if f.name in COUNT_FLAGS_HELPED:
        help_text = f"{help_text} {COUNT_HELP}"
    if mode == "grid" and not f.is_switch:
        help_text = f"{help_text} {GRID_HELP}" if f.name in ("batch", "gpus", "input_tokens") else help_text
        metavar = "LIST"
    if mode == "check":
        panel = OVERRIDE_PANEL
    option = typer.Option(default, *decls, help=help_text, rich_help_panel=panel, envvar=envvar, metavar=metavar,
                          show_default=mode == "estimate" and f.default not in (None, False))
    return inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=annotation)


def format_option(default_help: str = "") -> Any:
    return typer.Option(None, "--format", "-f", envvar="INFERWALL_FORMAT", case_sensitive=False,
                        help=f"{FORMATS} \\[default: table on a terminal, tsv when piped].{default_help}",
                        rich_help_panel=OUTPUT)


def catalog_option() -> Any:
    return typer.Option(None, "--catalog", help="Extra catalog YAML (repeatable; also INFERWALL_CATALOG).",
                        rich_help_panel=OUTPUT)


CONTEXT = "_click_context"  # typer passes the click context to a parameter annotated typer.Context


def origins(ctx: Any, values: dict[str, Any]) -> dict[str, str]:
    """field -> where its value came from, for the values not typed on the command line (environment, user
    config file, default); see ``inferwall.provenance``."""
    from inferwall.config import config_path
    from inferwall.provenance import origin_label

    out: dict[str, str] = {}
    for name, value in values.items():
        if value is None or value is False or name not in BY_NAME:
            continue
        source = getattr(ctx.get_parameter_source(name), "name", "")
        label = origin_label(source, name, ctx.info_name, config_path() if source == "DEFAULT_MAP" else None)
        if label:
            out[name] = label
    return out


FormatOpt = Optional[Format]
CatalogOpt = Optional[List[str]]


def with_scenario_flags(body: Callable[..., Any], mode: str) -> Callable[..., Any]:
    """Wrap ``body(scenario: dict, **own)`` into a Typer command with every scenario flag."""
    own = inspect.signature(body, eval_str=True).parameters
    params = [p for p in own.values() if p.kind is not inspect.Parameter.VAR_KEYWORD and p.name != "scenario"]
    arguments = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in params
                 if isinstance(p.default, typer.models.ArgumentInfo)]
    options = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in params
               if not isinstance(p.default, typer.models.ArgumentInfo)]
    names = [f.name for f in FIELDS]
    clash = set(names) & {p.name for p in params}
    assert not clash, f"{body.__name__} redefines scenario fields {clash}"
    context = inspect.Parameter(CONTEXT, inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context)
    signature = inspect.Signature(arguments + [_option(f, mode) for f in FIELDS] + options + [context])

    def command(**kwargs: Any) -> Any:
        ctx = kwargs.pop(CONTEXT)
        scenario = {name: kwargs.pop(name) for name in names}
        scenario["origins"] = origins(ctx, scenario)
        return body(scenario, **kwargs)

    command.__signature__ = signature  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in signature.parameters.values()}
    command.__name__ = body.__name__
    command.__doc__ = body.__doc__
    return command
