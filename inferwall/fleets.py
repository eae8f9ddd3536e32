"""Fleets: a file of accelerators and counts, a workload and a day, evaluated with the planner and the cost core.

A fleet file (YAML or JSON)::

    description: what this fleet is            # optional
    sources: ["where the counts come from"]    # optional
    accelerators:                              # required: catalog id or alias -> count (or {count, price})
      h100: 1500000
      mi300x: {count: 300000, price: 2.5}
    workload:                                  # required: a model, or a mix of models with traffic shares
      model: llama-3.1-70b                     #   or models: {deepseek-v3: 0.7, llama-3.1-70b: 0.3}
      input_tokens: 2048                       #   any estimate field but the hardware, layout and batch
      output_tokens: 512
      per_user_tokens_per_s: 20                #   the latency target (or max_tpot: 50ms), and max_ttft: 2s
    utilization: 0.6                           # optional: share of capacity in use, or a list over the day
    minutes_per_user_day: 10                   # optional: for the user base
    pue: 1.2                                   # optional: facility energy / device energy
    electricity_usd_per_kwh: 0.08              # optional: adds the energy bill to the cost
    price: "h100=2.1"                          # optional: $/GPU-hour, one value or a per-accelerator map

For each accelerator type and model, ``planner.plan`` picks the layout and batch with the most requests per GPU
that meets the latency target (the cheapest configuration for an unbounded demand, since one type has one price),
``estimate()`` evaluates one replica of it, and ``core.fleet`` does the day's bookkeeping. ``generations`` is the
seed's table of tokens/s per GPU across GPU generations, from the same planner. Errors are one line naming the
file, the line and the field; YAML is read through ``catalog.yamlio`` (safe loading, no anchors or tags).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
TYPE_CHECKING = False  # typing costs start-up; its names are only needed by type checkers
if TYPE_CHECKING:
    from typing import Any

from inferwall.catalog.validate import Fields
from inferwall.errors import InputError
from inferwall.fields import FIELDS

TOP_KEYS = ("version", "description", "sources", "accelerators", "workload", "utilization", "minutes_per_user_day",
            "pue", "electricity_usd_per_kwh", "price")
LATENCY_KEYS = ("per_user_tokens_per_s", "max_tpot", "max_ttft")
# The fleet sets the hardware (its accelerators) and the planner the layout and batch: not workload fields.
NOT_IN_WORKLOAD = {
    "gpu": "the accelerators list sets the hardware", "flops": "the accelerators list sets the hardware",
    "bandwidth": "the accelerators list sets the hardware", "memory": "the accelerators list sets the hardware",
    "link_bandwidth": "the accelerators list sets the hardware", "price": "price is a top-level key of the fleet",
    "gpus": "the accelerators list sets the counts", "tp": "the planner chooses the layout",
    "pp": "the planner chooses the layout", "dp": "the fleet's count sets the replicas",
    "ep": "the planner chooses the layout", "batch": "the planner chooses the batch that meets the latency target",
}
FLEET_EXCLUDED = tuple(k for k in NOT_IN_WORKLOAD if k != "price")  # flags a fleet does not take (price it does)
WORKLOAD_FIELDS = tuple(f.name for f in FIELDS if f.name not in NOT_IN_WORKLOAD)
SHARE_TOLERANCE = 1e-6
UNBOUNDED_REQUESTS_PER_S = 1e9  # the planner's demand: so large that the cheapest answer is the densest layout

GENERATIONS_MODEL = "deepseek-v3"
GENERATIONS_GPUS = ("a100", "h100", "h200", "b200")
GENERATIONS_INPUT_TOKENS = 7168  # with the output, an 8k context (8192 tokens)
GENERATIONS_OUTPUT_TOKENS = 1024
GENERATIONS_USER_TOKENS_PER_S = 20.0  # the latency target: 50 ms per output token, a reading speed


# --------------------------------------------------------------------------- the parsed file


@dataclass(frozen=True)
class ModelShare:
    model: str
    share: float  # of the requests
    fields: dict[str, Any]  # its own estimate fields, over the workload's
    where: str  # file:line: dotted path, for messages


@dataclass(frozen=True)
class AcceleratorCount:
    name: str  # as written
    count: int
    price: Any  # its own $/GPU-hour, or None
    where: str


@dataclass(frozen=True)
class FleetSpec:
    path: str
    accelerators: tuple[AcceleratorCount, ...]
    models: tuple[ModelShare, ...]
    fields: dict[str, Any] = field(default_factory=dict)  # the workload's estimate fields
    max_tpot_s: float | None = None
    max_ttft_s: float | None = None
    utilization: tuple[float, ...] | None = None  # None: not given (the fleet runs at capacity)
    minutes_per_user_day: float = 10.0
    pue: float | None = None
    electricity_usd_per_kwh: float | None = None
    price: Any = None
    description: str = ""
    sources: tuple[str, ...] = ()
    workload_where: str = ""


class _At(Fields):
    """``Fields`` whose errors say ``file:line: dotted.path: problem``."""

    def __init__(self, data: Any, path: str, dotted: str, lines: dict[tuple[str, ...], int]):
        self.path, self.dotted, self.lines = path, dotted, lines
        if not isinstance(data, dict):
            raise InputError(f"{self.at(dotted)}: {dotted or 'the file'}: expected a mapping, got {_shown(data)}")
        super().__init__(data, f"{path}: {dotted}")

    def at(self, dotted: str) -> str:
        parts = dotted.split(".") if dotted else []
        while parts:
            line = self.lines.get(tuple(parts))
            if line:
                return f"{self.path}:{line}"
            parts.pop()
        return self.path

    def name(self, key: str) -> str:
        return f"{self.dotted}.{key}" if self.dotted else key

    def where_of(self, key: str) -> str:
        """``file:line: dotted.key``."""
        return f"{self.at(self.name(key))}: {self.name(key)}"

    def fail(self, key: str, problem: str) -> InputError:
        return InputError(f"{self.where_of(key)}: {problem}")

    def sub(self, key: str, required: bool = False) -> "_At | None":
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.fail(key, "missing")
            return None
        return _At(value, self.path, self.name(key), self.lines)

    def unknown(self, valid: tuple[str, ...], what: str) -> None:
        from inferwall.suggest import did_you_mean

        for key in self.data:
            if key not in valid:
                raise self.fail(str(key), f"unknown {what} {key!r}{did_you_mean(str(key), valid)} "
                                          f"(valid: {', '.join(valid)})")


def _shown(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def _number(f: _At, key: str, low: float, high: float | None = None, value: Any = None) -> float:
    """A finite number in [low, high]; ``60%`` reads as 0.6."""
    raw = f.data.get(key) if value is None else value
    number = raw
    if isinstance(raw, str) and raw.strip().endswith("%"):
        try:
            number = float(raw.strip()[:-1]) / 100
        except ValueError:
            number = None
    if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number):
        raise InputError(f"{f.where_of(key)}: expected a number, got {_shown(raw)}")
    if number < low or (high is not None and number > high):
        rng = f">= {low:g}" if high is None else f"in [{low:g}, {high:g}]"
        raise InputError(f"{f.where_of(key)}: must be {rng}, got {raw!r}")
    return float(number)


def _duration(f: _At, key: str) -> float:
    from inferwall.units import UnitError, parse_seconds

    raw = f.data[key]
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise InputError(f"{f.where_of(key)}: expected a duration (e.g. 50ms, 2s), got {_shown(raw)}")
    try:
        return parse_seconds(raw, f.where_of(key), allow_zero=False)
    except UnitError as exc:
        raise InputError(str(exc)) from None


def _count(f: _At, key: str, value: Any) -> int:
    """A whole number of accelerators >= 0: ``1500000``, ``1.5M``."""
    from inferwall.units import UnitError, parse_quantity

    where = f.where_of(key)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InputError(f"{where}: expected a count of accelerators (e.g. 1500000 or 1.5M), got {_shown(value)}")
    number: float
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("-"):
            raise InputError(f"{where}: the count must be >= 0, got {value!r}")
        if text in ("0", "0.0"):
            return 0
        try:
            number = parse_quantity(text, "count", where)
        except UnitError as exc:
            raise InputError(str(exc)) from None
    else:
        number = float(value)
    if not math.isfinite(number) or number < 0:
        raise InputError(f"{where}: the count must be >= 0, got {value!r}")
    if number != int(number):
        raise InputError(f"{where}: the count must be a whole number, got {value!r}")
    if number > 1e12:
        raise InputError(f"{where}: {value!r} accelerators is more than the 1e12 this tool evaluates")
    return int(number)


def _estimate_fields(f: _At, keys: tuple[str, ...], extra: tuple[str, ...]) -> dict[str, Any]:
    from inferwall.values import field_value

    out: dict[str, Any] = {}
    for key in f.data:
        key = str(key)
        if key in extra:
            continue
        if key in NOT_IN_WORKLOAD:
            raise f.fail(key, f"not a workload field: {NOT_IN_WORKLOAD[key]}")
        if key not in keys:
            from inferwall.suggest import did_you_mean

            valid = keys + extra
            raise f.fail(key, f"unknown field {key!r}{did_you_mean(key, valid)} (workload fields are the estimate "
                              f"flags with underscores, plus {', '.join(extra)})")
        out[key] = field_value(key, f.data[key], f.where_of(key))
    return out


def _models(w: _At) -> tuple[ModelShare, ...]:
    if "model" in w.data and "models" in w.data:
        raise w.fail("models", "give model (one) or models (a mix with traffic shares), not both")
    if "model" in w.data:
        name = w.data["model"]
        if not isinstance(name, str) or not name.strip():
            raise w.fail("model", f"expected a model name (e.g. llama-3.1-70b), got {_shown(name)}")
        return (ModelShare(name, 1.0, {}, w.where_of("model")),)
    raw = w.data.get("models")
    if raw is None and "params" in w.data:  # a bare model, given by its parameter count (the seed's 280B)
        return (ModelShare("", 1.0, {}, w.where_of("params")),)
    if raw is None:
        raise w.fail("model", "missing: give model: NAME (or params: 70B for a bare model), or models: "
                              "{NAME: SHARE, ...} for a mix")
    out: list[ModelShare] = []
    if isinstance(raw, dict):
        mix = w.sub("models")
        for name, share in raw.items():
            value = _number(mix, str(name), 0.0, 1.0, share)
            out.append(ModelShare(str(name), value, {}, mix.where_of(str(name))))
    elif isinstance(raw, list):
        for i, item in enumerate(raw):
            entry = _At(item, w.path, f"{w.name('models')}.{i}", w.lines)
            name = entry.data.get("model")
            if name is None and "params" in entry.data:
                name = ""  # a bare model: its fields give it
            elif not isinstance(name, str) or not name.strip():
                raise entry.fail("model", f"expected a model name (or params: for a bare model), got {_shown(name)}")
            if "share" not in entry.data:
                raise entry.fail("share", "missing: the share of the requests this model serves (e.g. 0.3)")
            share = _number(entry, "share", 0.0, 1.0)
            fields = _estimate_fields(entry, WORKLOAD_FIELDS, ("model", "share"))
            out.append(ModelShare(name, share, fields, entry.where_of("model" if name else "params")))
    else:
        raise w.fail("models", f"expected a mapping of model to traffic share, or a list of {{model, share}}, got "
                               f"{_shown(raw)}")
    if not out:
        raise w.fail("models", "empty: give at least one model")
    if any(m.share <= 0 for m in out):
        bad = next(m for m in out if m.share <= 0)
        raise InputError(f"{bad.where}: a traffic share must be > 0, got {bad.share:g}")
    total = sum(m.share for m in out)
    if abs(total - 1.0) > SHARE_TOLERANCE:
        shown = " + ".join(f"{m.share:g}" for m in out)
        raise w.fail("models", f"the traffic shares sum to {total:.6g} ({shown}), not 1: they are shares of the "
                               "requests, so they must add up to 1")
    names = [m.model for m in out if m.model]
    if len(set(names)) != len(names):
        raise w.fail("models", f"{next(n for n in names if names.count(n) > 1)} is listed twice")
    return tuple(out)


def _latency(w: _At) -> tuple[float | None, float | None]:
    tpot = ttft = None
    if "per_user_tokens_per_s" in w.data and "max_tpot" in w.data:
        raise w.fail("max_tpot", "give per_user_tokens_per_s or max_tpot, not both (one is 1 / the other)")
    if "per_user_tokens_per_s" in w.data:
        speed = _number(w, "per_user_tokens_per_s", 0.0)
        if speed <= 0:
            raise w.fail("per_user_tokens_per_s", f"must be > 0, got {w.data['per_user_tokens_per_s']!r}")
        tpot = 1.0 / speed
    if "max_tpot" in w.data:
        tpot = _duration(w, "max_tpot")
    if "max_ttft" in w.data:
        ttft = _duration(w, "max_ttft")
    return tpot, ttft


def _utilization(f: _At) -> tuple[float, ...] | None:
    raw = f.data.get("utilization")
    if raw is None:
        return None
    if isinstance(raw, list):
        if not raw or len(raw) > 1440:
            raise f.fail("utilization", f"expected 1 to 1440 values (equal slices of the day), got {len(raw)}")
        sub = _At({str(i): v for i, v in enumerate(raw)}, f.path, f.name("utilization"), f.lines)
        return tuple(_number(sub, str(i), 0.0, 1.0) for i in range(len(raw)))
    return (_number(f, "utilization", 0.0, 1.0),)


def parse_fleet(data: Any, path: str, lines: dict[tuple[str, ...], int] | None = None) -> FleetSpec:
    """Validate a fleet's data (a loaded file, or the Python API's arguments as one mapping)."""
    f = _At(data, path, "", lines or {})
    f.unknown(TOP_KEYS, "key")
    version = f.data.get("version", 1)
    if version != 1:
        raise f.fail("version", f"unsupported fleet version {version!r}; this inferwall reads version 1")
    description = f.data.get("description") or ""
    if not isinstance(description, str):
        raise f.fail("description", f"must be text, got {_shown(description)}")
    sources = f.data.get("sources") or []
    if isinstance(sources, str):
        sources = [sources]
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise f.fail("sources", "must be a list of text (where the counts come from)")
    acc = f.sub("accelerators", required=True)
    if not acc.data:
        raise f.fail("accelerators", "empty: list accelerator types and counts, e.g. {h100: 1000}")
    accelerators = []
    for name, value in acc.data.items():
        key = str(name)
        price = None
        if isinstance(value, dict):
            entry = acc.sub(key)
            entry.unknown(("count", "price"), "field")
            if "count" not in entry.data:
                raise entry.fail("count", "missing: how many of this accelerator the fleet has")
            count = _count(entry, "count", entry.data["count"])
            price = entry.data.get("price")
            if price is not None:
                from inferwall.units import UnitError, parse_price

                if isinstance(price, bool) or not isinstance(price, (int, float, str)):
                    raise entry.fail("price", f"expected $ per GPU-hour (e.g. 2.1), got {_shown(price)}")
                try:
                    price = parse_price(price, entry.where_of("price"))
                except UnitError as exc:
                    raise InputError(str(exc)) from None
        else:
            count = _count(acc, key, value)
        accelerators.append(AcceleratorCount(key, count, price, acc.where_of(key)))
    w = f.sub("workload")
    if w is None:
        raise InputError(f"{path}: workload: missing; give workload: {{model: NAME}} (or --model)")
    models = _models(w)
    common = _estimate_fields(w, WORKLOAD_FIELDS, ("models", *LATENCY_KEYS))
    common.pop("model", None)
    tpot, ttft = _latency(w)
    minutes = f.data.get("minutes_per_user_day")
    minutes = 10.0 if minutes is None else _number(f, "minutes_per_user_day", 0.0, 1440.0)
    if minutes <= 0:
        raise f.fail("minutes_per_user_day", f"must be > 0, got {f.data['minutes_per_user_day']!r}")
    pue = None if f.data.get("pue") is None else _number(f, "pue", 1.0)
    power = f.data.get("electricity_usd_per_kwh")
    power = None if power is None else _number(f, "electricity_usd_per_kwh", 0.0)
    price = f.data.get("price")
    if isinstance(price, dict):
        from inferwall.values import price_map

        price = price_map(price, f.where_of("price"))
    elif price is not None and (isinstance(price, bool) or not isinstance(price, (int, float, str))):
        raise f.fail("price", f"expected $ per GPU-hour or a GPU=PRICE map, got {_shown(price)}")
    return FleetSpec(path=path, accelerators=tuple(accelerators), models=models, fields=common, max_tpot_s=tpot,
                     max_ttft_s=ttft, utilization=_utilization(f),
                     minutes_per_user_day=minutes, pue=pue, electricity_usd_per_kwh=power, price=price,
                     description=description, sources=tuple(sources), workload_where=w.where_of("model"))


def load_fleet(path: str) -> FleetSpec:
    """Read and validate a fleet file; every error is one line naming the file, the line and the field."""
    from inferwall.catalog.yamlio import load_document, read_text
    from inferwall.plans import _key_lines  # the same line finder as plan files (duplicate keys are errors)

    path = str(path)
    data = load_document(path)
    lines = {} if path.endswith(".json") else _key_lines(path, read_text(path))
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a mapping with 'accelerators' and 'workload' (see docs/fleet.md)")
    return parse_fleet(data, path, lines)


# --------------------------------------------------------------------------- overrides


@dataclass(frozen=True)
class Overrides:
    """What the command line (or the API's keyword arguments) replaces in a fleet."""

    fields: dict[str, Any] = field(default_factory=dict)  # estimate fields, over every model's
    per_user_tokens_per_s: float | None = None
    max_tpot_s: float | None = None
    max_ttft_s: float | None = None
    minutes_per_user_day: float | None = None
    utilization: tuple[float, ...] | None = None
    pue: float | None = None
    electricity_usd_per_kwh: float | None = None
    price: Any = None

    def apply(self, spec: FleetSpec) -> FleetSpec:
        models = spec.models
        fields = dict(spec.fields)
        if "model" in self.fields:
            models = (ModelShare(str(self.fields["model"]), 1.0, {}, "--model"),)
        elif "params" in self.fields:  # a bare model replaces the file's
            models = (ModelShare("", 1.0, {}, "--params"),)
        fields.update({k: v for k, v in self.fields.items() if k not in ("model", "price")})
        if self.fields:
            models = tuple(replace(m, fields={k: v for k, v in m.fields.items() if k not in self.fields})
                           for m in models)
        changes: dict[str, Any] = {"models": models, "fields": fields}
        if self.per_user_tokens_per_s is not None:
            changes["max_tpot_s"] = 1.0 / self.per_user_tokens_per_s
        if self.max_tpot_s is not None:
            changes["max_tpot_s"] = self.max_tpot_s
        for name in ("max_ttft_s", "minutes_per_user_day", "utilization", "pue", "electricity_usd_per_kwh"):
            if getattr(self, name) is not None:
                changes[name] = getattr(self, name)
        return replace(spec, **changes)


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class FleetOutcome:
    spec: FleetSpec
    result: Any  # core.fleet.FleetResult
    names: dict[str, str]  # gpu id -> the name the file used
    unserved: dict[str, list[str]]  # gpu id -> why it serves none (or not every) model
    notes: tuple[str, ...]


def _price_spec(value: Any, catalog: Any, what: str):
    from inferwall.prices import parse_price_spec

    return None if value is None else parse_price_spec(value, catalog, what)


def choose(resolved: Any, max_tpot_s: float | None, max_ttft_s: float | None, gpus: int | None = None):
    """The planner's densest configuration (most requests per GPU) of one resolved scenario that meets the latency
    objectives, with at most ``gpus`` GPUs per replica; (estimate of one replica, None) or (None, why not)."""
    from inferwall.core import Parallelism, estimate
    from inferwall.core.planner import Candidate, Demand, Objectives, SearchOptions, plan

    s = resolved.scenario
    search = s
    if s.accelerator.price_usd_per_hour is None:  # one type, one price: any price ranks its layouts alike
        search = replace(s, accelerator=replace(s.accelerator, price_usd_per_hour=1.0))
    slo = Objectives(max_tpot_s=max_tpot_s, max_ttft_s=max_ttft_s)
    demand = Demand(requests_per_s=UNBOUNDED_REQUESTS_PER_S)
    found = plan([Candidate(search, resolved.compute_explicit)], demand, slo, SearchOptions(top=1))
    configs = list(found.configs)
    if configs and gpus is not None and configs[0].gpus_per_replica > gpus:
        found = plan([Candidate(search, resolved.compute_explicit)], demand, slo, SearchOptions(top=32))
        configs = [c for c in found.configs if c.gpus_per_replica <= gpus]
        if not configs:
            smallest = min(c.gpus_per_replica for c in found.configs)
            return None, (f"one replica that meets the objectives needs {smallest:,} GPUs, more than the {gpus:,} "
                          "listed")
    if not configs:
        why = ", ".join(f"{k} ({v})" for k, v in sorted(found.infeasible.items(), key=lambda kv: -kv[1]))
        return None, f"no layout meets the objectives ({why or found.summary})"
    c = configs[0]
    one = replace(s, parallelism=Parallelism(tp=c.tp, pp=c.pp, dp=1, ep=c.ep),
                  workload=replace(s.workload, batch=c.batch))
    return estimate(one, resolved.compute_explicit), None


def run_fleet(spec: FleetSpec, catalog: Any, overrides: Overrides = Overrides()) -> FleetOutcome:
    """Evaluate a fleet: place every model on every accelerator type, then the day (``core.fleet``)."""
    from inferwall.core import CoreError
    from inferwall.core.economics import BatchProbe
    from inferwall.core.fleet import ModelBounds, Operation, Placement, TypeInput, fleet
    from inferwall.inputs import Options, build
    from inferwall.planning import SLOW_FIRST_TOKEN_S
    from inferwall.units import plural, seconds

    spec = overrides.apply(spec)
    flag_prices = _price_spec(overrides.price, catalog, "--price")
    file_prices = _price_spec(spec.price, catalog, f"{spec.path}: price")
    notes: list[str] = []
    types: list[TypeInput] = []
    names: dict[str, str] = {}
    unserved: dict[str, list[str]] = {}
    seen: dict[str, str] = {}
    slow: list[tuple[float, str, str]] = []
    for item in spec.accelerators:
        try:
            entry = catalog.gpu(item.name)
        except InputError as exc:
            raise InputError(f"{item.where}: {exc}") from None
        acc = entry.accelerator
        if acc.id in seen:
            same = "" if seen[acc.id] == item.name else f" ({seen[acc.id]} and {item.name} are both {acc.id})"
            raise InputError(f"{item.where}: {item.name} is listed twice{same}; give each accelerator once")
        seen[acc.id] = item.name
        names[acc.id] = item.name
        price = flag_prices.price_for(acc.id) if flag_prices else None
        if price is None and item.price is not None:
            price = item.price
        if price is None and file_prices is not None:
            price = file_prices.price_for(acc.id)
        placements = []
        bounds = []
        for m in spec.models:
            values = {**spec.fields, **m.fields, "gpu": acc.id}
            if m.model:
                values["model"] = m.model
            if price is not None:
                values["price"] = price
            try:
                resolved = build(Options(**values), catalog)
            except CoreError as exc:  # this accelerator cannot run the model (no such math, ...)
                unserved.setdefault(acc.id, []).append(f"{m.model or 'the params model'}: {exc}")
                continue
            except InputError as exc:
                where = item.where if "price" in str(exc) and price is not None else m.where
                raise InputError(f"{where}: {exc}") from None
            notes.extend(resolved.notes)
            try:  # the bounds are the hardware's, whether or not a replica fits or meets the objectives
                one = BatchProbe(resolved.scenario, resolved.compute_explicit).at(1)
            except CoreError as exc:
                unserved.setdefault(acc.id, []).append(f"{resolved.scenario.model.id}: {exc}")
                continue
            n = one.scenario.parallelism.gpus_per_replica
            bounds.append(ModelBounds(one.scenario.model.id, m.share, one.bounds.compute_forward_passes_per_s / n,
                                      one.bounds.memory_forward_passes_per_s / n))
            if item.count == 0:
                continue
            try:
                replica, why = choose(resolved, spec.max_tpot_s, spec.max_ttft_s, item.count)
            except CoreError as exc:
                replica, why = None, str(exc)
            if replica is None:
                unserved.setdefault(acc.id, []).append(f"{resolved.scenario.model.id}: {why}")
                continue
            placements.append(Placement(model=resolved.scenario.model.id, share=m.share, replica=replica))
            if spec.max_ttft_s is None and replica.latency.ttft_s >= SLOW_FIRST_TOKEN_S:
                slow.append((replica.latency.ttft_s, acc.id, resolved.scenario.model.id))
        served = sum(p.share for p in placements)
        if placements and served < 1.0 - SHARE_TOLERANCE:
            placements = [replace(p, share=p.share / served) for p in placements]
        acc_price = None
        if placements:
            acc_price = placements[0].replica.scenario.accelerator.price_usd_per_hour
        elif price is not None:
            from inferwall.units import UnitError, parse_price

            try:
                acc_price = parse_price(price, item.where)
            except UnitError as exc:
                raise InputError(str(exc)) from None
        else:
            acc_price = acc.price_usd_per_hour
        types.append(TypeInput(gpu=acc.id, count=item.count, placements=tuple(placements),
                               price_usd_per_gpu_hour=acc_price, tdp_w=acc.tdp_w, bounds=tuple(bounds)))
        if acc_price is None:
            notes.append(f"no price for {acc.id}: its cost and the fleet's are empty; give accelerators."
                         f"{item.name}.price, price: or --price {item.name}=PRICE")
        if acc.tdp_w is None:
            notes.append(f"no TDP for {acc.id}: its energy and the fleet's are empty")
    op = Operation(utilization=spec.utilization or (1.0,), minutes_per_user_day=spec.minutes_per_user_day,
                   pue=spec.pue if spec.pue is not None else 1.0,
                   electricity_usd_per_kwh=spec.electricity_usd_per_kwh)
    try:
        result = fleet(types, op)
    except CoreError as exc:
        raise InputError(f"{spec.path}: {exc}") from None
    for gpu, why in unserved.items():
        served = next(t for t in result.types if t.gpu == gpu).models
        lead = "serves none of the models" if not served else "serves only " + ", ".join(m.model for m in served)
        notes.append(f"{gpu} {lead}: {'; '.join(why)}")
    for t in result.types:
        idle = t.count - t.totals.gpus_serving
        if t.models and idle:
            notes.append(f"{names.get(t.gpu, t.gpu)}: {plural(idle, 'GPU')} of {t.count:,} serve nothing (less than "
                         "a whole replica left over); they idle, and are paid for")
    if spec.max_tpot_s is None and spec.max_ttft_s is None:
        notes.append("no latency target: each type runs its largest batch that fits; give workload."
                     "per_user_tokens_per_s (or max_tpot) and max_ttft for interactive serving")
    if slow:
        ttft, gpu, model = max(slow)
        notes.append(f"no max_ttft: the first token takes up to {seconds(ttft)} ({model} on {gpu}); add "
                     "workload.max_ttft to bound it")
    if spec.utilization is None:
        notes.append("no utilization given: the fleet runs at its capacity all day (utilization 1)")
    if spec.pue is None:
        notes.append("no PUE given: facility energy is device energy (PUE 1); give pue: for the data centre's cooling "
                     "and power overhead")
    if spec.electricity_usd_per_kwh is not None and any(t.price_usd_per_gpu_hour for t in types):
        notes.append("the cost adds the electricity bill to the GPU-hours: a cloud price per GPU-hour already pays "
                     "for power, so give electricity_usd_per_kwh with the price of owned hardware")
    return FleetOutcome(spec=spec, result=result, names=names, unserved=unserved,
                        notes=tuple(dict.fromkeys(notes)))


# --------------------------------------------------------------------------- generations


@dataclass(frozen=True)
class Generation:
    gpu: str
    name: str
    year: int | None
    precision: str  # "16-bit" or "fp8"
    replica: Any  # Estimate of one replica, or None when no layout meets the target
    why: str = ""


@dataclass(frozen=True)
class GenerationsOutcome:
    model: str
    rows: tuple[dict[str, Any], ...]
    summary: str
    notes: tuple[str, ...]
    input_tokens: int
    output_tokens: int
    max_tpot_s: float | None


def generations(catalog: Any, fields: dict[str, Any] | None = None, gpus: tuple[str, ...] = GENERATIONS_GPUS,
                max_tpot_s: float | None = 1.0 / GENERATIONS_USER_TOKENS_PER_S,
                max_ttft_s: float | None = None) -> GenerationsOutcome:
    """Tokens/s per GPU of one model, each GPU at its densest layout that meets the latency target, in 16-bit and
    in FP8, with the growth of tokens/s against the growth of FLOP/s (the seed's generational table)."""
    from inferwall.core import CoreError
    from inferwall.core.dtypes import sixteen_bit_for
    from inferwall.inputs import Options, build

    values = {"model": GENERATIONS_MODEL, "input_tokens": GENERATIONS_INPUT_TOKENS,
              "output_tokens": GENERATIONS_OUTPUT_TOKENS, **(fields or {})}
    for name in ("precision", "weights", "kv", "compute", "quant"):
        if values.get(name) is not None:
            raise InputError(f"--{name}: --generations compares 16-bit with FP8 itself; leave out --{name}")
    if not gpus:
        raise InputError("--gpus-from: give at least one accelerator")
    notes: list[str] = []
    found: list[Generation] = []
    for name in dict.fromkeys(gpus):
        entry = catalog.gpu(name)
        acc = entry.accelerator
        sixteen = sixteen_bit_for(acc) or "bf16"
        for label, precision in (("16-bit", sixteen), ("fp8", "fp8")):
            try:
                resolved = build(Options(**values, gpu=acc.id, precision=precision), catalog)
            except CoreError as exc:
                found.append(Generation(acc.id, acc.name, acc.release_year, label, None, str(exc)))
                continue
            notes.extend(n for n in resolved.notes if "price" not in n)
            try:
                replica, why = choose(resolved, max_tpot_s, max_ttft_s)
            except CoreError as exc:
                replica, why = None, str(exc)
            found.append(Generation(acc.id, acc.name, acc.release_year, label, replica, why or ""))
    rows = _generation_rows(found)
    model_id = next((g.replica.scenario.model.id for g in found if g.replica is not None), str(values["model"]))
    return GenerationsOutcome(model=model_id, rows=tuple(rows), summary=_generations_summary(rows),
                              notes=tuple(dict.fromkeys(notes)), input_tokens=int(values["input_tokens"]),
                              output_tokens=int(values["output_tokens"]), max_tpot_s=max_tpot_s)


def _generation_rows(found: list[Generation]) -> list[dict[str, Any]]:
    from inferwall.core.dtypes import peak_flops

    rows = []
    base = next((g for g in found if g.precision == "16-bit" and g.replica is not None), None)
    base_tps = base_flops = base_bw = None
    if base is not None:
        e = base.replica
        base_tps = e.throughput.output_tokens_per_s / e.scenario.parallelism.gpus_per_replica
        base_flops = peak_flops(e.scenario.accelerator, e.scenario.precision.compute)
        base_bw = e.scenario.accelerator.bandwidth_bytes_per_s
    sixteen: dict[str, float] = {}
    for g in found:
        row: dict[str, Any] = {"gpu": g.gpu, "name": g.name, "year": g.year, "precision": g.precision}
        e = g.replica
        if e is None:
            row.update({k: None for k in GENERATION_COLUMNS if k not in row})
            row["why"] = g.why
            rows.append(row)
            continue
        s = e.scenario
        n = s.parallelism.gpus_per_replica
        per_gpu = e.throughput.output_tokens_per_s / n
        peak = peak_flops(s.accelerator, s.precision.compute)
        if g.precision == "16-bit":
            sixteen[g.gpu] = per_gpu
        row.update({
            "weights_dtype": s.precision.weights, "compute_dtype": s.precision.compute, "tp": s.parallelism.tp,
            "pp": s.parallelism.pp, "ep": s.parallelism.ep, "gpus_per_replica": n, "batch": s.workload.batch,
            "ttft_s": e.latency.ttft_s, "tpot_s": e.latency.tpot_s, "output_tokens_per_s_per_gpu": per_gpu,
            "peak_flops_per_gpu": peak, "memory_bandwidth_bytes_per_s_per_gpu": s.accelerator.bandwidth_bytes_per_s,
            "tokens_growth": per_gpu / base_tps if base_tps else None,
            "flops_growth": peak / base_flops if base_flops and peak else None,
            "bandwidth_growth": s.accelerator.bandwidth_bytes_per_s / base_bw if base_bw else None,
            "fp8_gain": (per_gpu / sixteen[g.gpu]) if g.precision == "fp8" and sixteen.get(g.gpu) else None,
            "fraction_of_flop_bound": per_gpu / (e.bounds.compute_forward_passes_per_s / n),
            "why": "",
        })
        rows.append(row)
    return rows


GENERATION_COLUMNS = ("gpu", "name", "year", "precision", "weights_dtype", "compute_dtype", "tp", "pp", "ep",
                      "gpus_per_replica", "batch", "ttft_s", "tpot_s", "output_tokens_per_s_per_gpu",
                      "peak_flops_per_gpu", "memory_bandwidth_bytes_per_s_per_gpu", "tokens_growth", "flops_growth",
                      "bandwidth_growth", "fp8_gain", "fraction_of_flop_bound", "why")


def _generations_summary(rows: list[dict[str, Any]]) -> str:
    def x(value: float) -> str:
        return f"{value:.3g}x"

    ok = [r for r in rows if r.get("output_tokens_per_s_per_gpu")]
    sixteen = [r for r in ok if r["precision"] == "16-bit"]
    if len(sixteen) < 2:
        return "Too few GPUs reach the latency target to compare generations."
    first, last = sixteen[0], sixteen[-1]
    parts = [f"{first['gpu']} -> {last['gpu']} at 16-bit: tokens/s per GPU {x(last['tokens_growth'])} against FLOP/s "
             f"{x(last['flops_growth'])} and bandwidth {x(last['bandwidth_growth'])}"]
    best_last = max((r for r in ok if r["gpu"] == last["gpu"]), key=lambda r: r["output_tokens_per_s_per_gpu"])
    if best_last["precision"] != "16-bit":
        parts.append(f"to {last['gpu']} in {best_last['precision']}: {x(best_last['tokens_growth'])} (its "
                     f"{best_last['compute_dtype']} FLOP/s {x(best_last['flops_growth'])})")
    gains = [f"{r['gpu']} {x(r['fp8_gain'])}" for r in ok if r.get("fp8_gain")]
    text = "; ".join(parts) + "."
    if gains:
        text += f" FP8 over 16-bit: {', '.join(gains)}."
    return text + " The seed says ~20x against ~8x over five years, and FP8 about 2x."


# --------------------------------------------------------------------------- shared by the command and the API


def _flag_number(value: Any, flag: str, low: float, high: float | None = None, low_open: bool = False) -> float:
    text = str(value).strip()
    try:
        number = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number) or number < low or (low_open and number == low) or (
            high is not None and number > high):
        rng = (f"> {low:g}" if low_open else f">= {low:g}") + ("" if high is None else f" and <= {high:g}")
        raise InputError(f"{flag}: expected a number {rng}, got {value!r}")
    return number


def latency_overrides(per_user_tokens_per_s: Any = None, max_tpot: Any = None, max_ttft: Any = None) -> dict[str, Any]:
    """``--per-user-tokens-per-s``, ``--max-tpot``, ``--max-ttft`` as seconds (``None``: not given)."""
    from inferwall.units import UnitError, parse_seconds

    if per_user_tokens_per_s is not None and max_tpot is not None:
        raise InputError("give --per-user-tokens-per-s or --max-tpot, not both (one is 1 / the other)")
    out: dict[str, Any] = {"per_user_tokens_per_s": None, "max_tpot_s": None, "max_ttft_s": None}
    if per_user_tokens_per_s is not None:
        out["per_user_tokens_per_s"] = _flag_number(per_user_tokens_per_s, "--per-user-tokens-per-s", 0.0,
                                                    low_open=True)
    for key, flag, value in (("max_tpot_s", "--max-tpot", max_tpot), ("max_ttft_s", "--max-ttft", max_ttft)):
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise InputError(f"{flag}: expected a duration (e.g. 50ms), got {value!r}")
            try:
                out[key] = parse_seconds(value, flag, allow_zero=False)
            except UnitError as exc:
                raise InputError(str(exc)) from None
    return out


def make_overrides(fields: dict[str, Any], target: dict[str, Any], day: dict[str, Any]) -> Overrides:
    """Overrides from typed flags (or keyword arguments): estimate fields, the latency target, the day."""
    utilization = None
    raw = day.get("utilization")
    if raw is not None:
        items = list(raw) if isinstance(raw, (list, tuple)) else str(raw).split(",")
        if not items or len(items) > 1440:
            raise InputError(f"--utilization: expected 1 to 1440 values, got {len(items)}")
        utilization = tuple(_flag_number(v, "--utilization", 0.0, 1.0) for v in items)
    minutes = day.get("minutes_per_user_day")
    pue = day.get("pue")
    power = day.get("electricity_usd_per_kwh")
    return Overrides(
        fields={k: v for k, v in fields.items() if k != "price"}, price=fields.get("price"),
        per_user_tokens_per_s=target.get("per_user_tokens_per_s"), max_tpot_s=target.get("max_tpot_s"),
        max_ttft_s=target.get("max_ttft_s"), utilization=utilization,
        minutes_per_user_day=None if minutes is None else _flag_number(minutes, "--minutes-per-user-day", 0.0, 1440.0,
                                                                       low_open=True),
        pue=None if pue is None else _flag_number(pue, "--pue", 1.0),
        electricity_usd_per_kwh=None if power is None else _flag_number(power, "--electricity-usd-per-kwh", 0.0),
    )


def fleet_report(source: Any, catalog: Any, overrides: Overrides = Overrides()) -> dict[str, Any]:
    """A fleet file's path, or a parsed ``FleetSpec``, evaluated: the record ``inferwall fleet -f json`` prints."""
    from inferwall.render import clean
    from inferwall.render.fleet import fleet_record

    spec = source if isinstance(source, FleetSpec) else load_fleet(source)
    return clean(fleet_record(run_fleet(spec, catalog, overrides)))


def generations_report(catalog: Any, fields: dict[str, Any], gpus_from: Any, target: dict[str, Any]) -> dict[str, Any]:
    """``fleet --generations``: rows (``GENERATION_COLUMNS``), a title, the summary and notes."""
    from inferwall.render import clean
    from inferwall.units import seconds

    if gpus_from is None:
        gpus = GENERATIONS_GPUS
    else:
        items = list(gpus_from) if isinstance(gpus_from, (list, tuple)) else str(gpus_from).split(",")
        gpus = tuple(str(g).strip() for g in items if str(g).strip())
    tpot = target.get("max_tpot_s")
    if target.get("per_user_tokens_per_s") is not None:
        tpot = 1.0 / target["per_user_tokens_per_s"]
    elif tpot is None:
        tpot = 1.0 / GENERATIONS_USER_TOKENS_PER_S
    out = generations(catalog, fields, gpus, tpot, target.get("max_ttft_s"))
    title = (f"Generations: {out.model}, {out.input_tokens:,} + {out.output_tokens:,} tokens, TPOT <= "
             f"{seconds(tpot)} ({1 / tpot:.3g} tok/s per user), each GPU at its densest layout")
    return {"model": out.model, "rows": [clean(r) for r in out.rows], "title": title, "summary": out.summary,
            "notes": list(out.notes)}
