"""``inferwall check PLAN.yaml [PLAN.yaml ...]``: evaluate capacity plans; exit 0 if every assertion holds.

Exit codes: 0 every assertion holds, 1 an assertion fails, 2 a plan is invalid (file:line: field: problem).
"""

from __future__ import annotations

from typing import Any, List, Optional

import typer

from ..common import catalog, emit, note, pick_format
from ..flags import OUTPUT, CatalogOpt, FormatOpt, catalog_option, format_option, with_scenario_flags


def check(
    scenario: dict[str, Any],
    plans: List[str] = typer.Argument(..., metavar="PLAN.yaml...", help="Capacity plan files (see 'inferwall schema plan')."),
    fmt: FormatOpt = format_option(" markdown suits a CI job summary."),
    junit: Optional[str] = typer.Option(None, "--junit", metavar="FILE", help="Also write JUnit XML (one testcase per assertion) for CI systems.", rich_help_panel=OUTPUT),
    catalog_files: CatalogOpt = catalog_option(),
) -> None:
    """Check capacity plans: scenarios (estimate fields) and assertions such as max_tpot_s or must_fit.

    Prints one row per assertion: the actual value against the threshold, pass or FAIL, and what binds (the prefill or decode term that sets the value). Exit code 0 if all hold, 1 if any fails, 2 if a plan is invalid. An estimate flag given here replaces that field in every scenario (a what-if).
    """
    from inferwall import plans as p
    from inferwall.errors import CheckFailed, InputError
    from inferwall.render.check import junit_xml, render_check, target_problem, write_atomically

    override_origins = scenario.pop("origins", {})
    overrides = {k: v for k, v in scenario.items() if v is not None and v is not False}
    paths = [str(x) for x in plans]
    if junit is not None and target_problem(junit):  # before any work: never replace /dev/null or a FIFO
        raise InputError(f"--junit {junit}: cannot write ({target_problem(junit)})")

    def write_junit(results, errors=None) -> None:
        if junit is None:
            return
        try:
            write_atomically(str(junit), junit_xml(results, paths, errors))
        except OSError as exc:
            raise InputError(f"--junit {junit}: cannot write ({exc.strerror or exc})") from None

    cat = None
    resolved = []
    for path in paths:
        try:
            plan = p.load_plan(path)
            if cat is None:
                cat = catalog(catalog_files)
            resolved.append((plan, p.resolve_plan(plan, cat, overrides, override_origins)))
        except InputError as exc:
            write_junit([], {path: str(exc)})
            raise
    for name, value in overrides.items():
        flag = f"--{name.replace('_', '-')}" + ("" if value is True else f" {value}")
        note(f"note: {flag} replaces the plans' {name} in every scenario")

    results = []
    notes: list[tuple[str, str, list[str]]] = []
    for plan, scenarios in resolved:
        try:
            found, scenario_notes = p.evaluate(plan, scenarios)
        except InputError as exc:
            write_junit([], {plan.path: str(exc)})
            raise
        results.extend(found)
        notes.extend((plan.path, name, lines) for name, lines in scenario_notes.items())

    emit(render_check(pick_format(fmt), results, show_plan=len(paths) > 1))
    write_junit(results)
    for path, name, lines in notes:
        for line in lines:
            note(f"note [{name}]: {line}" if len(paths) == 1 else f"note [{path} {name}]: {line}")
    failed = [r for r in results if not r.passed]
    if failed:
        first = failed[0]
        raise CheckFailed(f"check: {len(failed)} of {len(results)} assertions failed; first: {first.scenario}: "
                          f"{first.assertion}: {first.detail}")
    note(f"check: all {len(results)} assertions hold")


def register(app: typer.Typer) -> None:
    app.command("check")(with_scenario_flags(check, "check"))
