"""docs/api.md, docs/walkthrough.md and the README's Python API section cannot go stale: every python block runs
(in order, one namespace per page), and the API reference in docs/api.md is what scripts/gen_api_docs.py generates
from the functions."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "docs" / "api.md", ROOT / "docs" / "walkthrough.md", ROOT / "README.md"]


def blocks(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_python_block_runs(monkeypatch, monkeypatch_env, page):
    monkeypatch.chdir(ROOT)  # the examples name files under specs/
    code = blocks(page)
    assert len(code) >= (1 if page.name == "README.md" else 5), page
    namespace: dict = {"__name__": "__doc_example__"}
    for i, block in enumerate(code):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(block, f"{page.name} block {i + 1}", "exec"), namespace)  # noqa: S102 - our own docs
        assert out.getvalue().strip() or "assert" in block or "import" in block.split("\n")[0], (page.name, i + 1)


def test_api_reference_is_current():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_api_docs.py"), "--check"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr


def test_reference_lists_every_function_and_field():
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    import inferwall
    from inferwall.fields import FIELDS

    for name in inferwall.API[:6]:
        assert f"### `inferwall.{name}(" in text, name
    for f in FIELDS:
        assert f"| `{f.name}` | `{f.flag}` |" in text, f.name
