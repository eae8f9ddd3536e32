"""Hardware trends: project a configuration N years ahead at the "AI and Memory Wall" growth rates and watch
the ridge point, the critical batch and the binding term move. Standard library only, no I/O.

Gholami et al., "AI and Memory Wall" (2024): over the last two decades peak FLOP/s grew 3.0x every 2 years,
DRAM bandwidth 1.6x and interconnect bandwidth 1.4x. A projected accelerator is the given one with

    peak(y) = peak x 3.0^(y/2),  bandwidth(y) = bandwidth x 1.6^(y/2),  links(y) = links x 1.4^(y/2)

(memory capacity, TDP and price unchanged). Each year is then run through ``estimate()`` at the same model,
layout, batch and efficiency. The ridge point, peak / bandwidth in FLOPs per byte, grows (3.0/1.6)^(y/2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Iterable

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
               ("interconnect", "--interconnect-growth"))


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
    bound: str  # the decode step's binding term at ``batch``
    compute_bound: bool  # compute time >= memory time at ``batch``


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
        s = replace(scenario, accelerator=project_accelerator(scenario.accelerator, y, rates))
        probe = BatchProbe(s, compute_explicit)
        est = probe.at(batch)
        phase = token_phase(est)
        peak = peak_flops(est.scenario.accelerator, est.scenario.precision.compute) or 0.0
        bw = est.scenario.accelerator.bandwidth_bytes_per_s
        rows.append(TrendRow(year=base + y, years_ahead=y, peak_flops_per_gpu=peak, bandwidth_bytes_per_s_per_gpu=bw,
                             ridge_flops_per_byte=peak / bw, critical_batch=critical_batch(probe), batch=batch,
                             utilization=phase.utilization, tpot_s=est.latency.tpot_s or phase.time_s,
                             bound=phase.bound, compute_bound=is_compute_bound(est)))
    first = rows[0]
    flip = next((r for r in rows[1:] if r.bound != first.bound), None)
    return TrendResult(rows=tuple(rows), rates=rates, flip_year=flip.year if flip else None, flip_from=first.bound,
                       flip_to=flip.bound if flip else None, catalog=catalog_ratios(catalog),
                       summary=_summary(rows, flip, rates))


def _crit(c: int | None) -> str:
    return "never" if c is None else f"{c:,}"


def _summary(rows: list[TrendRow], flip: TrendRow | None, rates: TrendRates) -> str:
    first, last = rows[0], rows[-1]
    span = last.years_ahead
    parts = [f"FLOP/s {rates.flops:g}x, bandwidth {rates.bandwidth:g}x, links {rates.interconnect:g}x "
             f"every {rates.period_years:g} years: over {span} years the ridge point goes from "
             f"{first.ridge_flops_per_byte:,.4g} to {last.ridge_flops_per_byte:,.4g} FLOPs/byte "
             f"and the critical batch from {_crit(first.critical_batch)} to {_crit(last.critical_batch)}."]
    parts.append(f"At batch {first.batch:,} utilization goes from {first.utilization * 100:.3g}% to "
                 f"{last.utilization * 100:.3g}% and the time per token from {first.tpot_s * 1e3:.3g} ms to "
                 f"{last.tpot_s * 1e3:.3g} ms.")
    if flip is None:
        parts.append(f"Decode stays {first.bound}-bound throughout.")
    else:
        parts.append(f"Decode changes bottleneck in {flip.year}: {first.bound}-bound until then, {flip.bound}-bound from "
                     f"{flip.year} ({flip.years_ahead} years ahead).")
    return " ".join(parts)
