"""``estimate()``: Scenario -> Estimate. The roofline time model, memory fit, throughput and cost.

Conventions (see docs/model.md for the derivation):

* Work is computed per GPU of a replica (t tensor ranks x p pipeline stages), never as a total
  divided by a GPU count, so replicated KV heads and per-rank shares come out right.
* With p pipeline stages the batch is split into micro-batches of ceil(B/p). One decode *round*
  (every sequence gains a token) takes p stage-times: pipelining adds capacity and throughput,
  never lower per-token latency.
* A decode step's cost is evaluated at the mean context of the generation, S + T/2, with
  windowed layers clipped exactly; the final-length cache is never charged on every step.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace

from . import architecture as arch
from .dtypes import nbytes, peak_flops, resolve_precision
from .types import (
    Bounds,
    CoreError,
    Cost,
    Estimate,
    Latency,
    MemoryReport,
    ModelArch,
    Parallelism,
    PhaseCost,
    Scenario,
    Throughput,
)

MIN_GPUS_SEARCH_LIMIT = 4096
MAX_BATCH = 1 << 24  # batches are searched up to 16.8 M sequences per replica
LOGIT_BYTES = 4  # logits are kept in fp32


# ----------------------------------------------------------------- layout

# Pure functions of a (frozen, hashable) model, remembered so grids of thousands of scenarios stay fast.
_total_params = functools.lru_cache(maxsize=512)(arch.total_params)
_active_params = functools.lru_cache(maxsize=512)(arch.active_params)
_matmul_params_per_token = functools.lru_cache(maxsize=512)(arch.matmul_params_per_token)
_validate_model = functools.lru_cache(maxsize=512)(arch.validate)  # only successful validations are kept


def validate_layout(m: ModelArch, par: Parallelism) -> None:
    """Raise CoreError if ``par`` cannot run ``m``. Valid pairs are remembered (the check is pure)."""
    _validate_layout_cached(m, par)


@functools.lru_cache(maxsize=4096)
def _validate_layout_cached(m: ModelArch, par: Parallelism) -> None:
    for name in ("tp", "pp", "dp", "ep"):
        if getattr(par, name) < 1:
            raise CoreError(f"{name} must be >= 1, got {getattr(par, name)}")
    if not m.has_attention:
        return
    t = par.tp
    if m.num_heads % t:
        valid = [d for d in range(1, m.num_heads + 1) if m.num_heads % d == 0]
        raise CoreError(f"tp={t} does not divide the {m.num_heads} attention heads of {m.id}; valid tp: "
                        + ", ".join(map(str, valid[:12])))
    if not m.mla and m.num_kv_heads % t and t % m.num_kv_heads:
        raise CoreError(f"tp={t} must divide or be a multiple of the {m.num_kv_heads} KV heads of {m.id}")
    if m.num_layers and par.pp > m.num_layers:
        raise CoreError(f"pp={par.pp} exceeds the {m.num_layers} layers of {m.id}")
    if par.ep > 1:
        if m.moe is None:
            raise CoreError(f"ep={par.ep} needs a mixture-of-experts model; {m.id} is dense")
        if m.moe.num_experts % par.ep:
            raise CoreError(f"ep={par.ep} does not divide the {m.moe.num_experts} experts of {m.id}")
        if t % par.ep:
            raise CoreError(f"ep={par.ep} must divide tp={t} (experts are spread over the tensor-parallel group)")


def _link_bandwidth(s: Scenario, group: int) -> float:
    """Per-device unidirectional bandwidth for a group of ``group`` devices (scale-up inside a domain)."""
    acc = s.accelerator
    if group <= max(acc.scale_up_domain, 1) and acc.scale_up_bytes_per_s > 0:
        return acc.scale_up_bytes_per_s
    return acc.scale_out_bytes_per_s


def _all_reduce_s(s: Scenario, message_bytes: float, group: int) -> float:
    """Ring all-reduce: 2(n-1)/n of the message crosses each link, plus one collective latency."""
    if group <= 1 or message_bytes <= 0:
        return 0.0
    bw = _link_bandwidth(s, group) * s.efficiency.link_efficiency
    return s.efficiency.collective_latency_s + 2 * (group - 1) / group * message_bytes / bw


def _all_to_all_s(s: Scenario, message_bytes: float, group: int) -> float:
    """All-to-all: (n-1)/n of each rank's message leaves it, plus one collective latency."""
    if group <= 1 or message_bytes <= 0:
        return 0.0
    bw = _link_bandwidth(s, group) * s.efficiency.link_efficiency
    return s.efficiency.collective_latency_s + (group - 1) / group * message_bytes / bw


# ----------------------------------------------------------------- per-rank shares


@dataclass(frozen=True)
class _Shape:
    """Per tensor-parallel rank, summed over all layers of the model (one pipeline pass)."""

    layer_weight_params: float  # attention + dense FFN + always-on MoE weights
    expert_params_each: float  # one routed expert's share on this rank
    moe_layers: int
    head_params: float  # embedding + LM head share (memory)
    lm_head_matmul: float  # LM head params per rank (FLOPs)
    matmul_params: float  # per-token matmul params on this rank, excluding the LM head
    kv_elems_per_token: float  # summed over layers
    act_elems_per_token: float  # activation reads+writes per token, summed over layers


@functools.lru_cache(maxsize=512)
def _shape(m: ModelArch, tp: int) -> _Shape:
    if m.bare:
        total = m.params
        active = m.active_params or m.params
        kv = m.num_layers * arch.kv_elements_per_token_per_layer(m, tp)
        return _Shape(layer_weight_params=total / tp, expert_params_each=0.0, moe_layers=0, head_params=0.0,
                      lm_head_matmul=0.0, matmul_params=active / tp, kv_elems_per_token=kv,
                      act_elems_per_token=0.0)
    dense_layers, moe_layers = arch.layer_counts(m)
    attn = arch.attention_params_per_layer(m, tp)
    layer_w = m.num_layers * attn + dense_layers * arch.dense_ffn_params(m) / tp
    matmul = m.num_layers * attn + dense_layers * arch.dense_ffn_params(m) / tp
    expert_each = 0.0
    if m.moe:
        always = arch.always_on_moe_params(m) / tp
        layer_w += moe_layers * always
        expert_each = arch.expert_params(m) / tp
        matmul += moe_layers * (always + m.moe.experts_per_token * expert_each)
    head = arch.embedding_params(m) / tp + (0.0 if m.tie_embeddings else arch.lm_head_params(m) / tp)
    kv = m.num_layers * arch.kv_elements_per_token_per_layer(m, tp)
    d = m.hidden_size
    # Reads and writes of activations per token per layer with fused kernels and flash attention:
    # residual stream and norms (~8d), QKV/attention/output (~3 widths), FFN gate/up/down (~3 widths).
    per_layer_act = 8 * d + (2 * arch.q_width(m) + arch.attention_out_width(m)) / tp + 3 * arch.ffn_active_width(m) / tp
    return _Shape(layer_weight_params=layer_w, expert_params_each=expert_each, moe_layers=moe_layers,
                  head_params=head, lm_head_matmul=arch.lm_head_params(m) / tp, matmul_params=matmul,
                  kv_elems_per_token=kv, act_elems_per_token=m.num_layers * per_layer_act)


def _kv_elems_per_token_clipped(m: ModelArch, tp: int, context: float) -> float:
    """KV elements per rank that one sequence of ``context`` tokens holds, windowed layers clipped."""
    if not m.has_attention:
        return 0.0
    per_layer = arch.kv_elements_per_token_per_layer(m, tp)
    full_layers = m.num_layers - m.window_layers
    clipped = min(context, m.window) if m.window else context
    return per_layer * (full_layers * context + m.window_layers * clipped)


def _weight_bytes_read(m: ModelArch, shp: _Shape, tokens: float, wb: float) -> float:
    """Weight bytes one rank streams for one pass over ``tokens`` tokens (MoE: only touched experts)."""
    read = shp.layer_weight_params + shp.lm_head_matmul
    if m.moe and shp.moe_layers:
        read += shp.moe_layers * arch.expected_experts_touched(m, tokens) * shp.expert_params_each
    return read * wb


# ----------------------------------------------------------------- phases


def _combine(s: Scenario, name: str, tokens: int, flops_rank: float, bytes_rank: float,
             comm: tuple[float, int], passes: float, replica_flops: float, replica_bytes: float, weight_b: float, kv_b: float,
             act_b: float, context: float = 0.0) -> PhaseCost:
    """Turn per-rank work for one pass through all stages into times and utilizations.

    ``passes`` scales a single pass to the phase's wall time (pipeline fill for prefill).
    """
    acc, eff = s.accelerator, s.efficiency
    peak = peak_flops(acc, s.precision.compute) or 0.0
    compute_s = passes * flops_rank / (peak * eff.mfu)
    memory_s = passes * bytes_rank / (acc.bandwidth_bytes_per_s * eff.mbu)
    comm_s, collectives = comm
    comm_s *= passes
    # Fixed costs per pass: one per step (scheduling, sampling) and one per layer (launches, synchronisation);
    # a pass is all layers once, so a pipeline round of p stages still pays every layer once.
    overhead_s = passes * (eff.step_overhead_s + eff.layer_overhead_s * s.model.num_layers)
    time_s = max(compute_s, memory_s) + comm_s + overhead_s
    terms = {"compute": compute_s, "memory": memory_s, "communication": comm_s, "overhead": overhead_s}
    bound = max(terms, key=terms.get)
    gpus = s.parallelism.gpus_per_replica
    util = replica_flops / (time_s * gpus * peak) if time_s > 0 else 0.0
    bw_util = replica_bytes / (time_s * gpus * acc.bandwidth_bytes_per_s) if time_s > 0 else 0.0
    return PhaseCost(name=name, tokens=tokens, flops=replica_flops, bytes=replica_bytes, weight_bytes=weight_b,
                     kv_bytes=kv_b, activation_bytes=act_b, compute_time_s=compute_s, memory_time_s=memory_s,
                     comm_time_s=comm_s, overhead_time_s=overhead_s, time_s=time_s, bound=bound,
                     utilization=min(util, 1.0), bandwidth_utilization=min(bw_util, 1.0), context_tokens=context,
                     flops_per_gpu=flops_rank, bytes_per_gpu=bytes_rank, passes=passes,
                     collectives_per_pass=collectives)


def _comm_per_pass(s: Scenario, tokens: float) -> tuple[float, int]:
    """Exposed communication for one pass of ``tokens`` tokens through all layers of a replica:
    (seconds, collectives on the critical path)."""
    m, par = s.model, s.parallelism
    if not (m.num_layers and m.hidden_size):
        return 0.0, 0
    ab = nbytes(s.precision.activations)
    message = tokens * m.hidden_size * ab
    dense_layers, moe_layers = arch.layer_counts(m)
    t, p = par.tp, par.pp
    comm, collectives = 0.0, 0
    if t > 1:
        if par.ep > 1 and moe_layers:
            # MoE layers: attention all-reduce, then dispatch and combine as all-to-alls over the EP group.
            k = m.moe.experts_per_token
            a2a = _all_to_all_s(s, message / t * k, par.ep)
            comm += dense_layers * 2 * _all_reduce_s(s, message, t)
            comm += moe_layers * (_all_reduce_s(s, message, t) + 2 * a2a)
            collectives += 2 * dense_layers + 3 * moe_layers
        else:
            comm += m.num_layers * 2 * _all_reduce_s(s, message, t)
            collectives += 2 * m.num_layers
    if p > 1:
        bw = _link_bandwidth(s, t * p) * s.efficiency.link_efficiency
        comm += (p - 1) * (s.efficiency.collective_latency_s + message / bw)
        collectives += p - 1
    return comm, collectives


def _prefill(s: Scenario, shp: _Shape) -> PhaseCost:
    m, w, par = s.model, s.workload, s.parallelism
    t, p = par.tp, par.pp
    S = w.input_tokens
    micro = math.ceil(w.batch / p)
    wb, kb, ab = nbytes(s.precision.weights), nbytes(s.precision.kv), nbytes(s.precision.activations)
    causal = not m.encoder
    pairs = 0.0
    if m.has_attention:
        full = m.num_layers - m.window_layers
        pairs = full * arch.causal_pairs(S, 0, causal) + m.window_layers * arch.causal_pairs(S, m.window, causal)
    attn_pair_flops = arch.attention_flops_per_pair(m, decode=False) / t
    heads_out = 0.0 if m.encoder else 1.0  # only the last position needs logits

    def rank_work(seqs: float) -> tuple[float, float, float, float, float]:
        tokens = seqs * S
        flops = 2 * tokens * shp.matmul_params + seqs * pairs * attn_pair_flops + 2 * seqs * heads_out * shp.lm_head_matmul
        weight_b = _weight_bytes_read(m, shp, tokens, wb)
        kv_b = 0.0 if m.encoder else tokens * shp.kv_elems_per_token * kb
        act_b = tokens * shp.act_elems_per_token * ab
        return flops, weight_b + kv_b + act_b, weight_b, kv_b, act_b

    flops_rank, bytes_rank, *_ = rank_work(micro)
    n_micro = math.ceil(w.batch / micro)
    rf, _, _, rk, ra = rank_work(w.batch)
    replica_weight = _weight_bytes_read(m, shp, micro * S, wb) * n_micro
    comm = _comm_per_pass(s, micro * S)
    # The last of n micro-batches leaves the last of p stages after n + p - 1 stage-times.
    fill = (n_micro + p - 1) / p
    return _combine(s, "prefill", w.batch * S, flops_rank, bytes_rank, comm, fill, rf * t,
                    (replica_weight + rk + ra) * t, replica_weight * t, rk * t, ra * t)


def _decode(s: Scenario, shp: _Shape) -> PhaseCost | None:
    m, w, par = s.model, s.workload, s.parallelism
    if m.encoder or w.output_tokens <= 1:
        return None
    t, p = par.tp, par.pp
    S, T = w.input_tokens, w.output_tokens
    micro = math.ceil(w.batch / p)
    wb, kb, ab = nbytes(s.precision.weights), nbytes(s.precision.kv), nbytes(s.precision.activations)
    # Decode steps produce tokens 2..T and attend over S+1 .. S+T-1 positions: mean S + T/2.
    first, last = S + 1, S + T - 1
    mean_ctx = (first + last) / 2
    kv_read_elems = 0.0
    pair_count = 0.0
    if m.has_attention:
        full = m.num_layers - m.window_layers
        clipped = arch.mean_clipped(first, last, m.window) if m.window else mean_ctx
        pair_count = full * mean_ctx + m.window_layers * clipped
        kv_read_elems = arch.kv_elements_per_token_per_layer(m, t) * pair_count
    attn_pair_flops = arch.attention_flops_per_pair(m, decode=True) / t

    def rank_work(seqs: float) -> tuple[float, float, float, float, float]:
        flops = 2 * seqs * (shp.matmul_params + shp.lm_head_matmul) + seqs * pair_count * attn_pair_flops
        weight_b = _weight_bytes_read(m, shp, seqs, wb)
        kv_b = seqs * (kv_read_elems + shp.kv_elems_per_token) * kb  # read the cache, write the new entry
        act_b = seqs * shp.act_elems_per_token * ab
        return flops, weight_b + kv_b + act_b, weight_b, kv_b, act_b

    flops_rank, bytes_rank, *_ = rank_work(micro)
    n_micro = math.ceil(w.batch / micro)
    rf, _, _, rk, ra = rank_work(w.batch)
    replica_weight = _weight_bytes_read(m, shp, micro, wb) * n_micro
    comm = _comm_per_pass(s, micro)
    return _combine(s, "decode", w.batch, flops_rank, bytes_rank, comm, 1, rf * t,
                    (replica_weight + rk + ra) * t, replica_weight * t, rk * t, ra * t, context=mean_ctx)


# ----------------------------------------------------------------- memory


@dataclass(frozen=True)
class _Footprint:
    """Per-GPU memory of one layout as a function of the batch (the most loaded GPU)."""

    weights: float
    kv_per_seq: float
    live_bytes_per_token: float  # activation workspace per prefill token in flight
    logit_bytes_per_seq: float
    input_tokens: int
    chunk_tokens: int
    pp: int
    encoder: bool
    fixed: float  # reserve
    usable: float

    def workspace(self, batch: int) -> float:
        micro = math.ceil(batch / self.pp)
        if self.encoder:  # encoders keep no cache; attention scores are tiled (flash attention)
            return micro * self.input_tokens * self.live_bytes_per_token
        tokens = min(micro * self.input_tokens, self.chunk_tokens)
        return tokens * self.live_bytes_per_token + micro * self.logit_bytes_per_seq

    def total(self, batch: int) -> float:
        return self.weights + self.kv_per_seq * batch + self.workspace(batch) + self.fixed

    def fits(self, batch: int) -> bool:
        return self.total(batch) <= self.usable


def _build_footprint(s: Scenario, tp: int, pp: int) -> _Footprint:
    m, w = s.model, s.workload
    shp = _shape(m, tp)
    wb, kb, ab = nbytes(s.precision.weights), nbytes(s.precision.kv), nbytes(s.precision.activations)
    expert_total = shp.moe_layers * (m.moe.num_experts if m.moe else 0) * shp.expert_params_each
    weights = (shp.layer_weight_params + expert_total + shp.head_params + (0 if m.bare else arch.norm_params(m))) * wb / pp
    layers_share = math.ceil(m.num_layers / pp) / m.num_layers if m.num_layers else 1.0 / pp
    context = w.input_tokens + (0 if m.encoder else w.output_tokens)
    kv_per_seq = 0.0 if m.encoder else _kv_elems_per_token_clipped(m, tp, context) * kb * layers_share
    live = logits = 0.0
    if not m.bare and m.num_layers:
        # Live per token at the peak: residual stream and norms (~4d), Q and the attention output, and the FFN.
        # In the FFN the gate/up outputs and their activation product are live together (f widths: 3 gated,
        # 2 plain) and the down projection's input is that product, so f x FFN width, not 2f.
        live = (4 * m.hidden_size + (2 * arch.q_width(m) + m.ffn_matrices * arch.ffn_active_width(m)) / tp) * ab
        logits = m.vocab_size / tp * LOGIT_BYTES
    return _Footprint(weights=weights, kv_per_seq=kv_per_seq, live_bytes_per_token=live, logit_bytes_per_seq=logits,
                      input_tokens=w.input_tokens, chunk_tokens=max(s.memory.prefill_chunk_tokens, 1), pp=pp,
                      encoder=m.encoder, fixed=s.memory.reserve_bytes,
                      usable=s.accelerator.memory_bytes * s.memory.memory_fraction)


# Footprints, largest batches and min-GPU ladders depend only on these parts of a scenario, so a grid of
# thousands of configurations (``inferwall sweep``) computes each of them once. Results are identical.
_CACHE_LIMIT = 20000
_FOOTPRINTS: dict[tuple, _Footprint] = {}
_LARGEST: dict[tuple, int] = {}
_LADDERS: dict[tuple, list[int]] = {}


def _memory_key(s: Scenario) -> tuple:
    p, w = s.precision, s.workload
    return (s.model, p.weights, p.kv, p.activations, w.input_tokens, w.output_tokens, s.memory,
            s.accelerator.memory_bytes)


def _remember(cache: dict, key: tuple, value):
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value
    return value


def _footprint(s: Scenario, tp: int, pp: int, key: tuple | None = None) -> _Footprint:
    full = (key or _memory_key(s), tp, pp)
    fp = _FOOTPRINTS.get(full)
    return fp if fp is not None else _remember(_FOOTPRINTS, full, _build_footprint(s, tp, pp))


def _largest_for(s: Scenario, tp: int, pp: int, key: tuple | None = None) -> int:
    full = (key or _memory_key(s), tp, pp)
    best = _LARGEST.get(full)
    return best if best is not None else _remember(_LARGEST, full, _largest_batch(_footprint(s, tp, pp, full[0])))


def _largest_batch(fp: _Footprint) -> int:
    if not fp.fits(1):
        return 0
    hi = MAX_BATCH if fp.kv_per_seq <= 0 else min(MAX_BATCH, int((fp.usable - fp.fixed - fp.weights) / fp.kv_per_seq) + 1)
    lo = 1
    while lo < hi:  # the workspace grows with the batch, so search rather than divide
        mid = (lo + hi + 1) // 2
        if fp.fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def max_batch_for(s: Scenario, tp: int | None = None, pp: int | None = None) -> int:
    """Largest batch whose weights, KV cache, workspace and reserve fit (0 if even batch 1 does not)."""
    return _largest_for(s, tp or s.parallelism.tp, pp or s.parallelism.pp)


@functools.lru_cache(maxsize=4096)
def _layouts(m: ModelArch, gpus: int, domain: int) -> tuple[tuple[int, int], ...]:
    """Valid (tp, pp) with tp*pp == gpus, widest tensor group inside the scale-up domain first."""
    out = []
    for tp in range(gpus, 0, -1):
        if gpus % tp:
            continue
        pp = gpus // tp
        try:
            validate_layout(m, Parallelism(tp=tp, pp=pp))
        except CoreError:
            continue
        out.append((tp, pp))
    out.sort(key=lambda tp_pp: (tp_pp[0] > max(domain, 1), -tp_pp[0]))
    return tuple(out)


MIN_GPUS_CANDIDATES = tuple(range(1, 9)) + tuple(range(16, MIN_GPUS_SEARCH_LIMIT + 1, 8))


def min_gpus_for(s: Scenario, key: tuple | None = None) -> int | None:
    """Smallest replica size whose most loaded GPU fits the requested batch.

    A replica of n GPUs fits batch B if any of its valid layouts does. Whether a layout fits is monotone in
    the batch, so "fits B" is "largest batch that fits >= B": the ladder of each candidate size's largest
    batch is computed once per memory key and answers every batch.
    """
    key = key or _memory_key(s)
    domain = s.accelerator.scale_up_domain
    ladder = _LADDERS.get((key, domain))
    if ladder is None:
        ladder = _remember(_LADDERS, (key, domain), [])
    batch = s.workload.batch
    for i, n in enumerate(MIN_GPUS_CANDIDATES):
        if i == len(ladder):
            ladder.append(max((_largest_for(s, tp, pp, key) for tp, pp in _layouts(s.model, n, domain)), default=0))
        if ladder[i] >= batch:
            return n
    return None


def memory_report(s: Scenario) -> MemoryReport:
    key = _memory_key(s)
    fp = _footprint(s, s.parallelism.tp, s.parallelism.pp, key)
    b = s.workload.batch
    total = fp.total(b)
    mb = _largest_for(s, s.parallelism.tp, s.parallelism.pp, key)
    per_seq = fp.kv_per_seq
    fits = total <= fp.usable
    smallest = min_gpus_for(s, key)
    here = s.parallelism.gpus_per_replica
    if fits and (smallest is None or smallest > here):
        smallest = here  # the search tries 1-8 and multiples of 8; this layout may sit between them
    if mb == 0:
        limited_by = "weights"
    elif mb >= MAX_BATCH:
        limited_by = "search limit (no KV cache to fill memory)"
    else:
        limited_by = "kv-cache" if per_seq > 0 else "workspace"
    return MemoryReport(
        weights_bytes_per_gpu=fp.weights, kv_cache_bytes_per_gpu=per_seq * b, activation_bytes_per_gpu=fp.workspace(b),
        reserve_bytes_per_gpu=fp.fixed, total_bytes_per_gpu=total,
        capacity_bytes_per_gpu=s.accelerator.memory_bytes, usable_bytes_per_gpu=fp.usable, fits=fits,
        max_batch=mb, min_gpus=smallest, kv_bytes_per_sequence=per_seq,
        batch_limited_by=limited_by,
    )


# ----------------------------------------------------------------- the estimate


def prepare(s: Scenario, compute_explicit: bool = False) -> tuple[Scenario, tuple[str, ...]]:
    """Validate a scenario and resolve its compute dtype against the hardware."""
    _validate_model(s.model)
    validate_layout(s.model, s.parallelism)
    w = s.workload
    if w.batch < 1 or w.input_tokens < 1 or w.output_tokens < 0:
        raise CoreError("batch and input tokens must be >= 1 and output tokens >= 0")
    acc = s.accelerator
    if not (acc.memory_bytes > 0 and acc.bandwidth_bytes_per_s > 0):
        raise CoreError(f"accelerator {acc.id}: memory and bandwidth must be > 0")
    precision, notes = resolve_precision(acc, s.precision, compute_explicit)
    return (s if precision == s.precision else replace(s, precision=precision)), notes


def estimate(s: Scenario, compute_explicit: bool = False) -> Estimate:
    s, notes_t = prepare(s, compute_explicit)
    notes = list(notes_t)
    m, w, par, acc = s.model, s.workload, s.parallelism, s.accelerator
    shp = _shape(m, par.tp)
    prefill = _prefill(s, shp)
    decode = _decode(s, shp)
    if m.encoder and w.output_tokens:
        notes.append(f"{m.id} is an encoder: it has no decode phase, output tokens are ignored")

    steps = max(w.output_tokens - 1, 0) if decode else 0
    tpot = decode.time_s if decode else 0.0
    ttft = prefill.time_s
    e2e = ttft + steps * tpot
    out_tokens = 0 if m.encoder else w.output_tokens
    r = par.dp
    thr = Throughput(
        output_tokens_per_s=w.batch * out_tokens / e2e * r,
        input_tokens_per_s=w.batch * w.input_tokens / e2e * r,
        requests_per_s=w.batch / e2e * r,
    )

    price = acc.price_usd_per_hour
    if price is None:
        cost = Cost(None, None, None, None)
        notes.append(f"no price for {acc.id}: give --price to get costs")
    else:
        usd_per_s_replica = par.gpus_per_replica * price / 3600
        decode_usd = steps * tpot * usd_per_s_replica
        prefill_usd = ttft * usd_per_s_replica
        cost = Cost(
            usd_per_hour=par.gpus * price,
            usd_per_million_output_tokens=(decode_usd / (w.batch * out_tokens) * 1e6) if out_tokens else None,
            usd_per_million_input_tokens=prefill_usd / (w.batch * w.input_tokens) * 1e6,
            usd_per_million_tokens_blended=(prefill_usd + decode_usd) / (w.batch * (w.input_tokens + out_tokens)) * 1e6,
        )

    peak = peak_flops(acc, s.precision.compute) or 0.0
    gpus = par.gpus_per_replica
    total_w = _total_params(m) * nbytes(s.precision.weights)
    bounds = Bounds(
        compute_forward_passes_per_s=gpus * peak / (2 * _matmul_params_per_token(m)),
        memory_forward_passes_per_s=gpus * acc.bandwidth_bytes_per_s / total_w,
    )
    mem = memory_report(s)
    if not mem.fits:
        notes.append("does not fit: " + (f"the smallest replica that fits is {mem.min_gpus} GPUs" if mem.min_gpus
                                        else "no replica up to the search limit fits"))
    return Estimate(
        scenario=s, params=_total_params(m), active_params=_active_params(m), weight_bytes=total_w,
        prefill=prefill, decode=decode, memory=mem, latency=Latency(ttft, tpot, e2e), throughput=thr, cost=cost,
        bounds=bounds, notes=tuple(notes),
    )
