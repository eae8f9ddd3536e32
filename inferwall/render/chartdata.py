"""Charts as data: core results turned into a small frozen ``Chart`` that any renderer can draw.

Standard library only (no rich, no matplotlib): the terminal renderer (``render.terminal_chart``) and the image
renderer (``render.image_chart``) both draw a ``Chart``, and both take the axis limits, the ticks and the tick
labels from here, so the two pictures of one result agree.

The types are immutable named tuples (cheaper to define than frozen dataclasses: this module is on the start-up
path of ``--chart``). A ``Chart`` is a title, one or more ``Panel``s stacked vertically, and a legend. A panel
has two ``Axis`` (label with units, log or linear, how ticks read), ``Series`` of points drawn as lines and/or
markers, and ``Annotation``s (a marker and a short text at a point, such as the ridge point).

Builders: ``roofline_chart`` (estimate, roofline), ``batch_chart`` (scale, sweep), ``frontier_chart`` (plan)
and ``trend_chart`` (trend). Points that a log axis cannot show (zero, negative, missing, non-finite) are left out.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, NamedTuple, Sequence

from inferwall.units import si

LINES = ("solid", "dashed", "dotted", "none")
MARKERS = ("circle", "triangle", "square", "diamond", "down", "star", "plus", "cross")
NEUTRAL = -1  # the colour index of legend entries that stand for a style, not a series (e.g. "FLOP bound")
MAX_SERIES_GROUPS = 10  # curves of different colour in one chart


class Axis(NamedTuple):
    label: str  # with units: "arithmetic intensity (FLOP/byte)"
    kind: str = "number"  # how tick labels read: number | si | seconds | usd | percent | year
    log: bool = False
    upper: float | None = None  # the axis never extends past this (utilization: 100 %); lines are clipped


class Series(NamedTuple):
    label: str
    points: tuple[tuple[float, float], ...]
    line: str = "solid"  # solid | dashed | dotted | none
    marker: str = ""  # "" or one of MARKERS
    color: int = 0  # palette index
    end_label: str = ""  # short text at the last point: names a line where colour cannot


class Annotation(NamedTuple):
    x: float
    y: float
    text: str
    color: int = NEUTRAL
    marker: str = "cross"
    above: bool = False  # the text goes above the point (a line runs just below it), else below


class LegendEntry(NamedTuple):
    label: str
    line: str = "solid"
    marker: str = ""
    color: int = 0


class Panel(NamedTuple):
    x: Axis
    y: Axis
    series: tuple[Series, ...]
    annotations: tuple[Annotation, ...] = ()
    title: str = ""
    extent: tuple[tuple[float, float], ...] = ()  # points the axis limits include, drawn or not (headroom)


class Chart(NamedTuple):
    kind: str  # roofline | batch | frontier | trend
    title: str
    panels: tuple[Panel, ...]
    legend: tuple[LegendEntry, ...] = ()
    caption: str = ""  # one line under the chart (e.g. what the dashed lines are)


# --------------------------------------------------------------------------- limits and ticks


# Values a chart can place: a log axis needs them positive, and every axis needs room to snap its limits to a
# round number and take logarithms without overflowing a float (extreme inputs such as --flops 1e308 or 1e-320
# would otherwise give infinite or zero limits). Every physical quantity charted (seconds, FLOP/s, bytes, $,
# FLOPs per byte) lies well inside 1e-30..1e30; a value outside is not drawn.
CHART_MIN, CHART_MAX = 1e-30, 1e30


def _usable(value: Any, log: bool) -> bool:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        return False
    return CHART_MIN <= value <= CHART_MAX if log else abs(value) <= CHART_MAX


def clean_points(points: Iterable[tuple[Any, Any]], x_log: bool, y_log: bool) -> tuple[tuple[float, float], ...]:
    """Points both axes can show, as floats."""
    return tuple((float(x), float(y)) for x, y in points if _usable(x, x_log) and _usable(y, y_log))


def drawable(panel: Panel) -> Panel:
    """The panel with only what its axes can show: renderers draw this, so no value can break an axis."""
    ok = lambda x, y: _usable(x, panel.x.log) and _usable(y, panel.y.log)  # noqa: E731
    return panel._replace(series=tuple(s._replace(points=tuple(p for p in s.points if ok(*p))) for s in panel.series),
                          annotations=tuple(a for a in panel.annotations if ok(a.x, a.y)),
                          extent=tuple(p for p in panel.extent if ok(*p)))


def _values(panel: Panel, which: str) -> list[float]:
    axis = panel.x if which == "x" else panel.y
    i = 0 if which == "x" else 1
    out = [p[i] for s in panel.series for p in s.points if _usable(p[i], axis.log)]
    out += [getattr(a, which) for a in panel.annotations if _usable(getattr(a, which), axis.log)]
    out += [p[i] for p in panel.extent if _usable(p[i], axis.log)]
    return out


def _nice_step(span: float, target: int) -> float:
    raw = span / max(target, 1)
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if m * mag >= raw:
            return m * mag
    return 10 * mag


_STEPS_125 = (1.0, 2.0, 5.0, 10.0)


def _snap_down(v: float) -> float:
    """The largest 1, 2 or 5 x 10^k at or below ``v``."""
    e = math.floor(math.log10(v))
    for m in reversed(_STEPS_125):
        if m * 10.0 ** e <= v * (1 + 1e-9):
            return m * 10.0 ** e
    return 10.0 ** e


def _snap_up(v: float) -> float:
    """The smallest 1, 2 or 5 x 10^k at or above ``v``."""
    e = math.floor(math.log10(v))
    for m in _STEPS_125:
        if m * 10.0 ** e >= v * (1 - 1e-9):
            return m * 10.0 ** e
    return 10.0 ** (e + 1)


def axis_limits(axis: Axis, values: Sequence[float]) -> tuple[float, float]:
    """1, 2 or 5 x 10^k on a log axis; round steps on a linear one (from 0 for percentages)."""
    if axis.upper is not None:
        values = [min(v, axis.upper) for v in values]
    if not values:
        return (1.0, 10.0) if axis.log else (0.0, 1.0)
    values = [v for v in values if _usable(v, axis.log)]
    if not values:
        return (1.0, 10.0) if axis.log else (0.0, 1.0)
    lo, hi = min(values), max(values)
    if axis.log:
        return _snap_down(lo), _snap_up(hi) if hi > lo else _snap_up(hi * 1.0001)
    if axis.kind == "year":
        lo, hi = math.floor(lo), math.ceil(hi)
        return (lo - 1.0, hi + 1.0) if hi == lo else (lo - 0.5, hi + 0.5)  # room for the first and last marker
    if axis.kind == "percent" and lo >= 0:
        lo = 0.0
    if hi == lo:
        pad = abs(hi) * 0.5 or 1.0
        lo, hi = lo - pad, hi + pad
    step = _nice_step(hi - lo, 5)
    return math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step


def limits(panel: Panel) -> tuple[tuple[float, float], tuple[float, float]]:
    return axis_limits(panel.x, _values(panel, "x")), axis_limits(panel.y, _values(panel, "y"))


def ticks(axis: Axis, lo: float, hi: float, most: int = 8) -> list[float]:
    """Tick values: decades (every k-th when there are many) on log axes, round steps on linear ones."""
    most = max(most, 2)
    if axis.log:
        a, b = math.ceil(math.log10(lo) - 1e-9), math.floor(math.log10(hi) + 1e-9)
        if b - a + 1 >= 2:
            every = max(1, math.ceil((b - a + 1) / most))
            return [10.0 ** e for e in range(a, b + 1) if (e - a) % every == 0]
        # less than two decades in view: 1, 2 and 5 x 10^k
        out = [m * 10.0 ** e for e in range(a - 1, b + 2) for m in (1, 2, 5)]
        return [v for v in out if lo * (1 - 1e-9) <= v <= hi * (1 + 1e-9)]
    span = hi - lo
    if span <= 0:
        return [lo]
    step = _nice_step(span, min(most - 1, 6))
    if axis.kind == "year":
        step = max(1.0, round(step))
    out, k = [], math.ceil(lo / step - 1e-9)
    while k * step <= hi + step * 1e-9:
        out.append(round(k * step, 12))
        k += 1
    return out


_SI = ((1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""),
       (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"))


def _prefixed(value: float, unit: str = "", thousands: str = "k") -> str:
    if value == 0:
        return f"0{unit}"
    mag = abs(value)
    for factor, prefix in _SI:
        if mag >= factor * 0.9995:
            if prefix == "k":
                prefix = thousands
            return f"{value / factor:.3g}{prefix}{unit}"
    return f"{value:.2g}{unit}"


def tick_label(value: float, kind: str) -> str:
    """Compact tick text: 1k 10M 1T (number, si), 10ms (seconds), $0.1 (usd), 20% (percent), 2026 (year)."""
    if kind == "year":
        return str(int(round(value)))
    if kind == "percent":
        return f"{value * 100:,.0f}%" if value >= 0.995 else f"{value * 100:.2g}%"
    if kind == "usd":
        if abs(value) >= 1000:
            return "$" + _prefixed(value)
        return f"${value:.3g}"
    if kind == "seconds":
        if value >= 60:
            return f"{value / 60:.3g}min"
        return _prefixed(value, "s")
    if kind == "si":
        return _prefixed(value)
    if abs(value) >= 1000:
        return _prefixed(value)
    return f"{value:.3g}"


# --------------------------------------------------------------------------- roofline


class RooflineRow(NamedTuple):
    """One GPU's roof and the configuration's two points on it (per GPU, SI units)."""

    gpu: str  # catalog id
    model: str
    compute_dtype: str
    batch: int
    peak_flops_per_s: float  # datasheet, at the compute dtype
    bandwidth_bytes_per_s: float  # datasheet HBM
    ridge_point_flops_per_byte: float  # peak / bandwidth
    mfu: float
    mbu: float
    prefill_ai: float  # FLOPs per byte moved
    prefill_flops_per_s: float  # achieved, per GPU
    prefill_bound: str
    decode_ai: float | None  # None: an encoder (no decode phase)
    decode_flops_per_s: float | None
    decode_bound: str | None

    def record(self) -> dict[str, Any]:
        return {
            "gpu": self.gpu, "ridge_point_flops_per_byte": self.ridge_point_flops_per_byte,
            "peak_flops_per_s": self.peak_flops_per_s, "bandwidth_bytes_per_s": self.bandwidth_bytes_per_s,
            "prefill_ai": self.prefill_ai, "prefill_flops_per_s": self.prefill_flops_per_s,
            "prefill_bound": self.prefill_bound, "decode_ai": self.decode_ai,
            "decode_flops_per_s": self.decode_flops_per_s, "decode_bound": self.decode_bound,
            "model": self.model, "compute_dtype": self.compute_dtype, "batch": self.batch,
            "mfu": self.mfu, "mbu": self.mbu,
        }


def roofline_row(est) -> RooflineRow:
    """The roofline numbers of an ``Estimate``: achieved FLOP/s per GPU = utilization x peak."""
    from inferwall.core.dtypes import peak_flops

    s = est.scenario
    acc = s.accelerator
    peak = peak_flops(acc, s.precision.compute) or 0.0
    bw = acc.bandwidth_bytes_per_s
    d = est.decode
    return RooflineRow(
        gpu=acc.id, model=s.model.id, compute_dtype=s.precision.compute, batch=s.workload.batch,
        peak_flops_per_s=peak, bandwidth_bytes_per_s=bw, ridge_point_flops_per_byte=peak / bw if bw else math.inf,
        mfu=s.efficiency.mfu, mbu=s.efficiency.mbu,
        prefill_ai=est.prefill.arithmetic_intensity, prefill_flops_per_s=est.prefill.utilization * peak,
        prefill_bound=est.prefill.bound,
        decode_ai=d.arithmetic_intensity if d else None, decode_flops_per_s=d.utilization * peak if d else None,
        decode_bound=d.bound if d else None,
    )


def _intensity(ai: float) -> str:
    return f"{ai:,.0f}" if ai >= 100 else f"{ai:.3g}"


def short_gpu(gpu_id: str) -> str:
    """'nvidia-h100-sxm-80gb' -> 'h100-sxm-80gb': the vendor prefix adds nothing on a chart."""
    for vendor in ("nvidia-", "amd-", "google-", "intel-", "apple-", "aws-"):
        if gpu_id.startswith(vendor):
            return gpu_id[len(vendor):]
    return gpu_id


def roofline_chart(rows: Sequence[RooflineRow], title: str = "") -> Chart:
    """Each GPU's compute roof and bandwidth slope (log-log), its ridge point, and the prefill and decode points.

    With one GPU whose efficiencies are below 1, the achievable roof (peak x MFU, bandwidth x MBU) is dashed.
    With several, each GPU is one colour and one legend entry that carries its ridge point (ridge points of
    similar GPUs sit too close to label on the chart), and the two phases are one marker shape each."""
    xs = [r.ridge_point_flops_per_byte for r in rows if _usable(r.ridge_point_flops_per_byte, True)]
    xs += [v for r in rows for v in (r.prefill_ai, r.decode_ai) if _usable(v, True)]
    x_axis = Axis("arithmetic intensity (FLOP/byte)", "number", log=True)
    y_axis = Axis("attainable FLOP/s per GPU", "si", log=True)
    if not xs:
        return Chart("roofline", title, (Panel(x_axis, y_axis, ()),))
    x_lo, x_hi = axis_limits(x_axis, [min(xs) / 3, max(xs) * 3])
    several = len(rows) > 1
    series: list[Series] = []
    notes: list[Annotation] = []
    legend: list[LegendEntry] = []
    phase_marker = {"prefill": "circle", "decode": "triangle"}
    for i, r in enumerate(rows):
        if not (r.peak_flops_per_s > 0 and r.bandwidth_bytes_per_s > 0):
            continue
        name = short_gpu(r.gpu)
        ridge = r.ridge_point_flops_per_byte
        roof = [(x_lo, x_lo * r.bandwidth_bytes_per_s)]
        if x_lo < ridge < x_hi:
            roof.append((ridge, r.peak_flops_per_s))
        roof.append((x_hi, min(r.peak_flops_per_s, x_hi * r.bandwidth_bytes_per_s)))
        label = f"{name} roof: {si(r.peak_flops_per_s, 'FLOP/s')}, {si(r.bandwidth_bytes_per_s, 'B/s')}"
        if several:
            label += f", ridge {_intensity(ridge)} FLOP/byte"
        series.append(Series(label, clean_points(roof, True, True), "solid", "", i, name if several else ""))
        legend.append(LegendEntry(label, "solid", "", i))
        if not several and (r.mfu < 1 or r.mbu < 1):
            peak, bw = r.peak_flops_per_s * r.mfu, r.bandwidth_bytes_per_s * r.mbu
            knee = peak / bw
            ach = [(x_lo, x_lo * bw)] + ([(knee, peak)] if x_lo < knee < x_hi else []) + [(x_hi, min(peak, x_hi * bw))]
            label = f"achievable: MFU {r.mfu:.2g} x peak, MBU {r.mbu:.2g} x bandwidth"
            series.append(Series(label, clean_points(ach, True, True), "dashed", "", i))
            legend.append(LegendEntry(label, "dashed", "", i))
        if _usable(ridge, True) and _usable(r.peak_flops_per_s, True):
            notes.append(Annotation(ridge, r.peak_flops_per_s, "" if several else f"ridge {_intensity(ridge)}", i,
                                    "cross"))
        for phase, ai, fl in (("prefill", r.prefill_ai, r.prefill_flops_per_s),
                              ("decode", r.decode_ai, r.decode_flops_per_s)):
            pts = clean_points([(ai, fl)], True, True)
            if not pts:
                continue
            label = f"{name} {phase}" if several else f"{phase}: {_intensity(ai)} FLOP/byte"
            series.append(Series(label, pts, "none", phase_marker[phase], i))
            if not several:
                legend.append(LegendEntry(label, "none", phase_marker[phase], i))
    if several:
        legend += [LegendEntry(f"{phase} (per GPU: FLOP/byte, achieved FLOP/s)", "none", marker, NEUTRAL)
                   for phase, marker in phase_marker.items()
                   if any(s.marker == marker for s in series)]
    legend.append(LegendEntry("ridge point (FLOP/byte)", "none", "cross", NEUTRAL))
    top = max((r.peak_flops_per_s for r in rows if _usable(r.peak_flops_per_s, True)), default=None)
    extent = ((x_lo, top * 1.2), (x_hi, top * 1.2)) if top else ()  # headroom above the highest roof
    panel = Panel(x_axis, y_axis, tuple(series), tuple(notes), extent=extent)
    return Chart("roofline", title, (panel,), tuple(legend))


# --------------------------------------------------------------------------- batch curves (scale, sweep)


class BatchPoint(NamedTuple):
    """One batch of one configuration: the token phase's step time and its two bounds, utilization, cost."""

    batch: float
    step_time_s: float | None  # time per output token (decode step; prefill for an encoder)
    compute_time_s: float | None  # the step if only FLOPs counted (at MFU)
    memory_time_s: float | None  # the step if only bytes counted (at MBU)
    utilization: float | None
    usd_per_million_output_tokens: float | None
    fits: bool = True


def batch_point(est, fits: bool = True) -> BatchPoint:
    """From an ``Estimate``: its decode step (an encoder's prefill)."""
    phase = est.decode if est.decode is not None else est.prefill
    return BatchPoint(batch=est.scenario.workload.batch, step_time_s=phase.time_s,
                      compute_time_s=phase.compute_time_s, memory_time_s=phase.memory_time_s,
                      utilization=phase.utilization,
                      usd_per_million_output_tokens=est.cost.usd_per_million_output_tokens, fits=fits)


def batch_point_from_row(row: dict[str, Any]) -> BatchPoint:
    """From a flat sweep row (``decode.*``, or ``prefill.*`` for an encoder)."""
    decode = row.get("decode.step_time_s") is not None
    phase = "decode" if decode else "prefill"
    return BatchPoint(batch=row.get("batch"), step_time_s=row.get("decode.step_time_s" if decode else "prefill.time_s"),
                      compute_time_s=row.get(f"{phase}.compute_time_s"),
                      memory_time_s=row.get(f"{phase}.memory_time_s"),
                      utilization=row.get(f"{phase}.utilization"),
                      usd_per_million_output_tokens=row.get("cost.usd_per_million_output_tokens"),
                      fits=row.get("memory.fits") is not False)


def _scaled(value: float | None, step: float | None, bound: float | None, inverse: bool) -> float | None:
    """A quantity proportional to the step time (cost) or to its inverse (utilization), at a bound's time."""
    if value is None or not step or not bound:
        return None
    return value * (step / bound if inverse else bound / step)


_GROUP_MARKERS = tuple(m for m in MARKERS if m != "cross")  # the cross marks batches that do not fit


def batch_chart(groups: Sequence[tuple[str, Sequence[BatchPoint]]], title: str = "",
                annotations: Sequence[tuple[str, float, str]] = ()) -> Chart:
    """Utilization, time per token and $ per million output tokens against the batch, one colour per group.

    Each panel also draws the FLOP bound (dashed: the step if only compute counted, at MFU) and the bandwidth
    bound (dotted: if only memory traffic counted, at MBU). Cost is proportional to the step time and utilization
    to its inverse, so their bounds are the same two times. ``annotations`` are (panel name, batch, text) with
    panel names "utilization", "time", "cost"; the point is placed on that group's (first group's) curve.
    """
    groups = [(label, sorted((p for p in pts if _usable(p.batch, True)), key=lambda p: p.batch))
              for label, pts in groups][:MAX_SERIES_GROUPS]
    several = len(groups) > 1
    x_axis = Axis("batch (concurrent sequences per replica)", "number", log=True)
    specs = [
        ("utilization", Axis("utilization (achieved / peak FLOP/s)", "percent", log=True, upper=1.0),
         lambda p: p.utilization, True),
        ("time", Axis("time per output token (s)", "seconds", log=True), lambda p: p.step_time_s, False),
        ("cost", Axis("$ per million output tokens", "usd", log=True),
         lambda p: p.usd_per_million_output_tokens, False),
    ]
    panels: list[Panel] = []
    for name, y_axis, get, inverse in specs:
        series: list[Series] = []
        for i, (label, pts) in enumerate(groups):
            main = clean_points([(p.batch, get(p)) for p in pts], True, True)
            if not main:
                continue
            series.append(Series(label, main, "solid", _GROUP_MARKERS[i % len(_GROUP_MARKERS)], i,
                                 label if several else ""))
            if name == "time":
                flop = [(p.batch, p.compute_time_s) for p in pts]
                band = [(p.batch, p.memory_time_s) for p in pts]
            else:
                flop = [(p.batch, _scaled(get(p), p.step_time_s, p.compute_time_s, inverse)) for p in pts]
                band = [(p.batch, _scaled(get(p), p.step_time_s, p.memory_time_s, inverse)) for p in pts]
            series.append(Series(f"{label}: FLOP bound", clean_points(flop, True, True), "dashed", "", i))
            series.append(Series(f"{label}: bandwidth bound", clean_points(band, True, True), "dotted", "", i))
            beyond = clean_points([(p.batch, get(p)) for p in pts if not p.fits], True, True)
            if beyond:
                series.append(Series(f"{label}: does not fit", beyond, "none", "cross", i))
        if not series:
            continue
        notes = []
        first = groups[0][1] if groups else []
        for where, batch, text in annotations:
            if where != name:
                continue
            at = [get(p) for p in first if p.batch == batch]
            if at and _usable(at[0], True):
                notes.append(Annotation(float(batch), float(at[0]), text, NEUTRAL, "diamond"))
        panels.append(Panel(x_axis, y_axis, tuple(series), tuple(notes), y_axis.label))
    legend = [LegendEntry(label, "solid", _GROUP_MARKERS[i % len(_GROUP_MARKERS)], i)
              for i, (label, _) in enumerate(groups)]
    legend += [LegendEntry("FLOP bound (compute time at MFU)", "dashed", "", NEUTRAL),
               LegendEntry("bandwidth bound (memory time at MBU)", "dotted", "", NEUTRAL)]
    if any(not p.fits for _, pts in groups for p in pts):
        legend.append(LegendEntry("does not fit in memory", "none", "cross", NEUTRAL))
    if not panels:
        panels.append(Panel(x_axis, specs[1][1], ()))
    return Chart("batch", title, tuple(panels), tuple(legend))


# --------------------------------------------------------------------------- plan frontier


class FrontierPoint(NamedTuple):
    gpu: str
    precision: str
    usd_per_million_output_tokens: float | None
    user_tokens_per_s: float


def frontier_chart(points: Sequence[FrontierPoint], title: str = "", frontier: bool = True) -> Chart:
    """Per-user tokens/s against $ per million output tokens: one marker and colour per accelerator x
    precision, the frontier joined by a line (``frontier``: the points are a Pareto frontier)."""
    x_axis = Axis("$ per million output tokens", "usd", log=True)
    y_axis = Axis("tokens/s per user", "number", log=True)
    keys: list[str] = []
    for p in points:
        key = f"{short_gpu(p.gpu)} {p.precision}".strip()
        if key not in keys:
            keys.append(key)
    series: list[Series] = []
    legend: list[LegendEntry] = []
    if frontier:
        line = clean_points(sorted(((p.usd_per_million_output_tokens, p.user_tokens_per_s) for p in points
                                    if p.usd_per_million_output_tokens is not None)), True, True)
        if len(line) > 1:
            series.append(Series("frontier", line, "solid", "", NEUTRAL))
            legend.append(LegendEntry("Pareto frontier", "solid", "", NEUTRAL))
    for i, key in enumerate(keys[:MAX_SERIES_GROUPS]):
        pts = clean_points([(p.usd_per_million_output_tokens, p.user_tokens_per_s) for p in points
                            if f"{short_gpu(p.gpu)} {p.precision}".strip() == key], True, True)
        marker = MARKERS[i % len(MARKERS)]
        series.append(Series(key, pts, "none", marker, i))
        legend.append(LegendEntry(key, "none", marker, i))
    return Chart("frontier", title, (Panel(x_axis, y_axis, tuple(series)),), tuple(legend))


# --------------------------------------------------------------------------- trend


class TrendPoint(NamedTuple):
    year: int
    ridge_flops_per_byte: float
    utilization: float | None
    bound: str = ""
    memory_to_compute: float | None = None  # a decode step's memory time / compute time: the roofline's ratio
    roofline_bound: str = ""


def _wide(values: Sequence[float]) -> bool:
    pos = [v for v in values if _usable(v, True)]
    return bool(pos) and max(pos) / min(pos) > 20


def trend_chart(projection: Sequence[TrendPoint], catalog: Sequence[tuple[int, str, float]] = (), title: str = "",
                batch: int | None = None) -> Chart:
    """The ridge point (FLOPs per byte), the roofline's memory/compute ratio of a decode step and the utilization at
    the batch, year by year; the years the binding terms change are marked. ``catalog`` adds real accelerators as
    (release year, id, ops per byte)."""
    x_axis = Axis("year", "year")
    ridge = Series("projected ridge point", clean_points([(p.year, p.ridge_flops_per_byte) for p in projection],
                                                          False, True), "solid", "circle", 0)
    ridge_series = [ridge]
    legend = [LegendEntry("projection", "solid", "circle", 0)]
    if catalog:
        ridge_series.append(Series("catalog GPUs (dense 16-bit FLOP/s / HBM bandwidth)",
                                   clean_points([(y, r) for y, _, r in catalog], False, True), "none", "triangle", 1))
        legend.append(LegendEntry("catalog GPUs: dense 16-bit FLOP/s / HBM bandwidth", "none", "triangle", 1))
    top = Panel(x_axis, Axis("ridge point (FLOP/byte)", "number", log=True), tuple(ridge_series),
                title="ridge point (FLOP/byte)")
    utils = [p.utilization for p in projection]
    label = "utilization" + (f" at batch {batch:,}" if batch is not None else "")
    u_axis = Axis(f"{label} (achieved / peak FLOP/s)", "percent", log=_wide(utils), upper=1.0)
    notes = []
    if projection:
        first = projection[0].bound
        flip = next((p for p in projection[1:] if p.bound != first), None)
        if flip is not None and _usable(flip.utilization, u_axis.log):
            notes.append(Annotation(flip.year, flip.utilization, f"{flip.bound}-bound from {flip.year}", NEUTRAL,
                                    "diamond"))
    util = Series(label, clean_points([(p.year, p.utilization) for p in projection], False, u_axis.log),
                  "solid", "circle", 0)
    bottom = Panel(x_axis, u_axis, (util,), tuple(notes), title=u_axis.label)
    ratios = clean_points([(p.year, p.memory_to_compute) for p in projection], False, True)
    if not ratios:
        return Chart("trend", title, _same_years((top, bottom)), tuple(legend))
    r_axis = Axis("memory time / compute time of a decode step (roofline, apart from fixed costs)", "number", log=True)
    years = [p.year for p in projection] + [y for y, _, _ in catalog]
    one = Series("1: memory and compute take as long", ((min(years), 1.0), (max(years), 1.0)), "dotted", "", NEUTRAL)
    ratio_notes = []
    if projection and projection[0].roofline_bound:
        flip = next((p for p in projection[1:] if p.roofline_bound != projection[0].roofline_bound), None)
        if flip is not None and _usable(flip.memory_to_compute, True):
            ratio_notes.append(Annotation(flip.year, flip.memory_to_compute, f"{flip.roofline_bound}-bound from "
                                          f"{flip.year}", NEUTRAL, "diamond", above=True))
    middle = Panel(x_axis, r_axis, (Series("memory / compute", ratios, "solid", "circle", 0), one),
                   tuple(ratio_notes), title=r_axis.label, extent=((min(years), 1.0),))
    legend.append(LegendEntry("1: above, memory-bound on the roofline; below, compute-bound", "dotted", "", NEUTRAL))
    return Chart("trend", title, _same_years((top, middle, bottom)), tuple(legend))


def _same_years(panels: tuple[Panel, ...]) -> tuple[Panel, ...]:
    """Stacked panels over the same years, so a year sits at the same place in each (catalog GPUs reach back)."""
    years = [x for p in panels for s in p.series for x, _ in s.points]
    if not years:
        return panels
    out = []
    for p in panels:
        ys = [y for s in p.series for _, y in s.points]
        out.append(p._replace(extent=p.extent + ((min(years), ys[0]), (max(years), ys[0]))) if ys else p)
    return tuple(out)


__all__ = [
    "Axis", "Series", "Annotation", "LegendEntry", "Panel", "Chart", "RooflineRow", "BatchPoint", "FrontierPoint",
    "TrendPoint", "roofline_row", "roofline_chart", "batch_point", "batch_point_from_row", "batch_chart",
    "frontier_chart", "trend_chart", "limits", "ticks", "tick_label", "axis_limits", "short_gpu",
]
