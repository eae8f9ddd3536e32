"""``inferwall compare`` output: configurations side by side, one column each.

Machine formats put every flattened key of ``estimate -f json`` in the first column (the keys of
``estimate -f tsv``) and one value column per configuration. The terminal table shows a readable
selection and highlights the rows whose values differ.
"""

from __future__ import annotations

import io
from typing import Any

from inferwall.prices import has_unverified_price
from inferwall.units import count, seconds, si

from . import Format, clean, machine_value
from .record import flatten

# (label, flat sweep-style column) per section, for the terminal table
TABLE_ROWS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Scenario", (
        ("model", "model"), ("parameters / active", "params"), ("GPU", "gpu"), ("GPUs", "gpus"),
        ("layout", "layout"), ("batch", "batch"), ("input / output tokens", "tokens"),
        ("weights / KV / compute", "dtypes"), ("$ per GPU-hour", "price_usd_per_gpu_hour"),
    )),
    ("Prefill", (
        ("time", "prefill.time_s"), ("bound by", "prefill.bound"), ("FLOP utilization", "prefill.utilization"),
    )),
    ("Decode step", (
        ("time", "decode.step_time_s"), ("bound by", "decode.bound"), ("FLOP utilization", "decode.utilization"),
        ("bandwidth utilization", "decode.bandwidth_utilization"),
    )),
    ("Memory per GPU", (
        ("total", "memory.total_bytes_per_gpu"), ("usable", "memory.usable_bytes_per_gpu"),
        ("headroom", "memory.headroom_bytes_per_gpu"), ("fits", "memory.fits"),
        ("largest batch that fits", "memory.max_batch"), ("smallest replica that fits", "memory.min_gpus"),
    )),
    ("Latency", (
        ("time to first token", "latency.ttft_s"), ("time per output token", "latency.tpot_s"),
        ("end to end", "latency.e2e_s"),
    )),
    ("Throughput (all GPUs)", (
        ("output tokens/s", "throughput.output_tokens_per_s"), ("input tokens/s", "throughput.input_tokens_per_s"),
        ("requests/s", "throughput.requests_per_s"),
    )),
    ("Cost", (
        ("$/hour", "cost.usd_per_hour"), ("$ per M output tokens", "cost.usd_per_million_output_tokens"),
        ("$ per M input tokens", "cost.usd_per_million_input_tokens"),
        ("$ per M tokens, blended", "cost.usd_per_million_tokens_blended"),
    )),
)


def human(key: str, value: Any) -> str:
    """A readable cell for a column, chosen by the key's unit suffix."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, str):
        return value
    leaf = key.rsplit(".", 1)[-1]
    if "usd" in leaf:
        return f"${value:,.2f}" if value >= 1 else f"${value:.3g}"
    if leaf.endswith("_s") and not leaf.endswith("per_s"):
        return seconds(value)
    if "bytes_per_s" in leaf:
        return si(value, "B/s")
    if "bytes" in leaf:
        return si(value, "B")
    if "utilization" in leaf or leaf in ("mfu", "mbu", "link_efficiency", "memory_fraction"):
        return f"{value * 100:.3g}%" if value >= 0.001 else f"{value * 100:.2g}%"
    if "flops" in leaf:
        return si(value, "FLOP/s" if "peak" in leaf else "FLOP")
    if leaf.endswith("per_s"):
        return f"{value:,.1f}" if value >= 100 else f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.4g}"


def _cell(row: dict[str, Any], key: str) -> str:
    if key == "params":
        return f"{count(row['params'])} / {count(row['active_params'])}"
    if key == "layout":
        return f"tp={row['tp']} pp={row['pp']} dp={row['dp']}" + (f" ep={row['ep']}" if row["ep"] > 1 else "")
    if key == "tokens":
        return f"{row['input_tokens']:,} / {row['output_tokens']:,}"
    if key == "dtypes":
        return f"{row['weights_dtype']} / {row['kv_dtype']} / {row['compute_dtype']}"
    if key == "price_usd_per_gpu_hour" and has_unverified_price(row.get("notes")):
        return human(key, row.get(key)) + " (unverified)"
    return human(key, row.get(key))


def compare_table(labels: list[str], rows: list[dict[str, Any]]) -> str:
    """Rich table: one column per configuration; rows whose values differ are bold and coloured."""
    from .table import _console, _table

    buf = io.StringIO()
    cells = {key: [_cell(r, key) for r in rows] for _, section in TABLE_ROWS for _, key in section}
    width = 28 + sum(max([len(lab)] + [len(cells[k][i]) for k in cells]) + 3 for i, lab in enumerate(labels))
    con = _console(buf, width)
    t = _table(f"Comparing {len(labels)} configurations" if len(labels) > 1 else None)
    t.add_column("", no_wrap=True)
    for label in labels:
        t.add_column(label, justify="right", no_wrap=True)
    for title, section in TABLE_ROWS:
        t.add_row(f"[bold underline]{title}[/]", *[""] * len(labels))
        for label, key in section:
            values = cells[key]
            differs = len(set(values)) > 1
            style = "bold yellow" if differs else None
            t.add_row(("[bold]" + label + "[/]") if differs else label, *values, style=style)
    con.print(t)
    if len(labels) > 1:
        con.print("[dim]rows in bold differ between the configurations[/dim]")
    return buf.getvalue()


def compare_matrix(labels: list[str], records: list[dict[str, Any]]) -> list[list[str]]:
    """[["key", label...], [key, value...], ...]: every flattened key, in record order."""
    flats = [flatten(clean(r)) for r in records]
    keys: dict[str, None] = {}
    for f in flats:
        keys.update(dict.fromkeys(f))
    return [["key", *labels]] + [[k, *[machine_value(f.get(k)) for f in flats]] for k in keys]


def render_compare(fmt: Format, labels: list[str], records: list[dict[str, Any]], rows: list[dict[str, Any]]) -> str:
    from . import text

    if fmt is Format.table:
        return compare_table(labels, rows)
    if fmt in (Format.json, Format.yaml):
        return text.RECORD_RENDERERS[fmt.value]([clean(r) for r in records])
    if fmt is Format.jsonl:
        return "".join(text.RECORD_RENDERERS["jsonl"](clean(r)) for r in records)
    matrix = compare_matrix(labels, records)
    if fmt is Format.markdown:
        return text._markdown(matrix)
    return text._delimited(matrix, "\t" if fmt is Format.tsv else ",")
