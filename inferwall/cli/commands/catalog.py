"""``inferwall gpus`` and ``inferwall models``: list the catalog."""

from __future__ import annotations

from typing import List, Optional

import typer

from inferwall.render import Format

from ..common import catalog, emit, note, pick_format


def gpus(
    filter_text: Optional[str] = typer.Argument(None, metavar="[FILTER]", help="Only entries whose id, name, vendor or aliases contain these words."),
    fmt: Optional[Format] = typer.Option(None, "--format", "-f", envvar="INFERWALL_FORMAT", case_sensitive=False, help="table|json|csv|tsv|markdown|yaml."),
    catalog_files: Optional[List[str]] = typer.Option(None, "--catalog", help="Extra catalog YAML (repeatable)."),
) -> None:
    """List accelerators: dense peak FLOP/s, memory, bandwidth, links and default price."""
    from inferwall.catalog.listing import GPU_COLUMNS, gpu_rows
    from inferwall.render import render_rows

    rows, notes = gpu_rows(catalog(catalog_files), filter_text)
    emit(render_rows(pick_format(fmt), rows, GPU_COLUMNS, "Accelerators (dense peak, FP32 accumulate)"))
    for line in notes:
        note(line)


def models(
    filter_text: Optional[str] = typer.Argument(None, metavar="[FILTER]", help="Only entries whose id, name or aliases contain these words."),
    fmt: Optional[Format] = typer.Option(None, "--format", "-f", envvar="INFERWALL_FORMAT", case_sensitive=False, help="table|json|csv|tsv|markdown|yaml."),
    catalog_files: Optional[List[str]] = typer.Option(None, "--catalog", help="Extra catalog YAML (repeatable)."),
) -> None:
    """List models: parameters, shape, attention type, experts."""
    from inferwall.catalog.listing import MODEL_COLUMNS, model_rows
    from inferwall.render import render_rows

    rows, notes = model_rows(catalog(catalog_files), filter_text)
    emit(render_rows(pick_format(fmt), rows, MODEL_COLUMNS, "Models"))
    for line in notes:
        note(line)


def register(app: typer.Typer) -> None:
    app.command("gpus")(gpus)
    app.command("models")(models)
