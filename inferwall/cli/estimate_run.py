"""The body of ``inferwall estimate``, free of the CLI framework so the fast path can call it too."""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs start-up; its names are only needed by type checkers
if TYPE_CHECKING:
    from typing import Any

from inferwall.render import Format

from .common import catalog, emit, note, pick_format


def run_estimate(scenario: dict[str, Any], fmt: Format | None, catalog_files: list[str] | None,
                 chart: bool = False, output: str | None = None, explain: bool = False) -> None:
    from inferwall.evaluate import Evaluation
    from inferwall.inputs import Options
    from inferwall.render import render_record

    if chart or output is not None:
        from . import charting

        charting.check_output(output)
    evaluation = Evaluation(Options(**scenario), catalog(catalog_files))  # the Python API's estimate() too
    resolved, est, record = evaluation.resolved, evaluation.estimate, evaluation.record
    derivation = None
    if explain:
        from dataclasses import replace

        from inferwall.core.economics import bound_shift
        from inferwall.render.explain import explain_markdown

        cited = {"model": resolved.model_entry.sources if resolved.model_entry else (),
                 "gpu": resolved.gpu_entry.sources if resolved.gpu_entry else ()}
        # under a request rate the batch is the concurrency the rate sustains: what would move it is asked there
        at = resolved.scenario if est.load is None else replace(est.scenario, load=None)
        derivation = explain_markdown(est, record, bound_shift(at, resolved.compute_explicit), cited)
    explain_is_output = derivation is not None and fmt is Format.markdown and not chart
    if explain_is_output:
        emit(derivation)  # the derivation is the requested document
    if chart or output is not None:
        from . import charting

        drew = charting.deliver(chart and not explain_is_output, output, lambda: charting.estimate_chart(est))
    else:
        drew = False
    if not drew and not explain_is_output:
        out_format = pick_format(fmt)
        if out_format in (Format.table, Format.markdown):  # the human view, drawn or as a markdown document
            from inferwall.render import clean
            from inferwall.render.table import estimate_markdown, estimate_table

            emit((estimate_table if out_format is Format.table else estimate_markdown)(clean(record)))
        else:
            emit(render_record(out_format, record))
    if derivation is not None and not explain_is_output:
        note(derivation)
    for line in record["notes"]:
        note(f"note: {line}")
