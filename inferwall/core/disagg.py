"""Disaggregated prefill and decode: separate engine pools joined by a KV-cache transfer (Dynamo, SGLang, llm-d).

``x`` prefill instances (layout P) run prompts only: their iterations carry prompt chunks and no decode tokens, so
a prompt's time to first token never waits behind other requests' decodes. ``y`` decode instances (layout D, the
scenario's parallelism) receive each prompt's KV cache and run decode-only iterations of the batch.

* Decode: an instance runs N requests (the batch, capped by the KV fit and the engine's limits); an iteration is
  one decode pass of N sequences (with speculation, verification plus draft), and it completes
  N / ((T - 1) / tokens_per_step x iteration) requests per second.
* Prefill: an instance with n prompts in flight runs the engine's prefill-only steady state (``estimate`` with one
  output token); its capacity is its largest rate, reached at the fewest prompts in flight within 1 % of it (more
  prompts only queue inside the engine).
* The pools are matched by rate: the system serves R = min(y x decode rate, x x prefill capacity) requests/s.
  When decode binds, each prefill instance runs the fewest prompts in flight that keep up with R / x (Little's law
  on the steady state; queueing variability is the load model's); when prefill binds, each decode instance runs
  the fewest requests that keep up, which shortens its iterations.
* The KV transfer moves a prompt's KV cache (every layer's, all heads, once) from the prefill to the decode
  instance over the links of the GPUs that hold it, in parallel: bytes / (lanes x link bandwidth x efficiency) +
  latency, on the scale-up fabric when both instances fit in one scale-up domain and on the scale-out network
  otherwise. Time to first token = prefill + transfer (not overlapped with the prefill).
* Balanced ratio: prefill instances per decode instance at which both pools run at capacity.
* Cost: each pool's GPUs over the requests served; the prefill pool's to input tokens, the decode pool's to
  output tokens, idle capacity included.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from . import architecture as arch
from .dtypes import nbytes
from .layout import describe
from .passes import PassWork, _link
from .types import (CoreError, Cost, DisaggReport, Estimate, Latency, Parallelism, PhaseCost, Scenario, Serving,
                    Throughput)


SATURATION = 0.99  # a prefill instance runs at capacity within 1 % of its largest throughput


def layout_text(par: Parallelism) -> str:
    return describe(par.tp, par.pp, par.dp, par.ep)


@dataclass(frozen=True)
class DecodeSide:
    running: int
    step: PhaseCost  # one decode-only iteration of the instance
    tpot_s: float
    iterations: float  # decode iterations per request
    requests_per_s: float  # per instance (all its data-parallel ranks)


def decode_side(sd: Scenario, running: int) -> DecodeSide:
    """A decode instance running ``running`` requests in decode-only iterations."""
    from . import serving

    w, p = sd.workload, sd.parallelism.pp
    mic = running / p
    attended = serving._decode_attended(sd)
    work = PassWork(tokens=mic, logit_rows=mic, decode_seqs=mic, decode_attended=mic * attended, requests=running)
    step = serving.phase(sd, "decode", running, serving._step_pass(sd, work), 1, p,
                         context=w.input_tokens + w.output_tokens / 2)
    iters = serving._decode_iterations(sd, max(w.output_tokens - 1, 0))
    rate = running / (iters * step.time_s) * sd.parallelism.dp if iters and step.time_s > 0 else 0.0
    return DecodeSide(running=running, step=step, tpot_s=serving._per_token(sd, step.time_s), iterations=iters,
                      requests_per_s=rate)


def kv_transfer_bytes(s: Scenario) -> float:
    """One prompt's KV cache: every layer (local layers their window), every KV head once."""
    m = s.model
    per_layer = arch.kv_elements_per_token_per_layer(m, 1) * nbytes(s.precision.kv)
    return arch.cached_tokens(m, s.workload.input_tokens) * per_layer


def kv_transfer(s: Scenario) -> tuple[float, float, float, str]:
    """(bytes, seconds, bytes/s, link) of one prompt's KV from a prefill to a decode instance."""
    d = s.disaggregation
    pg, dg = d.prefill.gpus_per_replica, d.decode.gpus_per_replica
    link, eff, latency, up = _link(s, pg + dg)
    lanes = min(pg, dg)  # each GPU sends (receives) its share of the cache over its own link
    rate = lanes * link * eff
    size = kv_transfer_bytes(s)
    return size, size / rate + latency if rate > 0 else float("inf"), rate, "scale-up" if up else "scale-out"


def _fits(s: Scenario, role: str, compute_explicit: bool) -> Scenario:
    from .estimate import prepare
    from .memory import max_batch_for, min_gpus_for

    prepared, _ = prepare(s, compute_explicit)
    if max_batch_for(prepared) < 1:
        par = s.parallelism
        smallest = min_gpus_for(prepared, batch=1)
        valid = (f"an instance of at least {smallest[0]} GPUs ({smallest[1]})" if smallest
                 else "no instance up to the search limit holds it")
        raise CoreError(f"the {role} instance ({layout_text(par)}, {par.gpus} GPUs) cannot hold {s.model.id} and one "
                        f"request's KV cache; valid: {valid}")
    return prepared


def _first(lo: int, hi: int, ok) -> int:
    """Smallest n in [lo, hi] with ok(n), for ok monotone and ok(hi) true."""
    from .economics import first_true

    return lo if ok(lo) else first_true(lo, hi, ok)


def estimate(s: Scenario, compute_explicit: bool = False) -> Estimate:
    from .economics import BatchProbe
    from .estimate import estimate as single
    from .estimate import running_requests

    d = s.disaggregation
    w, m = s.workload, s.model
    if d.prefill_instances < 1 or d.decode_instances < 1:
        raise CoreError(f"disaggregation needs at least one prefill and one decode instance, got "
                        f"{d.prefill_instances}P{d.decode_instances}D")
    if m.encoder or w.output_tokens < 2:
        raise CoreError("disaggregated serving needs a decode phase: output tokens >= 2 (and a decoder model)")
    if w.num_requests is not None:
        raise CoreError("a finite run (--num-requests) is not modelled with disaggregated pools")
    base = replace(s, disaggregation=None)
    sd = _fits(replace(base, parallelism=d.decode), "decode", compute_explicit)
    sp = _fits(replace(base, parallelism=d.prefill, speculative=None,
                       workload=replace(w, output_tokens=1, num_requests=None, batch_max=False, batch=1)),
               "prefill", compute_explicit)
    x, y = d.prefill_instances, d.decode_instances
    notes: list[str] = []

    # decode pool at its batch
    if sd.engine.batching == "continuous":
        running, _why = running_requests(sd)
    else:
        running = w.batch
    full = decode_side(sd, running)

    # prefill pool: capacity at the most prompts an instance holds in flight
    probe = BatchProbe(sp, compute_explicit)
    most = running_requests(replace(sp, workload=replace(sp.workload, batch=1 << 24)))[0] \
        if sp.engine.batching == "continuous" else max(probe.max_batch, 1)
    # More prompts in flight than fill the engine's iterations only queue inside it: the capacity is reached at the
    # fewest prompts in flight within SATURATION of the most the instance can hold.
    peak = probe.at(most).throughput.requests_per_s
    most = _first(1, most, lambda n: probe.at(n).throughput.requests_per_s >= SATURATION * peak)
    capacity = probe.at(most).throughput.requests_per_s

    decode_capacity = y * full.requests_per_s
    prefill_capacity = x * capacity
    if decode_capacity <= prefill_capacity:
        limited_by, rate = "decode", decode_capacity
        dec = full
        n_prefill = _first(1, most, lambda n: probe.at(n).throughput.requests_per_s * x >= rate * (1 - 1e-9))
    else:
        limited_by, rate = "prefill", prefill_capacity
        n_prefill = most
        n_decode = _first(1, running, lambda n: y * decode_side(sd, n).requests_per_s >= rate * (1 - 1e-9))
        dec = decode_side(sd, n_decode)
    pre = probe.at(n_prefill)
    size, transfer_s, transfer_rate, link = kv_transfer(s)

    ttft = pre.latency.ttft_s + transfer_s
    tpot = dec.tpot_s
    e2e = ttft + (w.output_tokens - 1) * tpot
    thr = Throughput(output_tokens_per_s=rate * w.output_tokens, input_tokens_per_s=rate * w.input_tokens,
                     requests_per_s=rate)
    price = s.accelerator.price_usd_per_hour
    gpus = d.gpus
    if price is None or rate <= 0:
        cost = Cost(None, None, None, None)
    else:
        prefill_usd = x * d.prefill.gpus * price / 3600  # per second
        decode_usd = y * d.decode.gpus * price / 3600
        cost = Cost(usd_per_hour=gpus * price,
                    usd_per_million_output_tokens=decode_usd / (rate * w.output_tokens) * 1e6,
                    usd_per_million_input_tokens=prefill_usd / (rate * w.input_tokens) * 1e6,
                    usd_per_million_tokens_blended=(prefill_usd + decode_usd) / (rate * (w.input_tokens
                                                                                         + w.output_tokens)) * 1e6)
        if w.prefix_hit:
            from . import prefix

            sv = pre.serving
            share = sv.cached_prefill_busy_s / sv.prefill_busy_s if sv and sv.prefill_busy_s else 0.0
            cost = prefix.price(cost, s, prefill_usd, 1.0, share, 1.0, rate)

    # the decode instance's own estimate gives its memory, bounds and error band (its batch, aggregated)
    agg = single(replace(sd, workload=replace(sd.workload, batch=dec.running)), compute_explicit)
    mem = agg.memory
    sv = Serving(batching=sd.engine.batching, engine=sd.engine.id, concurrency=w.batch, running=dec.running,
                 waiting=0, limited_by="prefill pool" if limited_by == "prefill" else agg.serving.limited_by,
                 token_budget=sd.engine.max_tokens_per_iteration, iterations_per_request=dec.iterations,
                 prefill_iterations=0.0, mixed_iteration_share=0.0, prefill_tokens_per_iteration=0.0,
                 decode_requests_per_iteration=float(dec.running), cycle_time_s=dec.iterations * dec.step.time_s,
                 requests_per_cycle=float(dec.running), prefill_busy_s=0.0,
                 decode_busy_s=dec.iterations * dec.step.time_s, queue_wait_s=0.0)
    balanced = full.requests_per_s / capacity if capacity > 0 else float("inf")
    report = DisaggReport(
        prefill_instances=x, decode_instances=y, prefill_gpus_per_instance=d.prefill.gpus,
        decode_gpus_per_instance=d.decode.gpus, prefill_layout=layout_text(d.prefill),
        decode_layout=layout_text(d.decode), gpus=gpus, prefill_requests_per_s=prefill_capacity,
        decode_requests_per_s=decode_capacity, limited_by=limited_by, prefill_running=float(n_prefill),
        decode_running=float(dec.running), prefill_ttft_s=pre.latency.ttft_s, decode_tpot_s=tpot,
        kv_transfer_bytes=size, kv_transfer_s=transfer_s, kv_transfer_link=link, kv_transfer_bytes_per_s=transfer_rate,
        balanced_prefill_per_decode=balanced)
    notes.append(f"disaggregated: {x} prefill instance{'s' if x > 1 else ''} ({layout_text(d.prefill)}) feed {y} "
                 f"decode instance{'s' if y > 1 else ''} ({layout_text(d.decode)}); the {limited_by} pool sets the "
                 f"rate; {balanced:.3g} prefill instances per decode instance would balance them")
    notes.append("disaggregated: TTFT = the prefill pool's first token + the KV transfer (not overlapped); decode "
                 "iterations carry no prompt chunks")
    notes.extend(n for n in agg.notes if not n.startswith(("requests run and", "speculative:"))
                 and "wait per replica" not in n)
    prefill_notes = [n for n in pre.notes if not n.startswith("one output token")]  # the prefill pool's own run
    changes: dict = {}
    if s.speculative is not None:
        from . import speculative

        changes["speculative"] = speculative.report(sd, dec.running)
        notes.extend(n for n in agg.notes if n.startswith("speculative:"))
    return Estimate(
        scenario=s, params=agg.params, active_params=agg.active_params, weight_bytes=agg.weight_bytes,
        prefill=pre.prefill, decode=dec.step, memory=mem, latency=Latency(ttft, tpot, e2e), throughput=thr, cost=cost,
        bounds=agg.bounds, notes=tuple(dict.fromkeys(notes + prefill_notes)), serving=sv, error_band=agg.error_band,
        prefix_cache=pre.prefix_cache, kv_offload=pre.kv_offload, disaggregation=report, **changes)
