"""``inferwall plan``: the cheapest configurations that serve a demand within latency objectives."""

from __future__ import annotations

from typing import Any, Optional

import typer

from ..charting import ChartOpt, OutputOpt, chart_option, output_option
from ..flags import CatalogOpt, FormatOpt, catalog_option, format_option
from ._flags import with_estimate_flags

DEMAND = "Demand"
OBJECTIVES = "Objectives"
SEARCH = "Search"

# The scenario flags a plan does not take: the search chooses the hardware, layout, batch and precision.
SEARCHED = ("gpu", "flops", "bandwidth", "memory", "link_bandwidth", "gpus", "tp", "pp", "dp", "ep", "batch",
            "precision", "weights", "kv", "compute")


@with_estimate_flags(exclude=SEARCHED)
def plan(
    flags: dict[str, Any],
    output_tokens_per_s: Optional[str] = typer.Option(None, "--output-tokens-per-s", help="Demand: output tokens per second, all users together (e.g. 50k).", rich_help_panel=DEMAND),
    requests_per_s: Optional[str] = typer.Option(None, "--requests-per-s", help="Demand: requests per second (each --input-tokens in, --output-tokens out).", rich_help_panel=DEMAND),
    users: Optional[str] = typer.Option(None, "--users", help="Demand: concurrent users (sequences in flight).", rich_help_panel=DEMAND),
    max_ttft: Optional[str] = typer.Option(None, "--max-ttft", help="Objective: time to first token at most this (2s, 500ms).", rich_help_panel=OBJECTIVES),
    max_tpot: Optional[str] = typer.Option(None, "--max-tpot", help="Objective: time per output token at most this (50ms).", rich_help_panel=OBJECTIVES),
    max_gpus: Optional[str] = typer.Option(None, "--max-gpus", metavar="INTEGER", help="Objective: at most this many GPUs in all.", rich_help_panel=OBJECTIVES),
    gpus_from: Optional[str] = typer.Option(None, "--gpus-from", help="Accelerators to search, comma-separated \\[default: every catalog entry with a price].", rich_help_panel=SEARCH),
    precision: Optional[str] = typer.Option(None, "--precision", "-p", help="Precisions to search, comma-separated (native, bf16, fp8, int4, ...) \\[default: native,fp8; fp8 only for 16-bit models].", rich_help_panel=SEARCH),
    top: str = typer.Option("5", "--top", metavar="INTEGER", help="How many configurations to list.", rich_help_panel=SEARCH),
    pareto: bool = typer.Option(False, "--pareto", help="List the Pareto frontier of per-user speed against cost per token instead.", rich_help_panel=SEARCH),
    fmt: FormatOpt = format_option(),
    catalog_files: CatalogOpt = catalog_option(),
    chart: ChartOpt = chart_option(),
    output: OutputOpt = output_option(),
) -> None:
    """Search GPU type x count x tp/pp/ep x precision x batch for the cheapest configurations meeting the SLOs.

    --chart draws per-user tokens/s against $/M output tokens (with --pareto, the frontier).
    """
    import time

    from .. import charting

    charting.check_output(output)

    from inferwall.core.dtypes import BYTES_PER_ELEMENT, nbytes, normalize
    from inferwall.core.planner import Candidate, Demand, Objectives, SearchOptions
    from inferwall.core.planner import plan as run_plan
    from inferwall.core.types import CoreError
    from inferwall.errors import CheckFailed, InputError
    from inferwall.inputs import build
    from inferwall.prices import parse_price_spec
    from inferwall.render.economics import integer, pct, rate, rows_output, secs, text, usd
    from inferwall.units import plural

    from ..common import catalog, emit, note, pick_format
    from inferwall.core import limits as L
    from inferwall.units import bare_duration_note

    from ._flags import duration, options_from, positive, split_list, whole

    started = time.perf_counter()
    demand = Demand(output_tokens_per_s=positive(output_tokens_per_s, "--output-tokens-per-s", limit=L.TOKENS_PER_S),
                    requests_per_s=positive(requests_per_s, "--requests-per-s", limit=L.REQUESTS_PER_S),
                    concurrent_users=None if users is None else _whole(positive(users, "--users", limit=L.USERS),
                                                                       "--users"))
    given = [f for f, v in (("--output-tokens-per-s", output_tokens_per_s), ("--requests-per-s", requests_per_s),
                            ("--users", users)) if v is not None]
    if len(given) != 1:
        raise InputError("give exactly one demand: --output-tokens-per-s, --requests-per-s or --users"
                         + (f" (got {', '.join(given)})" if given else ""))
    max_gpus_n = whole(max_gpus, "--max-gpus", limit=L.GPUS)
    top_n = whole(top, "--top")
    slo = Objectives(max_ttft_s=duration(max_ttft, "--max-ttft"), max_tpot_s=duration(max_tpot, "--max-tpot"),
                     max_gpus=max_gpus_n)
    slo_notes = [line for line in (bare_duration_note(max_tpot, slo.max_tpot_s, "--max-tpot", 10.0),
                                   bare_duration_note(max_ttft, slo.max_ttft_s, "--max-ttft", 600.0)) if line]
    precisions: list[str | None] = []
    for item in split_list(precision, "--precision") or ["native", "fp8"]:
        if item.lower() == "native":
            precisions.append(None)
            continue
        try:
            precisions.append(normalize(item))
        except CoreError:
            raise InputError(f"--precision: unknown dtype {item!r}; valid: native, {', '.join(BYTES_PER_ELEMENT)}") from None
    explicit_fp8 = precision is not None

    cat = catalog(catalog_files)
    if gpus_from:
        chosen = [cat.gpu(name) for name in split_list(gpus_from, "--gpus-from")]
        entries = list({e.accelerator.id: e for e in chosen}.values())
    else:
        entries = list(cat.gpus.values())
    spec = parse_price_spec(flags["price"], cat) if flags.get("price") is not None else None
    candidates, skipped, notes = [], {}, []
    unverified: dict[str, Any] = {}  # gpu id -> entry, for accelerators ranked on a catalog placeholder price
    for entry in entries:
        gid = entry.accelerator.id
        given = spec.price_for(gid) if spec else None
        if entry.accelerator.price_usd_per_hour is None and given is None:
            skipped[gid] = "no price"
            continue
        if given is None and not entry.price_verified:
            unverified[gid] = entry
        native_weights = None
        for p in dict.fromkeys(precisions):
            try:
                searched = {"gpu": "plan's search", "precision": "plan's search"}
                resolved = build(options_from(flags, gpu=gid, precision=p,
                                              origins={**flags.get("origins", {}), **searched}), cat)
            except CoreError as exc:  # this accelerator cannot run it (no FLOP/s listed, an impossible dtype)
                skipped.setdefault(gid, str(exc))
                continue
            # an InputError is a bad model or flag, the same for every accelerator: it propagates (exit 2)
            s = resolved.scenario
            if p is None:
                native_weights = s.precision.weights
            elif (not explicit_fp8 and p == "fp8" and native_weights is not None
                  and nbytes(native_weights) <= 1):
                continue  # the model is already stored in 8 bits or fewer: fp8 would only add bytes
            label = p or native_weights or s.precision.weights
            if any(c.precision == label and c.scenario.accelerator.id == s.accelerator.id for c in candidates):
                continue
            candidates.append(Candidate(s, resolved.compute_explicit, label))
            notes.extend(resolved.notes)
    if not candidates:
        hint = " (give --price for accelerators without one)" if "no price" in skipped.values() else ""
        raise InputError("no accelerator to search: "
                         + ("; ".join(f"{g}: {why}" for g, why in skipped.items()) or "the list is empty") + hint)
    result = run_plan(candidates, demand, slo, SearchOptions(top=top_n, pareto=pareto))
    elapsed = time.perf_counter() - started

    rows = [{
        "rank": i + 1, "gpu": c.gpu, "precision": c.precision, "weights_dtype": c.weights_dtype,
        "kv_dtype": c.kv_dtype, "compute_dtype": c.compute_dtype, "tp": c.tp, "pp": c.pp, "ep": c.ep,
        "gpus_per_replica": c.gpus_per_replica, "replicas": c.replicas, "gpus": c.gpus, "batch": c.batch,
        "batch_limit": c.batch_limit, "batch_limited_by": c.batch_limited_by, "binds": c.binds,
        "ttft_s": c.ttft_s, "tpot_s": c.tpot_s, "user_tokens_per_s": c.user_tokens_per_s,
        "output_tokens_per_s": c.output_tokens_per_s, "requests_per_s": c.requests_per_s,
        "usd_per_hour": c.usd_per_hour, "usd_per_million_output_tokens": c.usd_per_million_output_tokens,
        "usd_per_million_tokens_blended": c.usd_per_million_tokens_blended, "utilization": c.utilization,
        "price_usd_per_gpu_hour": c.estimate.scenario.accelerator.price_usd_per_hour,
        "price_verified": None if spec and spec.price_for(c.gpu) is not None else c.gpu not in unverified,
        "layout": f"tp={c.tp} pp={c.pp}" + (f" ep={c.ep}" if c.ep > 1 else ""),
        "price": usd(c.estimate.scenario.accelerator.price_usd_per_hour) + ("*" if c.gpu in unverified else ""),
    } for i, c in enumerate(result.configs)]
    machine = [(k, k, text) for k in ("rank", "gpu", "precision", "weights_dtype", "kv_dtype", "compute_dtype", "tp",
                                       "pp", "ep", "gpus_per_replica", "replicas", "gpus", "batch", "batch_limit",
                                       "batch_limited_by", "binds", "ttft_s", "tpot_s", "user_tokens_per_s",
                                       "output_tokens_per_s", "requests_per_s", "usd_per_hour",
                                       "usd_per_million_output_tokens", "usd_per_million_tokens_blended",
                                       "utilization", "price_usd_per_gpu_hour", "price_verified")]
    human = [
        ("rank", "#", integer), ("gpu", "gpu", text), ("precision", "precision", text), ("layout", "layout", text),
        ("replicas", "replicas", integer), ("gpus", "GPUs", integer), ("batch", "batch", integer),
        ("ttft_s", "TTFT", secs), ("tpot_s", "TPOT", secs), ("user_tokens_per_s", "tok/s per user", rate),
        ("output_tokens_per_s", "output tok/s", rate), ("utilization", "utilization", pct),
        ("price", "$/GPU-hour", text), ("usd_per_hour", "$/hour", usd),
        ("usd_per_million_output_tokens", "$/M output", usd), ("binds", "binds", text),
    ]
    model = candidates[0].scenario.model.id
    kind = "Pareto frontier" if pareto else f"Cheapest {top_n}"
    title = f"{kind}: {model} for {demand.describe()}" + _slo_text(slo)
    if not result.configs or not charting.deliver(chart, output, lambda: charting.plan_chart(result, title, pareto)):
        emit(rows_output(pick_format(fmt), rows, machine, title, table_columns=human,
                         drop=("output_tokens_per_s", "utilization", "replicas", "user_tokens_per_s", "binds",
                               "layout", "ttft_s", "precision")))
    for line in slo_notes + _group_notes(notes, {c.scenario.accelerator.id for c in candidates}) + _result_warnings(
            result, slo, candidates):
        note(f"note: {line}")
    no_price = sorted(g for g, why in skipped.items() if why == "no price")
    if no_price:
        note(f"note: skipped {plural(len(no_price), 'accelerator')} without a price ({', '.join(no_price)}); "
             "give --price (2.5 for every GPU searched, or GPU=PRICE pairs such as h100=2.1,mi300x=2.5), "
             "with --gpus-from to pick them")
    ranked = [row["gpu"] for row in rows]
    if ranked and ranked[0] in unverified:
        first = unverified[ranked[0]]
        note(f"note: #1 ({ranked[0]}) ranks first on an unverified placeholder price "
             f"(${first.accelerator.price_usd_per_hour:g}/GPU-hour, {first.price_label(status=False)}); the ranking is "
             f"provisional until you give your price: --price {first.aliases[0] if first.aliases else ranked[0]}=PRICE")
    elif any(g in unverified for g in ranked):
        marked = [str(i) for i, g in enumerate(ranked, 1) if g in unverified]
        which = f"rows {', '.join(marked)}" if len(marked) > 1 else f"row {marked[0]}"
        note(f"note: {which} ({', '.join(dict.fromkeys(g for g in ranked if g in unverified))}) "
             f"{'are' if len(marked) > 1 else 'is'} priced with an unverified catalog placeholder (marked * in the table, price_verified false "
             "in data formats); --price GPU=PRICE sets your own")
    others = {g: why for g, why in skipped.items() if why != "no price"}
    for g, why in others.items():
        note(f"note: skipped {g}: {why}")
    pruned = [g for g, why in result.skipped if why != "no price"]
    note(f"searched {plural(result.evaluated_layouts, 'layout')} on {plural(len(candidates), 'GPU x precision candidate')} "
         f"({plural(result.evaluations, 'estimate')}, {plural(len(pruned), 'candidate')} pruned by cost bounds) in "
         f"{elapsed:.2f} s")
    if not result.configs:
        raise CheckFailed(result.summary)
    note(result.summary)


SLOW_FIRST_TOKEN_S = 10.0  # without --max-ttft, a listed TTFT above this gets a note: nobody waits that long unasked


def _result_warnings(result, slo, candidates) -> list[str]:
    """What the objectives given leave unsaid about the configurations listed."""
    from inferwall.units import seconds

    out = []
    model = candidates[0].scenario.model
    if model.encoder and slo.max_tpot_s is not None:
        out.append(f"{model.id} is an encoder: it generates no tokens one by one, so --max-tpot has nothing to bound "
                   "(its only latency is the pass over the input; use --max-ttft)")
    if slo.max_ttft_s is None and result.configs:
        slowest = max(result.configs, key=lambda c: c.ttft_s)
        if slowest.ttft_s >= SLOW_FIRST_TOKEN_S:
            rank = result.configs.index(slowest) + 1
            out.append(f"no --max-ttft was given, and the first token takes up to {seconds(slowest.ttft_s)} (rank "
                       f"{rank}: {slowest.gpu}, batch {slowest.batch:,}); add --max-ttft to bound it")
    return out


def _group_notes(notes: list[str], gpu_ids: set[str]) -> list[str]:
    """One line per note text, the GPUs it applies to listed once: 'a100, t4 have no fp8 math: ...'."""
    groups: dict[str, list[str]] = {}
    for line in notes:
        head, _, rest = line.partition(" ")
        key, gpu = (rest, head) if head in gpu_ids else (line, "")
        gpus = groups.setdefault(key, [])
        if gpu and gpu not in gpus:
            gpus.append(gpu)
    out = []
    for text, gpus in groups.items():
        if not gpus:
            out.append(text)
        elif len(gpus) == 1:
            out.append(f"{gpus[0]} {text}")
        else:
            out.append(f"{', '.join(gpus)} {text.replace('has ', 'have ', 1) if text.startswith('has ') else text}")
    return out


def _whole(value: float | None, flag: str) -> int | None:
    from inferwall.errors import InputError

    if value is None:
        return None
    if value != int(value):
        raise InputError(f"{flag}: must be a whole number, got {value:g}")
    return int(value)


def _slo_text(slo) -> str:
    parts = []
    if slo.max_ttft_s is not None:
        parts.append(f"TTFT <= {slo.max_ttft_s * 1e3:g} ms")
    if slo.max_tpot_s is not None:
        parts.append(f"TPOT <= {slo.max_tpot_s * 1e3:g} ms")
    if slo.max_gpus is not None:
        parts.append(f"<= {slo.max_gpus} GPUs")
    return (", " + ", ".join(parts)) if parts else ""


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)
