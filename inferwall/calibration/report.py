"""Calibration output: error tables by group, bias slices, the fitted parameters, and the files a fit writes
(a profile for ``--engine-file``, or the shipped ``specs/calibrated.yaml`` overlay)."""

from __future__ import annotations

import copy
import math
from typing import Any, Iterable

from .fit import FitReport, Result, State, by, geo_ratio, pct, quantile, summary
from .rows import BATCH_GIVEN, MAX_THROUGHPUT

BIAS_BOX = (0.85, 1.2)  # bias slices with n >= 10 must stay inside (issue: kernel physics)


def group_rows(before: list[Result], after: list[Result]) -> list[dict[str, Any]]:
    """Per report group: n, median and p90 error before and after, and the bias after."""
    b, a = by(before, lambda r: r.case.group), by(after, lambda r: r.case.group)
    out = []
    for group in sorted(a):
        sa, sb = summary(a[group]), summary(b.get(group, a[group]))
        out.append({"group": group, "n": sa["n"], "median_before": sb["median_pct"], "median_after": sa["median_pct"],
                    "p80_after": sa["p80_pct"], "p90_after": sa["p90_pct"], "bias_after": sa["bias"],
                    "fitted": a[group][0].case.fitted})
    return out


def file_groups(after: list[Result]) -> list[dict[str, Any]]:
    """The calibration files' own groups (batch given, max throughput, kernel rows)."""
    out = []
    for name, pick in (("batch given (static batch, first-token latency, batch-1 decode)",
                        lambda r: r.case.group in BATCH_GIVEN),
                       ("max throughput (the engine picks the batch)", lambda r: r.case.group in MAX_THROUGHPUT),
                       ("kernel microbenchmarks (HBM, GEMM, attention, NCCL)",
                        lambda r: r.case.kind not in ("estimate", "ceiling"))):
        rs = [r for r in after if pick(r)]
        if rs:
            s = summary(rs)
            out.append({"group": name, "n": s["n"], "median": s["median_pct"], "p90": s["p90_pct"]})
    return out


def _size(params: float) -> str:
    for limit, label in ((15e9, "< 15B"), (100e9, "15-100B"), (500e9, "100-500B")):
        if params < limit:
            return label
    return ">= 500B"


def bias_slices(after: list[Result], catalog) -> list[dict[str, Any]]:
    """Geometric-mean predicted/measured by dtype, TP, GPU, model size and engine (end-to-end rows)."""
    from inferwall.core.architecture import total_params

    e2e = [r for r in after if r.case.kind == "estimate"]
    keys = {
        "dtype": lambda r: r.regime.split(", ")[1] if ", " in r.regime else "?",
        "tp": lambda r: f"TP{r.case.options.get('tp', 1)}",
        "gpu": lambda r: r.case.gpu,
        "model size": lambda r: _size(total_params(catalog.model(r.case.options["model"]).model)),
        "engine": lambda r: str(r.case.options.get("engine")),
    }
    out = []
    for dim, key in keys.items():
        for name, rs in sorted(by(e2e, key).items()):
            ratio = geo_ratio(rs)
            flag = len(rs) >= 10 and not (BIAS_BOX[0] <= ratio <= BIAS_BOX[1])
            out.append({"slice": dim, "value": name, "n": len(rs), "bias": ratio, "outside": flag})
    return out


def knob_rows(report: FitReport | None, state: State) -> list[dict[str, Any]]:
    if report is None:
        return []
    out = []
    for k in report.knobs:
        prm = state.param(k)
        out.append({"parameter": k.label, "prior": report.before[k], "fitted": report.after[k], "box": prm.box,
                    "source": prm.source})
    return out


def band_rows(bands: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"regime": b["regime"], "p80": b["p80"], "n": b["n"]} for b in bands]


# ----------------------------------------------------------------- files


def _set(node: dict, dotted: str, value: dict) -> None:
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def _param_node(prm, value: float, note: str) -> dict[str, Any]:
    node: dict[str, Any] = {"value": _round(value), "source": prm.source}
    if prm.box is not None:
        node["box"] = [prm.box[0], prm.box[1]]
    if note:
        node["fitted"] = note
    return node


def _round(value: float) -> float:
    return float(f"{value:.4g}")


def profile_data(base_raw: dict, engine: str, state: State, report: FitReport | None, bands: list[dict[str, Any]],
                 meta: dict[str, Any]) -> dict[str, Any]:
    """A complete engine profile: the base profile with the fitted engine values, the fitted kernel values of the
    architectures the rows covered as ``kernels:`` overrides, the error bands and how they were obtained."""
    data = copy.deepcopy(base_raw)
    data["id"] = meta.get("id") or data.get("id")
    moved = [k for k in (report.knobs if report else []) if report.after[k] != report.before[k]]
    for k in moved:
        kind, name = k.where.split(":", 1)
        prm = state.param(k)
        node = _param_node(prm, report.after[k], prm.fitted)
        if kind == "engine" and name == engine:
            _set(data, k.key, {**_lookup(data, k.key), **node})
        elif kind == "kernels":
            _set(data.setdefault("kernels", {}).setdefault(name, {}), k.key, node)
        elif kind == "engine_kernels" and name.split(":", 1)[0] == engine:
            _set(data.setdefault("kernels", {}).setdefault(name.split(":", 1)[1], {}), k.key, node)
    data["error_bands"] = [{"regime": b["regime"], "p80": b["p80"], "n": b["n"]} for b in bands]
    data["calibration"] = meta
    return data


def _lookup(data: dict, dotted: str) -> dict:
    node: Any = data
    for part in dotted.split("."):
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return node if isinstance(node, dict) else {}


def overlay_data(state: State, report: FitReport | None, bands: dict[str, list[dict[str, Any]]],
                 meta: dict[str, Any]) -> dict[str, Any]:
    """The shipped calibration (specs/calibrated.yaml): fitted values over the priors, and every engine's bands."""
    kernels: dict[str, dict] = {}
    engines: dict[str, dict] = {}
    engine_kernels: dict[str, dict] = {}
    for k in (report.knobs if report else []):
        if report.after[k] == report.before[k]:
            continue
        prm = state.param(k)
        node = {"value": _round(report.after[k]), "prior": report.before[k], "fitted": prm.fitted}
        kind, name = k.where.split(":", 1)
        if kind == "kernels":
            kernels.setdefault(name, {})[k.key] = node
        elif kind == "engine":
            engines.setdefault(name, {})[k.key] = node
        else:
            engine, arch = name.split(":", 1)
            engine_kernels.setdefault(engine, {}).setdefault(arch, {})[k.key] = node
    return {"schema_version": 1, "calibration": meta, "kernels": kernels, "engines": engines,
            "engine_kernels": engine_kernels, "error_bands": bands}


def dump_yaml(data: dict[str, Any], header: str = "") -> str:
    import yaml

    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)
    return (header.rstrip() + "\n" if header else "") + text


# ----------------------------------------------------------------- text


def fmt_pct(x: float) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.1f} %"


def median_error(results: Iterable[Result]) -> float:
    return pct(quantile([r.log_error for r in results], 0.5))
