"""The team's shared data (``../shared``: published serving measurements and reference catalogs) lives outside
the repository. Tests that need it skip with one reason each, so that a checkout without it reports
"N skipped: need the shared calibration data" (the summary is tests/conftest.py's) rather than bare skips.
``INFERWALL_SHARED`` points at another copy."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("INFERWALL_SHARED") or ROOT.parent / "shared")
CALIBRATION = SHARED / "validation" / "calibration.yaml"
CALIBRATION_V19 = SHARED / "validation" / "calibration-trtllm-v0.19.yaml"
REFERENCE_MODELS = SHARED / "reference" / "models.yaml"

WHAT = {CALIBRATION: "need the shared calibration data", CALIBRATION_V19: "need the shared calibration data",
        REFERENCE_MODELS: "need the shared reference catalog"}


def reason(path: Path) -> str:
    return f"{WHAT[path]}: {path} is not here; it lives outside the repository, in ../shared (INFERWALL_SHARED " \
           "points at another copy)"


def require(path: Path) -> None:
    """Skip the calling test (or fixture) unless ``path`` exists."""
    if not path.is_file():
        pytest.skip(reason(path))


def needs(path: Path):
    """A skip mark for tests that need ``path``."""
    return pytest.mark.skipif(not path.is_file(), reason=reason(path))
