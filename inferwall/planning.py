"""``plan``'s search, shared by ``inferwall plan`` and ``inferwall.plan()``: the cheapest configurations that serve a
demand within latency objectives (``core.planner``), as rows with their notes. The command renders them (and exits 1
when none meets the objectives); the API returns them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# issue 12: the load columns of every row (null when the plan sized fixed batches)
LOAD_COLUMNS = ("request_rate_per_replica", "load_utilization", "saturation_request_rate_per_replica",
                *(f"{n}_{q}_s" for n in ("ttft", "tpot", "e2e") for q in ("p50", "p90", "p99")))
MACHINE_COLUMNS = ("rank", "gpu", "precision", "weights_dtype", "kv_dtype", "compute_dtype", "tp", "pp", "ep",
                   "gpus_per_replica", "replicas", "gpus", "batch", "batch_limit", "batch_limited_by", "binds", "ttft_s",
                   "tpot_s", "user_tokens_per_s", "output_tokens_per_s", "requests_per_s", "usd_per_hour",
                   "usd_per_million_output_tokens", "usd_per_million_tokens_blended", "utilization",
                   "price_usd_per_gpu_hour", "price_verified", *LOAD_COLUMNS)
DISAGGREGATED_COLUMNS = ("mode", "prefill_instances", "decode_instances", "prefill_layout", "decode_layout")
# The scenario flags a plan does not take: the search chooses the hardware, layout, batch and precision.
SEARCHED = ("gpu", "flops", "bandwidth", "memory", "link_bandwidth", "gpus", "tp", "pp", "dp", "ep", "batch",
            "precision", "weights", "kv", "compute", "disaggregate", "prefill_gpus", "decode_gpus")
# issue 12: the plan sizes replicas with the closed-form queueing model; simulating every layout would be slow
NOT_IN_PLAN = ("simulate", "seed")


@dataclass(frozen=True)
class PlanReport:
    rows: list[dict[str, Any]]  # MACHINE_COLUMNS, plus "layout" and "price" (with its star) for the table
    title: str
    notes: list[str]  # the lines the command writes to stderr, in order (the last: what was searched, how long)
    summary: str  # the planner's sentence; when no configuration meets the objectives, why
    result: Any = field(repr=False)  # core.planner.PlanResult, for the chart
    pareto: bool = False
    disaggregate: bool = False
    queueing: bool = False  # sized with the queueing model under a request rate (issue 12)
    slo: Any = None  # core.planner.Objectives

    @property
    def columns(self) -> tuple[str, ...]:
        """The machine columns of the rows: with --disaggregate, also each row's mode and pools."""
        return MACHINE_COLUMNS + (DISAGGREGATED_COLUMNS if self.disaggregate else ())


def plan_report(flags: dict[str, Any], catalog: Any, output_tokens_per_s: Any = None, requests_per_s: Any = None,
                users: Any = None, max_ttft: Any = None, max_tpot: Any = None, max_gpus: Any = None,
                gpus_from: Any = None, precision: Any = None, top: Any = 5, pareto: bool = False,
                disaggregate: bool = False, max_e2e: Any = None) -> PlanReport:
    """Search GPU type x count x tp/pp/ep x precision x batch for the cheapest configurations meeting the SLOs."""
    import time

    from inferwall.core.dtypes import BYTES_PER_ELEMENT, nbytes, normalize
    from inferwall.core.planner import Candidate, Demand, Objectives, SearchOptions
    from inferwall.core.planner import plan as run_plan
    from inferwall.core.types import CoreError
    from inferwall.errors import InputError
    from inferwall.inputs import build
    from inferwall.cli.commands._flags import options_from, positive, split_list, whole
    from inferwall.core import limits as L
    from inferwall.units import bare_duration_note
    from inferwall.prices import parse_price_spec
    from inferwall.render.economics import usd
    from inferwall.units import number, plural

    lines: list[str] = []
    note = lines.append

    started = time.perf_counter()
    flags = dict(flags)
    # issue 12: --request-rate (a scenario field) and --requests-per-s are one demand, sized with queueing
    if requests_per_s is not None and flags.get("request_rate") is not None:
        raise InputError("--requests-per-s is an alias of --request-rate; give one")
    rate_text = flags.get("request_rate") if flags.get("request_rate") is not None else requests_per_s
    rate_flag = "--request-rate" if flags.get("request_rate") is not None else "--requests-per-s"
    flags["request_rate"] = None
    given = [f for f, v in (("--output-tokens-per-s", output_tokens_per_s), (rate_flag, rate_text),
                            ("--users", users)) if v is not None]
    if len(given) != 1:
        raise InputError("give exactly one demand: --output-tokens-per-s, --request-rate (or --requests-per-s) "
                         "or --users" + (f" (got {', '.join(given)})" if given else ""))
    from inferwall.arrivals import parse_request_rate

    demand_rate = parse_request_rate(rate_text, rate_flag) if rate_text is not None else None
    demand = Demand(output_tokens_per_s=positive(output_tokens_per_s, "--output-tokens-per-s", limit=L.TOKENS_PER_S),
                    requests_per_s=demand_rate,
                    concurrent_users=None if users is None else _whole(positive(users, "--users", limit=L.USERS),
                                                                       "--users"))
    max_gpus = whole(None if max_gpus is None else str(max_gpus), "--max-gpus", limit=L.GPUS)
    top = whole(str(top), "--top")
    if disaggregate and pareto:
        raise InputError("--disaggregate ranks configurations by cost; it does not combine with --pareto")
    ttft_mean, ttft_pct = _objective(max_ttft, "--max-ttft", "ttft")
    tpot_mean, tpot_pct = _objective(max_tpot, "--max-tpot", "tpot")
    e2e_mean, e2e_pct = _objective(max_e2e, "--max-e2e", "e2e")
    percentiles = ttft_pct + tpot_pct + e2e_pct + ((("e2e_mean_s", e2e_mean),) if e2e_mean is not None else ())
    slo = Objectives(max_ttft_s=ttft_mean, max_tpot_s=tpot_mean, max_gpus=max_gpus, percentiles=percentiles)
    for line in (bare_duration_note(max_tpot, tpot_mean, "--max-tpot", 10.0) if tpot_mean is not None else None,
                 bare_duration_note(max_ttft, ttft_mean, "--max-ttft", 600.0) if ttft_mean is not None else None):
        if line:
            note(f"note: {line}")
    if percentiles and disaggregate:
        raise InputError("--disaggregate sizes its pools by mean throughput (there is no queueing model of two pools "
                         "yet): give mean objectives (--max-ttft 2s, not p99=2s) with it")
    # a request rate is sized with queueing, except for disaggregated pools, sized by mean throughput (noted)
    queueing = (demand_rate is not None and not disaggregate) or bool(percentiles)
    if queueing and users is not None:
        raise InputError("percentile and end-to-end objectives hold under a request rate; give --request-rate "
                         "(or --output-tokens-per-s) instead of --users")
    if disaggregate and demand_rate is not None:
        note("note: --disaggregate: both modes are sized by mean throughput at the request rate, without the queueing "
             "model (it describes one pool); latency objectives are on the steady-state means")
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

    cat = catalog
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
    result = run_plan(candidates, demand, slo, SearchOptions(top=top, pareto=pareto, disaggregate=disaggregate))
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
        "layout": (f"tp={c.tp} pp={c.pp}" + (f" ep={c.ep}" if c.ep > 1 else "")) if c.mode == "aggregated" else
                  f"{c.prefill_instances}P({c.prefill_layout.replace('--', '').replace(' ', '')})+"
                  f"{c.decode_instances}D({c.decode_layout.replace('--', '').replace(' ', '')})",
        "mode": c.mode, "prefill_instances": c.prefill_instances or None, "decode_instances": c.decode_instances or None,
        "prefill_layout": c.prefill_layout or None, "decode_layout": c.decode_layout or None,
        "price": usd(c.estimate.scenario.accelerator.price_usd_per_hour) + ("*" if c.gpu in unverified else ""),
        **_load_columns(c),
    } for i, c in enumerate(result.configs)]
    model = candidates[0].scenario.model.id
    kind = "Pareto frontier" if pareto else f"Cheapest {top}"
    shown = demand.describe() + (f" ({number(positive(output_tokens_per_s, '--output-tokens-per-s'))} output tokens/s)"
                                 if queueing and output_tokens_per_s is not None else "")
    title = f"{kind}: {model} for {shown}" + _slo_text(slo)
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
    return PlanReport(rows=rows, title=title, notes=lines, summary=result.summary, result=result, pareto=pareto,
                      disaggregate=disaggregate, queueing=queueing, slo=slo)


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


def _objective(text: Any, flag: str, name: str) -> tuple[float | None, tuple[tuple[str, float], ...]]:
    """``2s`` (the mean), ``p99=2s`` or ``p50=500ms,p99=2s`` -> (the mean's limit, ((key, seconds), ...))."""
    from inferwall.cli.commands._flags import duration
    from inferwall.errors import InputError

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
