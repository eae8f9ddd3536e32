"""``inferwall catalog validate FILE...``: check user catalog files before using them."""

from __future__ import annotations

import os
from typing import List, Optional

import typer

from ..common import note

catalog_app = typer.Typer(help="Manage user catalogs (accelerators and models).", no_args_is_help=True,
                          add_completion=False)


@catalog_app.command("validate")
def validate(
    files: Optional[List[str]] = typer.Argument(None, metavar="FILE...", help="Catalog YAML files [default: those in INFERWALL_CATALOG]."),
) -> None:
    """Validate user catalog files: the same checks as --catalog, plus each model's shape.

    Prints 'ok: FILE: N accelerators, M models' on stderr for each valid file (stdout stays empty) and stops with exit code 2 and a one-line error naming the file, entry and field at the first invalid one.
    """
    from inferwall.catalog import CATALOG_ENV, Catalog
    from inferwall.core import CoreError
    from inferwall.core.architecture import validate as validate_model
    from inferwall.errors import InputError

    paths = [str(f) for f in files or ()]
    if not paths:
        paths = [p for p in os.environ.get(CATALOG_ENV, "").split(os.pathsep) if p.strip()]
        if not paths:
            raise InputError(f"no files: give catalog files to validate (or set {CATALOG_ENV})")
    for path in paths:
        cat = Catalog()
        cat.add_file(path)
        for entry in cat.models.values():
            try:
                validate_model(entry.model)
            except CoreError as exc:
                raise InputError(f"{path}: {entry.model.id}: {str(exc).removeprefix(f'model {entry.model.id}: ')}") from None
        gpus, models = len(cat.gpus), len(cat.models)
        note(f"ok: {path}: {gpus} accelerator{'s' * (gpus != 1)}, {models} model{'s' * (models != 1)}")


def register(app: typer.Typer) -> None:
    app.add_typer(catalog_app, name="catalog")
