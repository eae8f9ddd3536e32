"""The core against the seed texts' worked examples and first-principles numbers."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from inferwall.core import (
    Accelerator,
    CoreError,
    Efficiency,
    MemoryPolicy,
    ModelArch,
    Parallelism,
    Precision,
    Scenario,
    Workload,
    estimate,
)
from inferwall.core import architecture as arch

SEED_GPU = Accelerator(id="seed", memory_bytes=1e12, bandwidth_bytes_per_s=3e12,
                       peak_flops={"fp8": 3e15, "bf16": 3e15})
A100 = Accelerator(id="a100", memory_bytes=80 * 2**30, bandwidth_bytes_per_s=2.039e12,
                   peak_flops={"bf16": 312e12, "fp16": 312e12, "int8": 624e12}, scale_up_bytes_per_s=300e9,
                   scale_up_domain=8, price_usd_per_hour=1.0)
H100 = Accelerator(id="h100", memory_bytes=80 * 2**30, bandwidth_bytes_per_s=3.35e12,
                   peak_flops={"bf16": 989.5e12, "fp16": 989.5e12, "fp8": 1979e12}, scale_up_bytes_per_s=450e9,
                   scale_up_domain=8, price_usd_per_hour=2.0)
LLAMA70 = ModelArch(id="llama-3.1-70b", num_layers=80, hidden_size=8192, num_heads=64, num_kv_heads=8, head_dim=128,
                    intermediate_size=28672, vocab_size=128256)
FP8 = Precision("fp8", "fp8", "fp8")


def seed(batch: int) -> Scenario:
    return Scenario(SEED_GPU, ModelArch(id="seed", params=1.6e12), FP8, Parallelism(tp=20), Workload(batch, 1, 2),
                    Efficiency.ideal())


# ----------------------------------------------------------------- seed worked examples


def test_seed_1_6t_batch1_is_memory_bound_at_0_2_percent():
    d = estimate(seed(1)).decode
    assert d.memory_time_s == pytest.approx(1.6e12 / (20 * 3e12), rel=1e-9)  # 26.7 ms
    assert d.memory_time_s * 1e3 == pytest.approx(26.7, abs=0.05)
    assert d.compute_time_s * 1e3 == pytest.approx(0.0533, abs=0.0005)
    assert d.bound == "memory"
    assert d.utilization == pytest.approx(0.002, rel=1e-6)


def test_seed_1_6t_batch100_reaches_20_percent():
    d = estimate(seed(100)).decode
    assert d.utilization == pytest.approx(0.20, rel=1e-6)
    assert d.compute_time_s * 1e3 == pytest.approx(5.33, abs=0.01)


def test_seed_280b_on_one_a100_bounds():
    e = estimate(Scenario(A100, ModelArch(id="x", params=280e9), Precision(), Parallelism(), Workload(1, 1, 2),
                          Efficiency.ideal()))
    assert e.bounds.compute_forward_passes_per_s == pytest.approx(557, rel=0.01)  # ≈560/s
    assert round(e.bounds.memory_forward_passes_per_s) == 4  # ≈4/s (2.04 TB/s / 560 GB)


# ----------------------------------------------------------------- architecture


def test_llama_70b_parameter_count():
    assert arch.total_params(LLAMA70) == pytest.approx(70.55e9, rel=0.001)


def test_gqa_kv_bytes_and_replication_under_tp():
    assert arch.kv_elements_per_token_per_layer(LLAMA70, 1) == 2 * 8 * 128
    assert arch.kv_elements_per_token_per_layer(LLAMA70, 8) == 2 * 1 * 128
    # 16 ranks but 8 KV heads: each rank still holds a whole head
    assert arch.kv_elements_per_token_per_layer(LLAMA70, 16) == 2 * 1 * 128


def test_mla_cache_is_the_latent_not_per_head():
    m = ModelArch(id="mla", num_layers=1, hidden_size=7168, num_heads=128, num_kv_heads=128, head_dim=192,
                  intermediate_size=18432, vocab_size=1000,
                  mla=__import__("inferwall.core", fromlist=["MLA"]).MLA(512, 64, 128, 128, 1536))
    assert arch.kv_elements_per_token_per_layer(m, 1) == 576
    assert arch.kv_elements_per_token_per_layer(m, 8) == 576


def test_moe_expected_experts_grow_from_k_to_e():
    from inferwall.core import MoE

    m = ModelArch(id="moe", num_layers=2, hidden_size=64, num_heads=4, num_kv_heads=4, head_dim=16,
                  intermediate_size=128, vocab_size=100, moe=MoE(8, 2, 128))
    assert arch.expected_experts_touched(m, 1) == pytest.approx(2.0)
    assert arch.expected_experts_touched(m, 4) == pytest.approx(8 * (1 - 0.75**4))
    assert arch.expected_experts_touched(m, 10_000) == pytest.approx(8.0)


def test_mean_clipped_matches_brute_force():
    for first, last, window in [(1, 100, 30), (50, 60, 10), (5, 5, 0), (10, 4000, 4096), (3000, 5000, 4096)]:
        brute = sum(min(c, window) if window else c for c in range(first, last + 1)) / (last - first + 1)
        assert arch.mean_clipped(first, last, window) == pytest.approx(brute)


# ----------------------------------------------------------------- the decode step


def _ideal(model=LLAMA70, acc=H100, tp=1, batch=1, s=1024, t=256, precision=Precision(), pp=1):
    return Scenario(acc, model, precision, Parallelism(tp=tp, pp=pp), Workload(batch, s, t), Efficiency.ideal())


def test_decode_flops_count_matmuls_attention_and_lm_head():
    e = estimate(_ideal(batch=4, s=1000, t=201))
    ctx = 1000 + 201 / 2  # mean context S + T/2 over steps producing tokens 2..T
    assert e.decode.context_tokens == pytest.approx(ctx)
    matmul = 2 * 4 * arch.matmul_params_per_token(LLAMA70)
    attention = 4 * 4 * 64 * 128 * 80 * ctx
    assert e.decode.flops == pytest.approx(matmul + attention, rel=1e-9)
    assert arch.matmul_params_per_token(LLAMA70) == pytest.approx(arch.total_params(LLAMA70) - 128256 * 8192 - arch.norm_params(LLAMA70))


def test_decode_kv_read_is_charged_at_mean_not_final_context():
    e = estimate(_ideal(batch=8, s=1000, t=201))
    per_token = 2 * 8 * 128 * 2 * 80  # K and V, 8 KV heads, 128 dims, bf16, 80 layers
    mean = 8 * per_token * (1000 + 100.5 + 1)  # cache read at the mean context, plus the new entry written
    assert e.decode.kv_bytes == pytest.approx(mean, rel=1e-9)
    assert e.decode.kv_bytes < 8 * per_token * 1201


def test_tensor_parallel_divides_per_gpu_work():
    one = estimate(_ideal(tp=1, batch=16)).decode
    eight = estimate(_ideal(tp=8, batch=16)).decode
    # weights split 8 ways: memory time falls ~8x (KV heads 8 -> 1 per rank also divide)
    assert one.memory_time_s / eight.memory_time_s == pytest.approx(8, rel=0.02)
    assert one.compute_time_s / eight.compute_time_s == pytest.approx(8, rel=0.02)
    assert eight.comm_time_s > 0 and one.comm_time_s == 0


def test_collective_latency_dominates_small_batch_high_tp():
    base = _ideal(tp=8, batch=1)
    slow = replace(base, efficiency=replace(base.efficiency, collective_latency_s=20e-6))
    d = estimate(slow).decode
    assert d.comm_time_s == pytest.approx(160 * 20e-6, rel=0.05)  # 2 all-reduces x 80 layers


def test_ideal_has_no_layer_overhead():
    assert Efficiency.ideal().layer_overhead_s == 0
    d = estimate(_ideal(tp=8, batch=1)).decode
    assert d.overhead_time_s == 0
    assert d.time_s == pytest.approx(max(d.compute_time_s, d.memory_time_s) + d.comm_time_s)


@pytest.mark.parametrize("tp,pp", [(1, 1), (8, 1), (2, 4)])
def test_layer_overhead_adds_layers_times_value_per_pass(tp, pp):
    base = _ideal(tp=tp, pp=pp, batch=4)
    slow = replace(base, efficiency=replace(base.efficiency, kernel_floor_s=10e-6, kernels_per_layer=5))
    b, s = estimate(base), estimate(slow)
    assert s.decode.overhead_time_s == pytest.approx(80 * 50e-6, rel=1e-12)  # one decode round = every layer once
    assert s.decode.time_s - b.decode.time_s == pytest.approx(80 * 50e-6, rel=1e-9)
    assert s.decode.compute_time_s == b.decode.compute_time_s and s.decode.memory_time_s == b.decode.memory_time_s
    # prefill pays it once per pass: the pipeline fill (n + p - 1) / p of micro-batch passes
    n_micro = math.ceil(4 / math.ceil(4 / pp))
    fill = (n_micro + pp - 1) / pp
    assert s.prefill.time_s - b.prefill.time_s == pytest.approx(fill * 80 * 50e-6, rel=1e-9)


def test_layer_overhead_adds_to_host_time_and_skips_bare_models_without_layers():
    eff = replace(Efficiency.ideal(), host_per_iteration_s=1e-3, kernel_floor_s=20e-6, kernels_per_layer=1)
    e = estimate(replace(_ideal(tp=8), efficiency=eff))
    assert e.decode.overhead_time_s == pytest.approx(1e-3 + 80 * 20e-6)
    assert e.decode.fixed_costs.host_s == pytest.approx(1e-3)
    assert e.decode.fixed_costs.kernel_floor_s == pytest.approx(80 * 20e-6)
    bare = Scenario(H100, ModelArch(id="b", params=7e9), Precision(), Parallelism(), Workload(1, 16, 8), eff)
    assert estimate(bare).decode.overhead_time_s == pytest.approx(1e-3)


def test_layer_overhead_flag_reaches_the_scenario():
    from inferwall.catalog import load_catalog
    from inferwall.inputs import Options, build

    catalog = load_catalog()
    r = build(Options(model="llama-3.1-8b", layer_overhead="50us"), catalog)
    assert r.scenario.efficiency.layer_overhead_s == pytest.approx(50e-6)
    assert r.provenance["layer_overhead"].startswith("flag --layer-overhead")
    assert build(Options(model="llama-3.1-8b", ideal=True), catalog).scenario.efficiency.layer_overhead_s == 0


def test_pipeline_parallel_never_cuts_token_latency():
    tp = estimate(_ideal(tp=2, batch=1)).decode.time_s
    pp = estimate(_ideal(tp=2, pp=4, batch=1)).decode.time_s
    assert pp >= tp * 0.999  # stages run one after another


def test_weight_only_int4_computes_in_16_bit():
    e = estimate(_ideal(acc=A100, precision=Precision("int4", "bf16", "int4")))
    assert e.scenario.precision.compute == "bf16"
    assert any("weight-only" in n for n in e.notes)


def test_explicit_fp8_on_a100_is_an_error():
    with pytest.raises(CoreError, match="no fp8 compute"):
        estimate(_ideal(acc=A100, precision=Precision("fp8", "fp8", "fp8")), compute_explicit=True)


def test_prefill_is_compute_bound_and_decode_memory_bound_for_70b():
    e = estimate(_ideal(tp=8, batch=1))
    assert e.prefill.bound == "compute"
    assert e.decode.bound == "memory"


def test_prefill_attention_is_causal_half():
    m = ModelArch(id="a", params=1e9, num_layers=10, num_heads=8, num_kv_heads=8, head_dim=64, hidden_size=512)
    e = estimate(Scenario(H100, m, Precision(), Parallelism(), Workload(1, 1000, 1), Efficiency.ideal()))
    matmul = 2 * 1000 * 1e9
    attention = 4 * 8 * 64 * 10 * (1000 * 1001 / 2)
    assert e.prefill.flops == pytest.approx(matmul + attention, rel=1e-9)


def test_memory_fit_reports_max_batch_and_min_gpus():
    e = estimate(_ideal(tp=1, batch=1))
    assert not e.memory.fits  # 141 GB of bf16 weights on one 80 GiB GPU
    assert e.memory.min_gpus == 2
    assert e.memory.max_batch == 0
    e8 = estimate(_ideal(tp=8, batch=1))
    kv_per_seq = 2 * 1 * 128 * 2 * 80 * (1024 + 256)  # per GPU: one KV head each
    assert e8.memory.kv_bytes_per_sequence == pytest.approx(kv_per_seq)
    usable = 80 * 2**30 * MemoryPolicy().memory_fraction - 2**30
    free = usable - e8.memory.weights_bytes_per_gpu
    assert e8.memory.max_batch <= free / kv_per_seq
    assert e8.memory.max_batch > 0.95 * free / kv_per_seq - 50


def test_prefill_workspace_holds_f_ffn_widths_per_token():
    e = estimate(_ideal(tp=8, batch=2, s=1024))
    # residual 4d, Q and attention output, and gate/up/product (3 x d_ff) live per token, split over 8 ranks
    live = (4 * 8192 + (2 * 8192 + 3 * 28672) / 8) * 2
    logits = 2 * 128256 / 8 * 4  # fp32 logits of the last position, per sequence
    assert e.memory.activation_bytes_per_gpu == pytest.approx(2 * 1024 * live + logits)


def test_cost_splits_prefill_and_decode():
    e = estimate(_ideal(tp=8, batch=32))
    usd_per_s = 8 * 2.0 / 3600
    assert e.cost.usd_per_million_input_tokens == pytest.approx(e.latency.ttft_s * usd_per_s / (32 * 1024) * 1e6)
    assert e.cost.usd_per_million_output_tokens == pytest.approx(255 * e.latency.tpot_s * usd_per_s / (32 * 256) * 1e6)
    total = e.latency.e2e_s * usd_per_s
    assert e.cost.usd_per_million_tokens_blended == pytest.approx(total / (32 * 1280) * 1e6)


def test_no_price_gives_no_cost_and_says_so():
    e = estimate(_ideal(acc=replace(H100, price_usd_per_hour=None)))
    assert e.cost.usd_per_hour is None
    assert any("no price" in n for n in e.notes)


def test_bad_layouts_are_errors():
    with pytest.raises(CoreError, match="does not divide the 64 attention heads"):
        estimate(_ideal(tp=3))
    with pytest.raises(CoreError, match="exceeds the 80 layers"):
        estimate(_ideal(pp=81))


def test_values_are_finite():
    e = estimate(_ideal(tp=8, batch=64))
    for phase in (e.prefill, e.decode):
        for v in (phase.flops, phase.bytes, phase.time_s, phase.utilization):
            assert math.isfinite(v) and v >= 0
