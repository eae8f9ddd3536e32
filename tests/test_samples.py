"""The sample outputs in README.md and docs/*.md are the tool's own output (issue 14 item 15).

Each sample follows a ``<!-- output: COMMAND -->`` marker; scripts/gen_samples.py reruns the command and
rewrites the block. After a change that moves numbers (a recalibration, a new cost model), run
``python scripts/gen_samples.py`` and commit the result with the change.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "gen_samples.py"


def _script():
    spec = importlib.util.spec_from_file_location("inferwall_gen_samples", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_sample_matches_the_current_tool():
    done = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr


def test_the_samples_that_show_output_are_all_generated():
    """The README's compare and sweep samples, the catalog check, and the economics tables are among them."""
    commands = [c for _, c in _script().samples()]
    assert any(c.startswith("inferwall compare ") for c in commands)
    assert any(c.startswith("inferwall sweep ") for c in commands)
    assert any(c.startswith("inferwall catalog validate ") for c in commands)
    assert any(" inferwall scale " in f" {c} " for c in commands) and any(" trend " in c for c in commands)


def test_a_stale_sample_is_found_and_rewritten():
    gen = _script()
    doc = ("text\n\n<!-- output: inferwall sweep -m llama-3.1-8b --batch 1,2 -c batch,gpu -->\n```\nbatch\tgpu\n"
           "1\tnvidia-h100-sxm-80gb\n3\tstale\n```\n")
    new, changed = gen.regenerate(doc)
    assert changed == ["inferwall sweep -m llama-3.1-8b --batch 1,2 -c batch,gpu"]
    assert "2\tnvidia-h100-sxm-80gb\n```" in new and "stale" not in new
    assert gen.regenerate(new)[1] == []


def test_filters_behave_as_their_shell_namesakes():
    gen = _script()
    out = gen.run_sample("inferwall sweep -m llama-3.1-8b --batch 1..8 -c batch,gpu | head -3")
    assert out.splitlines() == ["batch\tgpu", "1\tnvidia-h100-sxm-80gb", "2\tnvidia-h100-sxm-80gb"]
    out = gen.run_sample("inferwall sweep -m llama-3.1-8b --batch 1..8 -c batch,gpu | grep -E '^(batch|4)\\b' "
                         "| column -t")
    assert out.splitlines() == ["batch  gpu", "4      nvidia-h100-sxm-80gb"]
