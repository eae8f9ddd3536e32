"""``inferwall fleet``: what a fleet of accelerators serves in a day, and the seed's table across GPU generations."""

from __future__ import annotations

from typing import Any, Optional

import typer

from inferwall.fleets import FLEET_EXCLUDED

from ..flags import CatalogOpt, FormatOpt, catalog_option, format_option
from ._flags import with_estimate_flags

TARGET = "Latency target (replaces the file's)"
DAY = "The day (replaces the file's)"
GENERATIONS = "Generations"

@with_estimate_flags(exclude=FLEET_EXCLUDED)
def fleet(
    flags: dict[str, Any],
    path: Optional[str] = typer.Argument(None, metavar="[FLEET.yaml]", help="A fleet file: accelerators and counts, a workload, the day (see specs/fleets/)."),
    generations: bool = typer.Option(False, "--generations", help="The seed's table instead: tokens/s per GPU of a GPT-4-class MoE (default deepseek-v3) at 8k context across GPU generations, 16-bit and FP8, against FLOP/s growth.", rich_help_panel=GENERATIONS),
    gpus_from: Optional[str] = typer.Option(None, "--gpus-from", help="--generations: the accelerators, oldest first \\[default: a100,h100,h200,b200].", rich_help_panel=GENERATIONS),
    per_user_tokens_per_s: Optional[str] = typer.Option(None, "--per-user-tokens-per-s", help="Each user streams at least this fast: max TPOT = 1 / this \\[--generations default: 20].", rich_help_panel=TARGET),
    max_tpot: Optional[str] = typer.Option(None, "--max-tpot", help="Time per output token at most this (50ms).", rich_help_panel=TARGET),
    max_ttft: Optional[str] = typer.Option(None, "--max-ttft", help="Time to first token at most this (2s).", rich_help_panel=TARGET),
    minutes_per_user_day: Optional[float] = typer.Option(None, "--minutes-per-user-day", help="Minutes a day each user generates, for the user base \\[default: 10].", rich_help_panel=DAY),
    utilization: Optional[str] = typer.Option(None, "--utilization", help="Share of capacity in use: one value (0.6, 60%) or a comma list over equal slices of the day.", rich_help_panel=DAY),
    pue: Optional[float] = typer.Option(None, "--pue", help="Power usage effectiveness: facility / device energy \\[default: 1].", rich_help_panel=DAY),
    electricity_usd_per_kwh: Optional[float] = typer.Option(None, "--electricity-usd-per-kwh", help="Adds the energy bill to the cost (for owned hardware; cloud GPU-hour prices include power).", rich_help_panel=DAY),
    fmt: FormatOpt = format_option(),
    catalog_files: CatalogOpt = catalog_option(),
) -> None:
    """What a fleet serves in a day: tokens, the FLOP and bandwidth bounds, users, energy and cost per type and in total.

    For each accelerator type the planner picks the layout and batch with the most tokens per GPU that meets the latency target. Flags replace the file's values; INFERWALL_* variables and the config file do not change a fleet file's workload or prices. --generations prints the seed's generational table instead.
    """
    from inferwall import fleets as fl
    from inferwall.errors import InputError
    from inferwall.render import Format, clean

    from ..common import catalog, emit, note, pick_format

    typed = {k: v for k, v in flags.items() if k != "origins" and v not in (None, False)
             and k not in flags.get("origins", {})}  # only what was typed: a fleet means the same everywhere
    target = fl.latency_overrides(per_user_tokens_per_s, max_tpot, max_ttft)
    day = {"minutes_per_user_day": minutes_per_user_day, "utilization": utilization, "pue": pue,
           "electricity_usd_per_kwh": electricity_usd_per_kwh}
    out_format = pick_format(fmt)
    if generations:
        if path is not None:
            raise InputError(f"--generations takes no fleet file (got {path}); run the file without --generations")
        given = [f"--{k.replace('_', '-')}" for k, v in day.items() if v is not None]
        if given or typed.get("price") is not None:
            raise InputError(f"{', '.join(given + (['--price'] if typed.get('price') else []))}: a fleet file's "
                             "option; --generations compares one GPU of each generation")
        result = fl.generations_report(catalog(catalog_files), {k: v for k, v in typed.items() if k != "price"},
                                       gpus_from, target)
        from inferwall.render.economics import rows_output
        from inferwall.render.fleet import generation_layout, generations_columns

        machine, human = generations_columns()
        rows = [dict(r, layout=generation_layout(r)) for r in result["rows"]]
        emit(rows_output(out_format, rows, machine, result["title"], table_columns=human,
                         drop=("tpot_s", "batch", "layout", "year", "bandwidth_growth", "fraction_of_flop_bound")))
        note(result["summary"])
        for line in result["notes"]:
            note(f"note: {line}")
        return
    if path is None:
        raise InputError("give a fleet file (inferwall fleet specs/fleets/FILE.yaml), or --generations")
    if gpus_from is not None:
        raise InputError("--gpus-from goes with --generations; a fleet file lists its accelerators")
    record = fl.fleet_report(path, catalog(catalog_files), fl.make_overrides(typed, target, day))
    from inferwall.render.fleet import FLEET_TABLE_DROP, fleet_rows, fleet_summary, fleet_table_columns, fleet_title

    if out_format in (Format.json, Format.yaml, Format.jsonl):
        from inferwall.render import render_record

        emit(render_record(out_format, record))
    else:
        from inferwall.render.economics import rows_output
        from inferwall.render.fleet import FLAT_COLUMNS

        emit(rows_output(out_format, [clean(r) for r in fleet_rows(record)], [(k, k, None) for k in FLAT_COLUMNS],
                         fleet_title(record), table_columns=fleet_table_columns(), drop=FLEET_TABLE_DROP))
    note(fleet_summary(record))
    for line in record["notes"]:
        note(f"note: {line}")


def _without_environment(command):
    """The scenario flags without their INFERWALL_* variables: a fleet file means the same on every machine (as a
    plan file does for ``check``), and the help says no variable applies."""
    import copy
    import inspect

    params = []
    for p in command.__signature__.parameters.values():
        if isinstance(p.default, typer.models.OptionInfo) and p.default.envvar and p.name != "fmt":
            info = copy.copy(p.default)
            info.envvar = None
            p = p.replace(default=info)
        params.append(p)
    command.__signature__ = inspect.Signature(params)
    return command


fleet = _without_environment(fleet)


def register(app: typer.Typer) -> None:
    app.command("fleet")(fleet)
