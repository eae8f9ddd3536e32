"""Fleet records and tables: ``inferwall fleet`` and ``inferwall.fleet()``. JSON keys are an interface.

``fleet_record`` is the JSON (``by_accelerator``, ``total``); ``fleet_rows`` the flat rows of the table, TSV, CSV
and markdown (one per accelerator type, then ``total``); ``generations_columns`` the table of ``--generations``.
"""

from __future__ import annotations

from dataclasses import fields
TYPE_CHECKING = False  # typing costs start-up; its names are only needed by type checkers
if TYPE_CHECKING:
    from typing import Any

from inferwall.units import count, number

from .economics import integer, num, pct, rate, secs, text, usd

TOTAL_KEYS = ("gpus", "gpus_serving", "output_tokens_per_day", "input_tokens_per_day", "output_tokens_per_s",
              "input_tokens_per_s", "requests_per_s", "flop_bound_tokens_per_s", "bandwidth_bound_tokens_per_s",
              "fraction_of_flop_bound", "multiple_of_bandwidth_bound", "position_between_bounds",
              "concurrent_users_peak", "concurrent_users_mean", "user_base", "device_mwh_per_day",
              "facility_mwh_per_day", "tokens_per_mwh", "output_tokens_per_mwh", "gpu_usd_per_day",
              "electricity_usd_per_day", "usd_per_day", "usd_per_million_output_tokens",
              "usd_per_million_input_tokens", "usd_per_million_tokens_blended")


def _totals(t: Any) -> dict[str, Any]:
    values = {f.name: getattr(t, f.name) for f in fields(t)}
    return {k: values[k] for k in TOTAL_KEYS}


def _model(m: Any) -> dict[str, Any]:
    s = m.replica.scenario
    return {
        "model": m.model, "share": m.share, "input_tokens": s.workload.input_tokens,
        "output_tokens": s.workload.output_tokens, "weights_dtype": s.precision.weights, "kv_dtype": s.precision.kv,
        "compute_dtype": s.precision.compute, "engine": s.engine.id, "tp": m.tp, "pp": m.pp, "ep": m.ep,
        "gpus_per_replica": m.gpus_per_replica, "replicas": m.replicas, "gpus": m.gpus,
        "gpus_allotted": m.gpus_allotted, "batch": m.batch, "running": m.running, "ttft_s": m.ttft_s,
        "tpot_s": m.tpot_s, "user_tokens_per_s": 1.0 / m.tpot_s if m.tpot_s else None,
        "output_tokens_per_s": m.output_tokens_per_s, "input_tokens_per_s": m.input_tokens_per_s,
        "requests_per_s": m.requests_per_s, "output_tokens_per_day": m.output_tokens_per_day,
        "input_tokens_per_day": m.input_tokens_per_day, "flop_bound_tokens_per_s": m.flop_bound_tokens_per_s,
        "bandwidth_bound_tokens_per_s": m.bandwidth_bound_tokens_per_s,
    }


def fleet_record(outcome: Any) -> dict[str, Any]:
    """The whole fleet as plain data: what was asked, each accelerator type, the total and the notes."""
    spec, r = outcome.spec, outcome.result
    op = r.operation
    return {
        "fleet": {"file": spec.path, "description": spec.description or None, "sources": list(spec.sources)},
        "workload": {
            "models": [{"model": m.model, "share": m.share} for m in spec.models],
            "max_tpot_s": spec.max_tpot_s, "max_ttft_s": spec.max_ttft_s,
            "per_user_tokens_per_s": 1.0 / spec.max_tpot_s if spec.max_tpot_s else None,
        },
        "operation": {
            "utilization": list(op.utilization), "utilization_mean": op.mean, "utilization_peak": op.peak,
            "minutes_per_user_day": op.minutes_per_user_day, "pue": op.pue,
            "electricity_usd_per_kwh": op.electricity_usd_per_kwh, "idle_power_fraction": op.idle_power_fraction,
        },
        "by_accelerator": [{
            "gpu": t.gpu, "name": outcome.names.get(t.gpu, t.gpu), "count": t.count,
            "price_usd_per_gpu_hour": t.price_usd_per_gpu_hour, "tdp_w": t.tdp_w,
            "models": [_model(m) for m in t.models],
            **_totals(t.totals),
            "unserved": list(outcome.unserved.get(t.gpu, ())),
        } for t in r.types],
        "total": _totals(r.total),
        "notes": list(outcome.notes),
    }


def _layout(models: list[dict[str, Any]]) -> str:
    return "; ".join(f"{m['model']} {m['replicas']:,} x tp{m['tp']}" + (f" pp{m['pp']}" if m["pp"] > 1 else "")
                     + (f" ep{m['ep']}" if m["ep"] > 1 else "") + f" batch {m['batch']:,}" for m in models) or "-"


FLAT_COLUMNS = ("gpu", "count", "layout", *TOTAL_KEYS[1:], "price_usd_per_gpu_hour")


def fleet_rows(record: dict[str, Any]) -> list[dict[str, Any]]:
    """One flat row per accelerator type, then ``total``."""
    rows = [{"gpu": t["gpu"], "count": t["count"], "layout": _layout(t["models"]),
             "price_usd_per_gpu_hour": t["price_usd_per_gpu_hour"], **{k: t[k] for k in TOTAL_KEYS[1:]}}
            for t in record["by_accelerator"]]
    total = record["total"]
    rows.append({"gpu": "total", "count": total["gpus"], "layout": "", "price_usd_per_gpu_hour": None,
                 **{k: total[k] for k in TOTAL_KEYS[1:]}})
    return rows


def _big(x: float | None) -> str:
    """Token counts, users and rates of a whole fleet: ``70.7T``, ``58.6M`` (three figures say enough)."""
    return "-" if x is None else count(x) if abs(x) >= 1e6 else number(x)


def fleet_table_columns() -> list[tuple[str, str, Any]]:
    return [
        ("gpu", "accelerator", text), ("count", "GPUs", integer), ("layout", "serving (replicas x layout)", text),
        ("output_tokens_per_day", "output tok/day", _big), ("input_tokens_per_day", "input tok/day", _big),
        ("fraction_of_flop_bound", "% of FLOP bound", pct), ("multiple_of_bandwidth_bound", "x bandwidth bound", times),
        ("concurrent_users_peak", "users (peak)", _big), ("user_base", "user base", _big),
        ("facility_mwh_per_day", "MWh/day", num), ("tokens_per_mwh", "tok/MWh", _big),
        ("usd_per_day", "$/day", lambda x: "-" if x is None else f"${_big(x)}"),
        ("usd_per_million_output_tokens", "$/M output", usd),
    ]


FLEET_TABLE_DROP = ("input_tokens_per_day", "tokens_per_mwh", "multiple_of_bandwidth_bound", "user_base",
                    "facility_mwh_per_day", "layout")


def fleet_title(record: dict[str, Any]) -> str:
    models = record["workload"]["models"]
    mix = ", ".join(m["model"] if len(models) == 1 else f"{m['model']} {m['share']:.0%}" for m in models)
    target = record["workload"]["per_user_tokens_per_s"]
    speed = f" at >= {number(target)} tok/s per user" if target else ""
    op = record["operation"]
    return (f"Fleet: {record['total']['gpus']:,} accelerators serving {mix}{speed}, "
            f"{op['utilization_mean']:.0%} mean utilization")


def fleet_summary(record: dict[str, Any]) -> str:
    t = record["total"]
    if not t["gpus_serving"]:
        bounds = ""
        if t["flop_bound_tokens_per_s"] is not None:
            bounds = (f" Its bounds: {_big(t['flop_bound_tokens_per_s'])} forward passes/s if FLOP-bound, "
                      f"{_big(t['bandwidth_bound_tokens_per_s'])}/s if bandwidth-bound.")
        return f"The fleet serves nothing within the objectives (the notes say why).{bounds}"
    parts = [f"The fleet makes {_big(t['output_tokens_per_day'])} output and {_big(t['input_tokens_per_day'])} "
             "input tokens a day."]
    if t["fraction_of_flop_bound"] is not None:
        parts.append(f"At capacity it makes {_big(t['output_tokens_per_s'])} output tokens/s: "
                     f"{pct(t['fraction_of_flop_bound'])} of its FLOP bound ({_big(t['flop_bound_tokens_per_s'])} "
                     f"forward passes/s) and {number(t['multiple_of_bandwidth_bound'])}x its bandwidth bound "
                     f"({_big(t['bandwidth_bound_tokens_per_s'])}/s).")
    minutes = record["operation"]["minutes_per_user_day"]
    parts.append(f"{_big(t['concurrent_users_peak'])} concurrent users at the peak; at {minutes:g} min/day a "
                 f"user base of {_big(t['user_base'])}.")
    if t["facility_mwh_per_day"] is not None:
        parts.append(f"{number(t['facility_mwh_per_day'])} MWh/day ({_big(t['tokens_per_mwh'])} tokens/MWh).")
    if t["usd_per_day"] is not None:
        parts.append(f"${_big(t['usd_per_day'])}/day, {usd(t['usd_per_million_output_tokens'])}/M output tokens.")
    return " ".join(parts)


def times(x: float | None) -> str:
    """A ratio as a multiple: ``9.36x``."""
    return "-" if x is None else f"{x:.3g}x"


def generations_columns() -> tuple[list[tuple[str, str, Any]], list[tuple[str, str, Any]]]:
    """(machine columns, table columns) of ``fleet --generations``."""
    from inferwall.fleets import GENERATION_COLUMNS

    machine = [(k, k, text) for k in GENERATION_COLUMNS]
    human = [("gpu", "gpu", text), ("year", "year", text), ("precision", "precision", text),
             ("layout", "layout", text), ("batch", "batch", integer), ("tpot_s", "TPOT", secs),
             ("output_tokens_per_s_per_gpu", "tok/s per GPU", rate), ("tokens_growth", "tok/s growth", times),
             ("flops_growth", "FLOP/s growth", times), ("bandwidth_growth", "bandwidth growth", times),
             ("fp8_gain", "FP8 gain", times), ("fraction_of_flop_bound", "% of FLOP bound", pct)]
    return machine, human


def generation_layout(row: dict[str, Any]) -> str:
    if row.get("tp") is None:
        return row.get("why") or "-"
    return (f"tp{row['tp']}" + (f" pp{row['pp']}" if row["pp"] > 1 else "") + (f" ep{row['ep']}" if row["ep"] > 1
                                                                                  else ""))
