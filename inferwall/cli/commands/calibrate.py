"""``inferwall calibrate MEASUREMENTS... --output PROFILE.yaml``: fit an engine profile's few physical parameters to
your own measurements and write a profile for ``--engine-file``."""

from __future__ import annotations

import os
from typing import Any, List, Optional

import typer

from ..common import catalog, emit, note, pick_format
from ..flags import OUTPUT, CatalogOpt, FormatOpt, catalog_option, format_option, with_scenario_flags

FIT = "Fit"


def calibrate(
    scenario: dict[str, Any],
    measurements: List[str] = typer.Argument(..., metavar="MEASUREMENTS...", help="Measured rows: YAML/CSV in the schema of shared/validation/calibration.yaml, or vllm bench serve JSON results."),
    output: Optional[str] = typer.Option(None, "--output", "-O", metavar="PROFILE.yaml", help="Write the fitted profile here (use it with --engine-file).", rich_help_panel=OUTPUT),
    profile_id: Optional[str] = typer.Option(None, "--id", help="The id of the written profile [default: <base>-calibrated].", rich_help_panel=OUTPUT),
    rounds: int = typer.Option(3, "--rounds", min=0, max=10, help="Rounds of the bounded coordinate search (0: report only).", rich_help_panel=FIT),
    fmt: FormatOpt = format_option(),
    catalog_files: CatalogOpt = catalog_option(),
) -> None:
    """Fit a profile's physical parameters (GEMM, attention and streaming efficiency of the architectures your rows
    cover, kernel floor, collective latency, the engine's host costs) inside their boxes to your measurements.

    Starts from --engine NAME or --engine-file FILE (default vllm). Prints the error per group before and after,
    lists the rows it could not express with the reason, and writes a profile with the fitted values, their boxes
    and sources, and the error bands of your residuals. A vllm bench serve JSON does not name the hardware: give
    --gpu and the layout flags (--tp, --pp), which apply to those rows.
    """
    from inferwall.calibration import report as rep
    from inferwall.calibration.fit import State
    from inferwall.calibration.run import calibrate as run, load_cases
    from inferwall.catalog import profiles
    from inferwall.errors import InputError
    from inferwall.render import Format, render_rows
    from inferwall.render.check import target_problem

    if output is not None and target_problem(output):  # before any work: never replace a device, FIFO or folder
        raise InputError(f"--output {output}: cannot write ({target_problem(output)})")
    cat = catalog(catalog_files)
    if scenario.get("engine_file"):
        base = profiles.load_engine_file(str(scenario["engine_file"]))
    else:
        base = profiles.load_engine(scenario.get("engine") or profiles.DEFAULT_ENGINE)
    flags = {k: v for k, v in scenario.items() if k not in ("engine", "engine_file")}
    cases, skipped = load_cases([str(p) for p in measurements], cat, flags)
    for case in cases:  # rows calibrate the base profile unless they name another engine of the set
        if case.kind == "estimate":
            case.options["engine"] = base.id
    for s in skipped:
        note(f"skipped {s.id}: {s.reason}")
    usable = [c for c in cases if c.fitted]
    if not usable:
        first = f"; the first, {skipped[0].id}: {skipped[0].reason}" if skipped else ""
        raise InputError(f"no usable rows in {', '.join(map(str, measurements))}: {len(skipped)} skipped{first}")
    state = State(kernels=profiles.load_kernels(), engines={base.id: base})
    outcome = run(cases, cat, state, rounds=rounds, log=lambda line: note(f"calibrate: {line}"),
                  note=f"fitted by inferwall calibrate on {len(usable)} rows of {', '.join(os.path.basename(p) for p in measurements)}")
    groups = rep.group_rows(outcome.before, outcome.after)
    knobs = rep.knob_rows(outcome.report, outcome.state)
    bands = outcome.bands.get(base.id, [])
    written = None
    if output is not None:
        from inferwall.render.check import write_atomically

        new_id = profile_id or f"{base.id}-calibrated"
        meta = {"id": new_id, "base": f"{base.id} ({base.source_file})", "rows": len(usable),
                "skipped": len(skipped), "files": [str(p) for p in measurements],
                "objective_before": outcome.report.objective_before if outcome.report else None,
                "objective_after": outcome.report.objective_after if outcome.report else None}
        data = rep.profile_data(base.raw, base.id, outcome.state, outcome.report, bands, meta)
        header = (f"# Engine profile fitted by `inferwall calibrate` from {base.id} on {len(usable)} measured rows.\n"
                  "# Use it with --engine-file. Fitted values keep their boxes and sources; `fitted` says how.")
        try:
            write_atomically(str(output), rep.dump_yaml(data, header).encode("utf-8"))
        except OSError as exc:
            raise InputError(f"--output {output}: cannot write ({exc.strerror or exc})") from None
        written = str(output)
    out_format = pick_format(fmt)
    if out_format in (Format.json, Format.yaml):
        from inferwall.render import text

        doc = {"groups": groups, "parameters": knobs, "error_bands": bands,
               "skipped": [{"id": s.id, "reason": s.reason} for s in skipped], "profile": written}
        emit(text.RECORD_RENDERERS[out_format.value](doc))
    else:
        rows = [{"group": g["group"], "n": g["n"], "median_error_before": g["median_before"] / 100,
                 "median_error_after": g["median_after"] / 100, "p90_error_after": g["p90_after"] / 100,
                 "bias_after": g["bias_after"]} for g in groups]
        emit(render_rows(out_format, rows, list(rows[0]), title="calibration error by group"))
        for k in knobs:
            note(f"fitted {k['parameter']}: {k['prior']:.4g} -> {k['fitted']:.4g} (box {k['box'][0]:g}-{k['box'][1]:g})")
    if written:
        note(f"wrote {written} ({len(usable)} rows; use it with --engine-file {written})")


def register(app: typer.Typer) -> None:
    app.command("calibrate")(with_scenario_flags(calibrate, "check"))
