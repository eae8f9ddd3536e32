"""One pass through the model: what one GPU does, kernel class by kernel class, and how long it takes.

A *pass* is one micro-batch through every layer on one tensor-parallel rank: in static batching the prefill of
the batch or one decode step, in continuous batching one engine iteration (decode tokens of the running requests
plus prefill chunks of new ones). ``PassWork`` says what the pass carries; ``pass_cost`` turns it into FLOPs,
bytes and time per kernel class with ``kernels.py``. Work is per GPU, never a total divided by a GPU count, so
replicated KV heads, per-rank expert shares and attention data parallelism come out right.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from . import architecture as arch
from . import kernels
from .dtypes import is_weight_only, module_compute, nbytes, peak_flops
from .memo import by_identity
from .types import Accelerator, Efficiency, FixedCosts, KernelTimes, ModelArch, Parallelism, Precision, Scenario


@dataclass(frozen=True)
class RankShape:
    """Per tensor-parallel rank, summed over all layers (one pass)."""

    attention_params: float  # attention projections
    ffn_params: float  # dense FFN layers, shared experts and routers (what a token multiplies)
    ffn_read_params: float  # what a pass streams for them (a bare MoE model streams all its weights)
    expert_params: float  # one routed expert's share on this rank
    local_experts: float  # routed experts per MoE layer held by this rank
    moe_layers: int
    head_params: float  # LM head (a matmul every token pays, tied or not)
    held_head_params: float  # embedding, and the LM head unless tied to it: what memory holds
    other_params: float  # norms and multi-token-prediction layers (memory only)
    kv_elems_per_token_layer: float
    act_attention: float  # activation elements per token through attention projections and norms, all layers
    act_ffn: float  # ... through dense FFN layers
    act_expert_pair: float  # ... per routed token-expert pair per MoE layer (grouped GEMMs, permute, unpermute)
    attn_flops_prefill: float  # per query-key pair on this rank
    attn_flops_decode: float


@functools.lru_cache(maxsize=512)
def rank_shape(m: ModelArch, par: Parallelism) -> RankShape:
    t = par.tp
    kv = arch.kv_elements_per_token_per_layer(m, t)
    if m.bare:
        total, active = m.params, m.active_params or m.params
        return RankShape(attention_params=0.0, ffn_params=active / t, ffn_read_params=total / t, expert_params=0.0,
                         local_experts=0.0, moe_layers=0, head_params=0.0, held_head_params=0.0, other_params=0.0,
                         kv_elems_per_token_layer=kv, act_attention=0.0, act_ffn=0.0, act_expert_pair=0.0,
                         attn_flops_prefill=arch.attention_flops_per_pair(m, False) / t,
                         attn_flops_decode=arch.attention_flops_per_pair(m, True) / t)
    dense_layers, moe_layers = arch.layer_counts(m)
    d = m.hidden_size
    attn = m.num_layers * arch.attention_params_per_layer(m, t)
    ffn = dense_layers * arch.dense_ffn_params(m) / t
    expert = local = 0.0
    act_pair = 0.0
    if m.moe:
        ffn += moe_layers * arch.always_on_moe_params(m) / t
        expert = arch.expert_params(m) / par.expert_tp
        local = m.moe.num_experts / par.ep
        # grouped GEMMs read d and write f x width, then read the width and write d; permute and unpermute
        # move each token-expert pair's d-vector in and out (issue: ~k x d per token per MoE layer, each way).
        act_pair = 4 * d + (m.ffn_matrices + 1) * m.moe.expert_intermediate_size / par.expert_tp
    head = arch.lm_head_params(m) / t
    embed = arch.embedding_params(m) / t
    held_head = embed + (0.0 if m.tie_embeddings else head)
    q, out = arch.q_width(m), arch.attention_out_width(m)
    kv_width = 2 * m.num_kv_heads * m.head_dim if not m.mla else m.mla.kv_lora_rank + m.mla.qk_rope_head_dim
    # Fused kernels (add+RMSNorm, often fused into the all-reduce; SwiGLU in the GEMM epilogue): per token and
    # layer each rank reads and writes the residual stream around two norms (4d, replicated across TP ranks),
    # writes and reads Q/K/V and the attention output, and the FFN's gate/up outputs and their product.
    act_attn = m.num_layers * (4 * d + 2 * (q + kv_width + out) / t)
    dense_width = dense_layers * m.intermediate_size
    if m.moe:
        dense_width += moe_layers * m.moe.shared_experts * m.moe.shared_expert_intermediate_size
    act_ffn = (m.num_layers * 2 * d + (m.ffn_matrices + 1) * dense_width) / t if (dense_width or not m.moe) else 0.0
    return RankShape(attention_params=attn, ffn_params=ffn, ffn_read_params=ffn, expert_params=expert,
                     local_experts=local, moe_layers=moe_layers, head_params=head, held_head_params=held_head,
                     other_params=arch.norm_params(m) + arch.mtp_params(m) / t,
                     kv_elems_per_token_layer=kv, act_attention=act_attn, act_ffn=act_ffn, act_expert_pair=act_pair,
                     attn_flops_prefill=arch.attention_flops_per_pair(m, False) / t,
                     attn_flops_decode=arch.attention_flops_per_pair(m, True) / t)


@dataclass(frozen=True)
class PassWork:
    """What one pass carries on one rank of one data-parallel replica."""

    tokens: float = 0.0  # tokens through the matmuls: decode tokens plus prefill tokens
    logit_rows: float = 0.0  # rows that need the LM head (decode tokens, the last position of finished prompts)
    prefill_tokens: float = 0.0
    prefill_pairs: float = 0.0  # query-key pairs of the prefill tokens, summed over layers
    prefill_cached_reads: float = 0.0  # cached prefix tokens chunks read back, summed over layers
    prefill_length: float = 0.0  # the prompt length, which sets the fused-attention efficiency
    decode_seqs: float = 0.0
    decode_attended: float = 0.0  # keys the decode tokens attend over, summed over sequences and layers
    requests: float = 0.0  # running requests (host work)
    decode_queries: float = 1.0  # query tokens per decode sequence (K + 1 when speculation verifies K drafts)


@dataclass(frozen=True)
class PassCost:
    """A pass on one rank, by kernel class. Each class's time is max(compute, memory) of its kernels."""

    flops: float
    weight_bytes: float
    kv_bytes: float
    activation_bytes: float
    times: KernelTimes
    fixed: FixedCosts
    compute_bound_s: float  # kernel time of kernels whose compute term binds
    memory_bound_s: float
    pure_compute_s: float  # every kernel's compute term
    pure_memory_s: float
    collectives: int

    @property
    def bytes(self) -> float:
        return self.weight_bytes + self.kv_bytes + self.activation_bytes

    @property
    def time_s(self) -> float:
        return self.times.total_s


class _Acc:
    """Adds kernels up: FLOPs, bytes and which term binds each."""

    __slots__ = ("flops", "weight", "kv", "act", "compute_bound", "memory_bound", "pure_compute", "pure_memory")

    def __init__(self) -> None:
        self.flops = self.weight = self.kv = self.act = 0.0
        self.compute_bound = self.memory_bound = self.pure_compute = self.pure_memory = 0.0

    def kernel(self, compute_s: float, memory_s: float, exponent: float = 0.0) -> float:
        self.pure_compute += compute_s
        self.pure_memory += memory_s
        time = kernels.transition(compute_s, memory_s, exponent)
        if compute_s >= memory_s:
            self.compute_bound += time
        else:
            self.memory_bound += time
        return time


def _link(s: Scenario, group: int) -> tuple[float, float, float, bool]:
    """(bandwidth, efficiency, latency, scale-up?) for a collective over ``group`` devices."""
    acc, eff = s.accelerator, s.efficiency
    if group <= max(acc.scale_up_domain, 1) and acc.scale_up_bytes_per_s > 0:
        return acc.scale_up_bytes_per_s, eff.link_efficiency, eff.collective_latency_s, True
    return acc.scale_out_bytes_per_s, eff.scale_out_efficiency, eff.scale_out_latency_s, False


def graphed(s: Scenario, w: PassWork) -> bool:
    """Whether the pass replays a CUDA graph (no per-kernel launch cost): engines capture decode-only batches up to
    a size, some also mixed ones."""
    eng = s.engine
    if eng.cuda_graphs == "none":
        return False
    if eng.cuda_graphs == "decode" and w.prefill_tokens > 0:
        return False
    limit = eng.cuda_graph_max_batch
    size = w.tokens * s.parallelism.pp  # the iteration's batch (tokens), all micro-batches
    return limit is None or size <= limit


@dataclass(frozen=True)
class ModuleRate:
    """How one module's matmuls run: the peak and efficiency of its compute dtype, its storage bytes and stream."""

    peak: float
    efficiency: float
    weight_bytes: float  # per parameter
    stream: float  # fraction of bandwidth its weights stream at


@dataclass(frozen=True)
class PassContext:
    """What every pass of one scenario shares: resolved once, used by each ``pass_cost`` call."""

    shape: RankShape
    modules: dict[str, ModuleRate]
    act_bytes: float
    kv_bytes: float
    attn_dtype: str
    attn_peak: float


def pass_context(s: Scenario) -> PassContext:
    return _context(s.model, s.parallelism, s.precision, s.accelerator, s.efficiency)


@by_identity()
def _context(m: ModelArch, par: Parallelism, prec: Precision, acc: Accelerator, eff: Efficiency) -> PassContext:
    modules = {}
    for module in ("attention", "ffn", "head", "experts"):
        cd = module_compute(prec, module, acc)
        wo = is_weight_only(prec, module, cd)
        modules[module] = ModuleRate(
            peak=peak_flops(acc, cd) or peak_flops(acc, prec.compute) or 1.0,
            efficiency=(eff.weight_only or eff.mfu) if wo else eff.gemm_for(cd),
            weight_bytes=nbytes(prec.weights_for(module)),
            stream=(eff.weight_only_stream or eff.mbu) if wo else eff.mbu)
    attn_dtype = prec.kv if prec.kv in ("fp8",) and peak_flops(acc, "fp8") and dict(eff.attention).get("fp8") else (
        prec.activations)
    return PassContext(shape=rank_shape(m, par), modules=modules, act_bytes=nbytes(prec.activations),
                       kv_bytes=nbytes(prec.kv), attn_dtype=attn_dtype,
                       attn_peak=peak_flops(acc, attn_dtype) or peak_flops(acc, prec.compute) or 1.0)


def pass_cost(s: Scenario, w: PassWork, ctx: PassContext | None = None) -> PassCost:
    """One pass's cost; ``ctx`` (from ``pass_context``) saves resolving the scenario's dtypes again."""
    m, par, acc, eff = s.model, s.parallelism, s.accelerator, s.efficiency
    ctx = ctx or pass_context(s)
    shp = ctx.shape
    bw = acc.bandwidth_bytes_per_s
    ab = ctx.act_bytes
    kb = ctx.kv_bytes
    a = _Acc()

    # --- GEMM class: attention projections, dense FFN (+ shared experts, routers), LM head
    rows = kernels.padded(w.tokens, eff.gemm_tile_m)
    gemm_s = 0.0
    for module, params, read, act, rows_m in (
            ("attention", shp.attention_params, shp.attention_params, shp.act_attention, rows),
            ("ffn", shp.ffn_params, shp.ffn_read_params, shp.act_ffn, rows),
            ("head", shp.head_params, shp.head_params, 0.0, kernels.padded(w.logit_rows, eff.gemm_tile_m))):
        if params <= 0 or (rows_m <= 0 and read <= 0):
            continue
        rate = ctx.modules[module]
        flops = 2 * rows_m * params
        wbytes = read * rate.weight_bytes
        abytes = w.tokens * act * ab if module != "head" else w.logit_rows * m.vocab_size / par.tp * 4
        a.flops += 2 * (w.tokens if module != "head" else w.logit_rows) * params
        a.weight += wbytes
        a.act += abytes
        gemm_s += a.kernel(*kernels.gemm(flops, wbytes + abytes, rate.peak, rate.efficiency, bw, rate.stream),
                           eff.gemm_transition)

    # --- attention class: fused prefill attention and decode KV streaming
    attn_dtype, attn_peak = ctx.attn_dtype, ctx.attn_peak
    kv_layer_bytes = shp.kv_elems_per_token_layer * kb
    attention_s = 0.0
    layers = max(m.num_layers, 1)
    if w.prefill_tokens > 0:
        flops = w.prefill_pairs * shp.attn_flops_prefill
        written = 0.0 if m.encoder else w.prefill_tokens * layers * kv_layer_bytes
        read = w.prefill_cached_reads * kv_layer_bytes
        a.flops += flops
        a.kv += written + read
        e = kernels.attention_efficiency(eff, attn_dtype, w.prefill_length)
        attention_s += a.kernel(*kernels.attention(flops, written + read, attn_peak, e, bw, eff.mbu))
    if w.decode_seqs > 0:
        # each query token scores every key, but the keys are read once per sequence; each query writes its KV
        flops = w.decode_attended * w.decode_queries * shp.attn_flops_decode
        bytes_ = (w.decode_attended + w.decode_seqs * w.decode_queries * layers) * kv_layer_bytes
        a.flops += flops
        a.kv += bytes_
        e = eff.attention_for(attn_dtype)
        attention_s += a.kernel(*kernels.attention(flops, bytes_, attn_peak, e, bw, eff.decode_attention))

    # --- MoE class: routed experts as grouped GEMMs, per MoE layer
    moe_s = 0.0
    if m.moe and shp.moe_layers and w.tokens > 0:
        group_tokens = w.tokens * par.dp_ranks_per_ep_group
        k = m.moe.experts_per_token
        pairs = group_tokens * k / par.ep  # token-expert pairs this rank's experts serve
        touched = kernels.experts_touched(m.moe.num_experts, k, group_tokens) / par.ep
        rate = ctx.modules["experts"]
        flops = 2 * kernels.grouped_gemm_rows(pairs, touched, eff.moe_tile_m) * shp.expert_params
        wbytes = touched * shp.expert_params * rate.weight_bytes
        abytes = pairs * shp.act_expert_pair * ab
        a.flops += shp.moe_layers * 2 * pairs * shp.expert_params
        a.weight += shp.moe_layers * wbytes
        a.act += shp.moe_layers * abytes
        c, mem = kernels.gemm(flops, wbytes + abytes, rate.peak, rate.efficiency * eff.moe_grouped, bw, rate.stream)
        moe_s = a.kernel(shp.moe_layers * c, shp.moe_layers * mem, eff.gemm_transition)

    # --- collectives: tensor-parallel all-reduces, expert all-to-alls, pipeline sends
    comm_bw = comm_lat = 0.0
    count = 0
    if m.num_layers and m.hidden_size and w.tokens > 0:
        message = w.tokens * m.hidden_size * ab
        dense_layers, moe_layers = arch.layer_counts(m)
        t = par.tp
        if t > 1:
            link, le, lat, _ = _link(s, t)
            bw_s, lat_s = kernels.all_reduce(message, t, link, le, lat)
            reduces = 2 * dense_layers + (moe_layers if par.attention_dp else 2 * moe_layers)
            comm_bw += reduces * bw_s
            comm_lat += reduces * lat_s
            count += reduces
        if par.attention_dp and moe_layers:
            link, _, _, up = _link(s, par.ep)
            a2a_eff = eff.all_to_all_efficiency if up else eff.scale_out_efficiency
            a2a_lat = eff.all_to_all_latency_s if up else eff.scale_out_latency_s
            per_rank = message * m.moe.experts_per_token / t
            bw_s, lat_s = kernels.all_to_all(per_rank, par.ep, link, a2a_eff, a2a_lat)
            comm_bw += 2 * moe_layers * bw_s  # dispatch and combine
            comm_lat += 2 * moe_layers * lat_s
            count += 2 * moe_layers
        if par.pp > 1:
            link, le, lat, _ = _link(s, t * par.pp)
            bw_s, lat_s = kernels.send(message, link, le, lat)
            comm_bw += (par.pp - 1) * bw_s
            comm_lat += (par.pp - 1) * lat_s
            count += par.pp - 1

    floor = kernels.kernel_floor(eff, m.num_layers)
    host = kernels.host(eff, w.requests)
    if not graphed(s, w):
        # Outside a CUDA graph the host launches kernel by kernel while the GPU runs the earlier ones: the launches
        # show only where they take longer than the GPU's work.
        gpu = gemm_s + attention_s + moe_s + comm_bw + comm_lat + floor
        host += max(0.0, kernels.launches(eff, m.num_layers) - gpu)
    fixed = FixedCosts(host_s=host, kernel_floor_s=floor, collective_latency_s=comm_lat)
    times = KernelTimes(gemm_s=gemm_s, attention_s=attention_s, moe_s=moe_s, collectives_s=comm_bw,
                        fixed_s=fixed.total_s)
    return PassCost(flops=a.flops, weight_bytes=a.weight, kv_bytes=a.kv, activation_bytes=a.act, times=times,
                    fixed=fixed, compute_bound_s=a.compute_bound, memory_bound_s=a.memory_bound,
                    pure_compute_s=a.pure_compute, pure_memory_s=a.pure_memory, collectives=count)
