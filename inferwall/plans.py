"""Capacity plans for ``inferwall check``: parsing with file:line errors, assertions, and the JSON Schema.

A plan is a YAML (or JSON) file::

    version: 1                      # optional
    description: chat serving, Q3   # optional
    defaults:                       # optional: fields every scenario starts from
      model: llama-3.1-70b
      input_tokens: 2048
    assert:                         # optional: assertions every scenario must meet
      must_fit: true
    scenarios:                      # required: name -> estimate fields + its own assertions
      chat-8xh100:
        gpu: h100
        gpus: 8
        batch: 64
        assert:
          max_tpot_s: 0.05
          max_usd_per_million_output_tokens: 2.0

Scenario fields are the estimate flags with underscores (``input_tokens`` for ``--input-tokens``), from
``inferwall.fields.FIELDS``. A scenario's assertions are the top-level ``assert`` updated by its own.
Pure logic: YAML is read through ``inferwall.catalog.yamlio`` (safe loading, no anchors or tags).
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inferwall.errors import InputError
from inferwall.fields import BY_FLAG, BY_NAME, FIELDS, value_schema

PLAN_VERSION = 1
TOP_KEYS = ("version", "description", "defaults", "assert", "scenarios")
SCENARIO_EXTRA = ("assert", "description")


@dataclass(frozen=True)
class AssertionKind:
    name: str
    metric: str  # flat column (see grid.flat_row)
    op: str  # "<=", ">=" or "is"
    unit: str  # how the threshold is read: usd, seconds, rate, fraction, bytes, bool
    phase: str  # what binds: prefill, decode, both, memory, none
    help: str


ASSERTIONS: tuple[AssertionKind, ...] = (
    AssertionKind("max_usd_per_million_output_tokens", "cost.usd_per_million_output_tokens", "<=", "usd", "decode",
                  "Most $ per million output tokens (the decode share of the cost)."),
    AssertionKind("max_usd_per_million_input_tokens", "cost.usd_per_million_input_tokens", "<=", "usd", "prefill",
                  "Most $ per million input tokens (the prefill share of the cost)."),
    AssertionKind("max_usd_per_million_tokens", "cost.usd_per_million_tokens_blended", "<=", "usd", "both",
                  "Most blended $ per million tokens (input and output)."),
    AssertionKind("max_usd_per_hour", "cost.usd_per_hour", "<=", "usd", "none", "Most $ per hour for all GPUs."),
    AssertionKind("max_ttft_s", "latency.ttft_s", "<=", "seconds", "prefill",
                  "Longest time to first token: seconds, or a duration such as 500ms."),
    AssertionKind("max_tpot_s", "latency.tpot_s", "<=", "seconds", "decode",
                  "Longest time per output token: seconds, or a duration such as 50ms."),
    AssertionKind("max_e2e_s", "latency.e2e_s", "<=", "seconds", "both", "Longest end-to-end time per request."),
    AssertionKind("min_output_tokens_per_s", "throughput.output_tokens_per_s", ">=", "rate", "decode",
                  "Fewest output tokens per second over all GPUs."),
    AssertionKind("min_requests_per_s", "throughput.requests_per_s", ">=", "rate", "both",
                  "Fewest requests per second over all GPUs."),
    AssertionKind("min_utilization", "decode.utilization", ">=", "fraction", "decode",
                  "Lowest achieved FLOP utilization of a decode step (prefill for encoders): 0.2 or 20%."),
    AssertionKind("must_fit", "memory.fits", "is", "bool", "memory",
                  "true: weights, KV cache, workspace and reserve must fit in each GPU."),
    AssertionKind("min_headroom", "memory.headroom_bytes_per_gpu", ">=", "bytes", "memory",
                  "Least free memory per GPU after weights, KV cache, workspace and reserve: bytes (8GiB, 2e9) "
                  "or a percentage of usable memory (10%)."),
    # issue 12: under a request rate (request_rate), percentiles and the load; past saturation they fail
    *(AssertionKind(f"max_{name}_{q}_s", f"latency.{name}_{q}_s", "<=", "seconds", phase,
                    f"Longest {q} {what} under the scenario's request_rate: seconds or a duration (2s, 50ms).")
      for name, what, phase in (("ttft", "time to first token", "prefill"), ("tpot", "time per output token", "decode"),
                                ("e2e", "end-to-end time", "both"))
      for q in ("p50", "p90", "p99")),
    AssertionKind("max_load_utilization", "load.utilization", "<=", "fraction", "none",
                  "Highest request rate as a share of the saturation rate (0.8 or 80%): headroom before the queue "
                  "grows without bound."),
    AssertionKind("min_saturation_request_rate", "load.saturation_request_rate", ">=", "rate", "none",
                  "Fewest requests per second the deployment sustains before its queue grows without bound."),
)
ASSERTION_BY_NAME = {a.name: a for a in ASSERTIONS}
LOAD_METRICS = tuple(a.metric for a in ASSERTIONS
                     if a.metric.startswith("load.") or a.metric.endswith(("_p50_s", "_p90_s", "_p99_s")))


# ----------------------------------------------------------------- the parsed plan


@dataclass(frozen=True)
class Assertion:
    kind: AssertionKind
    threshold: Any  # float, or bool for must_fit; for min_headroom a percentage is ("%", fraction)
    text: str  # as written
    line: int | None
    where: str  # dotted path in the plan, e.g. scenarios.chat.assert.max_tpot_s


@dataclass
class PlanScenario:
    name: str
    fields: dict[str, Any]
    assertions: list[Assertion]
    line: int | None
    origins: dict[str, str] = field(default_factory=dict)  # field -> dotted path it came from


@dataclass
class Plan:
    path: str
    scenarios: list[PlanScenario]
    description: str = ""
    lines: dict[tuple[str, ...], int] = field(default_factory=dict)

    def at(self, where: str) -> str:
        """``file:line: dotted.path`` for a dotted path, the line if known."""
        line = self.lines.get(tuple(where.split("."))) if where else None
        return f"{self.path}:{line}" if line else self.path


def _suggest(name: str, valid: list[str]) -> str:
    from inferwall.suggest import close_names

    close = [name.replace("-", "_")] if name.replace("-", "_") in valid else close_names(name, valid, n=2)
    return f"; did you mean {' or '.join(close)}?" if close else ""


def _key_lines(path: str, text: str) -> dict[tuple[str, ...], int]:
    """The line of every mapping key, by its path of keys; a duplicate key is an error."""
    import yaml

    from inferwall.catalog.yamlio import _loader

    lines: dict[tuple[str, ...], int] = {}

    def walk(node: Any, prefix: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                key = str(key_node.value)
                here = prefix + (key,)
                line = key_node.start_mark.line + 1
                if key in seen:
                    raise InputError(f"{path}:{line}: {'.'.join(here)}: duplicate key (the first is on line {lines[here]})")
                seen.add(key)
                lines[here] = line
                walk(value_node, here)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, prefix + (str(i),))

    try:
        walk(yaml.compose(text, Loader=_loader()), ())  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError:
        return lines  # load_document already reported syntax errors
    return lines


class _Reader:
    def __init__(self, path: str, lines: dict[tuple[str, ...], int]) -> None:
        self.path, self.lines = path, lines

    def line(self, where: str) -> int | None:
        return self.lines.get(tuple(where.split(".")))

    def fail(self, where: str, problem: str) -> InputError:
        parts = where.split(".")
        line = None
        while parts and line is None:  # the closest enclosing key with a known line
            line = self.lines.get(tuple(parts))
            parts.pop()
        return InputError(f"{self.path}:{line}: {where}: {problem}" if line else f"{self.path}: {where}: {problem}")


def _field_value(r: _Reader, where: str, name: str, value: Any) -> Any:
    f = BY_NAME[name]
    if f.is_switch:
        if not isinstance(value, bool):
            raise r.fail(where, f"must be true or false, got {value!r}")
        return value
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        raise r.fail(where, f"expected {'text' if f.kind in ('text', 'dtype') else 'a number or text'}, got {value!r}"
                     + (" (for several values, write several scenarios)" if isinstance(value, list) else ""))
    if f.kind in ("text", "dtype") and not isinstance(value, str):
        raise r.fail(where, f"expected text, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise r.fail(where, f"must be finite, got {value!r}")
    return value


def _threshold(r: _Reader, where: str, kind: AssertionKind, value: Any) -> Any:
    from inferwall.units import UnitError, brief, parse_fraction, parse_quantity, parse_seconds

    if kind.unit == "bool":
        if not isinstance(value, bool):
            raise r.fail(where, f"must be true or false, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise r.fail(where, f"expected a number, got {value!r}")
    try:
        if kind.unit == "seconds":
            result = parse_seconds(value, where) if isinstance(value, str) else float(value)
        elif kind.unit == "fraction":
            result = parse_fraction(value, where)
        elif kind.unit == "bytes":
            if isinstance(value, str) and value.strip().endswith("%"):
                return ("%", parse_fraction(value, where))
            result = float(value) if not isinstance(value, str) else parse_quantity(value, "bytes", where)
        elif kind.unit == "usd":
            text = str(value).strip().removeprefix("$")
            result = float(text)
        else:  # rate
            result = float(value) if not isinstance(value, str) else parse_quantity(value, "count", where)
    except (UnitError, ValueError, OverflowError) as exc:
        message = str(exc).split(": ", 1)[-1] if isinstance(exc, UnitError) else f"expected a number, got {brief(value)}"
        raise r.fail(where, message) from None
    if not math.isfinite(result) or result < 0:
        raise r.fail(where, f"must be a finite number >= 0, got {value!r}")
    if 0 < result < sys.float_info.min:
        raise r.fail(where, f"{value!r} is too close to zero to compute with (subnormal); use 0 or a larger value")
    return result


def _assertions(r: _Reader, where: str, data: Any) -> dict[str, Assertion]:
    if not isinstance(data, dict):
        raise r.fail(where, f"expected a mapping of assertion to threshold, e.g. max_tpot_s: 0.05; got {data!r}")
    out: dict[str, Assertion] = {}
    for name, value in data.items():
        here = f"{where}.{name}"
        kind = ASSERTION_BY_NAME.get(str(name))
        if kind is None:
            raise r.fail(here, f"unknown assertion {name!r}{_suggest(str(name), list(ASSERTION_BY_NAME))} "
                               f"(valid: {', '.join(ASSERTION_BY_NAME)})")
        out[kind.name] = Assertion(kind=kind, threshold=_threshold(r, here, kind, value),
                                   text=str(value).lower() if isinstance(value, bool) else str(value),
                                   line=r.line(here), where=here)
    return out


def _fields(r: _Reader, where: str, data: dict[str, Any], extra: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    valid = [f.name for f in FIELDS] + list(extra)
    for key, value in data.items():
        key = str(key)
        here = f"{where}.{key}"
        if key in extra:
            continue
        if key not in BY_NAME:
            flag = BY_FLAG.get(f"--{key.lstrip('-')}".replace("_", "-"))
            hint = f"; did you mean {flag.name}?" if flag else _suggest(key, valid)
            raise r.fail(here, f"unknown field {key!r}{hint} (fields are the estimate flags with underscores; "
                               "see 'inferwall schema plan')")
        out[key] = _field_value(r, here, key, value)
    return out


def load_plan(path: str | Path) -> Plan:
    """Read and validate a plan file. Every error is one line naming the file, the line and the field."""
    from inferwall.catalog.yamlio import parse_document, read_text

    path = str(path)
    text = read_text(path)  # read once: the file is parsed, then composed for key lines
    data = parse_document(path, text)
    lines = _key_lines(path, text)
    r = _Reader(path, lines)
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a mapping with 'scenarios' (see 'inferwall schema plan')")
    for key in data:
        if key not in TOP_KEYS:
            raise r.fail(str(key), f"unknown top-level key {key!r}{_suggest(str(key), list(TOP_KEYS))} "
                                   f"(valid: {', '.join(TOP_KEYS)})")
    version = data.get("version", PLAN_VERSION)
    # Exactly the number 1 (or the text "1"): true and 1.0 only compare equal to it in Python.
    if not (type(version) is int and version == PLAN_VERSION or version == str(PLAN_VERSION)):
        raise r.fail("version", f"must be {PLAN_VERSION}, the plan format this inferwall reads; got {version!r}")
    description = data.get("description") or ""
    if not isinstance(description, str):
        raise r.fail("description", "must be text")
    defaults_data = data.get("defaults") or {}
    if not isinstance(defaults_data, dict):
        raise r.fail("defaults", f"expected a mapping of estimate fields, got {defaults_data!r}")
    defaults = _fields(r, "defaults", defaults_data, ())
    shared = _assertions(r, "assert", data["assert"]) if data.get("assert") is not None else {}
    scenarios_data = data.get("scenarios")
    if scenarios_data is None:
        raise InputError(f"{path}: missing 'scenarios' (a mapping of scenario name to estimate fields and assertions)")
    if not isinstance(scenarios_data, dict) or not scenarios_data:
        raise r.fail("scenarios", "expected a non-empty mapping of scenario name to estimate fields and assertions")
    scenarios: list[PlanScenario] = []
    for name, body in scenarios_data.items():
        where = f"scenarios.{name}"
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise r.fail(where, f"expected a mapping of estimate fields and 'assert', got {body!r}")
        own = _fields(r, where, body, SCENARIO_EXTRA)
        if "description" in body and not isinstance(body["description"], str):
            raise r.fail(f"{where}.description", "must be text")
        asserts = dict(shared)
        if body.get("assert") is not None:
            asserts.update(_assertions(r, f"{where}.assert", body["assert"]))
        if not asserts:
            raise r.fail(where, "no assertions: add 'assert:' to the scenario or the plan (e.g. max_tpot_s: 0.05)")
        origins = {k: f"defaults.{k}" for k in defaults}
        origins.update({k: f"{where}.{k}" for k in own})
        scenarios.append(PlanScenario(name=str(name), fields={**defaults, **own}, assertions=list(asserts.values()),
                                      line=r.line(where), origins=origins))
    return Plan(path=path, scenarios=scenarios, description=description, lines=lines)


# ----------------------------------------------------------------- resolving and evaluating

_FLAG = re.compile(r"--([a-z][a-z-]*)")
_HINTS = (("unknown model", "model"), ("no model", "model"), ("unknown GPU", "gpu"), ("dtype", "precision"),
          ("dtype", "weights"), ("compute", "compute"), ("compute", "precision"), ("tp=", "tp"), ("tp=", "gpus"),
          ("pp=", "pp"), ("ep=", "ep"), ("tp x pp", "gpus"), ("experts", "ep"), ("model", "model"))


def _plan_error(plan: Plan, sc: PlanScenario, exc: Exception, overrides: dict[str, Any]) -> InputError:
    """Point a build error at the plan line of the field it is about, naming fields as the plan does."""
    message = str(exc)
    named = [m for m in _FLAG.findall(message) if m.replace("-", "_") in BY_NAME]
    target = named[0].replace("-", "_") if named else None
    if target is None:
        target = next((f for needle, f in _HINTS if needle in message and f in sc.origins), None)
    if target in overrides:
        return InputError(f"{message} (--{target.replace('_', '-')} given on the command line, in {plan.path} "
                          f"scenario {sc.name})")
    for flag in named:
        message = message.replace(f"--{flag}", flag.replace("-", "_"))
    if target and message.startswith(f"{target}: "):
        message = message[len(target) + 2:]
    where = sc.origins.get(target or "", f"scenarios.{sc.name}")
    return InputError(f"{plan.at(where)}: {where}: {message}")


@dataclass(frozen=True)
class Result:
    plan: str
    scenario: str
    assertion: str
    metric: str
    op: str
    threshold: Any
    threshold_text: str
    actual: Any
    passed: bool
    bound: str
    detail: str
    line: int | None

    def as_row(self) -> dict[str, Any]:
        return {"plan": self.plan, "scenario": self.scenario, "assertion": self.assertion, "metric": self.metric,
                "actual": self.actual, "op": self.op, "threshold": self.threshold, "passed": self.passed,
                "bound": self.bound, "detail": self.detail, "line": self.line}


def _binding(kind: AssertionKind, row: dict[str, Any]) -> str:
    if kind.phase == "prefill":
        return f"prefill: {row.get('prefill.bound')}"
    if kind.phase == "decode":
        bound = row.get("decode.bound")
        return f"decode: {bound}" if bound else f"prefill: {row.get('prefill.bound')}"
    if kind.phase == "both":
        decode_time = (row.get("latency.e2e_s") or 0) - (row.get("latency.ttft_s") or 0)
        if row.get("decode.bound") and decode_time >= (row.get("prefill.time_s") or 0):
            return f"decode: {row['decode.bound']}"
        return f"prefill: {row.get('prefill.bound')}"
    if kind.phase == "memory":
        parts = {"weights": row.get("memory.weights_bytes_per_gpu") or 0,
                 "kv-cache": row.get("memory.kv_cache_bytes_per_gpu") or 0,
                 "workspace": row.get("memory.activation_bytes_per_gpu") or 0,
                 "reserve": row.get("memory.reserve_bytes_per_gpu") or 0}
        return f"memory: {max(parts, key=parts.get)}"
    return ""


# Assertions that a configuration which does not fit in memory cannot meet: it would not run at all.
NEEDS_A_RUNNING_CONFIGURATION = ("usd", "seconds", "rate", "fraction")

_WRITTEN_UNIT = re.compile(r"^\s*[-+0-9.eE_]+\s*([A-Za-zµ%/$]*)\s*$")
_DECIMAL_BYTES = {"TB": 1e12, "GB": 1e9, "MB": 1e6, "KB": 1e3, "kB": 1e3}
_DURATIONS = {"h": 3600.0, "min": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def value_text(kind: AssertionKind, value: Any, written: str = "") -> str:
    """A value of an assertion's metric for people, in the unit the plan wrote its threshold in
    (``min_headroom: 10GiB`` shows ``10 GiB``, ``max_tpot_s: 50ms`` shows ``15.26 ms``)."""
    from inferwall.units import binary_bytes, number, seconds

    if value is None or isinstance(value, tuple):
        return "-"
    if kind.unit == "bool":
        return "yes" if value else "NO"
    if not math.isfinite(value):
        return "-"
    match = _WRITTEN_UNIT.match(written.strip().removeprefix("$")) if written else None
    unit = match[1] if match else ""
    if kind.unit == "bytes":
        if unit.removesuffix("B") in ("Ti", "Gi", "Mi", "Ki"):
            return binary_bytes(value, unit)
        if unit in _DECIMAL_BYTES:
            return f"{value / _DECIMAL_BYTES[unit]:.4g} {unit}"
        return binary_bytes(value)
    if kind.unit == "seconds":
        return f"{value / _DURATIONS[unit]:.4g} {unit}" if unit in _DURATIONS else seconds(value)
    if kind.unit == "usd":
        return f"${value:,.2f}" if value >= 1 else f"${value:.3g}"
    if kind.unit == "fraction":
        return f"{value:.3g}" if written and not unit else (f"{value * 100:.3g}%" if value >= 0.001
                                                              else f"{value * 100:.2g}%")
    return number(value)


def check_scenario(plan: Plan, sc: PlanScenario, row: dict[str, Any]) -> list[Result]:
    """Evaluate a scenario's assertions against its estimate (a flat row).

    A scenario that does not fit in memory fails every cost, latency, throughput and utilization assertion,
    saying why, unless the plan says ``must_fit: false`` (a what-if on numbers that could not run)."""
    from inferwall.units import plural

    results = []
    written_fit = next((a.threshold for a in sc.assertions if a.kind.name == "must_fit"), None)
    unfit = row.get("memory.fits") is False and written_fit is not False
    need = row.get("memory.min_gpus")
    smallest = f"the smallest replica that fits is {plural(need, 'GPU')}" if need else "no replica searched fits"
    why = f"does not fit in memory ({smallest})"
    for a in sc.assertions:
        kind = a.kind
        metric = kind.metric
        if metric == "decode.utilization" and row.get("decode.bound") is None:
            metric = "prefill.utilization"  # an encoder: no decode phase
        if kind.phase == "decode" and row.get("decode.bound") is None and metric != "prefill.utilization":
            raise InputError(f"{plan.at(a.where)}: {a.where}: {row.get('model')} has no decode phase "
                             "(an encoder, or output_tokens <= 1); this assertion does not apply")
        actual = row.get(metric)
        if actual is None and metric in LOAD_METRICS and row.get("request_rate") is None:
            raise InputError(f"{plan.at(a.where)}: {a.where}: {metric} exists under a request rate; give the scenario "
                             "request_rate (e.g. request_rate: 12)")
        if actual is None and metric.startswith("latency.") and row.get("load.saturated"):
            detail = (f"the queue grows without bound: {row.get('request_rate'):g} req/s is past the saturation rate "
                      f"of {row.get('load.saturation_request_rate'):.4g} req/s ({row.get('load.limited_by')}), so "
                      f"{metric} is unbounded")
            results.append(Result(plan=plan.path, scenario=sc.name, assertion=kind.name, metric=metric, op=kind.op,
                                  threshold=a.threshold, threshold_text=a.text, actual=None, passed=False,
                                  bound=f"load: {row.get('load.limited_by')}", detail=detail, line=a.line))
            continue
        if actual is None:
            why_none = (f"{row.get('gpu')} has no price; set price: in the scenario or defaults" if kind.unit == "usd"
                        else "the estimate has no value for it")
            raise InputError(f"{plan.at(a.where)}: {a.where}: cannot check {metric}: {why_none}")
        threshold = a.threshold
        if isinstance(threshold, tuple):  # min_headroom as a share of usable memory
            threshold = threshold[1] * (row.get("memory.usable_bytes_per_gpu") or 0.0)
        if kind.op == "is":
            passed = bool(actual) is bool(threshold) if threshold else True
        elif kind.op == "<=":
            passed = actual <= threshold
        else:
            passed = actual >= threshold
        shown = lambda v: value_text(kind, v, a.text)  # noqa: E731
        if kind.op == "is":
            detail = "fits" if actual else f"does not fit; {smallest}"
        else:
            rel = {"<=": ">" if not passed else "<=", ">=": "<" if not passed else ">="}[kind.op]
            detail = f"{metric} = {shown(actual)} {rel} {shown(threshold)}"
            if unfit and kind.unit in NEEDS_A_RUNNING_CONFIGURATION:
                passed = False
                detail = f"{why}: it cannot run, so {metric} = {shown(actual)} is not achievable (must_fit: false " \
                         "in the plan checks the numbers anyway)"
        results.append(Result(plan=plan.path, scenario=sc.name, assertion=kind.name, metric=metric,
                              op=kind.op if kind.op != "is" else "==", threshold=threshold, threshold_text=a.text,
                              actual=actual, passed=passed,
                              bound=(f"load: {row.get('load.limited_by')}" if metric in LOAD_METRICS
                                     else _binding(kind, row)), detail=detail, line=a.line))
    return results


def resolve_plan(plan: Plan, catalog, overrides: dict[str, Any],
                 override_origins: dict[str, str] | None = None) -> list[tuple[PlanScenario, Any]]:
    """Build every scenario (overrides replace plan fields); build errors point at the plan's lines."""
    from inferwall.core import CoreError
    from inferwall.inputs import Options, build

    out = []
    for sc in plan.scenarios:
        values = {**sc.fields, **overrides}
        origins = {k: f"plan {plan.at(where)} ({where})" for k, where in sc.origins.items() if k not in overrides}
        origins.update({k: v for k, v in (override_origins or {}).items() if k in overrides})
        try:
            out.append((sc, build(Options(**values, origins=origins), catalog)))
        except (InputError, CoreError) as exc:
            raise _plan_error(plan, sc, exc, overrides) from None
    return out


def evaluate(plan: Plan, resolved: list[tuple[PlanScenario, Any]]) -> tuple[list[Result], dict[str, list[str]]]:
    """Estimate every resolved scenario and check its assertions. Returns results and notes per scenario."""
    from inferwall.core import estimate
    from inferwall.grid import flat_row
    from inferwall.render.record import estimate_record

    results: list[Result] = []
    notes: dict[str, list[str]] = {}
    for sc, r in resolved:
        est = estimate(r.scenario, r.compute_explicit)
        scenario_notes = tuple(dict.fromkeys(r.notes + est.notes))
        notes[sc.name] = list(scenario_notes)
        results.extend(check_scenario(plan, sc, flat_row(estimate_record(est, None, scenario_notes))))
    return results, notes


# ----------------------------------------------------------------- JSON Schema


def _assertion_schema(a: AssertionKind) -> dict[str, Any]:
    if a.unit == "bool":
        schema: dict[str, Any] = {"type": "boolean"}
    elif a.unit == "seconds":
        schema = {"anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": r"^\s*[0-9.eE+-]+\s*(s|ms|us|µs|ns|min|h)?\s*$"}]}
    elif a.unit == "fraction":
        schema = {"anyOf": [{"type": "number", "exclusiveMinimum": 0, "maximum": 1}, {"type": "string", "pattern": r"^\s*[0-9.]+\s*%\s*$"}]}
    elif a.unit == "bytes":
        schema = {"anyOf": [{"type": "number", "minimum": 0}, {"type": "string"}]}
    elif a.unit == "usd":
        schema = {"anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": r"^\s*\$?[0-9.eE+-]+\s*$"}]}
    else:
        schema = {"anyOf": [{"type": "number", "minimum": 0}, {"type": "string"}]}
    schema["description"] = f"{a.help} Checks {a.metric} {a.op if a.op != 'is' else '=='} the threshold."
    return schema


def plan_schema() -> dict[str, Any]:
    """The JSON Schema of plan files, generated from the field and assertion tables."""
    fields = {f.name: value_schema(f) for f in FIELDS}
    assertions = {
        "type": "object",
        "description": "Assertions: thresholds the estimate must meet.",
        "properties": {a.name: _assertion_schema(a) for a in ASSERTIONS},
        "additionalProperties": False,
        "minProperties": 1,
    }
    scenario = {
        "type": "object",
        "description": "One configuration: estimate fields (the estimate flags with underscores) and its assertions.",
        "properties": {**fields, "assert": {"$ref": "#/$defs/assertions"},
                       "description": {"type": "string", "description": "What this scenario is."}},
        "additionalProperties": False,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "inferwall capacity plan",
        "description": "Scenarios and the assertions each must meet; checked by 'inferwall check PLAN.yaml'.",
        "type": "object",
        "properties": {
            "version": {"enum": [PLAN_VERSION, str(PLAN_VERSION)], "description": "Plan format version."},
            "description": {"type": "string", "description": "What this plan is for."},
            "defaults": {"type": "object", "description": "Fields every scenario starts from.",
                         "properties": fields, "additionalProperties": False},
            "assert": {"$ref": "#/$defs/assertions"},
            "scenarios": {"type": "object", "description": "Scenario name -> fields and assertions.",
                          "additionalProperties": {"$ref": "#/$defs/scenario"}, "minProperties": 1},
        },
        "required": ["scenarios"],
        "additionalProperties": False,
        "$defs": {"assertions": assertions, "scenario": scenario},
    }
