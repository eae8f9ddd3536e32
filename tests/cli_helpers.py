"""Running the CLI in-process from tests: ``run`` returns (exit code, stdout, stderr)."""

from __future__ import annotations

import json

from inferwall.cli.main import main


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv):
    """Run with ``-f json``, require exit 0, and return (parsed stdout, stderr)."""
    code, out, err = run(capsys, *argv, "-f", "json")
    assert code == 0, err
    return json.loads(out), err
