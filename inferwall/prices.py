"""``--price``: one $/GPU-hour for every accelerator (``2.5``, ``$2.5/h``), or one per accelerator
(``h100=2.1,mi300x=2.5``), and the notes that say where a price came from.

A per-accelerator map is one value, also in ``compare`` and ``sweep`` (a comma list of plain prices is a
list to vary; a comma list of ``GPU=PRICE`` pairs is one map). Names resolve through the catalog's ids and
aliases, so ``h100=2`` and ``nvidia-h100-sxm-80gb=2`` are the same entry. A GPU of the run that the map
does not name keeps its catalog price, with a note; with no catalog price either, its costs are empty.
Pure logic plus catalog look-ups: no typer, rich or yaml.
"""

from __future__ import annotations

from dataclasses import dataclass, field
TYPE_CHECKING = False  # typing costs start-up; its names are only needed by type checkers
if TYPE_CHECKING:
    from typing import Any

from inferwall.errors import InputError
from inferwall.units import UnitError, parse_price

# Every note about an unverified catalog price contains this phrase; renderers that rank configurations
# (compare's table, sweep --sort, plan) look for it to mark the row.
UNVERIFIED = "unverified placeholder price"


@dataclass(frozen=True)
class PriceSpec:
    """A parsed ``--price``: ``flat`` for every GPU, or ``by_gpu`` (accelerator id -> $/GPU-hour)."""

    text: str
    flat: float | None = None
    by_gpu: dict[str, float] = field(default_factory=dict)

    @property
    def per_gpu(self) -> bool:
        return self.flat is None

    def price_for(self, gpu_id: str) -> float | None:
        """The price this spec gives ``gpu_id`` (a catalog id), or None when a map does not name it."""
        return self.flat if self.flat is not None else self.by_gpu.get(gpu_id)


def is_price_map(value: Any) -> bool:
    """Whether a raw ``--price`` value is a ``GPU=PRICE`` map (one value, never a list to vary)."""
    return isinstance(value, str) and "=" in value


def parse_price_spec(value: Any, catalog: Any, what: str = "--price") -> PriceSpec:
    """Parse a raw ``--price`` value; ``InputError`` naming the bad part and what would be valid."""
    text = str(value).strip()
    if not is_price_map(value):
        try:
            return PriceSpec(text=text, flat=parse_price(value, what))
        except UnitError as exc:
            raise InputError(str(exc)) from None
    prices: dict[str, float] = {}
    named: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            raise InputError(f"{what}: empty item in {text!r}; write GPU=PRICE pairs separated by single commas, "
                             "e.g. h100=2.1,mi300x=2.5")
        name, eq, amount = (part.strip() for part in item.partition("="))
        if not eq:
            raise InputError(f"{what}: {item!r} in {text!r} is not a GPU=PRICE pair; give one price for every GPU "
                             "(2.5) or one per GPU (h100=2.1,mi300x=2.5), not both")
        if not name:
            raise InputError(f"{what}: {item!r} names no GPU; write GPU=PRICE, e.g. h100=2.1")
        try:
            gpu_id = catalog.gpu(name).accelerator.id
        except InputError as exc:
            raise InputError(f"{what}: {exc}") from None
        if gpu_id in prices:
            same = "" if named[gpu_id] == name else f" ({named[gpu_id]} and {name} are both {gpu_id})"
            raise InputError(f"{what}: {name} is given twice in {text!r}{same}; give each GPU once")
        try:
            prices[gpu_id] = parse_price(amount, f"{what} {name}")
        except UnitError as exc:
            raise InputError(str(exc)) from None
        named[gpu_id] = name
    return PriceSpec(text=text, by_gpu=prices)


def unverified_note(entry: Any) -> str:
    """The note for a configuration priced with an unverified catalog placeholder."""
    acc = entry.accelerator
    return (f"{acc.id}: ${acc.price_usd_per_hour:g}/GPU-hour is an {UNVERIFIED} ({entry.price_label(status=False)}); "
            "costs and cost rankings that use it are provisional; --price sets your own")


def missing_note(entry: Any, spec: PriceSpec) -> str:
    """The note for a GPU of the run that a per-GPU ``--price`` map does not name."""
    acc = entry.accelerator
    named = ", ".join(spec.by_gpu)
    if acc.price_usd_per_hour is None:
        return (f"--price names {named} but not {acc.id}, which has no catalog price either: its costs are empty "
                f"(add {acc.id}=PRICE)")
    if not entry.price_verified:
        return (f"--price names {named} but not {acc.id}: using its catalog price ${acc.price_usd_per_hour:g}/GPU-hour, "
                f"an {UNVERIFIED} ({entry.price_label(status=False)}); costs and cost rankings that use it are "
                f"provisional (add {acc.id}=PRICE)")
    return (f"--price names {named} but not {acc.id}: using its catalog price ${acc.price_usd_per_hour:g}/GPU-hour "
            f"({entry.price_label()})")


def has_unverified_price(notes: Any) -> bool:
    """Whether a record's notes (a list, or the '; '-joined notes column of a row) carry the unverified mark."""
    if not notes:
        return False
    return UNVERIFIED in (notes if isinstance(notes, str) else "; ".join(notes))


def is_cost_column(column: str) -> bool:
    """Columns whose order depends on a price: ``cost.*`` and the price itself."""
    return column.startswith("cost.") or column == "price_usd_per_gpu_hour"


def unverified_ranks_note(rows: list[dict[str, Any]], column: str) -> str:
    """For rows listed in ranked order: which ranks use an unverified placeholder price ('' when none)."""
    marked = [(i, row.get("gpu")) for i, row in enumerate(rows, 1) if has_unverified_price(row.get("notes"))]
    if not marked:
        return ""
    ranks = ", ".join(str(i) for i, _ in marked[:10]) + (f" and {len(marked) - 10} more" if len(marked) > 10 else "")
    gpus = ", ".join(dict.fromkeys(str(g) for _, g in marked))
    which, verb, their = ((f"rows {ranks}", "rank", "their places are") if len(marked) > 1
                          else (f"row {ranks}", "ranks", "its place is"))
    return (f"note: sorted by {column}: {which} ({gpus}) {verb} on an {UNVERIFIED}; {their} "
            "provisional (--price sets your own)")
