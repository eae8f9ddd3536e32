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
# issue 12: the plan sizes replicas with the closed-form queueing model; simulating every layout would be slow
NOT_IN_PLAN = ("simulate", "seed")


@with_estimate_flags(exclude=SEARCHED + NOT_IN_PLAN)
def plan(
    flags: dict[str, Any],
    output_tokens_per_s: Optional[str] = typer.Option(None, "--output-tokens-per-s", help="Demand: output tokens per second, all users together (e.g. 50k).", rich_help_panel=DEMAND),
    requests_per_s: Optional[str] = typer.Option(None, "--requests-per-s", help="Alias of --request-rate: the demand in requests per second, sized with the queueing model.", rich_help_panel=DEMAND),
    users: Optional[str] = typer.Option(None, "--users", help="Demand: concurrent users (sequences in flight).", rich_help_panel=DEMAND),
    max_ttft: Optional[str] = typer.Option(None, "--max-ttft", help="Objective: time to first token at most this: the mean (2s, 500ms) or percentiles under a request rate (p99=2s, or p50=500ms,p99=2s).", rich_help_panel=OBJECTIVES),
    max_tpot: Optional[str] = typer.Option(None, "--max-tpot", help="Objective: time per output token at most this: the mean (50ms) or percentiles (p90=50ms).", rich_help_panel=OBJECTIVES),
    max_e2e: Optional[str] = typer.Option(None, "--max-e2e", help="Objective under a request rate: end-to-end time per request, the mean or percentiles (p99=30s).", rich_help_panel=OBJECTIVES),
    max_gpus: Optional[int] = typer.Option(None, "--max-gpus", help="Objective: at most this many GPUs in all.", rich_help_panel=OBJECTIVES),
    gpus_from: Optional[str] = typer.Option(None, "--gpus-from", help="Accelerators to search, comma-separated \\[default: every catalog entry with a price].", rich_help_panel=SEARCH),
    precision: Optional[str] = typer.Option(None, "--precision", "-p", help="Precisions to search, comma-separated (native, bf16, fp8, int4, ...) \\[default: native,fp8; fp8 only for 16-bit models].", rich_help_panel=SEARCH),
    top: int = typer.Option(5, "--top", help="How many configurations to list.", rich_help_panel=SEARCH),
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
    from inferwall.units import number, plural

    from ..common import catalog, emit, note, pick_format
    from ._flags import duration, options_from, positive, split_list

    started = time.perf_counter()
    # issue 12: --request-rate (a scenario field) and --requests-per-s are one demand, sized with queueing
    if requests_per_s is not None and flags.get("request_rate") is not None:
        raise InputError("--requests-per-s is an alias of --request-rate; give one")
    rate_text = flags.get("request_rate") if flags.get("request_rate") is not None else requests_per_s
    rate_flag = "--request-rate" if flags.get("request_rate") is not None else "--requests-per-s"
    flags = {**flags, "request_rate": None}
    given = [f for f, v in (("--output-tokens-per-s", output_tokens_per_s), (rate_flag, rate_text),
                            ("--users", users)) if v is not None]
    if len(given) != 1:
        raise InputError("give exactly one demand: --output-tokens-per-s, --request-rate (or --requests-per-s) "
                         "or --users" + (f" (got {', '.join(given)})" if given else ""))
    from inferwall.arrivals import parse_request_rate

    demand_rate = parse_request_rate(rate_text, rate_flag) if rate_text is not None else None
    demand = Demand(output_tokens_per_s=positive(output_tokens_per_s, "--output-tokens-per-s"),
                    requests_per_s=demand_rate,
                    concurrent_users=None if users is None else _whole(positive(users, "--users"), "--users"))
    if max_gpus is not None and max_gpus < 1:
        raise InputError(f"--max-gpus: must be >= 1, got {max_gpus}")
    if top < 1:
        raise InputError(f"--top: must be >= 1, got {top}")
    ttft_mean, ttft_pct = _objective(max_ttft, "--max-ttft", "ttft")
    tpot_mean, tpot_pct = _objective(max_tpot, "--max-tpot", "tpot")
    e2e_mean, e2e_pct = _objective(max_e2e, "--max-e2e", "e2e")
    percentiles = ttft_pct + tpot_pct + e2e_pct + ((("e2e_mean_s", e2e_mean),) if e2e_mean is not None else ())
    slo = Objectives(max_ttft_s=ttft_mean, max_tpot_s=tpot_mean, max_gpus=max_gpus, percentiles=percentiles)
    queueing = demand_rate is not None or bool(percentiles)
    if queueing and users is not None:
        raise InputError("percentile and end-to-end objectives hold under a request rate; give --request-rate "
                         "(or --output-tokens-per-s) instead of --users")
    if queueing:
        flags["request_rate"] = str(demand_rate or 1.0)  # the rate is set per candidate below
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
    if queueing and demand_rate is None:  # an output-token demand with percentile objectives: tokens / E[T]
        demand_rate = demand.output_tokens_per_s / candidates[0].scenario.load.output_lengths.mean
        demand = Demand(requests_per_s=demand_rate)
    if queueing:
        from dataclasses import replace as _replace

        candidates = [_replace(c, scenario=_replace(c.scenario, load=_replace(
            c.scenario.load, arrivals=c.scenario.load.arrivals.at_rate(demand_rate)))) for c in candidates]
    result = run_plan(candidates, demand, slo, SearchOptions(top=top, pareto=pareto))
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
        **_load_columns(c),
    } for i, c in enumerate(result.configs)]
    machine = [(k, k, text) for k in ("rank", "gpu", "precision", "weights_dtype", "kv_dtype", "compute_dtype", "tp",
                                       "pp", "ep", "gpus_per_replica", "replicas", "gpus", "batch", "batch_limit",
                                       "batch_limited_by", "binds", "ttft_s", "tpot_s", "user_tokens_per_s",
                                       "output_tokens_per_s", "requests_per_s", "usd_per_hour",
                                       "usd_per_million_output_tokens", "usd_per_million_tokens_blended",
                                       "utilization", "price_usd_per_gpu_hour", "price_verified",
                                       *LOAD_COLUMNS)]
    human = [
        ("rank", "#", integer), ("gpu", "gpu", text), ("precision", "precision", text), ("layout", "layout", text),
        ("replicas", "replicas", integer), ("gpus", "GPUs", integer), ("batch", "batch", integer),
        ("ttft_s", "TTFT", secs), ("tpot_s", "TPOT", secs), ("user_tokens_per_s", "tok/s per user", rate),
        ("output_tokens_per_s", "output tok/s", rate), ("utilization", "utilization", pct),
        ("price", "$/GPU-hour", text), ("usd_per_hour", "$/hour", usd),
        ("usd_per_million_output_tokens", "$/M output", usd), ("binds", "binds", text),
    ]
    drop = ("output_tokens_per_s", "utilization", "replicas", "user_tokens_per_s", "binds", "layout", "ttft_s",
            "precision")
    if queueing:  # the engine runs what arrives: requests in flight, the percentiles asked for, the load
        ttft_key = next((k for k, _ in slo.percentiles if k.startswith("ttft_p")), "ttft_p99_s")
        tpot_key = next((k for k, _ in slo.percentiles if k.startswith("tpot_p")), "tpot_p90_s")
        human = [col for col in human if col[0] not in ("batch", "utilization")]
        at = [k for k, _, _ in human].index("tpot_s") + 1
        human[at:at] = [(tpot_key, f"TPOT {tpot_key.split('_')[1]}", secs)]
        at = [k for k, _, _ in human].index("ttft_s") + 1
        human[at:at] = [(ttft_key, f"TTFT {ttft_key.split('_')[1]}", secs)]
        human[6:6] = [("batch", "in flight", integer), ("load_utilization", "load", pct)]
        drop = ("output_tokens_per_s", "user_tokens_per_s", "replicas", "ttft_s", "tpot_s", "layout", "precision",
                "binds", "batch")
    model = candidates[0].scenario.model.id
    kind = "Pareto frontier" if pareto else f"Cheapest {top}"
    shown = demand.describe() + (f" ({number(output_tokens_per_s_value(output_tokens_per_s))} output tokens/s)"
                                 if queueing and output_tokens_per_s is not None else "")
    title = f"{kind}: {model} for {shown}" + _slo_text(slo)
    if not result.configs or not charting.deliver(chart, output, lambda: charting.plan_chart(result, title, pareto)):
        emit(rows_output(pick_format(fmt), rows, machine, title, table_columns=human, drop=drop))
    for line in _group_notes(notes, {c.scenario.accelerator.id for c in candidates}) + _result_warnings(result, slo,
                                                                                                      candidates):
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
         f"({plural(result.evaluations, 'queueing solve' if queueing else 'estimate')}, {plural(len(pruned), 'candidate')} pruned by cost bounds) in "
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
    if slo.max_ttft_s is None and not any(k.startswith("ttft") for k, _ in slo.percentiles) and result.configs:
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


# issue 12: the load columns of every row (null when the plan sized fixed batches)
LOAD_COLUMNS = ("request_rate_per_replica", "load_utilization", "saturation_request_rate_per_replica",
                *(f"{n}_{q}_s" for n in ("ttft", "tpot", "e2e") for q in ("p50", "p90", "p99")))


def _load_columns(config) -> dict[str, Any]:
    load = config.estimate.load
    out: dict[str, Any] = dict.fromkeys(LOAD_COLUMNS)
    if load is None:
        return out
    out.update(request_rate_per_replica=load.request_rate / load.replicas, load_utilization=load.utilization,
               saturation_request_rate_per_replica=load.saturation_request_rate / load.replicas)
    for name in ("ttft", "tpot", "e2e"):
        pct = getattr(load, name)
        for q in ("p50", "p90", "p99"):
            out[f"{name}_{q}_s"] = getattr(pct, q) if pct is not None else None
    return out


def output_tokens_per_s_value(text: str) -> float:
    from ._flags import positive

    return positive(text, "--output-tokens-per-s") or 0.0


def _objective(text: str | None, flag: str, name: str) -> tuple[float | None, tuple[tuple[str, float], ...]]:
    """``2s`` (the mean), ``p99=2s`` or ``p50=500ms,p99=2s`` -> (the mean's limit, ((key, seconds), ...))."""
    from inferwall.errors import InputError

    from ._flags import duration

    if text is None:
        return None, ()
    mean = None
    pct: list[tuple[str, float]] = []
    for item in (part.strip() for part in str(text).split(",")):
        if not item:
            raise InputError(f"{flag}: empty item in {text!r}; write e.g. 2s, p99=2s or p50=500ms,p99=2s")
        q, eq, value = item.partition("=")
        if not eq:
            mean = duration(item, flag)
            continue
        q = q.strip().lower()
        if q == "mean":
            mean = duration(value, flag)
        elif q in ("p50", "p90", "p99"):
            pct.append((f"{name}_{q}_s", duration(value, f"{flag} {q}")))
        else:
            raise InputError(f"{flag}: unknown percentile {q!r} in {text!r}; valid: p50, p90, p99 (or a plain value "
                             "for the mean), e.g. p99=2s")
    return mean, tuple(pct)


def _slo_text(slo) -> str:
    parts = []
    if slo.max_ttft_s is not None:
        parts.append(f"TTFT <= {slo.max_ttft_s * 1e3:g} ms")
    if slo.max_tpot_s is not None:
        parts.append(f"TPOT <= {slo.max_tpot_s * 1e3:g} ms")
    for key, limit in slo.percentiles:
        name, q, _ = key.split("_")
        parts.append(f"{name.upper()}{'' if q == 'mean' else ' ' + q} <= {limit * 1e3:g} ms")
    if slo.max_gpus is not None:
        parts.append(f"<= {slo.max_gpus} GPUs")
    return (", " + ", ".join(parts)) if parts else ""


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)
