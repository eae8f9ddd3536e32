"""Shared fixtures."""

import os

import pytest


@pytest.fixture(scope="session")
def monkeypatch_env():
    """Keep the user's INFERWALL_* variables out of CLI comparisons."""
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("INFERWALL_")}
    yield
    os.environ.update(saved)


def pytest_terminal_summary(terminalreporter):
    """Say why tests were skipped, counted by reason: "25 skipped: need the shared calibration data (...)"."""
    reports = terminalreporter.stats.get("skipped", [])
    groups: dict[str, list[str]] = {}
    for report in reports:
        longrepr = report.longrepr
        text = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
        text = text.removeprefix("Skipped: ")
        head, _, detail = text.partition(": ")
        groups.setdefault(head, []).append(detail)
    if not groups:
        return
    terminalreporter.write_sep("-", "why tests were skipped")
    for head, details in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        example = next((d for d in details if d), "")
        terminalreporter.write_line(f"{len(details)} skipped: {head}" + (f": {example}" if example else ""))
