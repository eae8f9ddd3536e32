"""Parameter counts and per-token shapes of a transformer. Every architecture formula lives here.

Counts are for the whole model; per-GPU shares are taken in ``costs.py``.
"""

from __future__ import annotations

import math

from .types import CoreError, ModelArch


# ----------------------------------------------------------------- attention


def q_width(m: ModelArch) -> int:
    """Width of all query heads together (can differ from hidden_size: Qwen3, gpt-oss, Gemma 2)."""
    if m.mla:
        return m.num_heads * (m.mla.qk_nope_head_dim + m.mla.qk_rope_head_dim)
    return m.num_heads * m.head_dim


def attention_out_width(m: ModelArch) -> int:
    return m.num_heads * (m.mla.v_head_dim if m.mla else m.head_dim)


def attention_params_per_layer(m: ModelArch, tp: int = 1) -> float:
    """Attention projection weights of one layer held by one of ``tp`` tensor-parallel ranks.

    GQA/MQA K/V projections are replicated when there are fewer KV heads than ranks.
    """
    d = m.hidden_size
    if m.mla:
        a = m.mla
        q_head = a.qk_nope_head_dim + a.qk_rope_head_dim
        if a.q_lora_rank:
            q = d * a.q_lora_rank + a.q_lora_rank * m.num_heads * q_head / tp
        else:
            q = d * m.num_heads * q_head / tp
        kv_down = d * (a.kv_lora_rank + a.qk_rope_head_dim)  # shared latent: every rank needs it
        kv_up = a.kv_lora_rank * m.num_heads * (a.qk_nope_head_dim + a.v_head_dim) / tp
        out = m.num_heads * a.v_head_dim * d / tp
        return q + kv_down + kv_up + out
    kv_heads_per_rank = math.ceil(m.num_kv_heads / tp)
    q = d * q_width(m) / tp
    kv = 2 * d * kv_heads_per_rank * m.head_dim
    out = q_width(m) * d / tp
    return q + kv + out


def kv_elements_per_token_per_layer(m: ModelArch, tp: int = 1) -> float:
    """KV-cache elements one token adds to one layer on one tensor-parallel rank.

    MHA/GQA/MQA: K and V for the rank's KV heads (replicated when h_kv < tp).
    MLA: the compressed latent plus the decoupled RoPE key, needed whole on every rank.
    """
    if not m.has_attention:
        return 0.0
    if m.mla:
        return float(m.mla.kv_lora_rank + m.mla.qk_rope_head_dim)
    return 2.0 * math.ceil(m.num_kv_heads / tp) * m.head_dim


def attention_flops_per_pair(m: ModelArch, decode: bool) -> float:
    """FLOPs for one query attending to one cached key, over all heads: 2·h·(d_qk + d_v).

    MLA decode runs in the absorbed form (queries meet the 576-wide latent directly);
    MLA prefill runs in the expanded form with 192-wide keys and 128-wide values.
    """
    if not m.has_attention:
        return 0.0
    if m.mla:
        a = m.mla
        if decode:
            return 2.0 * m.num_heads * ((a.kv_lora_rank + a.qk_rope_head_dim) + a.kv_lora_rank)
        return 2.0 * m.num_heads * ((a.qk_nope_head_dim + a.qk_rope_head_dim) + a.v_head_dim)
    return 4.0 * m.num_heads * m.head_dim


# ----------------------------------------------------------------- FFN and MoE


def layer_counts(m: ModelArch) -> tuple[int, int]:
    """(dense-FFN layers, MoE layers)."""
    if m.moe is None:
        return m.num_layers, 0
    moe_layers = m.moe.moe_layers or m.num_layers
    return m.num_layers - moe_layers, moe_layers


def dense_ffn_params(m: ModelArch) -> float:
    return float(m.ffn_matrices * m.hidden_size * m.intermediate_size)


def expert_params(m: ModelArch) -> float:
    """One routed expert's weights."""
    assert m.moe is not None
    return float(m.ffn_matrices * m.hidden_size * m.moe.expert_intermediate_size)


def always_on_moe_params(m: ModelArch) -> float:
    """Weights of an MoE layer every token uses: shared experts and the router."""
    assert m.moe is not None
    e = m.moe
    return float(e.shared_experts * m.ffn_matrices * m.hidden_size * e.shared_expert_intermediate_size
                 + m.hidden_size * e.num_experts)


def expected_experts_touched(m: ModelArch, tokens: float) -> float:
    """Expected distinct routed experts one MoE layer reads for ``tokens`` tokens, uniform routing.

    E·(1 − (1 − k/E)^tokens): k at one token, approaching E as the batch grows.
    """
    assert m.moe is not None
    e, k = m.moe.num_experts, m.moe.experts_per_token
    if tokens <= 0:
        return 0.0
    return e * -math.expm1(tokens * math.log1p(-k / e)) if k < e else float(e)


def ffn_active_width(m: ModelArch) -> float:
    """Mean FFN intermediate width a token passes through, averaged over layers."""
    dense, moe = layer_counts(m)
    width = dense * m.intermediate_size
    if m.moe:
        width += moe * (m.moe.experts_per_token * m.moe.expert_intermediate_size
                        + m.moe.shared_experts * m.moe.shared_expert_intermediate_size)
    return width / max(m.num_layers, 1)


# ----------------------------------------------------------------- whole-model counts


def embedding_params(m: ModelArch) -> float:
    return float(m.vocab_size * m.hidden_size)


def lm_head_params(m: ModelArch) -> float:
    """The output projection is a matmul every token pays, tied to the embedding or not."""
    return float(m.vocab_size * m.hidden_size)


def mtp_params(m: ModelArch) -> float:
    """Weights of the multi-token-prediction layers a checkpoint ships (DeepSeek-V3: one): each is a decoder
    layer plus a 2d x d projection and two norms; the embedding and LM head are shared with the model."""
    if not m.mtp_layers or m.bare:
        return 0.0
    dense, moe = layer_counts(m)
    ffn = (m.moe.num_experts * expert_params(m) + always_on_moe_params(m)) if m.moe else dense_ffn_params(m)
    per_layer = attention_params_per_layer(m) + ffn + 2 * m.hidden_size * m.hidden_size + 4 * m.hidden_size
    return m.mtp_layers * per_layer


def norm_params(m: ModelArch) -> float:
    return float((2 * m.num_layers + 1) * m.hidden_size)


def total_params(m: ModelArch) -> float:
    """All weights held in memory (tied embeddings counted once)."""
    if m.bare:
        return m.params
    dense, moe = layer_counts(m)
    layers = m.num_layers * attention_params_per_layer(m) + dense * dense_ffn_params(m)
    if m.moe:
        layers += moe * (m.moe.num_experts * expert_params(m) + always_on_moe_params(m))
    head = 0.0 if m.tie_embeddings else lm_head_params(m)
    return layers + embedding_params(m) + head + norm_params(m)


def active_params(m: ModelArch) -> float:
    """Weights one token touches, embeddings included (the publishers' convention)."""
    if m.bare:
        return m.active_params or m.params
    if m.moe is None:
        return total_params(m)
    _, moe = layer_counts(m)
    idle = moe * (m.moe.num_experts - m.moe.experts_per_token) * expert_params(m)
    return total_params(m) - idle


def matmul_params_per_token(m: ModelArch) -> float:
    """Parameters that enter a matmul for every token (2 FLOPs each): layers plus the LM head.

    The input embedding is a row gather, not a matmul, so it is excluded.
    """
    if m.bare:
        return m.active_params or m.params
    dense, moe = layer_counts(m)
    per_layer = m.num_layers * attention_params_per_layer(m) + dense * dense_ffn_params(m)
    if m.moe:
        per_layer += moe * (m.moe.experts_per_token * expert_params(m) + always_on_moe_params(m))
    return per_layer + lm_head_params(m)


# ----------------------------------------------------------------- context


def mean_clipped(first: int, last: int, window: int) -> float:
    """Mean of min(c, window) for integer c in [first, last]; closed form."""
    if last < first:
        return 0.0
    n = last - first + 1
    if window <= 0 or last <= window:
        return (first + last) / 2
    if first >= window:
        return float(window)
    below = window - first + 1  # c = first .. window
    total = (first + window) * below / 2 + window * (n - below)
    return total / n


def _chunked_prefix_sum(n: float, chunk: int) -> float:
    """Σ_{c=1..n} (((c-1) mod chunk) + 1): the positions each token sees inside its chunk, summed."""
    if n <= 0:
        return 0.0
    full, rest = divmod(n, chunk)
    return full * chunk * (chunk + 1) / 2 + rest * (rest + 1) / 2


def mean_chunked(first: float, last: float, chunk: int) -> float:
    """Mean span attended at positions first..last under chunked attention (Llama 4): a token sees only the
    tokens of its own chunk up to itself, ((c-1) mod chunk) + 1 of them; closed form."""
    if last < first:
        return 0.0
    if chunk <= 0:
        return (first + last) / 2
    n = last - first + 1
    return (_chunked_prefix_sum(last, chunk) - _chunked_prefix_sum(first - 1, chunk)) / n


def mean_span(first: float, last: float, window: int, kind: str = "sliding") -> float:
    """Mean attended span at positions first..last for a local layer (sliding window or chunked)."""
    if kind == "chunked":
        return mean_chunked(first, last, window)
    return mean_clipped(first, last, window)


def causal_pairs(seq: int, window: int, causal: bool = True, kind: str = "sliding") -> float:
    """Query-key pairs attended in one pass over ``seq`` tokens: Σ_i span(i) if causal, seq x span if not."""
    if not causal:
        span = min(seq, window) if window else seq
        return float(seq) * span
    return seq * mean_span(1, seq, window, kind)


def attended_tokens(m: ModelArch, first: float, last: float) -> float:
    """Keys attended, summed over layers, averaged over query positions first..last (1-based)."""
    if not m.has_attention:
        return 0.0
    full = m.num_layers - m.window_layers
    mean_full = (first + last) / 2
    local = mean_span(first, last, m.window, m.window_kind) if m.window else mean_full
    return full * mean_full + m.window_layers * local


def prefill_pairs(m: ModelArch, start: float, tokens: float) -> float:
    """Query-key pairs, summed over layers, of prefilling positions start+1 .. start+tokens (a chunk after
    ``start`` cached tokens; start 0 is a whole prompt). Encoders attend both ways over the whole sequence."""
    if not m.has_attention or tokens <= 0:
        return 0.0
    if m.encoder:
        full = m.num_layers - m.window_layers
        return full * causal_pairs(int(tokens), 0, False) + m.window_layers * causal_pairs(int(tokens), m.window, False)
    return tokens * attended_tokens(m, start + 1, start + tokens)


def cached_tokens(m: ModelArch, context: float) -> float:
    """KV-cache tokens one sequence of ``context`` tokens holds, summed over layers (local layers capped)."""
    if not m.has_attention:
        return 0.0
    full = m.num_layers - m.window_layers
    local = min(context, m.window) if m.window else context
    return full * context + m.window_layers * local


def validate(m: ModelArch) -> None:
    """Reject shapes the formulas cannot evaluate; each message names the field."""
    if m.bare:
        if m.active_params and m.active_params > m.params:
            raise CoreError(f"model {m.id}: active params ({m.active_params:g}) exceed params ({m.params:g})")
        shape = {"layers": m.num_layers, "heads": m.num_heads, "kv-heads": m.num_kv_heads, "head-dim": m.head_dim}
        given = [k for k, v in shape.items() if v > 0]
        if given and len(given) < len(shape):
            missing = [k for k, v in shape.items() if v <= 0]
            raise CoreError(f"model {m.id}: an attention shape needs --{', --'.join(missing)} as well as --{', --'.join(given)}")
        if m.has_attention and m.num_heads % m.num_kv_heads:
            raise CoreError(f"model {m.id}: heads ({m.num_heads}) must be a multiple of kv heads ({m.num_kv_heads})")
        if m.window_layers > m.num_layers:
            raise CoreError(f"model {m.id}: window_layers must be between 0 and num_layers ({m.num_layers})")
        return
    required = ("num_layers", "hidden_size", "num_heads", "num_kv_heads", "head_dim", "vocab_size")
    for name in required:
        if getattr(m, name) <= 0:
            raise CoreError(f"model {m.id}: {name} must be > 0")
    if m.intermediate_size <= 0 and not (m.moe and (m.moe.moe_layers or m.num_layers) == m.num_layers):
        raise CoreError(f"model {m.id}: intermediate_size must be > 0")
    if m.num_heads % m.num_kv_heads and not m.mla:
        raise CoreError(f"model {m.id}: num_heads ({m.num_heads}) must be a multiple of num_kv_heads ({m.num_kv_heads})")
    if m.ffn_matrices not in (2, 3):
        raise CoreError(f"model {m.id}: ffn must have 2 (plain) or 3 (gated) matrices")
    if m.window_layers > m.num_layers or m.window_layers < 0:
        raise CoreError(f"model {m.id}: window_layers must be between 0 and num_layers ({m.num_layers})")
    if m.moe:
        e = m.moe
        if e.num_experts <= 0 or not (0 < e.experts_per_token <= e.num_experts):
            raise CoreError(f"model {m.id}: moe needs 0 < experts_per_token <= num_experts")
        if e.expert_intermediate_size <= 0:
            raise CoreError(f"model {m.id}: moe.expert_intermediate_size must be > 0")
        if e.moe_layers > m.num_layers:
            raise CoreError(f"model {m.id}: moe.moe_layers exceeds num_layers")
