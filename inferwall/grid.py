"""Grids of configurations for ``compare`` and ``sweep``: range syntax, the Cartesian product, row columns,
``--where`` filters and sorting. Pure logic: no typer, rich or yaml.

Range syntax, for any scenario flag:

* ``a,b,c``: a list; items are used as typed (``h100,h200``, ``fp8,bf16``, ``1,8,max``).
* ``1..256``: doubling from the start up to the end: 1, 2, 4, ..., 256 (``3..24`` is 3, 6, 12, 24).
* ``1..64:8``: a step: 1, 9, 17, ..., 57 (``0.5..0.9:0.1`` works too).

Items combine: ``--batch 1..8,48,max``. Endpoints are plain numbers, optionally with ``k`` or ``M``
(``1k..8k`` is 1000, 2000, 4000, 8000); anything else containing ``..`` (a path such as
``../llama.json``) is an ordinary value.
"""

from __future__ import annotations

import fnmatch
from functools import partial
import itertools
import math
import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from inferwall.errors import InputError
from inferwall.fields import BY_NAME, FIELDS
from inferwall.prices import is_price_map

MAX_CONFIGURATIONS = 1_000_000
MAX_AXIS_VALUES = 100_000

_NUM = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*([kKM]?)\s*$")
_SCALE = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6}


# ----------------------------------------------------------------- ranges


def _number(text: str) -> tuple[float, bool] | None:
    """(value, whether it is written as a whole number) or None if ``text`` is not a plain number."""
    match = _NUM.match(text)
    if not match:
        return None
    digits, scale = match[1], match[2]
    value = float(digits) * _SCALE[scale]
    if not math.isfinite(value):
        return None
    whole = value == int(value) and (bool(scale) or not any(ch in digits for ch in ".eE"))
    return value, whole


def _fmt(value: float, whole: bool) -> str:
    return str(int(round(value))) if whole else format(round(value, 12), ".12g")


def expand_item(item: str, flag: str) -> list[str]:
    """One comma item: a range if it is ``number..number[:step]``, else the item itself."""
    if ".." not in item:
        return [item]
    start_text, _, rest = item.partition("..")
    end_text, colon, step_text = rest.partition(":")
    start, end = _number(start_text), _number(end_text)
    if start is None or end is None:
        return [item]  # not a numeric range: a value such as ../model.json
    (a, a_whole), (b, _) = start, end
    if b < a:
        raise InputError(f"{flag}: empty range {item!r}: the end is below the start (write {end_text}..{start_text})")
    values: list[float] = []
    if colon:
        step = _number(step_text)
        if step is None or step[0] <= 0:
            raise InputError(f"{flag}: bad step in {item!r}: expected a positive number, e.g. 1..64:8")
        s, s_whole = step
        whole = a_whole and s_whole
        count = (b - a) / s  # how many values, known before any is made: 1..1e308:1e-10 is refused, not expanded
        if not math.isfinite(count) or count + 1 > MAX_AXIS_VALUES:
            shown = f"{count + 1:,.0f} values" if math.isfinite(count) and count < 1e18 else "too many values"
            raise InputError(f"{flag}: range {item!r} has {shown}, more than {MAX_AXIS_VALUES:,}; use a larger step")
        n = int(math.floor(count + 1e-9)) + 1
        values = [a + i * s for i in range(n)]
    else:
        if a <= 0:
            raise InputError(f"{flag}: range {item!r} doubles from its start, which must be > 0 (or give a step: {item}:1)")
        whole = a_whole
        doublings = math.log2(b / a) if b / a < math.inf else math.inf
        if doublings + 1 > MAX_AXIS_VALUES:
            raise InputError(f"{flag}: range {item!r} has more than {MAX_AXIS_VALUES:,} values")
        v = a
        while v <= b * (1 + 1e-12):
            values.append(v)
            v *= 2
    return [_fmt(v, whole) for v in values]


def expand(text: str, flag: str) -> list[str]:
    """A flag value -> the list of values it stands for (comma items, ranges), duplicates removed."""
    items = str(text).split(",")
    if any(not i.strip() for i in items):
        raise InputError(f"{flag}: empty item in list {text!r}; write values separated by single commas, e.g. h100,h200")
    out: list[str] = []
    for item in items:
        out.extend(expand_item(item.strip(), flag))
    return list(dict.fromkeys(out))


# ----------------------------------------------------------------- grids


@dataclass(frozen=True)
class Grid:
    """Axes (fields given several values) and fixed fields; iterate configurations with ``configurations``."""

    axes: dict[str, list[str]]
    fixed: dict[str, Any]

    @property
    def size(self) -> int:
        return math.prod(len(v) for v in self.axes.values())

    @property
    def varying(self) -> list[str]:
        """Fields with more than one value, in table order."""
        return [name for name, values in self.axes.items() if len(values) > 1]

    def configurations(self) -> Iterator[dict[str, Any]]:
        """Option dicts, the last field in table order varying fastest."""
        names = list(self.axes)
        for combo in itertools.product(*self.axes.values()):
            values = dict(self.fixed)
            values.update(zip(names, combo))
            yield values

    @property
    def per_gpu_price(self) -> bool:
        """Whether --price is a GPU=PRICE map: the price then differs by accelerator without being a list."""
        return any(is_price_map(v) for v in self.axes.get("price", ()))

    def label(self, config: dict[str, Any]) -> str:
        """A short name for a configuration: the values of the varying fields."""
        varying = self.varying
        if not varying:
            return str(config.get("model") or config.get("params") or "estimate")
        if len(varying) == 1:
            return str(config[varying[0]])
        return " ".join(f"{BY_NAME[n].flag.lstrip('-')}={config[n]}" for n in varying)

    def swept(self) -> tuple[str, str]:
        """(what varies, what is fixed), as typed: ``--gpu h100, h200 x --batch 1 to 256 (9 values)`` and
        ``--model llama-3.1-70b, --gpus 8``, for a chart's or a table's title."""
        varied = []
        for name in self.varying:
            values = self.axes[name]
            shown = ", ".join(values) if len(values) <= 4 else f"{values[0]} to {values[-1]} ({len(values)} values)"
            varied.append(f"{BY_NAME[name].flag} {shown}")
        fixed = [f"{BY_NAME[n].flag} {v[0]}" for n, v in self.axes.items() if len(v) == 1]
        fixed += [BY_NAME[n].flag for n, v in self.fixed.items() if v is True]
        return " x ".join(varied), ", ".join(fixed)

    def describe(self, config: dict[str, Any]) -> str:
        """The varying flags of a configuration as they would be typed: ``--gpu h100 --batch 8``."""
        return " ".join(f"{BY_NAME[n].flag} {config[n]}" for n in self.varying)


def make_grid(values: dict[str, Any], limit: int = MAX_CONFIGURATIONS) -> Grid:
    """Split raw flag values into list-valued axes and fixed values. Switches (--ideal) stay fixed."""
    axes: dict[str, list[str]] = {}
    fixed: dict[str, Any] = {}
    for f in FIELDS:
        value = values.get(f.name)
        if value is None or f.is_switch:
            if value is not None:
                fixed[f.name] = value
            continue
        # A GPU=PRICE map is one value (a price per accelerator), not a list of prices to vary.
        items = [str(value)] if f.name == "price" and is_price_map(value) else expand(str(value), f.flag)
        axes[f.name] = items
    grid = Grid(axes=axes, fixed=fixed)
    if grid.size > limit:
        sizes = " x ".join(f"{len(v)} {BY_NAME[n].flag}" for n, v in axes.items() if len(v) > 1)
        raise InputError(f"the grid has {grid.size:,} configurations ({sizes}), more than the {limit:,} allowed; "
                         "narrow the lists or ranges")
    return grid


# ----------------------------------------------------------------- columns

SECTIONS = ("prefill", "decode", "memory", "latency", "throughput", "cost", "bounds", "speculative", "prefix_cache",
            "kv_offload", "disaggregation", "load")

DEFAULT_COLUMNS = (
    "model", "gpu", "gpus", "tp", "pp", "dp", "batch", "input_tokens", "output_tokens", "weights_dtype",
    "memory.fits", "memory.max_batch", "latency.ttft_s", "latency.tpot_s", "throughput.output_tokens_per_s",
    "decode.bound", "decode.utilization", "cost.usd_per_million_output_tokens", "cost.usd_per_million_tokens_blended",
)

# Default columns a terminal table may leave out to fit its width, the first one first.
DROP_ORDER = (
    "output_tokens", "input_tokens", "pp", "dp", "weights_dtype", "memory.max_batch",
    "cost.usd_per_million_tokens_blended", "decode.utilization", "tp", "model", "latency.ttft_s", "memory.fits",
    "decode.bound", "throughput.output_tokens_per_s",
)

# The scenario column(s) that show a field's value, for adding varied fields to the default columns.
FIELD_COLUMNS: dict[str, tuple[str, ...]] = {
    "model": ("model",), "params": ("params",), "active_params": ("active_params",), "gpu": ("gpu",),
    "flops": ("peak_flops_per_gpu",), "bandwidth": ("memory_bandwidth_bytes_per_s_per_gpu",),
    "memory": ("memory_bytes_per_gpu",), "price": ("price_usd_per_gpu_hour",), "gpus": ("gpus",), "tp": ("tp",),
    "pp": ("pp",), "dp": ("dp",), "ep": ("ep",), "batch": ("batch",), "input_tokens": ("input_tokens",),
    "output_tokens": ("output_tokens",), "precision": ("weights_dtype", "kv_dtype", "compute_dtype"),
    "weights": ("weights_dtype",), "kv": ("kv_dtype",), "compute": ("compute_dtype",), "mfu": ("mfu",),
    "mbu": ("mbu",), "link_efficiency": ("link_efficiency",), "overhead": ("step_overhead_s",),
    "layer_overhead": ("layer_overhead_s",),
    "collective_latency": ("collective_latency_s",), "reserve": ("reserve_bytes",),
    "memory_fraction": ("memory_fraction",),
    "speculative": ("speculative_tokens",), "acceptance": ("acceptance",), "accepted_length": ("accepted_length",),
    "draft_model": ("draft",), "prefix_hit": ("prefix_hit",), "kv_offload": ("kv_offload",),
    "disaggregate": ("disaggregation",), "prefill_gpus": ("disaggregation.prefill_layout",),
    "decode_gpus": ("disaggregation.decode_layout",),
    # issue 12: load
    "request_rate": ("request_rate", "load.utilization", "latency.ttft_p90_s", "latency.ttft_p99_s",
                     "latency.tpot_p90_s", "latency.e2e_p99_s"),
    "arrival": ("arrival",), "seed": ("load.seed",),
}


_PREFIXED: dict[str, tuple[tuple[str, ...], list[str]]] = {}


def flat_row(record: dict[str, Any]) -> dict[str, Any]:
    """An estimate record as one flat row: scenario keys bare, the rest ``section.key``; no sources."""
    row: dict[str, Any] = dict(record["scenario"])
    for section in SECTIONS:
        part = record.get(section)
        if part:
            keys = tuple(part)
            names = _PREFIXED.get(section)
            if names is None or names[0] != keys:
                names = _PREFIXED[section] = (keys, [f"{section}.{k}" for k in keys])
            row.update(zip(names[1], part.values()))
    row["notes"] = "; ".join(record.get("notes") or ())
    return row


_COLUMNS: tuple[str, ...] | None = None
_KINDS: dict[str, str] = {}


def all_columns() -> tuple[str, ...]:
    """Every column a sweep row has, in record order (taken from a real estimate, so never out of date)."""
    global _COLUMNS
    if _COLUMNS is None:
        from inferwall.core import Accelerator, ModelArch, Parallelism, Scenario, Workload, estimate
        from inferwall.core.types import Disaggregation, KVOffload, Speculation
        from inferwall.render.record import estimate_record

        acc = Accelerator(id="x", memory_bytes=80e9, bandwidth_bytes_per_s=3e12, peak_flops={"bf16": 1e15},
                          price_usd_per_hour=1.0)
        model = ModelArch(id="x", params=1e9, num_layers=4, num_heads=4, num_kv_heads=4, head_dim=8, hidden_size=32)
        # every optional section on, so its columns are known (speculation, prefix cache, offload, two pools)
        one = Parallelism()
        row = flat_row(estimate_record(estimate(Scenario(
            accelerator=acc, model=model, workload=Workload(4, 8, 8, prefix_hit=0.5),
            speculative=Speculation(draft_tokens=1, acceptance=0.5), kv_offload=KVOffload("host", 1e9, 1e9),
            disaggregation=Disaggregation(1, 1, one, one)))))
        _COLUMNS = tuple(row)
        for name, value in row.items():
            _KINDS[name] = ("bool" if isinstance(value, bool) else "number" if isinstance(value, (int, float))
                            else "text")
    return _COLUMNS


def column_kind(name: str) -> str:
    all_columns()
    return _KINDS.get(name, "text")


def _aliases() -> dict[str, str]:
    cols = all_columns()
    leaves: dict[str, list[str]] = {}
    for c in cols:
        if "." in c:
            leaves.setdefault(c.split(".", 1)[1], []).append(c)
    out = {leaf: names[0] for leaf, names in leaves.items() if len(names) == 1 and leaf not in cols}
    out.update({f"scenario.{c}": c for c in cols if "." not in c and c != "notes"})
    return out


def resolve_column(name: str, what: str = "column") -> str:
    """A canonical column name from a name or an unambiguous alias (``tpot_s`` -> ``latency.tpot_s``)."""
    name = name.strip()
    cols = all_columns()
    if name in cols:
        return name
    aliases = _aliases()
    if name in aliases:
        return aliases[name]
    candidates = [c for c in cols if "." in c and c.split(".", 1)[1] == name]
    if len(candidates) > 1:
        raise InputError(f"ambiguous {what} {name!r}: say {' or '.join(candidates)}")
    shown = FIELD_COLUMNS.get(name, ())  # a flag's name: the column(s) that show its value
    if len(shown) == 1:
        return shown[0]
    if shown:
        raise InputError(f"{what} {name!r} is {len(shown)} columns: say {', '.join(shown[:-1])} or {shown[-1]}")
    from inferwall.suggest import did_you_mean

    hint = did_you_mean(name, {c: (c, *[a for a, col in aliases.items() if col == c]) for c in cols if c != "notes"})
    raise InputError(f"unknown {what} {name!r}{hint} (the columns are the JSON keys, e.g. gpu, latency.tpot_s; "
                     "'--columns all' shows them all)")


def pick_columns(text: str | None, grid: Grid | None = None) -> list[str]:
    """``--columns``: a comma list of names; ``all``; ``default`` (the default set, usable inside a list)."""
    if not text:
        text = "default"
    out: list[str] = []
    for item in (i.strip() for i in text.split(",")):
        if not item:
            raise InputError(f"--columns: empty item in {text!r}")
        if item == "all":
            out.extend(all_columns())
        elif item == "default":
            out.extend(DEFAULT_COLUMNS)
            if grid is not None:
                for name in grid.varying:
                    out.extend(FIELD_COLUMNS.get(name, ()))
                if grid.per_gpu_price:
                    out.extend(FIELD_COLUMNS["price"])
        elif item not in all_columns() and len(FIELD_COLUMNS.get(item, ())) > 1:
            out.extend(FIELD_COLUMNS[item])  # -c precision: the three dtypes it sets
        else:
            out.append(resolve_column(item))
    return list(dict.fromkeys(out))


# ----------------------------------------------------------------- --where and --sort

_WHERE = re.compile(r"^\s*([A-Za-z0-9_.]+)\s*(<=|>=|==|!=|<|>|=)\s*(.*?)\s*$")
_OPERATORS = ("<", "<=", ">", ">=", "==", "!=")


def _literal_number(column: str, text: str) -> float | None:
    """A number to compare ``column`` with; units follow the column's name (50ms, 10GiB, 3TB/s, 2k, 20%)."""
    from inferwall.units import UnitError, parse_quantity, parse_seconds

    try:
        value = float(text)
        return value if math.isfinite(value) else None  # nan or inf compares to nothing usefully
    except ValueError:
        pass
    try:
        if text.endswith("%"):
            return float(text[:-1]) / 100
        if "bytes_per_s" in column:
            return parse_quantity(text, "bandwidth", column)
        if "bytes" in column:
            return parse_quantity(text, "bytes", column)
        if "flops" in column:
            return parse_quantity(text, "flops", column)
        if column.endswith("_s") and not column.endswith("per_s"):
            return parse_seconds(text, column)
        return parse_quantity(text, "count", column)
    except (UnitError, ValueError):
        return None


@dataclass(frozen=True)
class Condition:
    """One ``--where`` comparison. Empty values (no price, no decode phase) never match."""

    text: str
    column: str
    op: str
    literal: Any

    def __call__(self, row: dict[str, Any]) -> bool:
        value = row.get(self.column)
        if value is None:
            return False
        lit = self.literal
        if isinstance(lit, str) and self.op in ("==", "!="):
            hit = fnmatch.fnmatchcase(str(value), lit)
            return hit if self.op == "==" else not hit
        if isinstance(value, float) and math.isnan(value):
            return False
        op = self.op
        if op == "<":
            return value < lit
        if op == "<=":
            return value <= lit
        if op == ">":
            return value > lit
        if op == ">=":
            return value >= lit
        if op == "==":
            return value == lit
        return value != lit


def parse_where(text: str) -> Condition:
    """``tpot_s<0.05``, ``decode.bound==memory``, ``gpu==*h100*``, ``fits==true``, ``ttft_s<=200ms``."""
    match = _WHERE.match(text)
    if not match or not match[3]:
        raise InputError(f"--where {text!r}: expected COLUMN OP VALUE with OP one of < <= > >= == !=, "
                         "e.g. tpot_s<0.05 or decode.bound==memory")
    column = resolve_column(match[1], "--where column")
    if match[2] == "=":
        name, value = match[1], match[3].strip()
        numeric = f", or {name}<={value} for at most" if column_kind(column) == "number" else ""
        raise InputError(f"--where {text!r}: '=' is not an operator (OP is one of {' '.join(_OPERATORS)}); "
                         f"write {name}=={value} for equality{numeric}")
    op = match[2]
    raw = match[3].strip().strip("'\"")
    kind = column_kind(column)
    literal: Any
    if kind == "bool":
        low = raw.lower()
        if low not in ("true", "false", "1", "0", "yes", "no"):
            raise InputError(f"--where {text!r}: {column} is true or false, got {raw!r}")
        if op not in ("==", "!="):
            raise InputError(f"--where {text!r}: {column} is true or false; compare it with == or !=")
        literal = low in ("true", "1", "yes")
    elif kind == "number":
        literal = _literal_number(column, raw)
        if literal is None:
            raise InputError(f"--where {text!r}: {column} is a number; cannot read {raw!r} as one (e.g. 0.05, 50ms, 10GiB)")
    else:
        literal = raw
    return Condition(text=text, column=column, op=op, literal=literal)


def matches(row: dict[str, Any], conditions: Iterable[Condition]) -> bool:
    return all(c(row) for c in conditions)


def parse_sort(text: str) -> list[tuple[str, bool]]:
    """``--sort``: comma list of columns; a leading ``-`` (or ``:desc``) sorts that key descending."""
    keys = []
    for item in (i.strip() for i in text.split(",")):
        if not item:
            raise InputError(f"--sort: empty item in {text!r}")
        desc = item.startswith("-") or item.endswith(":desc")
        name = item.lstrip("-").removesuffix(":desc").removesuffix(":asc")
        keys.append((resolve_column(name, "--sort column"), desc))
    return keys


def sort_rows(rows: list[dict[str, Any]], keys: list[tuple[str, bool]]) -> list[dict[str, Any]]:
    """Stable multi-key sort; empty values always last."""
    for column, desc in reversed(keys):
        present = [r for r in rows if r.get(column) is not None]
        missing = [r for r in rows if r.get(column) is None]
        present.sort(key=lambda r: r[column], reverse=desc)
        rows = present + missing
    return rows


# ----------------------------------------------------------------- evaluation

STORE_LIMIT = 200_000  # above this many configurations, validate in one pass and rebuild in the next


class GridRun:
    """Evaluate every configuration of a grid, in grid order.

    Construction resolves (validates) every configuration first, so a bad value fails before any row is
    written. With ``skip_invalid`` the configurations the core or the inputs reject are left out and
    counted in ``skipped`` instead.
    """

    def __init__(self, grid: Grid, catalog, skip_invalid: bool = False, origins: dict[str, str] | None = None) -> None:
        from inferwall.core import CoreError
        from inferwall.inputs import Options, build

        if origins:  # where the fixed values came from (environment, config file): compare's sources
            Options = partial(Options, origins=origins)  # noqa: N806
        self.grid, self.catalog = grid, catalog
        self.skipped: list[tuple[dict[str, Any], str]] = []
        self.notes: dict[str, int] = {}
        self._build, self._options = build, Options
        self._errors = (InputError, CoreError)
        store = grid.size <= STORE_LIMIT
        self._resolved: list[tuple[dict[str, Any], Any]] = []
        self._memo: dict = {}  # what configurations differing only in the workload share
        self.total = 0
        for config in grid.configurations():
            try:
                resolved = build(Options(**config), catalog, self._memo)
            except self._errors as exc:
                if not skip_invalid:
                    where = f" (configuration {grid.describe(config)}; --skip-invalid leaves such ones out)" if grid.varying else ""
                    raise type(exc)(f"{exc}{where}") from None
                self.skipped.append((config, str(exc)))
                continue
            self.total += 1
            if store:
                self._resolved.append((config, resolved))
        self._stored = store

    def _pairs(self) -> Iterator[tuple[dict[str, Any], Any]]:
        if self._stored:
            yield from self._resolved
            return
        for config in self.grid.configurations():
            try:
                yield config, self._build(self._options(**config), self.catalog, self._memo)
            except self._errors:
                continue  # validated in the first pass: only the skipped ones fail

    def rows(self) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """(configuration, flat row) pairs; notes are tallied in ``notes``."""
        from inferwall.core import estimate
        from inferwall.render.record import estimate_record

        tally = self.notes
        for config, resolved in self._pairs():
            est = estimate(resolved.scenario, resolved.compute_explicit)
            notes = resolved.notes + est.notes
            if notes:
                notes = tuple(dict.fromkeys(notes))
                for n in notes:
                    tally[n] = tally.get(n, 0) + 1
            yield config, flat_row(estimate_record(est, None, notes))

    def records(self) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """(configuration, full estimate record with sources) pairs, for ``compare``."""
        from inferwall.core import estimate
        from inferwall.render.record import estimate_record

        for config, resolved in self._pairs():
            est = estimate(resolved.scenario, resolved.compute_explicit)
            notes = tuple(dict.fromkeys(resolved.notes + est.notes))
            yield config, estimate_record(est, resolved.provenance, notes)


def skipped_note(skipped: list[tuple[dict[str, Any], str]], grid: Grid) -> str:
    """``--skip-invalid``: how many configurations were left out, and why the first one was."""
    from inferwall.units import plural

    config, why = skipped[0]
    return (f"note: skipped {plural(len(skipped), 'invalid configuration')} of {grid.size:,}; the first: "
            f"{grid.describe(config)}: {why}")


def note_lines(notes: dict[str, int], total: int, limit: int = 10) -> list[str]:
    """Distinct notes with how many configurations they apply to, most common first."""
    ranked = sorted(notes.items(), key=lambda kv: -kv[1])
    out = [f"note: {text}" if n == total else f"note ({n} of {total} configurations): {text}"
           for text, n in ranked[:limit]]
    if len(ranked) > limit:
        out.append(f"note: ... and {len(ranked) - limit} more distinct notes (see the notes column)")
    return out


# ----------------------------------------------------------------- compare and sweep, shared by the CLI and the API

MAX_COMPARE = 64  # configurations side by side; grids go to sweep


@dataclass(frozen=True)
class Comparison:
    labels: list[str]
    records: list[dict[str, Any]]  # each exactly what ``estimate -f json`` prints for its configuration
    notes: list[str]  # one line per note: shared by every column, or naming the columns it applies to
    grid: Grid


def compare(values: dict[str, Any], catalog, skip_invalid: bool = False) -> Comparison:
    """``inferwall compare``: configurations side by side (at most ``MAX_COMPARE``)."""
    grid = make_grid(values)
    if grid.size > MAX_COMPARE:
        raise InputError(f"compare shows at most {MAX_COMPARE} configurations side by side, got {grid.size:,}; "
                         "use 'inferwall sweep' for grids (one row per configuration)")
    run = GridRun(grid, catalog, skip_invalid=skip_invalid, origins=values.get("origins"))
    if not run.total:
        config, why = run.skipped[0]
        where = f"{grid.describe(config)}: " if grid.varying else ""
        raise InputError(f"no valid configuration to compare; the first: {where}{why}")
    configs, records = [], []
    for config, record in run.records():
        configs.append(config)
        records.append(record)
    labels = [grid.label(c) for c in configs]
    seen: dict[str, list[str]] = {}
    for label, record in zip(labels, records):
        for line in record["notes"]:
            seen.setdefault(line, []).append(label)
    notes = [f"note: {line}" if len(where) == len(labels) else f"note [{', '.join(where)}]: {line}"
             for line, where in seen.items()]
    if run.skipped:
        notes.append(skipped_note(run.skipped, grid))
    return Comparison(labels=labels, records=records, notes=notes, grid=grid)


@dataclass
class Selection:
    """``sweep``'s ``--columns``, ``--where`` (and ``--fits-only``), ``--sort`` and ``--top``, applied to rows as
    they stream: ``select`` yields the rows to write, counting what it saw."""

    columns: list[str]
    conditions: list[Condition]
    keys: list[tuple[str, bool]]
    top: int | None = None
    evaluated: int = 0
    matched: int = 0
    kept: list[dict[str, Any]] | None = None  # the sorted rows, when --sort is given

    def select(self, pairs: Iterable[tuple[dict[str, Any], dict[str, Any]]], on_row=None) -> Iterator[dict[str, Any]]:
        conditions, keys, top = self.conditions, self.keys, self.top
        kept: list[dict[str, Any]] = []
        for _config, row in pairs:
            self.evaluated += 1
            if on_row is not None:
                on_row()
            if conditions and not matches(row, conditions):
                continue
            self.matched += 1
            if keys:
                kept.append(row)
                continue
            yield row
            if top and self.matched >= top:
                return
        if keys:
            self.kept = sort_rows(kept, keys)[:top] if top else sort_rows(kept, keys)
            yield from self.kept


def selection(grid: Grid, columns: str | None = None, where: Iterable[str] = (), sort: str | None = None,
              top: int | None = None, fits_only: bool = False) -> Selection:
    """Parse ``sweep``'s selection flags against a grid (every error before the first row)."""
    cols = pick_columns(columns, grid)
    conditions = [parse_where(w) for w in where or ()]
    if fits_only:
        conditions.append(parse_where("memory.fits==true"))
    keys = parse_sort(sort) if sort else []
    return Selection(columns=cols, conditions=conditions, keys=keys, top=top)


def sweep_notes(run: GridRun, sel: Selection) -> list[str]:
    """What ``sweep`` says after its rows: notes counted over configurations, rankings on placeholder prices,
    skipped configurations, an empty selection."""
    from inferwall.prices import is_cost_column, unverified_ranks_note

    out = note_lines(run.notes, sel.evaluated)
    ranked_by_price = [column for column, _ in sel.keys if is_cost_column(column)]
    if ranked_by_price:
        line = unverified_ranks_note(sel.kept or [], ranked_by_price[0])
        if line:
            out.append(line)
    if run.skipped:
        out.append(skipped_note(run.skipped, run.grid))
    if sel.conditions and not sel.matched:
        out.append("note: no configuration matched " + " and ".join(c.text for c in sel.conditions))
    return out
