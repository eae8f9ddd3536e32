"""Terminal tables with rich. Numbers are never truncated: columns do not wrap and the console is as wide as needed."""

from __future__ import annotations

import io
import os
import shutil
from typing import Any

from inferwall.units import count, seconds, si


def _console(buf: io.StringIO, width: int | None = None):
    from rich.console import Console

    term = shutil.get_terminal_size((120, 40)).columns
    return Console(file=buf, width=max(width or 0, term, 100), force_terminal=bool(os.environ.get("FORCE_COLOR")),
                   no_color=bool(os.environ.get("NO_COLOR")), highlight=False, soft_wrap=False)


def _table(title: str | None = None, header: bool = True):
    from rich import box
    from rich.table import Table

    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD if header else box.SIMPLE, pad_edge=False,
                 title_style="bold", show_header=header)


def _pct(x: float | None) -> str:
    return "-" if x is None else (f"{x * 100:.3g}%" if x >= 0.001 else f"{x * 100:.2g}%")


def _usd(x: float | None) -> str:
    if x is None:
        return "n/a (no price)"
    return f"${x:,.2f}" if x >= 1 else f"${x:.3g}"


def _joules(x: float | None) -> str:
    return "n/a (no TDP)" if x is None else si(x, "J")


def _bytes(x: float | None) -> str:
    return "-" if x is None else si(x, "B")


def _rate(x: float | None, unit: str) -> str:
    return "-" if x is None else f"{x:,.1f} {unit}" if x >= 100 else f"{x:.3g} {unit}"


def estimate_table(r: dict[str, Any]) -> str:
    buf = io.StringIO()
    con = _console(buf)
    sc = r["scenario"]
    layout = f"tp={sc['tp']} pp={sc['pp']} dp={sc['dp']}" + (f" ep={sc['ep']}" if sc["ep"] > 1 else "")
    con.print(f"[bold]{sc['model']}[/bold] on {sc['gpus']} x {sc['gpu']} ({layout}), "
              f"weights {sc['weights_dtype']} / KV {sc['kv_dtype']} / compute {sc['compute_dtype']}, "
              f"batch {sc['batch']}, {sc['input_tokens']} in / {sc['output_tokens']} out")
    con.print(f"{count(sc['params'])} parameters, {count(sc['active_params'])} active per token")

    phases = [("prefill", r["prefill"]), ("decode step", r["decode"])]
    t = _table("Time per phase (one replica)")
    t.add_column("", style="bold", no_wrap=True)
    for name, p in phases:
        if p is not None:
            t.add_column(name, justify="right", no_wrap=True)
    rows = [
        ("FLOPs", lambda p: si(p["flops"])),
        ("bytes moved", lambda p: _bytes(p["bytes"])),
        ("arithmetic intensity", lambda p: f"{p['arithmetic_intensity']:.3g} FLOP/B"),
        ("compute-bound time", lambda p: seconds(p["compute_time_s"])),
        ("memory-bound time", lambda p: seconds(p["memory_time_s"])),
        ("communication time", lambda p: seconds(p["comm_time_s"])),
        ("overhead", lambda p: seconds(p["overhead_time_s"])),
        ("time", lambda p: seconds(p.get("time_s", p.get("step_time_s")))),
        ("bound by", lambda p: p["bound"]),
        ("FLOP utilization", lambda p: _pct(p["utilization"])),
        ("bandwidth utilization", lambda p: _pct(p["bandwidth_utilization"])),
    ]
    for label, fn in rows:
        t.add_row(label, *[fn(p) for _, p in phases if p is not None])
    con.print(t)

    m = r["memory"]
    mt = _table("Memory per GPU", header=False)
    mt.add_column("", style="bold", no_wrap=True)
    mt.add_column("", justify="right", no_wrap=True)
    for label, value in (
        ("weights", _bytes(m["weights_bytes_per_gpu"])),
        ("KV cache", _bytes(m["kv_cache_bytes_per_gpu"])),
        ("activations / workspace", _bytes(m["activation_bytes_per_gpu"])),
        ("runtime reserve", _bytes(m["reserve_bytes_per_gpu"])),
        ("total", _bytes(m["total_bytes_per_gpu"])),
        ("usable / capacity", f"{_bytes(m['usable_bytes_per_gpu'])} / {_bytes(m['capacity_bytes_per_gpu'])}"),
        ("fits", "yes" if m["fits"] else "[red]NO[/red]"),
        ("largest batch that fits", f"{m['max_batch']:,} ({m['batch_limited_by']})"),
        ("smallest replica that fits", "-" if m["min_gpus"] is None else f"{m['min_gpus']} GPUs"),
    ):
        mt.add_row(label, value)
    con.print(mt)

    lat, thr, cost, b, en = r["latency"], r["throughput"], r["cost"], r["bounds"], r.get("energy") or {}
    st = _table("Latency, throughput, cost (all GPUs)", header=False)
    st.add_column("", style="bold", no_wrap=True)
    st.add_column("", justify="right", no_wrap=True)
    for label, value in (
        ("time to first token", seconds(lat["ttft_s"])),
        ("time per output token", seconds(lat["tpot_s"]) if r["decode"] else "-"),
        ("end-to-end per request", seconds(lat["e2e_s"])),
        ("output tokens/s (all GPUs)", _rate(thr["output_tokens_per_s"], "tok/s")),
        ("input tokens/s (all GPUs)", _rate(thr["input_tokens_per_s"], "tok/s")),
        ("requests/s", _rate(thr["requests_per_s"], "req/s")),
        ("$/hour", _usd(cost["usd_per_hour"])),
        ("$ per M output tokens", _usd(cost["usd_per_million_output_tokens"])),
        ("$ per M input tokens", _usd(cost["usd_per_million_input_tokens"])),
        ("$ per M tokens, blended", _usd(cost["usd_per_million_tokens_blended"])),
        ("energy per output token", _joules(en.get("joules_per_output_token"))),
        ("energy per input token", _joules(en.get("joules_per_input_token"))),
        ("forward passes/s if FLOP-bound", _rate(b["compute_forward_passes_per_s"], "/s")),
        ("forward passes/s if bandwidth-bound", _rate(b["memory_forward_passes_per_s"], "/s")),
    ):
        st.add_row(label, value)
    con.print(st)
    con.print("[dim]blended $/M = (prefill time + (output tokens - 1) x decode step) x GPUs x $/GPU-hour / 3600 "
              "/ (batch x (input + output tokens)) x 1e6[/dim]")
    return buf.getvalue()


def rows_table(rows: list[dict[str, Any]], columns: list[str], title: str = "") -> str:
    from . import machine_value

    buf = io.StringIO()
    widths = {c: max([len(c)] + [len(machine_value(r.get(c))) for r in rows]) for c in columns}
    con = _console(buf, sum(widths.values()) + 3 * len(columns) + 4)
    t = _table(title or None)
    for c in columns:
        t.add_column(c, no_wrap=True, overflow="ignore", min_width=widths[c])
    for r in rows:
        t.add_row(*[machine_value(r.get(c)) for c in columns])
    con.print(t)
    return buf.getvalue()
