"""``inferwall check`` output: one row per assertion (table, markdown, json, tsv, ...) and JUnit XML."""

from __future__ import annotations

import errno
import io
import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Any

from . import Format, render_record, render_rows
from .compare import human

COLUMNS = ["plan", "scenario", "assertion", "metric", "actual", "op", "threshold", "passed", "bound", "detail", "line"]


def _value(metric: str, value: Any) -> str:
    return human(metric, value)


def _summary(results) -> str:
    failed = sum(not r.passed for r in results)
    return (f"{len(results) - failed} of {len(results)} assertions hold" if failed == 0 else
            f"{failed} of {len(results)} assertions failed")


def check_table(results, show_plan: bool) -> str:
    from .table import _console, _table

    buf = io.StringIO()
    cells = []
    for r in results:
        cells.append(([r.plan] if show_plan else []) + [
            r.scenario, r.assertion, _value(r.metric, r.actual), r.op, _value(r.metric, r.threshold),
            "pass" if r.passed else "FAIL", r.bound])
    headers = (["plan"] if show_plan else []) + ["scenario", "assertion", "actual", "", "threshold", "result", "binds"]
    width = sum(max([len(h)] + [len(c[i]) for c in cells]) + 3 for i, h in enumerate(headers))
    con = _console(buf, width)
    t = _table(f"inferwall check: {_summary(results)}")
    for h in headers:
        t.add_column(h, no_wrap=True, justify="right" if h in ("actual", "threshold") else "left")
    for r, row in zip(results, cells):
        style = None if r.passed else "bold red"
        row[-2] = "[green]pass[/green]" if r.passed else "[bold red]FAIL[/bold red]"
        t.add_row(*row, style=style)
    con.print(t)
    return buf.getvalue()


def check_markdown(results, show_plan: bool) -> str:
    """A CI job summary: a heading with the verdict, then one table row per assertion."""
    failed = sum(not r.passed for r in results)
    icon = "✅" if not failed else "❌"
    lines = [f"### {icon} inferwall check: {_summary(results)}", ""]
    head = (["plan"] if show_plan else []) + ["scenario", "assertion", "actual", "threshold", "result", "binds"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "|".join("---:" if h in ("actual", "threshold") else "---" for h in head) + "|")
    for r in results:
        cells = ([f"`{r.plan}`"] if show_plan else []) + [
            r.scenario, f"`{r.assertion}`", _value(r.metric, r.actual), f"{r.op} {_value(r.metric, r.threshold)}",
            "✅ pass" if r.passed else "❌ **FAIL**", r.bound]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def render_check(fmt: Format, results, show_plan: bool) -> str:
    if fmt is Format.table:
        return check_table(results, show_plan)
    if fmt is Format.markdown:
        return check_markdown(results, show_plan)
    rows = [r.as_row() for r in results]
    if fmt in (Format.json, Format.yaml):
        failed = sum(not r.passed for r in results)
        return render_record(fmt, {"passed": failed == 0, "assertions": len(results), "failed": failed,
                                   "results": rows})
    return render_rows(fmt, rows, COLUMNS)


# ----------------------------------------------------------------- JUnit XML


def junit_xml(results, plans: list[str], errors: dict[str, str] | None = None) -> bytes:
    """JUnit XML: a testsuite per plan, a testcase per assertion (classname: the scenario)."""
    import xml.etree.ElementTree as ET

    errors = errors or {}
    root = ET.Element("testsuites", name="inferwall check")
    total = failures = n_errors = 0
    for plan in plans:
        mine = [r for r in results if r.plan == plan]
        failed = sum(not r.passed for r in mine)
        err = 1 if plan in errors else 0
        suite = ET.SubElement(root, "testsuite", name=plan, tests=str(len(mine) + err), failures=str(failed),
                              errors=str(err), skipped="0", time="0")
        for r in mine:
            case = ET.SubElement(suite, "testcase", classname=r.scenario, name=r.assertion, file=plan, time="0")
            if r.line:
                case.set("line", str(r.line))
            text = (f"{r.scenario}: {r.assertion}: actual {_value(r.metric, r.actual)}, threshold {r.op} "
                    f"{_value(r.metric, r.threshold)}; {r.detail}; binds: {r.bound}")
            if not r.passed:
                failure = ET.SubElement(case, "failure", message=r.detail, type="AssertionFailed")
                failure.text = text
            else:
                ET.SubElement(case, "system-out").text = text
        if err:
            case = ET.SubElement(suite, "testcase", classname="plan", name=Path(plan).name, file=plan, time="0")
            ET.SubElement(case, "error", message=errors[plan], type="InvalidPlan").text = errors[plan]
        total += len(mine) + err
        failures += failed
        n_errors += err
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", str(n_errors))
    root.set("time", "0")
    ET.indent(root)
    document = ET.tostring(root, encoding="unicode")
    # XML 1.0 cannot carry control characters (a scenario named "a\x1b[31m"): write them escaped, as text
    document = _XML_INVALID.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), document)
    return ("<?xml version='1.0' encoding='utf-8'?>\n" + document).encode("utf-8") + b"\n"


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def target_problem(path: str) -> str | None:
    """Why ``path`` cannot take an output file, or None: an existing target (symlinks followed) must be a regular
    file, never a device such as /dev/null, a FIFO, a socket or a directory, and its folder must exist."""
    if not str(path):
        return "empty file name"
    real = os.path.realpath(path)
    try:
        mode = os.stat(real).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        return exc.strerror or str(exc)
    if mode is not None and not stat.S_ISREG(mode):
        kind = ("a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode)
                else "a character device" if stat.S_ISCHR(mode) else "a block device" if stat.S_ISBLK(mode)
                else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
        return f"{real if real != os.path.abspath(path) else path} is {kind}; inferwall writes only regular files"
    folder = os.path.dirname(real)
    if not os.path.isdir(folder):
        return f"no such folder {os.path.dirname(str(path)) or folder!r}"
    return None


def write_atomically(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file in the target's own folder, then a rename.

    A symlink is followed: its target is written and the link stays. A target that exists and is not a regular
    file (a device such as /dev/null, a FIFO, a socket, a directory) is refused with an OSError and left as it
    is, also when one appears while the data is written. No temporary file survives any error or interruption.
    """
    problem = target_problem(path)
    if problem:
        raise OSError(errno.EINVAL, problem)
    real = os.path.realpath(path)
    try:
        existing = os.stat(real).st_mode & 0o7777
    except OSError:
        existing = None
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(real)}.", suffix=".tmp", dir=os.path.dirname(real))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        if existing is None:
            umask = os.umask(0)
            os.umask(umask)
            existing = 0o666 & ~umask  # mkstemp makes the file private; a report is an ordinary file
        os.chmod(tmp, existing)
        problem = target_problem(real)  # again, just before the rename: nothing special may be replaced
        if problem:
            raise OSError(errno.EINVAL, problem)
        os.replace(tmp, real)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
