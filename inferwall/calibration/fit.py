"""Predict cases with a profile and kernel table, and fit their few physical parameters inside their boxes.

Every estimate case runs through ``inputs.build`` and ``core.estimate`` exactly as ``inferwall estimate`` does;
the fit swaps the engine profile and kernel table the loader hands out (``profiles.using``), nothing else.
Error is |ln(predicted / measured)|, reported as exp(|ln r|) - 1: a factor of 2 either way reads 100 %.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable

from inferwall.catalog import Catalog
from inferwall.catalog import profiles
from inferwall.catalog.profiles import EngineProfile, KernelTable, Param
from inferwall.core import estimate
from inferwall.core.dtypes import peak_flops
from inferwall.core.estimate import regime
from inferwall.inputs import Options, build

from .rows import BATCH_GIVEN, KERNEL_GROUPS, NCCL_MESSAGE_BYTES, Case


@dataclass(frozen=True)
class Knob:
    """One fitted parameter: a key of an architecture in specs/kernels.yaml, of an engine profile, or of an engine's
    kernel overrides."""

    where: str  # "kernels:<architecture>", "engine:<id>" or "engine_kernels:<id>:<architecture>"
    key: str  # e.g. "gemm.efficiency.fp8", "host.per_request_s"

    @property
    def label(self) -> str:
        return f"{self.where.split(':', 1)[1].replace(':', ' ')} {self.key}"


@dataclass(frozen=True)
class State:
    """The data a prediction reads: the kernel table and the engine profiles."""

    kernels: KernelTable
    engines: dict[str, EngineProfile]

    def param(self, knob: Knob) -> Param:
        kind, name = knob.where.split(":", 1)
        if kind == "kernels":
            return self.kernels.architectures[name][knob.key]
        if kind == "engine_kernels":
            engine, arch = name.split(":", 1)
            return self.engines[engine].kernels[arch][knob.key]
        return self.engines[name].params[knob.key]

    def with_value(self, knob: Knob, value: float, fitted: str = "") -> "State":
        kind, name = knob.where.split(":", 1)
        old = self.param(knob)
        new = replace(old, value=value, fitted=fitted)
        if kind == "engine_kernels":
            engine, arch = name.split(":", 1)
            profile = self.engines[engine]
            kernels = {**profile.kernels, arch: {**profile.kernels[arch], knob.key: new}}
            return replace(self, engines={**self.engines, engine: replace(profile, kernels=kernels)})
        if kind == "kernels":
            archs = dict(self.kernels.architectures)
            # The value moves for the architecture and for every one that inherits it unchanged.
            for arch, params in archs.items():
                if params.get(knob.key) is old:
                    archs[arch] = {**params, knob.key: new}
            return replace(self, kernels=replace(self.kernels, architectures=archs))
        engines = dict(self.engines)
        engines[name] = profiles.with_param(engines[name], knob.key, value, fitted)
        return replace(self, engines=engines)

    def values(self, knobs: Iterable[Knob]) -> dict[Knob, float]:
        return {k: float(self.param(k).value) for k in knobs}


def shipped_state(engine_ids: Iterable[str]) -> State:
    """The shipped tables: kernels.yaml and the profiles with the shipped calibration applied."""
    return State(kernels=profiles.load_kernels(), engines={e: profiles.load_engine(e) for e in engine_ids})


def prior_state(engine_ids: Iterable[str]) -> State:
    """The priors: kernels.yaml and the profiles as written, before any calibration."""
    return State(kernels=profiles.load_kernels(calibrated=False),
                 engines={e: profiles.load_engine_prior(e) for e in engine_ids})


@dataclass
class Result:
    case: Case
    predicted: float
    regime: str = ""
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.predicted / self.case.measured

    @property
    def log_error(self) -> float:
        return abs(math.log(self.ratio)) if self.predicted > 0 and self.case.measured > 0 else float("inf")


_EXTRACT: dict[str, Callable[[Any, Case], float]] = {
    "output_tokens_per_s": lambda e, c: e.throughput.output_tokens_per_s,
    "per_gpu_output_tokens_per_s": lambda e, c: e.throughput.output_tokens_per_s / e.scenario.parallelism.gpus,
    "ttft_ms": lambda e, c: e.latency.ttft_s * 1e3,
    "tpot_ms": lambda e, c: (e.latency.tpot_s or 0.0) * 1e3,
    "tokens_per_s_per_user": lambda e, c: 1.0 / e.latency.tpot_s if e.latency.tpot_s else 0.0,
}


class Predictor:
    def __init__(self, catalog: Catalog):
        self.catalog = catalog

    def predict(self, case: Case, state: State) -> Result:
        with profiles.using(state.kernels, state.engines):
            if case.kind == "estimate":
                resolved = build(Options(**case.options), self.catalog)
                e = estimate(resolved.scenario, resolved.compute_explicit)
                w, par = e.scenario.workload, e.scenario.parallelism
                phase = e.decode if (e.decode and case.metric != "ttft_ms") else e.prefill
                note = (f"B={w.batch} tp{par.tp}" + (f"pp{par.pp}" if par.pp > 1 else "")
                        + (f" run {e.serving.running}" if e.serving and e.serving.batching == "continuous" else "")
                        + f" {phase.name}:{phase.bound}" + ("" if e.memory.fits else " DOES-NOT-FIT"))
                return Result(case, _EXTRACT[case.metric](e, case), regime(e.scenario)[0], note)
            acc = self.catalog.gpu(case.gpu).accelerator
            profile = state.engines.get("trtllm") or next(iter(state.engines.values()))
            eff, _, _, _ = profiles.resolve(acc, profile, state.kernels)
        if case.kind == "hbm":
            return Result(case, eff.mbu * acc.bandwidth_bytes_per_s / case.extra["scale"], "kernel", f"{eff.mbu:.2f}")
        if case.kind in ("gemm", "ceiling"):
            dtype = case.extra["dtype"]
            return Result(case, eff.gemm_for(dtype) * (peak_flops(acc, dtype) or 0.0) / 1e12, "kernel",
                          f"{eff.gemm_for(dtype):.2f}")
        if case.kind == "attention":
            from inferwall.core.kernels import attention_efficiency

            e16 = attention_efficiency(eff, "bf16", case.extra["seq"])
            return Result(case, e16 * (peak_flops(acc, "bf16") or 0.0) / 1e12, "kernel", f"{e16:.2f}")
        if case.kind == "allreduce":
            n, m = case.extra["n"], NCCL_MESSAGE_BYTES
            moved = 2 * (n - 1) / n * m
            t = eff.collective_latency_s + moved / (acc.scale_up_bytes_per_s * eff.link_efficiency)
            return Result(case, moved / t / 1e9, "kernel", f"{eff.link_efficiency:.2f}")
        raise ValueError(case.kind)

    def evaluate(self, cases: list[Case], state: State) -> list[Result]:
        return [self.predict(c, state) for c in cases]


# ----------------------------------------------------------------- statistics


def pct(log_error: float) -> float:
    return (math.exp(log_error) - 1) * 100


def quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    pos = q * (len(s) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def summary(results: list[Result]) -> dict[str, float]:
    errs = [r.log_error for r in results]
    return {"n": len(results), "median_pct": pct(quantile(errs, 0.5)), "p80_pct": pct(quantile(errs, 0.8)),
            "p90_pct": pct(quantile(errs, 0.9)), "median_ratio": quantile([r.ratio for r in results], 0.5),
            "bias": geo_ratio(results)}


def geo_ratio(results: list[Result]) -> float:
    """Geometric-mean ratio predicted/measured (the bias of a slice, sign kept)."""
    logs = [math.log(r.ratio) for r in results if r.predicted > 0]
    return math.exp(sum(logs) / len(logs)) if logs else float("nan")


def by(results: Iterable[Result], key: Callable[[Result], str]) -> dict[str, list[Result]]:
    out: dict[str, list[Result]] = {}
    for r in results:
        out.setdefault(key(r), []).append(r)
    return out


def objective(results: list[Result]) -> float:
    """Mean |ln r| per group, groups weighted equally (so a 218-row table does not drown 15 batch-1 rows)."""
    groups = by((r for r in results if r.case.fitted), lambda r: r.case.group)
    if not groups:
        return float("inf")
    return sum(sum(min(r.log_error, 5.0) for r in rs) / len(rs) for rs in groups.values()) / len(groups)


# ----------------------------------------------------------------- the fit


@dataclass
class FitReport:
    knobs: list[Knob]
    before: dict[Knob, float]
    after: dict[Knob, float]
    objective_before: float
    objective_after: float
    evaluations: int


def fit(cases: list[Case], predictor: Predictor, state: State, knobs: list[Knob], rounds: int = 4,
        points: int = 5, log: Callable[[str], None] | None = None) -> tuple[State, FitReport]:
    """Bounded coordinate search: each knob in turn tries ``points`` values around its current one inside its
    box, the step halving each round. Deterministic; standard library only."""
    knobs = [k for k in knobs if state.param(k).box is not None]
    before = state.values(knobs)
    best = objective(predictor.evaluate(cases, state))
    start = best
    evaluations = 1
    steps = {k: (state.param(k).box[1] - state.param(k).box[0]) / 2 for k in knobs}
    for rnd in range(rounds):
        for k in knobs:
            lo, hi = state.param(k).box
            current = float(state.param(k).value)
            step = steps[k]
            trials = sorted({min(hi, max(lo, current + step * (i / (points // 2) if points > 1 else 0)))
                             for i in range(-(points // 2), points // 2 + 1)})
            for value in trials:
                if value == current:
                    continue
                trial = state.with_value(k, value)
                score = objective(predictor.evaluate(cases, trial))
                evaluations += 1
                if score < best - 1e-9:
                    best, state, current = score, trial, value
            steps[k] = step / 2
        if log:
            log(f"round {rnd + 1}: objective {best:.4f} ({evaluations} evaluations)")
    return state, FitReport(knobs=knobs, before=before, after=state.values(knobs), objective_before=start,
                            objective_after=best, evaluations=evaluations)


def mark_fitted(state: State, report: FitReport, note: str) -> State:
    """Record on each knob that moved where its value came from."""
    for k in report.knobs:
        if report.after[k] != report.before[k]:
            state = state.with_value(k, report.after[k], fitted=f"{note} (prior {report.before[k]:.6g})")
    return state


# ----------------------------------------------------------------- error bands


def error_bands(results: list[Result], min_rows: int = 5) -> list[dict[str, Any]]:
    """p80 of |error| per regime, most specific names first, from end-to-end rows (not kernel rows)."""
    e2e = [r for r in results if r.case.kind == "estimate" and r.case.fitted]
    out: list[dict[str, Any]] = []
    levels: list[Callable[[Result], str]] = [
        lambda r: r.regime,
        lambda r: ", ".join(r.regime.split(", ")[:2]),
        lambda r: r.regime.split(", ")[0],
    ]
    for level in levels:
        for name, rs in sorted(by(e2e, level).items()):
            if len(rs) >= min_rows:
                p80 = pct(quantile([r.log_error for r in rs], 0.8)) / 100
                out.append({"regime": name, "p80": round(p80, 3), "n": len(rs)})
    if e2e:
        out.append({"regime": "all", "p80": round(pct(quantile([r.log_error for r in e2e], 0.8)) / 100, 3),
                    "n": len(e2e)})
    return out


def band_coverage(results: list[Result], bands: list[dict[str, Any]]) -> float:
    """Share of end-to-end rows whose error lies inside the band the estimate would print."""
    table = {b["regime"]: b for b in bands}
    inside = total = 0
    for r in results:
        if r.case.kind != "estimate" or not r.case.fitted:
            continue
        names = [r.regime, ", ".join(r.regime.split(", ")[:2]), r.regime.split(", ")[0], "all"]
        band = next((table[n] for n in names if n in table), None)
        if band is None:
            continue
        total += 1
        inside += pct(r.log_error) / 100 <= band["p80"] + 1e-9
    return inside / total if total else float("nan")


def batch_given(results: list[Result]) -> list[Result]:
    return [r for r in results if r.case.group in BATCH_GIVEN]


def kernel_rows(results: list[Result]) -> list[Result]:
    return [r for r in results if r.case.group in KERNEL_GROUPS]
