"""Synthetic engines for the load model's tests and reports: stand-ins for the cost core's iteration time.

``roofline`` builds an ``iteration_time(decoders, decode_context, prefill_tokens, prefill_context)`` of the
shape the real cost model has: the larger of a memory time (weights once, plus the KV cache the decoders
attend to) and a compute time (every token through the matmuls, plus attention spans), plus host work that
grows with the decoders. The defaults are roughly an 8B model on one H100-class GPU: 5 ms to stream the
weights, 44 ns of KV traffic per context token, 23 us of matmul per token, 0.75 ns per attention span unit.

``ENGINES`` are the configurations the approximation is checked on (tests/test_queueing.py,
scripts/queueing_report.py): different bottlenecks, limits and length distributions.
"""

from __future__ import annotations

from inferwall.core.distributions import LengthDistribution as Lengths
from inferwall.core.queueing import EngineLimits


def roofline(weights_s=0.005, kv_s_per_token=4.4e-8, matmul_s_per_token=2.3e-5, attention_s_per_span=7.5e-10,
             host_s=0.001, host_s_per_request=1e-5):
    def iteration_time(decoders, decode_context, prefill_tokens, prefill_context):
        memory = weights_s + kv_s_per_token * (decode_context + prefill_tokens)
        compute = matmul_s_per_token * (decoders + prefill_tokens) + attention_s_per_span * (prefill_context
                                                                                             + decode_context)
        return host_s + host_s_per_request * decoders + max(memory, compute)
    return iteration_time


def constant(seconds):
    """Every iteration takes the same time, whatever it holds (a queueing-theory oracle)."""
    return lambda decoders, decode_context, prefill_tokens, prefill_context: seconds


# name: (iteration_time, limits, input lengths, output lengths, what it exercises)
ENGINES = {
    "8b-mixed": (roofline(), EngineLimits(256, 8192, 400_000),
                 Lengths.lognormal(1000, 500), Lengths.lognormal(200, 100),
                 "memory-bound decode, 1k prompts, running cap binds"),
    "70b-chat": (roofline(weights_s=0.02, kv_s_per_token=1e-7, matmul_s_per_token=1e-4, attention_s_per_span=2e-9,
                          host_s=0.002),
                 EngineLimits(256, 8192, 1_000_000),
                 Lengths.lognormal(229.7, 229.7, 4, 1024), Lengths.lognormal(203.1, 203.1, 4, 1024),
                 "larger model, ShareGPT-like lengths"),
    "long-prompt": (roofline(), EngineLimits(64, 2048, 500_000), Lengths.fixed(4000), Lengths.fixed(100),
                    "prompts of two chunks, the token budget binds"),
    "kv-limited": (roofline(), EngineLimits(256, 8192, 60_000), Lengths.fixed(1000), Lengths.uniform(100, 900),
                   "the KV cache binds at ~35 requests"),
    "no-chunk": (roofline(), EngineLimits(256, 8192, 1_000_000, chunked_prefill=False),
                 Lengths.uniform(128, 2048), Lengths.uniform(128, 384),
                 "whole prompts per iteration"),
    "host-bound": (roofline(weights_s=0.001, kv_s_per_token=1e-8, matmul_s_per_token=5e-6, host_s=0.003,
                            host_s_per_request=3e-5),
                   EngineLimits(512, 8192, 2_000_000), Lengths.lognormal(500, 300), Lengths.lognormal(300, 200),
                   "a small model whose host work per iteration dominates"),
}
