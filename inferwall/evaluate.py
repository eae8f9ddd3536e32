"""One configuration evaluated the way every command does it: ``inputs.build``, ``core.estimate``, and the record
``render.record.estimate_record`` makes of them. ``inferwall estimate`` (its fast path too) and the Python API's
``inferwall.estimate()`` both call it, so their JSON cannot differ. Light to import: the one-liner loads it."""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs start-up; its names are only needed by type checkers
if TYPE_CHECKING:
    from typing import Any


class Evaluation:
    """``inputs.build`` + ``core.estimate`` + ``render.record``: one configuration, as every command evaluates it."""

    __slots__ = ("resolved", "estimate", "record")

    def __init__(self, options: Any, catalog: Any):
        from inferwall.core import estimate as run
        from inferwall.inputs import build
        from inferwall.render.record import estimate_record

        self.resolved = build(options, catalog)
        self.estimate = run(self.resolved.scenario, self.resolved.compute_explicit)
        notes = tuple(dict.fromkeys(self.resolved.notes + self.estimate.notes))
        self.record = estimate_record(self.estimate, self.resolved.provenance, notes)
