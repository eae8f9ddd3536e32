"""``inferwall schema plan``: the JSON Schema of capacity plan files, for editors to complete and validate."""

from __future__ import annotations

import typer

from ..common import emit

schema_app = typer.Typer(help="JSON Schemas of inferwall's input files.", no_args_is_help=True, add_completion=False)


@schema_app.command("plan")
def plan() -> None:
    """Print the JSON Schema of capacity plans (inferwall check), generated from the estimate fields.

    Editors use it for completion and validation; e.g. in VS Code with the YAML extension, put '# yaml-language-server: $schema=plan.schema.json' at the top of a plan.
    """
    import json

    from inferwall.plans import plan_schema

    emit(json.dumps(plan_schema(), indent=2, ensure_ascii=False) + "\n")


def register(app: typer.Typer) -> None:
    app.add_typer(schema_app, name="schema")
