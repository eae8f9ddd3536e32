"""Start-up guards: the core stays pure, and heavy modules stay out of paths that do not need them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

HEAVY = ("typer", "rich", "yaml", "matplotlib", "click", "pydantic")


def loaded_modules(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_core_imports_only_the_standard_library():
    mods = loaded_modules("import inferwall.core")
    assert not {m.split(".")[0] for m in mods} & set(HEAVY)
    ours = {m for m in mods if m.startswith("inferwall")}
    assert ours <= {"inferwall", "inferwall.core", "inferwall.core.types", "inferwall.core.estimate",
                    "inferwall.core.architecture", "inferwall.core.dtypes", "inferwall.core.layout",
                    "inferwall.core.kernels", "inferwall.core.passes", "inferwall.core.memory",
                    "inferwall.core.serving", "inferwall.core.memo", "inferwall.core.limits"}


def test_import_inferwall_is_light():
    mods = loaded_modules("import inferwall")
    assert not {m.split(".")[0] for m in mods} & set(HEAVY)


def test_version_does_not_load_rich_or_yaml():
    mods = loaded_modules("import sys; sys.argv=['inferwall','--version']\n"
                          "from inferwall.cli.main import main\nimport io, contextlib\n"
                          "with contextlib.redirect_stdout(io.StringIO()): main(['--version'])")
    assert "rich" not in mods and "yaml" not in mods


def test_json_estimate_does_not_load_rich():
    mods = loaded_modules("from inferwall.cli.main import main\nimport io, contextlib\n"
                          "with contextlib.redirect_stdout(io.StringIO()): main(['estimate','-m','llama-3.1-8b','-f','json'])")
    assert "rich" not in mods


def test_cli_main_does_not_import_matplotlib():
    assert "matplotlib" not in loaded_modules("import inferwall.cli.main")


def test_terminal_chart_loads_neither_matplotlib_nor_rich():
    mods = loaded_modules("from inferwall.cli.main import main\nimport io, contextlib\n"
                          "with contextlib.redirect_stdout(io.StringIO()): main(['estimate','-m','llama-3.1-8b','--chart'])\n"
                          "with contextlib.redirect_stdout(io.StringIO()): main(['scale','-m','llama-3.1-8b','--chart'])")
    assert "inferwall.render.terminal_chart" in mods
    assert not {m.split(".")[0] for m in mods} & {"matplotlib", "rich", "PIL", "numpy"}


def test_installed_console_script_smoke(tmp_path):
    exe = shutil.which("inferwall", path=os.path.dirname(sys.executable)) or shutil.which("inferwall")
    if exe is None:
        pytest.skip("the inferwall console script is not installed in this environment")
    # run from another directory: the shipped specs must be found inside the package
    # (at batch 32 the weight stream and the KV cache bind a decode step)
    out = subprocess.run([exe, "estimate", "--model", "llama-3.1-70b", "--gpu", "h100", "--gpus", "8", "--batch", "32",
                          "-f", "json"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["decode"]["bound"] == "memory"
    bad = subprocess.run([exe, "estimate", "--model", "nope"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr


def test_python_dash_m(tmp_path):
    out = subprocess.run([sys.executable, "-m", "inferwall", "--version"], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0 and out.stdout.startswith("inferwall ")


def test_every_command_is_in_the_lazy_registry():
    """Each module's commands are listed in MODULE_OF, so a one-liner imports only its own module."""
    import importlib
    import pkgutil

    import typer

    from inferwall.cli import commands

    for info in pkgutil.iter_modules(commands.__path__):
        if info.name.startswith("_"):
            continue
        probe = typer.Typer()
        importlib.import_module(f"{commands.__name__}.{info.name}").register(probe)
        names = [c.name for c in probe.registered_commands] + [g.name for g in probe.registered_groups]
        for name in names:
            assert commands.MODULE_OF.get(name) == info.name, (name, info.name)


def test_skips_without_the_shared_data_say_why(tmp_path):
    """Issue 14 item 22: a checkout without ../shared reports "N skipped: need the shared calibration data"."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "INFERWALL_SHARED": str(tmp_path / "absent")}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_calibration.py",
                           "-k", "not every_fixture"], capture_output=True, text=True, cwd=root, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "why tests were skipped" in done.stdout
    assert "skipped: need the shared calibration data: " in done.stdout
    assert str(tmp_path / "absent" / "validation" / "calibration.yaml") in done.stdout
