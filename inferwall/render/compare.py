"""``inferwall compare`` output: configurations side by side, one column each.

Machine formats put every flattened key of ``estimate -f json`` in the first column (the keys of
``estimate -f tsv``) and one value column per configuration. The terminal table shows a readable
selection and highlights the rows whose values differ.
"""

from __future__ import annotations

import math
from typing import Any

from inferwall.prices import has_unverified_price
from inferwall.units import binary_bytes, count, number, plural, seconds, si

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


# shown only when a configuration uses them (speculation, the prefix cache, disaggregated pools)
FEATURE_ROWS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Speculative decoding, prefix cache, disaggregation", (
        ("tokens per verification step", "speculative.tokens_per_step"),
        ("TPOT without speculation", "speculative.baseline_tpot_s"),
        ("speculation stops paying at batch", "speculative.breakeven_batch"),
        ("$ per M cached input tokens", "cost.usd_per_million_cached_input_tokens"),
        ("KV offload read-back", "kv_offload.load_s"),
        ("pool that sets the rate", "disaggregation.limited_by"),
        ("KV transfer per request", "disaggregation.kv_transfer_s"),
        ("balanced prefill per decode instance", "disaggregation.balanced_prefill_per_decode"),
    )),
)
# issue 12: shown when a configuration has a request rate (--request-rate)
LOAD_ROWS: tuple[str, tuple[tuple[str, str], ...]] = ("Load", (
    ("request rate (all replicas)", "request_rate"), ("arrivals", "arrival"),
    ("saturation rate", "load.saturation_request_rate"), ("limited by", "load.limited_by"),
    ("utilization of the saturation rate", "load.utilization"),
    ("requests in flight per replica", "load.concurrency_per_replica"),
    ("TTFT p50 / p90 / p99", "ttft_pct"), ("TPOT p50 / p90 / p99", "tpot_pct"), ("E2E p50 / p90 / p99", "e2e_pct"),
))

CAPACITIES = ("memory_bytes_per_gpu", "reserve_bytes")


def human(key: str, value: Any) -> str:
    """A readable cell for a column, chosen by the key's unit suffix."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return "-"
    if isinstance(value, dict):  # a breakdown such as prefill.kernel_times (found by scripts/fuzz.py: it crashed)
        return ", ".join(f"{k} {human(key, v)}" for k, v in value.items()) or "-"
    if isinstance(value, (list, tuple)):
        return ", ".join(human(key, v) for v in value) or "-"
    leaf = key.rsplit(".", 1)[-1]
    if "usd" in leaf:
        return f"${value:,.2f}" if value >= 1 else f"${value:.3g}"
    if leaf.endswith("_s") and not leaf.endswith("per_s"):
        return seconds(value)
    if "bytes_per_s" in leaf:
        return si(value, "B/s")
    if "bytes" in leaf and (key.startswith("memory.") or leaf in CAPACITIES):
        return binary_bytes(value)  # capacities in GiB, as catalogs and engines state them
    if "bytes" in leaf:
        return si(value, "B")  # traffic, like bandwidth, in decimal units
    if "utilization" in leaf or leaf in ("mfu", "mbu", "link_efficiency", "memory_fraction"):
        return f"{value * 100:.3g}%" if value >= 0.001 else f"{value * 100:.2g}%"
    if "flops" in leaf:
        return si(value, "FLOP/s" if "peak" in leaf else "FLOP")
    if leaf == "min_gpus":
        return plural(value, "GPU")
    if isinstance(value, int):
        return f"{value:,}"
    return number(value)


def _cell(row: dict[str, Any], key: str) -> str:
    if key == "params":
        return f"{count(row['params'])} / {count(row['active_params'])}"
    if key == "layout":
        return f"tp={row['tp']} pp={row['pp']} dp={row['dp']}" + (f" ep={row['ep']}" if row["ep"] > 1 else "")
    if key == "tokens":
        return f"{row['input_tokens']:,} / {row['output_tokens']:,}"
    if key == "dtypes":
        return f"{row['weights_dtype']} / {row['kv_dtype']} / {row['compute_dtype']}"
    if key.endswith("_pct"):  # a latency's three percentiles in one cell
        name = key.removesuffix("_pct")
        values = [row.get(f"latency.{name}_{q}_s") for q in ("p50", "p90", "p99")]
        return "-" if all(v is None for v in values) else " / ".join(seconds(v) for v in values)
    if key == "request_rate" and row.get(key) is not None:
        return f"{number(row[key])} req/s"
    if key == "load.saturation_request_rate" and row.get(key) is not None:
        return f"{number(row[key])} req/s"
    if key == "price_usd_per_gpu_hour" and has_unverified_price(row.get("notes")):
        return human(key, row.get(key)) + " (unverified)"
    return human(key, row.get(key))


def compare_table(labels: list[str], rows: list[dict[str, Any]]) -> str:
    """Rich tables: one column per configuration, the rows whose values differ bold and coloured. When the
    configurations do not fit the terminal's width side by side, they wrap into several tables, each with the
    row labels, so no column is ever cut."""
    from .table import Col, fitted_table, table_width, target_width

    sections = list(TABLE_ROWS)
    for title, section in FEATURE_ROWS:
        used = tuple((label, key) for label, key in section if any(r.get(key) is not None for r in rows))
        if used:
            sections.append((title, used))
    if any(r.get("request_rate") is not None for r in rows):
        sections.append(LOAD_ROWS)
    keys = [key for _, section in sections for _, key in section]
    cells = {key: [_cell(r, key) for r in rows] for key in keys}
    label_cells, styles, value_rows = [], [], []
    for title, section in sections:
        label_cells.append((title, "bold underline"))
        styles.append(None)
        value_rows.append(None)
        for label, key in section:
            differs = len(set(cells[key])) > 1
            label_cells.append((label, "bold") if differs else label)
            styles.append("bold yellow" if differs else None)
            value_rows.append(key)
    widths = [max([len(lab)] + [len(cells[k][i]) for k in keys]) for i, lab in enumerate(labels)]
    first = max(len(c if isinstance(c, str) else c[0]) for c in label_cells)
    width = target_width()
    groups: list[list[int]] = [[]]
    for i, w in enumerate(widths):
        group = groups[-1]
        if group and width is not None and table_width([first] + [widths[j] for j in group] + [w]) > width:
            groups.append([i])
        else:
            group.append(i)
    parts = []
    for n, group in enumerate(groups):
        cols = [Col("", label_cells)] + [
            Col(labels[i], ["" if key is None else cells[key][i] for key in value_rows], right=True) for i in group]
        title = None
        if n == 0 and len(labels) > 1:
            title = f"Comparing {len(labels)} configurations" + (
                f" (in {len(groups)} tables to fit the width)" if len(groups) > 1 else "")
        parts.append(fitted_table(cols, title, row_styles=styles))
    if len(labels) > 1:
        parts.append("rows in bold differ between the configurations\n")
    return "".join(parts)


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
