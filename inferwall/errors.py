"""Errors the CLI maps to exit codes. The core raises ``CoreError``; everything here is input-side."""

from __future__ import annotations

from inferwall.core.types import CoreError


class InputError(ValueError):
    """Bad user input (a flag, a file, a catalog entry): exit code 2, one line on stderr."""


class CheckFailed(Exception):
    """A check or threshold failed: exit code 1."""


USAGE_ERRORS = (InputError, CoreError)
