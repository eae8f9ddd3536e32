"""``inferwall check`` output: one row per assertion (table, markdown, json, tsv, ...) and JUnit XML."""

from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
from pathlib import Path

from . import Format, printable, render_record, render_rows

COLUMNS = ["plan", "scenario", "assertion", "metric", "actual", "op", "threshold", "passed", "bound", "detail", "line"]


def _actual(r) -> str:
    from inferwall.plans import ASSERTION_BY_NAME, value_text

    return value_text(ASSERTION_BY_NAME[r.assertion], r.actual, r.threshold_text)


def _threshold(r) -> str:
    """The threshold in the unit the plan wrote it (``10GiB`` shows as ``10 GiB``; a share of memory as ``10%``)."""
    from inferwall.plans import ASSERTION_BY_NAME, value_text

    kind = ASSERTION_BY_NAME[r.assertion]
    text = r.threshold_text.strip()
    if kind.unit == "bytes" and text.endswith("%"):
        return f"{text} ({value_text(kind, r.threshold)})"
    return value_text(kind, r.threshold, text)


def _summary(results) -> str:
    failed = sum(not r.passed for r in results)
    return (f"{len(results) - failed} of {len(results)} assertions hold" if failed == 0 else
            f"{failed} of {len(results)} assertions failed")


def check_table(results, show_plan: bool) -> str:
    from .table import Col, fitted_table

    passed = [("pass", "green") if r.passed else ("FAIL", "bold red") for r in results]
    cols = ([Col("plan", [r.plan for r in results], wrap=True, drop=1)] if show_plan else []) + [
        Col("scenario", [r.scenario for r in results], wrap=True),
        Col("assertion", [r.assertion for r in results], wrap=True),
        Col("actual", [_actual(r) for r in results], right=True),
        Col("", [r.op for r in results]),
        Col("threshold", [_threshold(r) for r in results], right=True),
        Col("result", passed),
        Col("binds", [r.bound for r in results], wrap=True, drop=2),
    ]
    return fitted_table(cols, f"inferwall check: {_summary(results)}",
                        row_styles=[None if r.passed else "bold red" for r in results])


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
            r.scenario, f"`{r.assertion}`", _actual(r), f"{r.op} {_threshold(r)}",
            "✅ pass" if r.passed else "❌ **FAIL**", r.bound]
        lines.append("| " + " | ".join(printable(c).replace("|", "\\|") for c in cells) + " |")
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
            # XML cannot carry control characters: names from the plan are escaped
            case = ET.SubElement(suite, "testcase", classname=printable(r.scenario), name=r.assertion, file=plan,
                                 time="0")
            if r.line:
                case.set("line", str(r.line))
            text = (f"{r.scenario}: {r.assertion}: actual {_actual(r)}, threshold {r.op} {_threshold(r)}; "
                    f"{r.detail}; binds: {r.bound}")
            if not r.passed:
                failure = ET.SubElement(case, "failure", message=printable(r.detail), type="AssertionFailed")
                failure.text = printable(text)
            else:
                ET.SubElement(case, "system-out").text = printable(text)
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
