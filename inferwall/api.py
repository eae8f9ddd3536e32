"""The Python API: inferwall's commands as functions, for notebooks and scripts.

    import inferwall
    r = inferwall.estimate(model="llama-3.1-70b", gpu="h100", gpus=8, batch=64)
    r.latency.tpot_s, r.cost.usd_per_million_output_tokens
    r.to_dict()          # exactly what `inferwall estimate ... -f json` prints

Every function calls the code its command calls (``inputs.build`` + ``core.estimate`` + ``render.record``, the grids
of ``inferwall.grid``, ``inferwall.planning``, ``inferwall.fleets``), so a result equals the command's JSON for the
same inputs. Keyword arguments are the scenario fields of ``inferwall.fields`` (the flags with underscores);
``compare`` and ``sweep`` take a list (or the CLI's range text, ``"1..256"``) for any of them. Every bad input
raises ``inferwall.InputError`` with the command's one-line message. Nothing is printed: notes come back in the
result. Unlike the command line, ``INFERWALL_*`` variables and the user config file do not apply (``--catalog``
files do, as ``catalog=`` and ``INFERWALL_CATALOG``). docs/api.md is the reference.
"""

from __future__ import annotations

import inspect
TYPE_CHECKING = False  # typing costs start-up; its names are only needed by type checkers
if TYPE_CHECKING:
    from typing import Any, Callable

from inferwall.errors import InputError
from inferwall.evaluate import Evaluation
from inferwall.fields import FIELDS
from inferwall.fleets import FLEET_EXCLUDED
from inferwall.planning import NOT_IN_PLAN, SEARCHED

__all__ = ["estimate", "compare", "sweep", "plan", "fleet", "generations", "Result", "Records", "InputError"]

HTML_ROWS = 50  # rows a notebook shows before "... and N more"


# --------------------------------------------------------------------------- results


class Result:
    """One record (an estimate, a fleet): attribute access (``r.latency.tpot_s``), item access
    (``r["latency"]``), ``to_dict()`` (the command's JSON), ``to_pandas()`` and a notebook view."""

    __slots__ = ("_data", "_kind", "_rows")

    def __init__(self, data: dict[str, Any], kind: str = "record", rows: "Callable[[dict], list[dict]] | None" = None):
        object.__setattr__(self, "_data", data)
        object.__setattr__(self, "_kind", kind)
        object.__setattr__(self, "_rows", rows)

    def __getattr__(self, name: str) -> Any:
        data = object.__getattribute__(self, "_data")
        if name in data:
            return _wrap(data[name])
        from inferwall.suggest import did_you_mean

        raise AttributeError(f"{self._kind} has no key {name!r}{did_you_mean(name, list(data))} "
                             f"(keys: {', '.join(data)})")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("results are read-only; to_dict() gives a copy to change")

    def __getitem__(self, key: str) -> Any:
        return _wrap(self._data[key])

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self):
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        return self._data == (other._data if isinstance(other, Result) else other)

    def __dir__(self) -> list[str]:
        return sorted(set(self._data) | {"to_dict", "to_pandas", "keys", "rows"})

    def keys(self):
        return self._data.keys()

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of the record: exactly the command's ``-f json`` output, parsed."""
        import copy

        return copy.deepcopy(self._data)

    def rows(self) -> list[dict[str, Any]]:
        """The record as flat rows: an estimate is one row with the columns of ``sweep``; a fleet is one row per
        accelerator type, then ``total``; a section is one row of its keys."""
        rows = self._rows
        if rows is not None:
            return rows(self._data)
        from inferwall.render.record import flatten

        return [flatten(self._data)]

    def to_pandas(self):
        """``rows()`` as a pandas DataFrame (pandas is optional: ``pip install pandas``)."""
        return _frame(self.rows())

    def _repr_html_(self) -> str:
        from inferwall.render.html import record_html, rows_html

        rows = self.rows()
        if self._rows is not None and len(rows) > 1:
            return rows_html(rows, _columns(rows), self._title(), HTML_ROWS)
        return record_html(self._data, self._title())

    def _title(self) -> str:
        data = self._data
        scenario = data.get("scenario")
        if isinstance(scenario, dict) and "model" in scenario:
            return (f"{scenario['model']} on {scenario.get('gpus')} x {scenario.get('gpu')}, batch "
                    f"{scenario.get('batch')}")
        if self._kind == "fleet":
            from inferwall.render.fleet import fleet_title

            return fleet_title(data)
        return self._kind

    def __repr__(self) -> str:
        data = self._data
        if self._kind == "estimate":
            lat, cost = data["latency"], data["cost"]
            tpot = "-" if lat["tpot_s"] is None else f"{lat['tpot_s'] * 1e3:.4g} ms"
            usd = cost["usd_per_million_output_tokens"]
            price = "" if usd is None else f", ${usd:.4g}/M output tokens"
            return f"<inferwall estimate: {self._title()}: TPOT {tpot}{price}>"
        if self._kind == "fleet":
            total = data["total"]
            return (f"<inferwall fleet: {total['gpus']:,} accelerators, {total['output_tokens_per_day']:.4g} output "
                    f"tokens/day>")
        return f"<inferwall {self._kind}: {', '.join(list(data)[:8])}>"


def _wrap(value: Any) -> Any:
    if isinstance(value, dict):
        return Result(value, "section")
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return [Result(v, "section") for v in value]
    return value


class Records(list):
    """A list of records (``compare``: ``Result`` objects; ``sweep``, ``plan``, ``generations``, the catalog:
    flat dicts) with ``to_dicts()`` (the command's JSON), ``to_pandas()``, a notebook view, and what the command
    writes to stderr: ``notes``, ``summary``, ``title``."""

    def __init__(self, items=(), notes: list[str] | None = None, summary: str = "", title: str = ""):
        super().__init__(items)
        self.notes = list(notes or ())
        self.summary = summary
        self.title = title

    def to_dicts(self) -> list[dict[str, Any]]:
        """Plain dicts: exactly the command's ``-f json`` list, parsed."""
        import copy

        return [item.to_dict() if isinstance(item, Result) else copy.deepcopy(item) for item in self]

    def rows(self) -> list[dict[str, Any]]:
        """Flat rows (a compare's estimates as sweep rows)."""
        out: list[dict[str, Any]] = []
        for item in self:
            out.extend(item.rows() if isinstance(item, Result) else [item])
        return out

    def to_pandas(self):
        """``rows()`` as a pandas DataFrame (pandas is optional: ``pip install pandas``)."""
        return _frame(self.rows())

    def _repr_html_(self) -> str:
        from inferwall.render.html import rows_html

        rows = self.rows()
        return rows_html(rows, _columns(rows), self.title, HTML_ROWS, self.notes)

    def __repr__(self) -> str:
        return f"<inferwall records: {len(self)} rows{': ' + self.title if self.title else ''}>"


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(k for r in rows for k in r))


def _frame(rows: list[dict[str, Any]]):
    try:
        import pandas
    except ImportError:
        raise ImportError("to_pandas() needs pandas, which inferwall does not install: pip install pandas") from None
    return pandas.DataFrame(rows, columns=_columns(rows))


# --------------------------------------------------------------------------- arguments


class Param:
    """An argument of an API function besides the scenario fields: its name, default and what it accepts."""

    def __init__(self, name: str, default: Any, kind: str, help: str):
        self.name, self.default, self.kind, self.help = name, default, kind, help

    def check(self, value: Any, where: str) -> Any:
        import os

        if value is None or value is self.default:
            return value
        kind = self.kind
        ok = {
            "bool": isinstance(value, bool),
            "int": isinstance(value, int) and not isinstance(value, bool),
            "text": isinstance(value, str),
            "texts": isinstance(value, str) or (isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)),
            "number": not isinstance(value, bool) and isinstance(value, (int, float, str)),
            "numbers": not isinstance(value, bool) and (isinstance(value, (int, float, str)) or (
                isinstance(value, (list, tuple)) and all(isinstance(v, (int, float, str)) and not isinstance(v, bool)
                                                         for v in value))),
            "path": isinstance(value, (str, os.PathLike)),
            "paths": isinstance(value, (str, os.PathLike)) or (
                isinstance(value, (list, tuple)) and all(isinstance(v, (str, os.PathLike)) for v in value)),
            "mapping": isinstance(value, dict),
        }[kind]
        if not ok:
            what = {"bool": "True or False", "int": "a whole number", "text": "text", "texts": "text or a list of text",
                    "number": "a number or text with a unit", "numbers": "a number or a list of numbers",
                    "path": "a file path", "paths": "a file path or a list of them", "mapping": "a mapping (dict)"}[kind]
            raise InputError(f"{where}: {self.name}: expected {what}, got {value!r} ({type(value).__name__})")
        if kind == "path":
            return os.fspath(value)
        if kind == "paths":
            return [os.fspath(v) for v in ([value] if isinstance(value, (str, os.PathLike)) else value)]
        return value


CATALOG = Param("catalog", None, "paths", "Extra catalog YAML files (as --catalog; INFERWALL_CATALOG applies too).")


def _field_params(exclude: tuple[str, ...] = ()) -> list[inspect.Parameter]:
    return [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=None) for f in FIELDS
            if f.name not in exclude]


def _signed(own: list[Param], exclude: tuple[str, ...] = (), fields_first: bool = True,
            positional: Param | None = None) -> "Callable[[Callable], Callable]":
    """Give an API function the signature ``(*, <scenario fields>, <own params>)`` generated from the field table,
    and check every argument's name before the call (an unknown one is an InputError with a did-you-mean)."""
    import functools

    def decorate(func: Callable) -> Callable:
        names = [f.name for f in FIELDS if f.name not in exclude]
        own_names = [p.name for p in own]
        fields = _field_params(exclude)
        mine = [inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, default=p.default) for p in own]
        params = fields + mine if fields_first else mine + fields
        if positional is not None:
            params.insert(0, inspect.Parameter(positional.name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                               default=positional.default))
        valid = names + own_names + ([positional.name] if positional else [])
        where = f"inferwall.{func.__name__}()"

        @functools.wraps(func)
        def call(*args: Any, **kwargs: Any) -> Any:
            if len(args) > (1 if positional else 0):
                raise InputError(f"{where}: takes keyword arguments only (the field names), e.g. "
                                 f"{func.__name__}(model='llama-3.1-70b', gpu='h100')")
            if args:
                if positional.name in kwargs:
                    raise InputError(f"{where}: {positional.name} given twice")
                kwargs[positional.name] = args[0]
            for key in kwargs:
                if key not in valid:
                    from inferwall.suggest import did_you_mean

                    excluded = f" ({func.__name__} does not take it: it is searched or set otherwise)" if key in exclude else ""
                    raise InputError(f"{where}: unknown argument {key!r}{excluded}{did_you_mean(key, valid)}")
            checked = {p.name: p.check(kwargs.get(p.name, p.default), where) for p in own + ([positional] if positional else [])}
            fields = {k: v for k, v in kwargs.items() if k in names}
            try:
                return func(fields, **checked)
            except InputError:
                raise
            except ValueError as exc:  # the core's CoreError, a unit parser's: one exception type for bad input
                from inferwall.core.types import CoreError
                from inferwall.units import UnitError

                if isinstance(exc, (CoreError, UnitError)):
                    raise InputError(str(exc)) from None
                raise

        call.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        call.params = own  # type: ignore[attr-defined]
        call.excluded = exclude  # type: ignore[attr-defined]
        return call

    return decorate


def _scalar_values(fields: dict[str, Any], where: str, defaults: bool) -> dict[str, Any]:
    """One value per field, as ``estimate`` receives them: the estimate defaults (recorded as ``default``) for what
    is not given when ``defaults``."""
    from inferwall.values import field_value

    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for f in FIELDS:
        value = fields.get(f.name)
        if value is not None:
            value = field_value(f.name, value, f"{where}: {f.name}")
            # as the command line types them: whole-number flags as int, the rest as text (the same messages)
            values[f.name] = str(value) if isinstance(value, (int, float)) and not f.cli_int and not f.is_switch else value
        elif f.is_switch:
            values[f.name] = False
        elif defaults and f.default is not None:
            values[f.name] = f.default
            origins[f.name] = "default"
        else:
            values[f.name] = None
    values["origins"] = origins
    return values


def _grid_values(fields: dict[str, Any], where: str) -> dict[str, Any]:
    """Every field as ``compare``/``sweep`` receive it: text, where a list (or range, tuple) is a comma list."""
    from inferwall.values import field_value

    values: dict[str, Any] = {}
    for f in FIELDS:
        value = fields.get(f.name)
        if value is None:
            values[f.name] = False if f.is_switch else None
            continue
        here = f"{where}: {f.name}"
        if isinstance(value, range):
            value = list(value)
        if isinstance(value, (list, tuple)) and not f.is_switch:
            if not value:
                raise InputError(f"{here}: an empty list; give at least one value")
            items = [field_value(f.name, v, here) for v in value]
            values[f.name] = ",".join(str(v) for v in items)
        else:
            item = field_value(f.name, value, here)
            values[f.name] = item if f.is_switch or isinstance(item, str) else str(item)
    values["origins"] = {}
    return values


def _catalog(paths: list[str] | None):
    from inferwall.catalog import load_catalog

    return load_catalog(paths)


# --------------------------------------------------------------------------- the functions


def _estimate_rows(record: dict[str, Any]) -> list[dict[str, Any]]:
    """An estimate as a sweep row: every column a sweep has, null where this estimate has no such section."""
    from inferwall.grid import all_columns, flat_row

    row = flat_row(record)
    return [{column: row.get(column) for column in all_columns()}]


@_signed([CATALOG])
def estimate(fields: dict[str, Any], catalog: list[str] | None = None) -> Result:
    """One configuration: prefill and decode, memory, latency, throughput, cost, bounds and energy.

    The result's ``to_dict()`` is exactly ``inferwall estimate ... -f json``; ``to_pandas()`` is one row with the
    columns of ``sweep``.
    """
    from inferwall.inputs import Options
    from inferwall.render import clean

    values = _scalar_values(fields, "inferwall.estimate()", defaults=True)
    return Result(clean(Evaluation(Options(**values), _catalog(catalog)).record), "estimate", _estimate_rows)


@_signed([Param("skip_invalid", False, "bool", "Leave out invalid configurations instead of raising (a note counts them)."),
          CATALOG])
def compare(fields: dict[str, Any], skip_invalid: bool = False, catalog: list[str] | None = None) -> Records:
    """Configurations side by side (at most 64): any field takes a list (or range text, "1..256"); lists combine
    as a Cartesian product, the last field varying fastest.

    Each item is a ``Result`` whose ``to_dict()`` equals ``estimate``'s for that configuration; ``to_dicts()`` is
    ``inferwall compare ... -f json``. ``notes`` name the columns they apply to.
    """
    from inferwall import grid
    from inferwall.render import clean

    result = grid.compare(_grid_values(fields, "inferwall.compare()"), _catalog(catalog), skip_invalid=skip_invalid)
    items = [Result(clean(r), "estimate", _estimate_rows) for r in result.records]
    return Records(items, notes=result.notes, title=" | ".join(result.labels))


@_signed([Param("columns", "all", "texts", "Columns: 'all' (default), 'default' (the command's set), or names."),
          Param("where", None, "texts", "Conditions, all of which must hold: 'tpot_s<0.05', ['fits==true', ...]."),
          Param("sort", None, "texts", "Sort columns; '-column' descending."),
          Param("top", None, "int", "Only the first N rows after where and sort."),
          Param("fits_only", False, "bool", "Only configurations whose memory fits."),
          Param("skip_invalid", False, "bool", "Leave out invalid configurations instead of raising."),
          CATALOG])
def sweep(fields: dict[str, Any], columns: Any = "all", where: Any = None, sort: Any = None, top: int | None = None,
          fits_only: bool = False, skip_invalid: bool = False, catalog: list[str] | None = None) -> Records:
    """The Cartesian grid of any fields, one flat row per configuration (the columns are the JSON keys: scenario
    keys bare, the rest dotted, e.g. ``latency.tpot_s``).

    ``to_dicts()`` is ``inferwall sweep ... -c COLUMNS -f json`` for the same selection.
    """
    from inferwall import grid
    from inferwall.render import clean

    if top is not None and top < 1:
        raise InputError(f"inferwall.sweep(): top: must be >= 1, got {top}")
    g = grid.make_grid(_grid_values(fields, "inferwall.sweep()"))
    sel = grid.selection(g, _comma(columns), _listed(where), _comma(sort), top, fits_only)
    run = grid.GridRun(g, _catalog(catalog), skip_invalid=skip_invalid)
    rows = [clean({c: row.get(c) for c in sel.columns}) for row in sel.select(run.rows())]
    varied, fixed = g.swept()
    return Records(rows, notes=grid.sweep_notes(run, sel), title=f"Sweep of {varied or 'one configuration'}")


def _comma(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else ",".join(value)


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


_PLAN_OWN = [
    Param("output_tokens_per_s", None, "number", "Demand: output tokens per second, all users together (50000, '50k')."),
    Param("requests_per_s", None, "number", "Demand: requests per second."),
    Param("users", None, "number", "Demand: concurrent users."),
    Param("max_ttft", None, "number", "Objective: time to first token at most this (seconds, or '2s')."),
    Param("max_tpot", None, "number", "Objective: time per output token at most this (seconds, or '50ms')."),
    Param("max_e2e", None, "number", "Objective under a request rate: end-to-end time, the mean or 'p99=30s'."),
    Param("max_gpus", None, "int", "Objective: at most this many GPUs in all."),
    Param("gpus_from", None, "texts", "Accelerators to search [default: every catalog entry with a price]."),
    Param("precision", None, "texts", "Precisions to search: 'native', 'fp8', ... [default: native and fp8]."),
    Param("top", 5, "int", "How many configurations to list."),
    Param("pareto", False, "bool", "The Pareto frontier of per-user speed against cost per token instead."),
    Param("disaggregate", False, "bool", "Also search disaggregated prefill/decode pools; rows say their mode."),
    CATALOG,
]


@_signed(_PLAN_OWN, exclude=SEARCHED + NOT_IN_PLAN)
def plan(fields: dict[str, Any], **own: Any) -> Records:
    """The cheapest configurations (accelerator x GPUs x layout x precision x batch) that serve a demand within
    latency objectives; rows as ``inferwall plan ... -f json``. ``summary`` says what binds (or, with no rows,
    why nothing meets the objectives; the command exits 1 then).
    """
    from inferwall.planning import plan_report
    from inferwall.render import clean

    catalog = own.pop("catalog")
    for key in ("gpus_from", "precision"):
        own[key] = _comma(own[key])
    flags = _scalar_values(fields, "inferwall.plan()", defaults=True)
    report = plan_report(flags, _catalog(catalog), **own)
    rows = [clean({k: r.get(k) for k in report.columns}) for r in report.rows]
    return Records(rows, notes=report.notes, summary=report.summary, title=report.title)


_FLEET_OWN = [
    Param("accelerators", None, "mapping", "Without a file: accelerator -> count (or {count, price})."),
    Param("workload", None, "mapping", "Without a file: the workload mapping of a fleet file."),
    Param("per_user_tokens_per_s", None, "number", "Latency target: each user streams at least this fast."),
    Param("max_tpot", None, "number", "Latency target: time per output token at most this (seconds, or '50ms')."),
    Param("max_ttft", None, "number", "Latency target: time to first token at most this."),
    Param("utilization", None, "numbers", "Share of capacity in use: one value, or a list over the day."),
    Param("minutes_per_user_day", None, "number", "Minutes a day each user generates, for the user base."),
    Param("pue", None, "number", "Facility energy / device energy."),
    Param("electricity_usd_per_kwh", None, "number", "Adds the energy bill to the cost (owned hardware)."),
    Param("description", None, "text", "Without a file: what the fleet is."),
    CATALOG,
]


@_signed(_FLEET_OWN, exclude=FLEET_EXCLUDED, fields_first=False, positional=Param("path", None, "path", "A fleet file."))
def fleet(fields: dict[str, Any], path: str | None = None, **own: Any) -> Result:
    """A fleet over a day: a fleet file's path (then the other arguments replace its values, as flags do), or
    ``accelerators=`` and ``workload=`` (the file's mappings). ``to_dict()`` is ``inferwall fleet ... -f json``
    (``by_accelerator``, ``total``); ``to_pandas()`` has one row per accelerator type, then ``total``.
    """
    from inferwall import fleets as fl
    from inferwall.render.fleet import fleet_rows

    catalog = _catalog(own.pop("catalog"))
    target = fl.latency_overrides(own.pop("per_user_tokens_per_s"), own.pop("max_tpot"), own.pop("max_ttft"))
    day = {k: own.pop(k) for k in ("utilization", "minutes_per_user_day", "pue", "electricity_usd_per_kwh")}
    accelerators, workload, description = own.pop("accelerators"), own.pop("workload"), own.pop("description")
    where = "inferwall.fleet()"
    values = {k: v for k, v in _scalar_values(fields, where, defaults=False).items()
              if k != "origins" and v not in (None, False)}
    if path is not None:
        if accelerators is not None or workload is not None or description is not None:
            raise InputError(f"{where}: give a fleet file or accelerators= and workload=, not both")
        source: Any = path
    else:
        if accelerators is None:
            raise InputError(f"{where}: give a fleet file, or accelerators={{'h100': 1000, ...}} and workload="
                             "{'model': ...}")
        data: dict[str, Any] = {"accelerators": accelerators, "workload": dict(workload or {})}
        if "model" in values and "model" not in data["workload"] and "models" not in data["workload"]:
            data["workload"]["model"] = values["model"]
        if description is not None:
            data["description"] = description
        source = fl.parse_fleet(data, where)
    record = fl.fleet_report(source, catalog, fl.make_overrides(values, target, day))
    return Result(record, "fleet", fleet_rows)


_GENERATIONS_OWN = [
    Param("gpus", None, "texts", "The accelerators, oldest first [default: a100, h100, h200, b200]."),
    Param("per_user_tokens_per_s", None, "number", "Latency target [default: 20 tokens/s per user]."),
    Param("max_tpot", None, "number", "Latency target as time per output token (seconds, or '50ms')."),
    Param("max_ttft", None, "number", "Time to first token at most this."),
    CATALOG,
]


@_signed(_GENERATIONS_OWN, exclude=(*FLEET_EXCLUDED, "precision", "weights", "kv", "compute", "quant", "price"),
         fields_first=False)
def generations(fields: dict[str, Any], **own: Any) -> Records:
    """The seed's table (``inferwall fleet --generations``): tokens/s per GPU of one model (default deepseek-v3, a
    GPT-4-class MoE, at an 8k context) on each GPU generation at its densest layout, 16-bit and FP8, with the
    growth of tokens/s against the growth of FLOP/s and the FP8 gain. ``summary`` compares it with the seed.
    """
    from inferwall import fleets as fl

    catalog = _catalog(own.pop("catalog"))
    target = fl.latency_overrides(own.pop("per_user_tokens_per_s"), own.pop("max_tpot"), own.pop("max_ttft"))
    values = {k: v for k, v in _scalar_values(fields, "inferwall.generations()", defaults=False).items()
              if k != "origins" and v not in (None, False)}
    out = fl.generations_report(catalog, values, own.pop("gpus"), target)
    return Records(out["rows"], notes=out["notes"], summary=out["summary"], title=out["title"])


def listing(what: str, filter: str | None = None, catalog: Any = None) -> Records:
    """``inferwall gpus`` / ``inferwall models`` as records (``inferwall.catalog.gpus()``, ``.models()``)."""
    from inferwall.catalog.listing import gpu_rows, model_rows

    where = f"inferwall.catalog.{what}()"
    if filter is not None and not isinstance(filter, str):
        raise InputError(f"{where}: filter: expected text, got {filter!r} ({type(filter).__name__})")
    paths = CATALOG.check(catalog, where)
    cat = _catalog(paths)
    rows, notes = (gpu_rows if what == "gpus" else model_rows)(cat, filter)
    title = "Accelerators (dense peak, FP32 accumulate)" if what == "gpus" else "Models"
    return Records(rows, notes=notes, title=title)
