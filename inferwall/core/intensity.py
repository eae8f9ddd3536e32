"""Per-operator FLOPs, memory operations and arithmetic intensity, in the accounting of Kim et al. 2023.

Kim, Hooper, et al., "Full Stack Optimization of Transformer Inference: a Survey" (arXiv:2302.14017v1),
Sec. 2.2.1, Tables 3, 10 and 11, Figs. 4-6. The accounting, reproduced from those tables:

* 1 MAC = 2 FLOPs; every operand read and every result written is memory traffic at ``bytes_per_element``
  (the paper: 8-bit, 1 byte); local memory holds both operands of one operation, so each operation reads
  its inputs once and writes its output once (the intensity is an upper bound on reuse).
* Per transformer layer, times the number of layers. Embeddings and the LM head are not counted.
* ``encoder``: one bidirectional pass over L tokens; every weight is read once per layer.
* ``decoder``: L tokens generated one at a time with a KV cache and no prompt; token t (t = 1..L) attends
  over t cached tokens, and every weight (LayerNorm gamma/beta included) is re-read for every token, which
  is why a batch-1 decoder's intensity is about 2 FLOPs/byte.

Notation: d hidden, h heads, h_kv KV heads, dh head_dim, qw = h*dh, kw = h_kv*dh, F intermediate size,
L seq_len. P = query-key pairs attended by one layer: L^2 (encoder), L(L+1)/2 (decoder), clipped by a
sliding window on windowed layers. Per layer:

=====================  =============================================  ==========================================
operator               FLOPs                                          elements moved
=====================  =============================================  ==========================================
attention_projections  2*T*d*(2*qw + 2*kw) (Q, K, V, O)               weights d*(2*qw+2*kw) per pass
                                                                      + T*(in + out) per matmul
attention_matmuls      4*dh*h*P (Q.K^T and scores.V)                  encoder: read Q,K,V, write out
                                                                      L*(2*qw+2*kw); decoder: read q, write out
                                                                      2*qw per token, read K,V 2*kw*P;
                                                                      both: write+read scores 2*h*P
ffn                    2*T*d*F per matrix (2 plain, 3 gated)          weights d*F per matrix per pass
                                                                      + T*(in + out) per matrix
other                  softmax 4*h*P; per token 2 LayerNorms*8d,      softmax 2*h*P; per token LayerNorm 2*2d,
                       2 residual adds*d, activation 10F (+F gated)   residual 2*3d, activation 2F (3F gated);
                                                                      LayerNorm gamma,beta 2*2d per pass
=====================  =============================================  ==========================================

T = L tokens in both modes; a "pass" is one forward pass: once per layer for the encoder, once per token
for the decoder. Sums over the decoder's tokens are in closed form.

Checked against Tables 3, 10, 11 and Figs. 4-6 in ``tests/test_intensity.py``: every value is within 5 % of a
value that prints as the published one, except four self-contradictory cells (typos) and the BERT-Large FLOPs
series of Figs. 4/6, which the paper evidently computed with ~11.5 M matmul weights per layer instead of the
4d^2 + 2dF = 12.58 M of its own Table 1 shapes (we are 5-8 % above it; see the test for the evidence).
Known small differences from the paper's own (unpublished) arithmetic:

* Its encoder act-to-act FLOPs are exactly 4L^2 d - hL^2 - Ld (a length-n dot product counted as n
  multiplies and n-1 adds, no bias); its decoder act-to-act FLOPs are exactly 2dL^2. We use 4*dh*h*P for
  both (+0.4 % encoder, +0.02 % decoder at L=4096).
* Its encoder "Other" bytes fit 9d+2F per token, one d-sized tensor fewer than the 10d+2F counted here
  (Other intensity -4.5 % in Table 3 and -5 % in Table 10 at L=128, where the softmax term is small); its
  decoder "Other" bytes fit 14d+2F, exactly this accounting with the per-token LayerNorm parameter reads.
  We keep the operand-complete count.
* Its decoder act-to-act bytes grow as (d + h/2)L^2 rather than (d + h)L^2 (score traffic once, not twice,
  per element); -0.7 % at L=4096.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass

from . import architecture as arch
from .types import CoreError, ModelArch

OPERATORS = ("attention_projections", "attention_matmuls", "ffn", "other")
MODES = ("encoder", "decoder")

# Non-matmul FLOPs and element traffic, per element of the tensor the operation acts on.
SOFTMAX_FLOPS = 4.0  # max-subtract, exp, sum, divide
SOFTMAX_ELEMENTS = 2.0  # read the scores, write the probabilities
LAYERNORM_FLOPS = 8.0  # mean, variance, normalise, scale and shift
LAYERNORM_ELEMENTS = 2.0  # read x, write y
LAYERNORM_PARAMS = 2.0  # gamma and beta
LAYERNORMS_PER_LAYER = 2
RESIDUAL_FLOPS = 1.0
RESIDUAL_ELEMENTS = 3.0  # read both summands, write the sum
RESIDUALS_PER_LAYER = 2
ACTIVATION_FLOPS = 10.0  # GELU (tanh form) or SiLU
GATE_PRODUCT_FLOPS = 1.0  # the gated FFN's elementwise act(gate) * up


@dataclass(frozen=True)
class OperatorCost:
    """One operator group summed over all layers (and, for a decoder, over all generated tokens)."""

    operator: str  # one of OPERATORS or "total"
    flops: float
    bytes: float

    @property
    def arithmetic_intensity(self) -> float:
        return self.flops / self.bytes if self.bytes else 0.0


def _attention_pairs(model: ModelArch, seq_len: int, decoder: bool) -> float:
    """Query-key pairs summed over all layers: windowed layers clipped to the window."""
    windowed = model.window_layers if model.window > 0 else 0
    full = model.num_layers - windowed
    pairs = full * arch.causal_pairs(seq_len, 0, causal=decoder)
    if windowed:
        pairs += windowed * arch.causal_pairs(seq_len, model.window, causal=decoder)
    return pairs


def operator_breakdown(model: ModelArch, seq_len: int, bytes_per_element: float = 1.0,
                       mode: str | None = None) -> tuple[OperatorCost, ...]:
    """Rows for each operator group plus a final 'total' row (the sum).

    mode: "encoder" (one bidirectional pass over seq_len tokens) or "decoder" (generate seq_len tokens one at a
    time with a KV cache, no prompt, contexts 1..seq_len). Default: model.encoder -> "encoder" else "decoder".
    """
    if mode is None:
        mode = "encoder" if model.encoder else "decoder"
    if mode not in MODES:
        raise CoreError(f"mode must be one of {MODES}, not {mode!r}")
    try:
        length = operator.index(seq_len) if not isinstance(seq_len, bool) else 0
    except TypeError:
        length = 0
    if length < 1:
        raise CoreError(f"seq_len must be an integer >= 1, not {seq_len!r}")
    if not (isinstance(bytes_per_element, (int, float)) and math.isfinite(bytes_per_element)
            and bytes_per_element > 0):
        raise CoreError(f"bytes_per_element must be finite and > 0, not {bytes_per_element!r}")
    arch.validate(model)
    if model.bare:
        raise CoreError(f"model {model.id}: a bare model (parameter count only) has no operator breakdown")
    if model.mla is not None or model.moe is not None:
        raise CoreError(f"model {model.id}: the Kim et al. operator breakdown covers dense MHA/GQA models only "
                        "(no MoE, no MLA)")

    decoder = mode == "decoder"
    n = float(model.num_layers)
    d = float(model.hidden_size)
    h = float(model.num_heads)
    dh = float(model.head_dim)
    qw = float(arch.q_width(model))
    kw = float(model.num_kv_heads * model.head_dim)
    f = float(model.intermediate_size)
    mats = model.ffn_matrices
    gated = mats == 3
    tokens = float(length)
    passes = tokens if decoder else 1.0  # weights are read once per forward pass
    pairs = _attention_pairs(model, length, decoder)  # all layers

    # Q, K, V and O projections: each reads its weights and its input, writes its output.
    proj_weights = d * (2 * qw + 2 * kw)
    proj_flops = n * 2 * tokens * proj_weights
    proj_elems = n * (passes * proj_weights + tokens * ((d + qw) + 2 * (d + kw) + (qw + d)))

    # Q.K^T and scores.V. The score matrix is written by the first and read by the second.
    attn_flops = 4 * dh * h * pairs
    if decoder:  # q and the output are one token; the cached K and V are re-read for every token
        attn_elems = n * tokens * 2 * qw + 2 * kw * pairs + 2 * h * pairs
    else:  # Q, K, V read once, the output written once
        attn_elems = n * tokens * (2 * qw + 2 * kw) + 2 * h * pairs

    # FFN matrices: up (and gate) d -> F, down F -> d.
    ffn_weights = mats * d * f
    ffn_flops = n * 2 * tokens * ffn_weights
    ffn_elems = n * (passes * ffn_weights + tokens * mats * (d + f))

    # Softmax over every score; per token two LayerNorms, two residual adds and the FFN activation.
    act_flops = ACTIVATION_FLOPS * f + (GATE_PRODUCT_FLOPS * f if gated else 0.0)
    act_elems = (3.0 if gated else 2.0) * f  # read the input (gate and up), write the output
    token_flops = (LAYERNORMS_PER_LAYER * LAYERNORM_FLOPS + RESIDUALS_PER_LAYER * RESIDUAL_FLOPS) * d + act_flops
    token_elems = (LAYERNORMS_PER_LAYER * LAYERNORM_ELEMENTS + RESIDUALS_PER_LAYER * RESIDUAL_ELEMENTS) * d + act_elems
    norm_params = LAYERNORMS_PER_LAYER * LAYERNORM_PARAMS * d
    other_flops = SOFTMAX_FLOPS * h * pairs + n * tokens * token_flops
    other_elems = SOFTMAX_ELEMENTS * h * pairs + n * (tokens * token_elems + passes * norm_params)

    b = float(bytes_per_element)
    rows = (
        OperatorCost("attention_projections", proj_flops, proj_elems * b),
        OperatorCost("attention_matmuls", attn_flops, attn_elems * b),
        OperatorCost("ffn", ffn_flops, ffn_elems * b),
        OperatorCost("other", other_flops, other_elems * b),
    )
    total = OperatorCost("total", sum(r.flops for r in rows), sum(r.bytes for r in rows))
    return rows + (total,)
