"""Properties that must hold for any valid input (hypothesis)."""

from __future__ import annotations

import math
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inferwall.core import Accelerator, Efficiency, ModelArch, MoE, Parallelism, Precision, Scenario, Workload, estimate

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def models(draw):
    kv = draw(st.sampled_from([1, 2, 4, 8]))
    heads = kv * draw(st.sampled_from([1, 2, 4, 8]))
    head_dim = draw(st.sampled_from([32, 64, 128]))
    layers = draw(st.integers(1, 96))
    moe = None
    if draw(st.booleans()):
        e = draw(st.sampled_from([8, 16, 64]))
        moe = MoE(num_experts=e, experts_per_token=draw(st.integers(1, 4)), expert_intermediate_size=draw(st.integers(64, 4096)),
                  moe_layers=draw(st.integers(1, layers)))
    window = draw(st.sampled_from([0, 0, 128, 4096]))
    return ModelArch(id="m", num_layers=layers, hidden_size=heads * head_dim, num_heads=heads, num_kv_heads=kv,
                     head_dim=head_dim, intermediate_size=draw(st.integers(64, 30000)), vocab_size=draw(st.integers(100, 256000)),
                     ffn_matrices=draw(st.sampled_from([2, 3])), moe=moe, window=window,
                     window_layers=draw(st.integers(0, layers)) if window else 0)


@st.composite
def scenarios(draw):
    m = draw(models())
    tp = draw(st.sampled_from([t for t in (1, 2, 4, 8) if m.num_heads % t == 0 and (m.num_kv_heads % t == 0 or t % m.num_kv_heads == 0)]))
    pp = draw(st.integers(1, min(4, m.num_layers)))
    acc = Accelerator(id="g", memory_bytes=draw(st.floats(8e9, 300e9)), bandwidth_bytes_per_s=draw(st.floats(1e11, 1e13)),
                      peak_flops={"bf16": draw(st.floats(1e13, 5e15))}, scale_up_bytes_per_s=draw(st.floats(1e9, 1e12)),
                      scale_up_domain=draw(st.sampled_from([1, 8, 72])), price_usd_per_hour=draw(st.floats(0.1, 20)))
    eff = draw(st.sampled_from([Efficiency(), Efficiency.ideal(), Efficiency(mfu=0.4, mbu=0.6, host_per_iteration_s=1e-3, kernel_floor_s=3e-6, kernels_per_layer=10)]))
    w = Workload(batch=draw(st.integers(1, 4096)), input_tokens=draw(st.integers(1, 32768)),
                 output_tokens=draw(st.integers(2, 4096)))
    return Scenario(acc, m, Precision(), Parallelism(tp=tp, pp=pp, dp=draw(st.integers(1, 4))), w, eff)


def _numbers(e):
    phases = [e.prefill] + ([e.decode] if e.decode else [])
    for p in phases:
        yield from (p.flops, p.bytes, p.compute_time_s, p.memory_time_s, p.comm_time_s, p.time_s)
    yield from (e.latency.ttft_s, e.latency.tpot_s, e.latency.e2e_s, e.throughput.output_tokens_per_s,
                e.cost.usd_per_million_output_tokens, e.cost.usd_per_million_tokens_blended, e.memory.total_bytes_per_gpu)


@SETTINGS
@given(scenarios())
def test_outputs_finite_non_negative_and_utilization_in_unit_interval(s):
    e = estimate(s)
    for v in _numbers(e):
        assert v is not None and math.isfinite(v) and v >= 0
    for p in (e.prefill, e.decode):
        assert 0 <= p.utilization <= 1 and 0 <= p.bandwidth_utilization <= 1


@SETTINGS
@given(scenarios(), st.floats(1.01, 10))
def test_more_bandwidth_never_slower(s, factor):
    faster = replace(s, accelerator=replace(s.accelerator, bandwidth_bytes_per_s=s.accelerator.bandwidth_bytes_per_s * factor))
    a, b = estimate(s), estimate(faster)
    assert b.decode.time_s <= a.decode.time_s * (1 + 1e-12)
    assert b.prefill.time_s <= a.prefill.time_s * (1 + 1e-12)


@SETTINGS
@given(scenarios(), st.floats(1.01, 10))
def test_more_flops_never_slower(s, factor):
    acc = s.accelerator
    faster = replace(s, accelerator=replace(acc, peak_flops={k: v * factor for k, v in acc.peak_flops.items()}))
    assert estimate(faster).latency.e2e_s <= estimate(s).latency.e2e_s * (1 + 1e-12)


@SETTINGS
@given(scenarios())
def test_gpu_count_is_tp_pp_dp(s):
    e = estimate(s)
    par = e.scenario.parallelism
    assert par.gpus == par.tp * par.pp * par.dp
    assert e.cost.usd_per_hour == par.gpus * s.accelerator.price_usd_per_hour


@SETTINGS
@given(scenarios(), st.integers(2, 64))
def test_batch_never_lowers_utilization_or_raises_cost_while_memory_bound(s, grow):
    small = estimate(s)
    big_s = replace(s, workload=replace(s.workload, batch=s.workload.batch * grow))
    big = estimate(big_s)
    if small.decode.bound == "memory" and big.decode.bound == "memory" and big.memory.fits:
        assert big.decode.utilization >= small.decode.utilization * (1 - 1e-9)
        assert big.cost.usd_per_million_output_tokens <= small.cost.usd_per_million_output_tokens * (1 + 1e-9)
