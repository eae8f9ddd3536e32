"""Charts: the chart data, the terminal renderer (golden at width 80, no colour), the image renderer (golden SVG,
a PNG that is not blank), and --chart/--output on every command that draws.

Regenerate the golden files after an intended change:

    INFERWALL_UPDATE_GOLDEN=1 pytest tests/test_charts.py

The SVG golden is compared only under the matplotlib version that wrote it (tests/golden/matplotlib-version.txt):
another version lays text out slightly differently. Image tests skip when matplotlib is not installed.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import struct
from pathlib import Path

import pytest

from inferwall.render import chartdata as cd
from inferwall.render.terminal_chart import can_unicode, draw, use_color
from cli_helpers import run

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("INFERWALL_UPDATE_GOLDEN", "") not in ("", "0")
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
needs_matplotlib = pytest.mark.skipif(not HAS_MATPLOTLIB, reason="matplotlib is not installed (pip install 'inferwall[plot]')")

SEED = ["--params", "1.6T", "--precision", "fp8", "--gpus", "20", "--flops", "3e15", "--bandwidth", "3TB/s", "--ideal"]
ROOFLINE = ["roofline", "--model", "llama-3.1-70b", "--gpu", "h100,h200", "--gpus", "8", "--batch", "64", "--ideal"]


@pytest.fixture
def term(monkeypatch):
    """A fixed 80-column, colourless terminal."""
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR", raising=False)


def golden(name: str, actual: str | bytes) -> None:
    path = GOLDEN / name
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(actual if isinstance(actual, bytes) else actual.encode("utf-8"))
        return
    assert path.exists(), f"no golden file {path}; create it with INFERWALL_UPDATE_GOLDEN=1 pytest {__file__}"
    expected = path.read_bytes()
    if isinstance(actual, str):
        assert actual == expected.decode("utf-8"), f"{name} differs; if intended: INFERWALL_UPDATE_GOLDEN=1 pytest tests/test_charts.py"
    else:
        assert actual == expected, f"{name} differs; if intended: INFERWALL_UPDATE_GOLDEN=1 pytest tests/test_charts.py"


# --------------------------------------------------------------------------- terminal goldens (width 80, no colour)


@pytest.mark.parametrize("name, argv", [
    ("roofline.txt", [*ROOFLINE, "--chart"]),
    ("estimate-roofline.txt", ["estimate", *SEED, "--batch", "100", "--chart"]),
    ("scale.txt", ["scale", *SEED, "--price", "2.5", "--batch", "1,10,100,500,1000", "--chart"]),
    ("trend.txt", ["trend", *SEED, "--batch", "1000", "--years", "6", "--chart"]),
    ("sweep.txt", ["sweep", "--params", "70B", "--precision", "bf16", "--gpus", "8", "--flops", "1e15",
                   "--bandwidth", "2TB/s,4TB/s", "--price", "2", "--ideal", "--batch", "1..1024", "--chart"]),
])
def test_terminal_golden(capsys, term, name, argv):
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "\x1b" not in out
    golden(name, out)


def test_frontier_terminal_golden():
    points = [cd.FrontierPoint("nvidia-h100-sxm-80gb", "fp8", usd, speed)
              for usd, speed in ((0.03, 33), (0.05, 80), (0.1, 150), (0.3, 200), (1.5, 220), (14.6, 226))]
    points.append(cd.FrontierPoint("nvidia-a100-80gb-sxm", "bf16", 0.07, 120))
    chart = cd.frontier_chart(points, "Pareto frontier: a test")
    golden("frontier.txt", draw(chart, width=80))


# --------------------------------------------------------------------------- the chart data


def test_roofline_row_and_chart_from_an_estimate():
    from inferwall.catalog import load_catalog
    from inferwall.core import estimate
    from inferwall.inputs import Options, build

    r = build(Options(params="1.6T", precision="fp8", gpus=20, flops="3e15", bandwidth="3TB/s", ideal=True, batch=100),
              load_catalog())
    row = cd.roofline_row(estimate(r.scenario, r.compute_explicit))
    assert row.ridge_point_flops_per_byte == pytest.approx(1000)
    # ideal roofline, memory-bound decode: the point sits on the slope, AI x bandwidth
    assert row.decode_flops_per_s == pytest.approx(row.decode_ai * 3e12, rel=1e-3)
    assert row.prefill_flops_per_s == pytest.approx(3e15, rel=1e-6)  # compute-bound prefill: on the roof
    chart = cd.roofline_chart([row], "t")
    (panel,) = chart.panels
    assert panel.x.log and panel.y.log and "FLOP/byte" in panel.x.label and "FLOP/s" in panel.y.label
    roof = panel.series[0]
    assert (1000.0, 3e15) in roof.points  # the ridge is the roof's corner
    assert [a.text for a in panel.annotations] == ["ridge 1,000"]
    assert {s.label.split(":")[0] for s in panel.series if s.marker} == {"prefill", "decode"}
    (x0, x1), (y0, y1) = cd.limits(panel)
    assert x0 <= row.decode_ai and row.prefill_ai <= x1 and y1 > 3e15


def test_batch_chart_bounds_are_the_two_times():
    p = cd.BatchPoint(batch=10, step_time_s=0.02, compute_time_s=0.005, memory_time_s=0.02, utilization=0.1,
                      usd_per_million_output_tokens=4.0)
    chart = cd.batch_chart([("x", [p])])
    util, time, cost = chart.panels
    by = {s.label: s.points for s in util.series}
    assert by["x: FLOP bound"] == ((10.0, pytest.approx(0.4)),)  # utilization if only compute counted
    assert by["x: bandwidth bound"] == ((10.0, pytest.approx(0.1)),)
    by = {s.label: s.points for s in cost.series}
    assert by["x: FLOP bound"] == ((10.0, pytest.approx(1.0)),)  # cost is proportional to the step
    assert util.y.upper == 1.0 and cd.limits(util)[1][1] <= 1.0


def test_points_a_log_axis_cannot_show_are_left_out():
    assert cd.clean_points([(1, 0), (2, None), (3, float("nan")), (4, -1), (5, 2)], True, True) == ((5.0, 2.0),)
    chart = cd.batch_chart([("x", [cd.BatchPoint(1, 0.01, 0.001, 0.01, 0.001, None)])])
    assert [p.y.kind for p in chart.panels] == ["percent", "seconds"]  # no price: no cost panel


@pytest.mark.parametrize("value, kind, text", [
    (1e15, "si", "1P"), (3e13, "si", "30T"), (1000, "number", "1k"), (0.5, "number", "0.5"), (0.01, "seconds", "10ms"),
    (1e-5, "seconds", "10µs"), (0.1, "usd", "$0.1"), (1000, "usd", "$1k"), (0.002, "percent", "0.2%"),
    (1.0, "percent", "100%"), (2026, "year", "2026"),
])
def test_tick_labels(value, kind, text):
    assert cd.tick_label(value, kind) == text


def test_log_limits_snap_to_1_2_5_and_ticks_are_decades():
    axis = cd.Axis("x", log=True)
    assert cd.axis_limits(axis, [13, 990]) == (10, 1000)
    assert cd.axis_limits(axis, [33.5e12, 1.19e15]) == (20e12, 2e15)
    assert cd.ticks(axis, 20e12, 2e15) == [1e14, 1e15]
    assert cd.ticks(axis, 2, 50) == [2, 5, 10, 20, 50]  # under two decades: 1-2-5


# --------------------------------------------------------------------------- the terminal renderer


def _roofline_chart():
    row = cd.RooflineRow("nvidia-h100-sxm-80gb", "m", "bf16", 1, 989.5e12, 3.35e12, 989.5e12 / 3.35e12, 0.7, 0.85,
                         500.0, 600e12, "compute", 2.0, 5e12, "memory")
    return cd.roofline_chart([row], "Roofline: test")


@pytest.mark.parametrize("width", [40, 60, 100, 160])
def test_terminal_respects_the_width(width):
    text = draw(_roofline_chart(), width=width)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    assert max(len(line) for line in lines) >= width - 10  # and uses it


def test_width_follows_columns(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    code, out, _ = run(capsys, "estimate", *SEED, "--chart")
    assert code == 0 and 100 < max(len(line) for line in out.splitlines()) <= 120


def test_ascii_fallback_has_only_ascii():
    text = draw(_roofline_chart(), width=80, unicode=False)
    assert text.isascii() and "ridge 295" in text
    assert not can_unicode(io.TextIOWrapper(io.BytesIO(), encoding="ascii"))
    assert can_unicode(io.TextIOWrapper(io.BytesIO(), encoding="utf-8"))


def test_colour_codes_only_when_asked():
    plain, coloured = draw(_roofline_chart(), color=False), draw(_roofline_chart(), color=True)
    assert "\x1b[" not in plain and "\x1b[38;5;" in coloured
    strip = __import__("re").sub(r"\x1b\[[0-9;]*m", "", coloured)
    assert strip == plain


class _Stream:
    def __init__(self, tty: bool):
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize("env, tty, expected", [
    ({}, True, True), ({}, False, False), ({"NO_COLOR": "1"}, True, False), ({"NO_COLOR": ""}, True, True),
    ({"FORCE_COLOR": "1"}, False, True), ({"FORCE_COLOR": "0"}, False, False),
    ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, True, False),
])
def test_use_color(monkeypatch, env, tty, expected):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert use_color(_Stream(tty)) is expected


def test_force_color_colours_a_piped_chart(capsys, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    code, out, _ = run(capsys, "estimate", *SEED, "--chart")
    assert code == 0 and "\x1b[38;5;" in out


# --------------------------------------------------------------------------- --chart and --output on the commands


@pytest.mark.parametrize("argv", [
    ["estimate", "-m", "llama-3.1-8b"],
    ["roofline", "-m", "llama-3.1-8b", "--gpu", "h100,a100,mi300x"],
    ["scale", "-m", "llama-3.1-8b", "--gpu", "a100"],
    ["sweep", "-m", "llama-3.1-8b", "--gpu", "h100,a100", "--batch", "1,8,64"],
    ["plan", "-m", "llama-3.1-8b", "--users", "200", "--max-tpot", "50ms", "--gpus-from", "h100,a100", "--pareto"],
    ["plan", "-m", "llama-3.1-8b", "--users", "200", "--gpus-from", "h100,a100"],
    ["trend", "-m", "llama-3.1-8b", "--years", "4", "--from-catalog"],
    ["estimate", "-m", "bert-base-uncased"],  # an encoder: no decode point
])
def test_chart_replaces_the_data_on_stdout(capsys, term, argv):
    code, out, err = run(capsys, *argv, "--chart")
    assert code == 0, err
    assert "\t" not in out and out.count("\n") > 15  # a picture, not TSV
    assert "note" not in out.split("\n", 1)[0]
    assert "Traceback" not in err


def test_roofline_rows_without_chart(capsys):
    code, out, err = run(capsys, *ROOFLINE, "-f", "json")
    assert code == 0
    rows = json.loads(out)
    assert [r["gpu"] for r in rows] == ["nvidia-h100-sxm-80gb", "nvidia-h200-sxm-141gb"]
    for key in ("gpu", "ridge_point_flops_per_byte", "peak_flops_per_s", "bandwidth_bytes_per_s", "prefill_ai",
                "prefill_flops_per_s", "decode_ai", "decode_flops_per_s"):
        assert key in rows[0]
    assert rows[0]["ridge_point_flops_per_byte"] == pytest.approx(rows[0]["peak_flops_per_s"] / rows[0]["bandwidth_bytes_per_s"])
    assert "ridge point" in err and "decode" in err
    code, out, _ = run(capsys, *ROOFLINE, "-f", "tsv")
    assert out.splitlines()[0].startswith("gpu\tridge_point_flops_per_byte\tpeak_flops_per_s\t")


def test_roofline_gpu_list_is_deduplicated_and_bounded(capsys):
    code, out, _ = run(capsys, "roofline", "-m", "llama-3.1-8b", "--gpu", "h100,nvidia-h100-sxm-80gb", "-f", "json")
    assert code == 0 and len(json.loads(out)) == 1
    code, out, err = run(capsys, "roofline", "-m", "llama-3.1-8b", "--gpu", ",".join(["h100"] * 9))
    assert code == 2 and out == "" and "more than the 8" in err
    code, out, err = run(capsys, "roofline", "-m", "llama-3.1-8b", "--gpu", "h100,h1000")
    assert code == 2 and out == "" and err.count("\n") == 1 and "h1000" in err


def test_sweep_chart_needs_a_batch_list(capsys):
    code, out, err = run(capsys, "sweep", "-m", "llama-3.1-8b", "--gpu", "h100,a100", "--chart")
    assert code == 2 and out == "" and "--batch" in err and err.count("\n") == 1
    code, out, err = run(capsys, "sweep", "-m", "llama-3.1-8b", "--gpus", "1,2,4", "--tp", "1,2,4,8", "--batch", "1,2",
                         "--chart")
    assert code == 2 and "narrow" in err


def test_missing_matplotlib_is_one_line_and_exit_2(capsys, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else real(name, *a))
    code, out, err = run(capsys, "estimate", "-m", "llama-3.1-8b", "--output", "chart.png")
    assert code == 2 and out == ""
    assert err == "Error: --output chart.png needs matplotlib: pip install 'inferwall[plot]'\n"
    assert not Path("chart.png").exists()


@pytest.mark.parametrize("name", ["chart.pdf", "chart", "chart.png.txt"])
def test_unknown_image_type_is_refused(capsys, tmp_path, name):
    target = tmp_path / name
    code, out, err = run(capsys, "scale", "-m", "llama-3.1-8b", "--output", str(target))
    assert code == 2 and out == "" and err.count("\n") == 1 and ".png or .svg" in err
    assert not target.exists()


def test_output_folder_must_exist(capsys, tmp_path):
    code, out, err = run(capsys, "trend", "-m", "llama-3.1-8b", "--output", str(tmp_path / "no" / "x.svg"))
    assert code == 2 and out == "" and "no such folder" in err


# --------------------------------------------------------------------------- images (matplotlib)


def _svg_version_matches() -> bool:
    import matplotlib

    version_file = GOLDEN / "matplotlib-version.txt"
    return version_file.exists() and version_file.read_text().strip() == matplotlib.__version__


@needs_matplotlib
def test_svg_golden():
    import matplotlib

    from inferwall.render.image_chart import render_image

    svg = render_image(_roofline_chart(), "svg")
    if UPDATE:
        (GOLDEN / "matplotlib-version.txt").write_text(matplotlib.__version__ + "\n")
    elif not _svg_version_matches():
        pytest.skip(f"the SVG golden was written by another matplotlib than {matplotlib.__version__}; "
                    "regenerate with INFERWALL_UPDATE_GOLDEN=1")
    golden("roofline.svg", svg)


@needs_matplotlib
@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_images_are_deterministic(fmt):
    from inferwall.render.image_chart import render_image

    chart = cd.batch_chart([("a", [cd.BatchPoint(b, 0.02, 0.0001 * b, 0.02, 0.01 * b, 5 / b) for b in (1, 10, 100)])],
                           "Determinism: $ per token")
    first, second = render_image(chart, fmt), render_image(chart, fmt)
    assert first == second
    if fmt == "svg":
        text = first.decode("utf-8")
        assert "<dc:date>" not in text and "Matplotlib v" not in text
        assert "Determinism: $ per token" in text  # a dollar sign is text, not mathtext


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@needs_matplotlib
def test_png_has_its_size_and_is_not_blank(capsys, tmp_path):
    import matplotlib.image

    target = tmp_path / "roofline.png"
    code, out, err = run(capsys, *ROOFLINE, "--output", str(target))
    assert code == 0, err
    assert out.startswith("gpu\t")  # the data still goes to stdout
    assert f"chart: wrote {target}" in err
    data = target.read_bytes()
    assert _png_size(data) == (800, 500)
    pixels = matplotlib.image.imread(str(target))
    assert pixels.shape[:2] == (500, 800)
    flat = pixels.reshape(-1, pixels.shape[-1])
    assert len({tuple(p) for p in flat[:: 97]}) > 20  # many colours: lines, text, markers
    assert (flat[:, :3] < 0.5).any(axis=1).mean() > 0.005  # some dark ink on the white page
    assert sorted(os.listdir(tmp_path)) == ["roofline.png"]  # the temporary file was renamed into place


@needs_matplotlib
def test_output_leaves_stdout_as_it_was(capsys, tmp_path):
    argv = ["scale", *SEED, "--batch", "1,10,100", "-f", "json"]
    _, plain, _ = run(capsys, *argv)
    code, out, err = run(capsys, *argv, "--output", str(tmp_path / "s.svg"))
    assert code == 0 and out == plain
    assert (tmp_path / "s.svg").read_bytes().startswith(b"<?xml")
    code, out, err = run(capsys, *argv, "--output", str(tmp_path / "both.png"), "--chart")
    assert code == 0 and out != plain and "utilization" in out and (tmp_path / "both.png").exists()


@needs_matplotlib
@pytest.mark.parametrize("argv", [
    ["sweep", "-m", "llama-3.1-8b", "--gpu", "h100,a100", "--batch", "1,8,64", "--output"],
    ["plan", "-m", "llama-3.1-8b", "--users", "200", "--max-tpot", "50ms", "--gpus-from", "h100,a100", "--pareto",
     "--output"],
    ["trend", "-m", "llama-3.1-8b", "--years", "4", "--from-catalog", "--output"],
    ["estimate", "-m", "llama-3.1-8b", "--output"],
])
def test_every_command_writes_an_image(capsys, tmp_path, argv):
    target = tmp_path / "chart.svg"
    code, out, err = run(capsys, *argv, str(target))
    assert code == 0, err
    assert out.strip() and target.stat().st_size > 5000


def test_readme_image_exists():
    png = Path(__file__).resolve().parents[1] / "docs" / "roofline.png"
    assert _png_size(png.read_bytes()) == (800, 500)
    assert "docs/roofline.png" in (png.parents[1] / "README.md").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- extreme values, legends, titles


def _row(peak: float, bandwidth: float, gpu: str = "x") -> cd.RooflineRow:
    return cd.RooflineRow(gpu=gpu, model="m", compute_dtype="bf16", batch=1, peak_flops_per_s=peak,
                          bandwidth_bytes_per_s=bandwidth, ridge_point_flops_per_byte=peak / bandwidth, mfu=0.7,
                          mbu=0.8, prefill_ai=500.0, prefill_flops_per_s=0.5 * peak, prefill_bound="compute",
                          decode_ai=1.0, decode_flops_per_s=0.8 * bandwidth, decode_bound="memory")


@pytest.mark.parametrize("peak", [1e-320, 1e-300, 1e300, 1e308])
def test_extreme_values_draw_without_error_or_warning(peak, recwarn):
    """Issue 15 §8: --flops 1e-320 (math domain error) and 1e308 (overflow, NaN axis limits) crashed the charts."""
    chart = cd.roofline_chart([_row(peak, 3e12)], "extreme")
    text = draw(chart, width=80)
    assert text.startswith("extreme")
    for panel in chart.panels:
        for lo, hi in cd.limits(cd.drawable(panel)):
            assert 0 < lo < hi < float("inf")
    if HAS_MATPLOTLIB:
        from inferwall.render.image_chart import render_image

        assert render_image(chart, "png").startswith(b"\x89PNG")
    assert not recwarn.list  # no library warning reaches stderr


@pytest.mark.parametrize("flops", ["1e-320", "1e308"])
def test_extreme_flops_never_crash_a_chart(capsys, tmp_path, flops):
    """The CLI path: a chart is drawn, or (once inputs are bounded) the value is refused with exit 2; never exit 3,
    never a warning, and with --chart --output the terminal chart follows the image."""
    argv = ["estimate", "-m", "llama-3.1-8b", "--flops", flops, "--chart"]
    if HAS_MATPLOTLIB:
        argv += ["--output", str(tmp_path / "z.png")]
    code, out, err = run(capsys, *argv)
    assert code in (0, 2), err
    assert "Warning" not in err and "Internal error" not in err
    if code == 0:
        assert out.startswith("Roofline:")


def test_several_gpus_share_one_legend_entry_each_and_no_ridge_labels_on_the_plot():
    """Issue 14 item 19: the multi-GPU roofline's ridge labels overlapped and its legend took ~40% of the image."""
    rows = [_row(989.5e12, 3.35e12, "nvidia-h100"), _row(989.5e12, 4.8e12, "nvidia-h200"),
            _row(1307e12, 5.3e12, "amd-mi300x")]
    chart = cd.roofline_chart(rows, "three")
    labels = [e.label for e in chart.legend]
    assert len(labels) == 3 + 2 + 1  # one per GPU (with its ridge point), one per phase, the ridge marker
    assert labels[0].startswith("h100 roof:") and labels[0].endswith("ridge 295 FLOP/byte")
    (panel,) = chart.panels
    assert all(a.text == "" for a in panel.annotations) and len(panel.annotations) == 3
    assert {s.marker for s in panel.series if s.line == "none"} == {"circle", "triangle"}


def test_sweep_title_says_what_was_swept(capsys, term):
    code, out, err = run(capsys, "sweep", "-m", "llama-3.1-8b", "--gpu", "h100,h200", "--batch", "1..64", "--chart")
    assert code == 0, err
    title = " ".join(out.split("\n\n")[0].split())
    assert title == ("Sweep of --gpu h100, h200 x --batch 1 to 64 (7 values): 14 configurations; "
                     "--model llama-3.1-8b")


def test_trend_chart_draws_the_roofline_ratio_on_the_same_years(capsys, term):
    code, out, err = run(capsys, "trend", *SEED, "--batch", "1000", "--years", "4", "--from-catalog", "--chart")
    assert code == 0, err
    assert "memory time / compute time of a decode step" in out and "memory-bound from 2025" in out
    from inferwall.cli.charting import trend_chart
    from inferwall.core.trend import TrendRates
    from inferwall.core.trend import trend as run_trend
    from inferwall.catalog import load_catalog
    from inferwall.inputs import Options, build

    cat = load_catalog()
    r = build(Options(params="1.6T", precision="fp8", gpus=20, flops="3e15", bandwidth="3TB/s", ideal=True,
                      batch=1000), cat)
    result = run_trend(r.scenario, years=4, rates=TrendRates(), catalog=[e.accelerator for e in cat.gpus.values()])
    chart = trend_chart(result, "t", 1000)
    assert len({cd.limits(p)[0] for p in chart.panels}) == 1  # every panel over the same years
