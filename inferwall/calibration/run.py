"""The calibration as one function: rows -> cases -> predictions before -> fit -> predictions after -> bands.

``inferwall calibrate`` (a user's measurements, one profile) and ``scripts/calibrate.py`` (the shipped profiles
from ``shared/validation/``) both call ``calibrate``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from inferwall.catalog import Catalog
from inferwall.catalog import profiles
from inferwall.errors import InputError

from .fit import FitReport, Knob, Predictor, Result, State, error_bands, fit, mark_fitted
from .rows import Case, Skipped, cases_from_rows, load_rows

# The order knobs are kept in when there are few rows: the efficiencies first, then fixed costs.
PRIORITY = ("gemm.efficiency", "host.per_request_s", "memory.stream_efficiency", "host.per_iteration_s",
            "attention.decode", "fixed.kernel_floor_s", "host.launch_s", "attention.prefill", "collectives",
            "memory.weight_only")
ROWS_PER_KNOB = 3

# Kernel keys the fit may move for an architecture that has rows, and the engine keys for an engine that has rows.
KERNEL_KEYS = ("memory.stream_efficiency", "fixed.kernel_floor_s", "attention.prefill.bf16", "gemm.transition_exponent",
               "attention.decode.bandwidth_efficiency")
TP_KEYS = ("collectives.all_reduce_latency_s", "collectives.all_reduce_efficiency")
ENGINE_KEYS = ("host.per_iteration_s", "host.per_request_s", "host.launch_s")


@dataclass
class Outcome:
    cases: list[Case]
    skipped: list[Skipped]
    before: list[Result]
    after: list[Result]
    state: State
    report: FitReport | None
    bands: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def gemm_dtype(case: Case) -> str | None:
    o = case.options
    quant = str(o.get("quant") or "")
    prec = str(o.get("precision") or "")
    if "fp4" in quant or prec == "fp4":
        return "fp4"
    if "fp8" in quant or prec == "fp8":
        return "fp8"
    if o.get("weights"):
        return None  # weight-only: the 16-bit GEMM and the weight-only stream
    return "bf16"


def auto_knobs(cases: list[Case], catalog: Catalog, state: State) -> list[Knob]:
    """The physical parameters the rows can inform: per architecture with rows, the GEMM efficiency of each dtype
    they compute in, streaming, the kernel floor, attention and (with tensor parallelism) collective latency; per
    engine with rows, its host costs; an engine's own kernel overrides for those architectures."""
    knobs: dict[Knob, None] = {}
    for c in cases:
        if c.kind != "estimate":
            continue
        arch = catalog.gpu(c.gpu).accelerator.architecture or "generic"
        if arch not in state.kernels.architectures:
            arch = "generic"
        params = state.kernels.architectures[arch]
        dtype = gemm_dtype(c)
        keys = list(KERNEL_KEYS) + ([f"gemm.efficiency.{dtype}"] if dtype else [])
        if int(c.options.get("tp") or 1) > 1:
            keys += TP_KEYS
        for key in keys:
            if key in params and params[key].box is not None:
                knobs[Knob(f"kernels:{arch}", key)] = None
        engine = str(c.options.get("engine") or profiles.DEFAULT_ENGINE)
        profile = state.engines.get(engine)
        if profile is None:
            continue
        for key in ENGINE_KEYS:
            if key in profile.params and profile.params[key].box is not None and profile.params[key].box[0] < \
                    profile.params[key].box[1]:
                knobs[Knob(f"engine:{engine}", key)] = None
        for karch, kparams in profile.kernels.items():
            if karch in (arch, "generic"):
                for key, prm in kparams.items():
                    if prm.box is not None and prm.box[0] < prm.box[1]:
                        knobs[Knob(f"engine_kernels:{engine}:{karch}", key)] = None
    return list(knobs)


def affordable(knobs: list[Knob], rows: int) -> list[Knob]:
    """At most one knob per ``ROWS_PER_KNOB`` rows, the most informative first: a few rows cannot pin many
    parameters, and a profile fitted that way would only reproduce its rows."""
    def rank(k: Knob) -> int:
        return next((i for i, p in enumerate(PRIORITY) if k.key.startswith(p)), len(PRIORITY))

    return sorted(knobs, key=rank)[:max(1, rows // ROWS_PER_KNOB)]


def load_cases(paths: list[str], catalog: Catalog, scenario: dict[str, Any] | None = None
               ) -> tuple[list[Case], list[Skipped]]:
    """Every row of every file, resolved; user rows take the scenario flags given (e.g. --gpu for vllm JSON)."""
    cases: list[Case] = []
    skipped: list[Skipped] = []
    overrides = {k: v for k, v in (scenario or {}).items() if v not in (None, False)}
    for path in paths:
        rows = load_rows(path, overrides)
        c, s = cases_from_rows(rows, catalog, path)
        for case in c:
            if case.kind == "estimate" and overrides:  # a row names its own hardware and model
                case.options.update({k: v for k, v in overrides.items() if k not in ("gpu", "model")})
        cases += c
        skipped += s
    return cases, skipped


def calibrate(cases: list[Case], catalog: Catalog, state: State, knobs: list[Knob] | None = None,
              rounds: int = 3, log: Callable[[str], None] | None = None, note: str = "") -> Outcome:
    """Fit ``knobs`` (default: ``auto_knobs``) on the cases and report before/after."""
    if not any(c.fitted for c in cases):
        raise InputError("no usable rows to calibrate on (every row was skipped; see the reasons above)")
    predictor = Predictor(catalog)
    before = predictor.evaluate(cases, state)
    if knobs is None:
        knobs = affordable(auto_knobs(cases, catalog, state), sum(1 for c in cases if c.fitted))
    report = None
    if knobs and rounds > 0:
        state, report = fit(cases, predictor, state, knobs, rounds=rounds, log=log)
        state = mark_fitted(state, report, note or f"fitted by inferwall calibrate on {len(cases)} rows")
    after = predictor.evaluate(cases, state)
    pooled = error_bands(after)
    bands = {}
    for engine in state.engines:
        own = [r for r in after if r.case.options.get("engine") == engine]
        mine = error_bands(own) if own else []
        names = {b["regime"] for b in mine}
        bands[engine] = mine + [b for b in pooled if b["regime"] not in names]
    return Outcome(cases=cases, skipped=[], before=before, after=after, state=state, report=report, bands=bands)
