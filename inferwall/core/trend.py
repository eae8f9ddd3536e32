"""Hardware trends: project a configuration N years ahead at the "AI and Memory Wall" growth rates and watch
the ridge point, the critical batch and the binding term move. Standard library only, no I/O.

Gholami et al., "AI and Memory Wall" (2024): over the last two decades peak FLOP/s grew 3.0x every 2 years,
DRAM bandwidth 1.6x and interconnect bandwidth 1.4x. A projected accelerator is the given one with

    peak(y) = peak x 3.0^(y/2),  bandwidth(y) = bandwidth x 1.6^(y/2),  links(y) = links x 1.4^(y/2)

(memory capacity, TDP and price unchanged). Each year is then run through ``estimate()`` at the same model,
layout, batch and efficiency. The ridge point, peak / bandwidth in FLOPs per byte, grows (3.0/1.6)^(y/2).

The paper's argument is about the roofline: how the time to move a step's bytes compares with the time to do its
FLOPs. Each year reports that ratio (memory time / compute time of a decode step, > 1 memory-bound) and the term
it makes bind, apart from the fixed per-pass costs (launch and per-layer overheads, collective latency), which no
growth rate describes. Those are held at today's values unless ``TrendRates.fixed_costs`` says how much faster
they get per period; the full estimate's binding term, fixed costs included, is reported next to the roofline's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Iterable

from inferwall.units import number, seconds  # formatting only: standard library, no I/O

from . import limits as L
from .dtypes import peak_flops
from .economics import BatchProbe, critical_batch, is_compute_bound, token_phase
from .types import Accelerator, CoreError, Scenario

MAX_YEARS = 100


@dataclass(frozen=True)
class TrendRates:
    """Growth per ``period_years``: the Memory Wall paper's 3.0x FLOP/s, 1.6x DRAM, 1.4x interconnect per 2 years."""

    flops: float = 3.0
    bandwidth: float = 1.6
    interconnect: float = 1.4
    period_years: float = 2.0
    fixed_costs: float = 1.0  # how many times faster the fixed per-pass costs get per period (1: held at today's)

    def factor(self, rate: float, years: float) -> float:
        return rate ** (years / self.period_years)


def project_accelerator(acc: Accelerator, years: float, rates: TrendRates = TrendRates()) -> Accelerator:
    """The accelerator ``years`` from now: FLOP/s, HBM bandwidth and links grown at ``rates``."""
    f = rates.factor(rates.flops, years)
    b = rates.factor(rates.bandwidth, years)
    i = rates.factor(rates.interconnect, years)
    return replace(acc, id=acc.id if years == 0 else f"{acc.id}+{years:g}y",
                   peak_flops={k: v * f for k, v in acc.peak_flops.items()},
                   bandwidth_bytes_per_s=acc.bandwidth_bytes_per_s * b,
                   scale_up_bytes_per_s=acc.scale_up_bytes_per_s * i,
                   scale_out_bytes_per_s=acc.scale_out_bytes_per_s * i)


_RATE_FLAGS = (("flops", "--flops-growth"), ("bandwidth", "--bandwidth-growth"),
               ("interconnect", "--interconnect-growth"), ("fixed_costs", "--fixed-cost-speedup"))


def rates_problem(rates: TrendRates, years: float) -> str | None:
    """None if ``rates`` projected over ``years`` stay finite and physical, else what is wrong, naming the flag.

    Each growth factor lies in [0.01, 100] per period, the period in [1 day, 100 years] (``limits``), and the
    growth over the whole horizon within 30 orders of magnitude: past that no number means anything, and the
    next step would overflow (a period of 1e-300 years, or 1e308x per period).
    """
    for name, flag in _RATE_FLAGS:
        problem = L.GROWTH.problem(getattr(rates, name))
        if problem:
            return f"{flag}: {problem}"
    problem = L.PERIOD_YEARS.problem(rates.period_years)
    if problem:
        return f"--period: {problem}"
    periods = years / rates.period_years
    for name, flag in _RATE_FLAGS:
        exponent = periods * math.log10(getattr(rates, name))
        if not math.log10(L.PROJECTED_FACTOR.low) <= exponent <= math.log10(L.PROJECTED_FACTOR.high):
            return (f"{flag}: {getattr(rates, name):g}x every {rates.period_years:g} years over {years:g} years is "
                    f"a factor of 1e{exponent:+.0f}, beyond the 1e+30 a projection can mean; use a smaller "
                    f"growth, a longer --period or fewer --years")
    return None


# Per-pass costs that do not scale with FLOP/s or bandwidth: host work, kernel floors and launches, collective
# latency (see core/kernels.py).
_FIXED_COSTS = ("host_per_iteration_s", "host_per_request_s", "launch_s", "kernel_floor_s", "collective_latency_s",
                "all_to_all_latency_s", "scale_out_latency_s")


def project_fixed_costs(efficiency, years: float, rates: TrendRates = TrendRates()):
    """The efficiency ``years`` from now: fixed per-pass costs divided by ``fixed_costs`` per period."""
    speedup = rates.factor(rates.fixed_costs, years)
    if speedup == 1:
        return efficiency
    return replace(efficiency, **{name: getattr(efficiency, name) / speedup for name in _FIXED_COSTS
                                  if hasattr(efficiency, name)})


@dataclass(frozen=True)
class TrendRow:
    year: int
    years_ahead: int
    peak_flops_per_gpu: float  # at the compute dtype
    bandwidth_bytes_per_s_per_gpu: float
    ridge_flops_per_byte: float  # peak / bandwidth: the arithmetic intensity at which compute starts to bind
    critical_batch: int | None  # smallest batch whose decode step is compute-bound (None: never)
    batch: int
    utilization: float  # at ``batch``
    tpot_s: float
    bound: str  # the decode step's binding term at ``batch``, fixed costs included
    compute_bound: bool  # compute time >= memory time at ``batch``
    compute_time_s: float = 0.0  # the step's FLOPs at peak x MFU
    memory_time_s: float = 0.0  # the step's bytes at bandwidth x MBU
    memory_to_compute: float = 0.0  # memory time / compute time: > 1 memory-bound on the roofline
    roofline_bound: str = ""  # memory or compute: the roofline's binding term, apart from fixed costs


@dataclass(frozen=True)
class CatalogPoint:
    """A real accelerator's ops:byte ratio: dense 16-bit FLOP/s over HBM bandwidth."""

    year: int
    gpu: str
    name: str
    ops_per_byte: float


@dataclass(frozen=True)
class TrendResult:
    rows: tuple[TrendRow, ...]
    rates: TrendRates
    flip_year: int | None  # first year the decode step's binding term differs from today's
    flip_from: str
    flip_to: str | None
    catalog: tuple[CatalogPoint, ...]
    summary: str
    roofline_flip_year: int | None = None  # first year the roofline's binding term differs from today's
    roofline_flip_to: str | None = None


def catalog_ratios(accelerators: Iterable[Accelerator]) -> tuple[CatalogPoint, ...]:
    """Dense bf16 (else fp16) FLOP/s over HBM bandwidth of every accelerator with a release year, by year."""
    points = []
    for acc in accelerators:
        peak = acc.flops_for("bf16") or acc.flops_for("fp16")
        if not peak or not acc.release_year or acc.bandwidth_bytes_per_s <= 0:
            continue
        points.append(CatalogPoint(acc.release_year, acc.id, acc.name, peak / acc.bandwidth_bytes_per_s))
    return tuple(sorted(points, key=lambda p: (p.year, p.ops_per_byte, p.gpu)))


def trend(scenario: Scenario, compute_explicit: bool = False, years: int = 10, rates: TrendRates = TrendRates(),
          start_year: int | None = None, catalog: Iterable[Accelerator] = ()) -> TrendResult:
    """Project ``scenario`` year by year for ``years`` years."""
    if not 0 <= years <= MAX_YEARS:
        raise CoreError(f"years must be between 0 and {MAX_YEARS}, got {years}")
    problem = rates_problem(rates, years)
    if problem:
        raise CoreError(problem)
    base = start_year if start_year is not None else (scenario.accelerator.release_year or 0)
    batch = scenario.workload.batch
    rows = []
    for y in range(years + 1):
        s = replace(scenario, accelerator=project_accelerator(scenario.accelerator, y, rates),
                    efficiency=project_fixed_costs(scenario.efficiency, y, rates))
        probe = BatchProbe(s, compute_explicit)
        est = probe.at(batch)
        phase = token_phase(est)
        step = token_phase(probe.step.at(batch))  # the decode step alone, for the roofline's ratio
        peak = peak_flops(est.scenario.accelerator, est.scenario.precision.compute) or 0.0
        bw = est.scenario.accelerator.bandwidth_bytes_per_s
        ratio = step.memory_time_s / step.compute_time_s if step.compute_time_s > 0 else float("inf")
        rows.append(TrendRow(year=base + y, years_ahead=y, peak_flops_per_gpu=peak, bandwidth_bytes_per_s_per_gpu=bw,
                             ridge_flops_per_byte=peak / bw, critical_batch=critical_batch(probe), batch=batch,
                             utilization=phase.utilization, tpot_s=est.latency.tpot_s or phase.time_s,
                             bound=phase.bound, compute_bound=is_compute_bound(est),
                             compute_time_s=step.compute_time_s, memory_time_s=step.memory_time_s,
                             memory_to_compute=ratio, roofline_bound="memory" if ratio > 1 else "compute"))
    first = rows[0]
    flip = next((r for r in rows[1:] if r.bound != first.bound), None)
    roof = next((r for r in rows[1:] if r.roofline_bound != first.roofline_bound), None)
    return TrendResult(rows=tuple(rows), rates=rates, flip_year=flip.year if flip else None, flip_from=first.bound,
                       flip_to=flip.bound if flip else None, catalog=catalog_ratios(catalog),
                       summary=_summary(rows, flip, roof, rates, scenario.efficiency),
                       roofline_flip_year=roof.year if roof else None,
                       roofline_flip_to=roof.roofline_bound if roof else None)


def _crit(c: int | None) -> str:
    return "never" if c is None else f"{c:,}"


def _summary(rows: list[TrendRow], flip: TrendRow | None, roof: TrendRow | None, rates: TrendRates,
             efficiency) -> str:
    first, last = rows[0], rows[-1]
    span = last.years_ahead
    parts = [f"FLOP/s {rates.flops:g}x, bandwidth {rates.bandwidth:g}x, links {rates.interconnect:g}x "
             f"every {rates.period_years:g} years: over {span} years the ridge point goes from "
             f"{number(first.ridge_flops_per_byte)} to {number(last.ridge_flops_per_byte)} FLOPs/byte "
             f"and the critical batch from {_crit(first.critical_batch)} to {_crit(last.critical_batch)}."]
    # The roofline, apart from fixed costs: the Memory Wall argument itself.
    ratios = f"memory time / compute time goes from {number(first.memory_to_compute)} to {number(last.memory_to_compute)}"
    if roof is None:
        verdict = f"{first.roofline_bound}-bound throughout"
    else:
        verdict = f"{first.roofline_bound}-bound until {roof.year}, {roof.roofline_bound}-bound from then"
    parts.append(f"On the roofline alone (apart from fixed costs), a decode step at batch {first.batch:,} is {verdict}: "
                 f"{ratios}.")
    fixed = [getattr(efficiency, name, 0.0) for name in _FIXED_COSTS]
    if any(fixed):
        held = ("held at today's values" if rates.fixed_costs == 1 else
                f"{rates.fixed_costs:g}x faster every {rates.period_years:g} years")
        parts.append(f"With the fixed per-pass costs (overheads, collective latency) {held}, utilization goes from "
                     f"{_pct(first.utilization)} to {_pct(last.utilization)} and the time per token from "
                     f"{seconds(first.tpot_s)} to {seconds(last.tpot_s)}.")
    else:
        parts.append(f"Utilization goes from {_pct(first.utilization)} to {_pct(last.utilization)} and the time per "
                     f"token from {seconds(first.tpot_s)} to {seconds(last.tpot_s)}.")
    if flip is None:
        parts.append(f"Decode stays {first.bound}-bound throughout.")
    else:
        parts.append(f"Decode changes bottleneck in {flip.year}: {first.bound}-bound until then, {flip.bound}-bound from "
                     f"{flip.year} ({flip.years_ahead} years ahead).")
    return " ".join(parts)


def _pct(x: float) -> str:
    if not x == x or x in (float("inf"), float("-inf")):
        return "-"  # summaries never say "inf%"
    return f"{x * 100:.3g}%" if x >= 0.001 else f"{x * 100:.2g}%"
