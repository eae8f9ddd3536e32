"""One function per kernel class: from the work a kernel does and what it achieves to its time.

Every function returns ``(compute_s, memory_s)`` or ``(bandwidth_s, latency_s)``; the caller takes the max of a
kernel's compute and memory terms (it runs at the slower of the two) and adds the classes, which run one after
another. Efficiencies are fractions of dense datasheet peaks (``Efficiency``, resolved from specs/kernels.yaml and
the engine profile). See docs/model.md, "Kernel classes".
"""

from __future__ import annotations

import math

from .types import Efficiency


def padded(rows: float, tile: int) -> float:
    """Rows a tensor-core kernel computes for ``rows`` tokens: padded up to whole tiles (tile quantization)."""
    if tile <= 1 or rows <= 0:
        return rows
    return math.ceil(rows / tile - 1e-9) * tile


def gemm(flops: float, bytes_: float, peak: float, efficiency: float, bandwidth: float, mbu: float) -> tuple[float, float]:
    """A dense matmul: FLOPs at the GEMM efficiency of its compute dtype, bytes (weights and activations) at the
    streaming efficiency."""
    return flops / (peak * efficiency), bytes_ / (bandwidth * mbu)


def transition(compute_s: float, memory_s: float, exponent: float) -> float:
    """A kernel's time near the ridge point: (c^n + m^n)^(1/n). n -> infinity is the sharp roofline max(c, m);
    real GEMMs at moderate token counts overlap loads and math imperfectly and take longer than either term."""
    if exponent <= 0 or compute_s <= 0 or memory_s <= 0:
        return max(compute_s, memory_s)
    big = max(compute_s, memory_s)
    return big * (1.0 + (min(compute_s, memory_s) / big) ** exponent) ** (1.0 / exponent)


def attention_efficiency(eff: Efficiency, dtype: str, sequence: float) -> float:
    """Fused attention reaches its long-sequence efficiency only on long sequences:
    eff(S) = eff_long x S / (S + half_length)."""
    long = eff.attention_for(dtype)
    half = eff.attention_half_length
    if half <= 0 or sequence <= 0:
        return long
    return long * sequence / (sequence + half)


def attention(flops: float, bytes_: float, peak: float, efficiency: float, bandwidth: float,
              bandwidth_efficiency: float) -> tuple[float, float]:
    """Fused attention (FlashAttention-style): score and value FLOPs at the attention kernel's efficiency of its
    own dtype's peak (never the FP4 GEMM peak), KV-cache and prefix reads at its streaming efficiency."""
    compute = flops / (peak * efficiency) if flops else 0.0
    return compute, bytes_ / (bandwidth * bandwidth_efficiency)


def experts_touched(num_experts: int, experts_per_token: int, tokens: float) -> float:
    """Expected distinct experts ``tokens`` tokens route to, uniform routing: E x (1 - (1 - k/E)^tokens)."""
    if tokens <= 0:
        return 0.0
    if experts_per_token >= num_experts:
        return float(num_experts)
    return num_experts * -math.expm1(tokens * math.log1p(-experts_per_token / num_experts))


def grouped_gemm_rows(pairs: float, touched: float, tile: int) -> float:
    """Rows a grouped expert GEMM computes: each touched expert's token-expert pairs padded to whole tiles, so
    efficiency falls as the tokens per expert fall."""
    if touched <= 0 or pairs <= 0:
        return 0.0
    return touched * padded(pairs / touched, tile)


def all_reduce(message_bytes: float, group: int, link_bytes_per_s: float, efficiency: float,
               latency_s: float) -> tuple[float, float]:
    """All-reduce of ``message_bytes`` over ``group`` ranks: 2(n-1)/n of it crosses each link at the achieved bus
    bandwidth (large messages: ring/NVLS), plus one small-message latency (one-shot/two-shot)."""
    if group <= 1 or message_bytes <= 0:
        return 0.0, 0.0
    return 2 * (group - 1) / group * message_bytes / (link_bytes_per_s * efficiency), latency_s


def all_to_all(message_bytes: float, group: int, link_bytes_per_s: float, efficiency: float,
               latency_s: float) -> tuple[float, float]:
    """All-to-all (expert dispatch or combine): (n-1)/n of each rank's message leaves it, plus one latency."""
    if group <= 1 or message_bytes <= 0:
        return 0.0, 0.0
    return (group - 1) / group * message_bytes / (link_bytes_per_s * efficiency), latency_s


def send(message_bytes: float, link_bytes_per_s: float, efficiency: float, latency_s: float) -> tuple[float, float]:
    """A point-to-point send between pipeline stages."""
    if message_bytes <= 0:
        return 0.0, 0.0
    return message_bytes / (link_bytes_per_s * efficiency), latency_s


def kernel_floor(eff: Efficiency, layers: int) -> float:
    """The minimum time of every kernel a pass launches: floor x kernels per layer x layers."""
    return eff.layer_overhead_s * layers


def launches(eff: Efficiency, layers: int) -> float:
    """Host time launching a pass's kernels one by one (outside a CUDA graph); the caller exposes what exceeds the
    GPU's own work, since launches queue ahead of running kernels."""
    return eff.launch_s * eff.kernels_per_layer * layers


def host(eff: Efficiency, requests: float) -> float:
    """Host work per iteration (scheduling, sampling, detokenization) the GPU waits for: a fixed part plus a part
    per running request, less the share hidden behind GPU work."""
    return (eff.host_per_iteration_s + eff.host_per_request_s * requests) * (1.0 - eff.host_hidden_fraction)
