"""The serving model (issues 10 and 11): continuous batching as engines run it, memory semantics, attention-DP
layouts, per-module precision and named fixed costs, checked on real catalog inputs through the CLI and the core."""

from __future__ import annotations

import math

import pytest

from inferwall.catalog import load_catalog
from inferwall.core import architecture as arch
from inferwall.core.memory import Footprint

from cli_helpers import run, run_json

pytestmark = pytest.mark.usefixtures("monkeypatch_env")

SEVENTY = ("-m", "llama-3.1-70b", "-g", "h100", "--gpus", "8")


# ----------------------------------------------------------------- continuous batching


def test_ttft_under_concurrency_is_one_prompts_share_of_an_iteration_not_the_whole_batchs_prefill(capsys):
    """64 concurrent 2k-token prompts: a static batch prefills 128k tokens before the first token; an
    in-flight engine admits the prompts across iterations, so a request waits for about one iteration that
    carries its own prompt (plus the running decodes), as the engines' own TTFT under load shows."""
    common = (*SEVENTY, "--batch", "64", "-i", "2000", "-o", "256")
    cont, _ = run_json(capsys, "estimate", *common, "--batching", "continuous")
    stat, _ = run_json(capsys, "estimate", *common, "--batching", "static")
    alone, _ = run_json(capsys, "estimate", *SEVENTY, "--batch", "1", "-i", "2000", "-o", "256")
    sv = cont["serving"]
    # 64 requests x (2000 + 255) tokens per cycle fit the 8192-token budget over 256 iterations, so each prompt
    # is prefilled in one iteration: 64 of the 256 carry a prompt of 2000 tokens.
    assert sv["iterations_per_request"] == 256
    assert sv["prefill_iterations"] == 1
    assert sv["prefill_tokens_per_iteration"] == pytest.approx(2000)
    assert sv["mixed_iteration_share"] == pytest.approx(64 / 256)
    ttft, ttft_static = cont["latency"]["ttft_s"], stat["latency"]["ttft_s"]
    assert ttft_static > 20 * ttft  # 64 prompts at once against one
    assert alone["latency"]["ttft_s"] <= ttft < 2 * alone["latency"]["ttft_s"]
    assert stat["serving"]["batching"] == "static" and stat["serving"]["prefill_tokens_per_iteration"] == 64 * 2000


def test_requests_over_the_running_cap_wait_in_whole_cycles(capsys):
    d, _ = run_json(capsys, "estimate", *SEVENTY, "--batch", "64", "--max-running-requests", "16")
    sv = d["serving"]
    assert (sv["running"], sv["waiting"], sv["limited_by"]) == (16, 48, "request cap")
    # each of the 64 concurrent requests waits for 64/16 - 1 = 3 cycles of the 16 running ones
    assert sv["queue_wait_s"] == pytest.approx(3 * sv["cycle_time_s"])
    assert d["latency"]["ttft_s"] > sv["queue_wait_s"]
    assert "16 requests run and 48 wait per replica: the engine's cap on running requests binds" in d["notes"]
    # throughput is that of the 16 running: a cycle completes 16 requests
    assert d["throughput"]["requests_per_s"] == pytest.approx(16 / sv["cycle_time_s"])


def test_the_kv_cache_caps_the_running_requests_and_says_so(capsys):
    d, _ = run_json(capsys, "estimate", "-m", "llama-3.1-70b", "-g", "h100", "--gpus", "2", "--batch", "400",
                    "-i", "4000", "-o", "1000")
    sv, mem = d["serving"], d["memory"]
    assert sv["limited_by"] == "kv-cache"
    assert sv["running"] == mem["max_batch"] < 400
    assert sv["waiting"] == 400 - sv["running"]
    assert any(n.endswith("wait per replica: the KV cache holds no more") for n in d["notes"])


def test_a_long_prompt_is_chunked_by_the_token_budget(capsys):
    common = (*SEVENTY, "--batch", "1", "-i", "8000", "-o", "64", "--token-budget", "2048")
    chunked, _ = run_json(capsys, "estimate", *common, "--chunked-prefill", "on")
    whole, _ = run_json(capsys, "estimate", *common, "--chunked-prefill", "off")
    assert chunked["serving"]["prefill_iterations"] == math.ceil(8000 / 2048)
    assert chunked["serving"]["prefill_tokens_per_iteration"] == pytest.approx(2000)
    assert whole["serving"]["prefill_iterations"] == 1
    assert whole["serving"]["prefill_tokens_per_iteration"] == pytest.approx(8000)
    # chunks pay a pass's fixed costs four times and re-read the cached prefix: never faster
    assert chunked["latency"]["ttft_s"] > whole["latency"]["ttft_s"]
    assert chunked["prefill"]["kv_bytes"] > whole["prefill"]["kv_bytes"]


def test_the_token_budget_stretches_a_cycle_when_prompts_saturate_it(capsys):
    """N(S + T - 1)/budget iterations when the prompts alone exceed the budget over k + T - 1 iterations."""
    d, _ = run_json(capsys, *("estimate", *SEVENTY), "--batch", "256", "-i", "4000", "-o", "16",
                    "--token-budget", "8192")
    sv = d["serving"]
    assert sv["iterations_per_request"] == pytest.approx(256 * (4000 + 15) / 8192)
    assert sv["prefill_tokens_per_iteration"] + sv["decode_requests_per_iteration"] <= 8192 * 1.0001


def test_a_finite_run_of_requests_includes_the_draining_last_wave(capsys):
    base = (*SEVENTY, "--batch", "64", "-i", "1000", "-o", "200")
    run_, _ = run_json(capsys, "estimate", *base, "--num-requests", "1000")
    steady, _ = run_json(capsys, "estimate", *base)
    sv = run_["serving"]
    assert sv["num_requests"] == 1000
    assert run_["throughput"]["requests_per_s"] * sv["total_time_s"] == pytest.approx(1000)
    cycle = steady["serving"]["cycle_time_s"]
    # (1000 - 64)/64 steady cycles and a last one that drains faster than a full cycle
    assert (1000 - 64) / 64 * cycle < sv["total_time_s"] < (1000 / 64) * cycle
    few, _ = run_json(capsys, "estimate", *base, "--num-requests", "10")
    assert few["serving"]["running"] == 10 and few["serving"]["total_time_s"] == few["serving"]["cycle_time_s"]
    code, _, err = run(capsys, "estimate", *base, "--num-requests", "10", "--batching", "static")
    assert code == 2 and "--num-requests" in err and "continuous" in err


def test_static_batching_reproduces_prefill_then_lock_step_decode(capsys):
    d, _ = run_json(capsys, "estimate", *SEVENTY, "--batch", "8", "-i", "1000", "-o", "101", "--batching", "static")
    lat = d["latency"]
    assert lat["e2e_s"] == pytest.approx(lat["ttft_s"] + 100 * lat["tpot_s"])
    assert d["serving"]["queue_wait_s"] == 0 and d["serving"]["running"] == 8


def test_one_output_token_has_no_decode_step_so_no_tpot_or_output_price(capsys):
    d, _ = run_json(capsys, "estimate", *SEVENTY, "-o", "1")
    assert d["latency"]["tpot_s"] is None
    assert d["cost"]["usd_per_million_output_tokens"] is None
    assert d["latency"]["e2e_s"] == pytest.approx(d["latency"]["ttft_s"])
    assert any("one output token: no decode step" in n for n in d["notes"])
    code, out, _ = run(capsys, "estimate", *SEVENTY, "-o", "1", "-f", "table")
    assert code == 0 and "nan" not in out.lower()


# ----------------------------------------------------------------- fixed costs and kernel classes


@pytest.mark.parametrize("engine", ["vllm", "sglang", "trtllm", "ideal"])
def test_kernel_classes_and_fixed_costs_add_up_to_each_phase(capsys, engine):
    d, _ = run_json(capsys, "estimate", "-m", "qwen3-30b-a3b", "-g", "h100", "--gpus", "2", "--batch", "32",
                    "-e", engine)
    for name in ("prefill", "decode"):
        ph = d[name]
        kt, fc = ph["kernel_times"], ph["fixed_costs"]
        time = ph["time_s"] if name == "prefill" else ph["step_time_s"]
        assert sum(kt.values()) == pytest.approx(time, rel=1e-9)
        assert kt["fixed_s"] == pytest.approx(sum(fc.values()), rel=1e-9)
        assert kt["moe_s"] > 0  # a mixture-of-experts model has routed-expert kernels
        if engine == "ideal":
            assert sum(fc.values()) == 0
        else:
            assert fc["kernel_floor_s"] > 0 and fc["collective_latency_s"] > 0


def test_seventy_b_on_eight_gpus_at_batch_one_says_where_the_time_goes(capsys):
    """The issue's question: why is 70B on 8 GPUs slow at batch 1? Fixed costs are a large, named share."""
    d, _ = run_json(capsys, "estimate", *SEVENTY, "--batch", "1")
    dec = d["decode"]
    fc = dec["fixed_costs"]
    assert sum(fc.values()) > 0.2 * dec["step_time_s"]
    # 80 layers x 2 all-reduces a step, each with its small-message latency
    fixed, _ = run_json(capsys, "estimate", *SEVENTY, "--batch", "1", "--collective-latency", "10us")
    assert fixed["decode"]["fixed_costs"]["collective_latency_s"] == pytest.approx(160 * 10e-6)


def test_efficiencies_outside_zero_to_one_are_input_errors(capsys):
    for flag, value in (("--mfu", "1.5"), ("--mbu", "0"), ("--link-efficiency", "-0.2")):
        code, out, err = run(capsys, "estimate", "-m", "llama-3.1-8b", flag, value)
        assert code == 2 and out == "" and err.count("\n") == 1 and flag in err, (flag, err)


def test_fp4_prefill_of_a_long_prompt_is_not_twice_as_fast_as_fp8(capsys):
    """Issue 11's physics check: Llama 3.3 70B's 32k-token prefill on a B200 with FP4 takes at least 0.55x its
    FP8 time: attention does not speed up and FP4 GEMMs run at a lower fraction of a higher peak."""
    common = ("-m", "llama-3.3-70b", "-g", "b200", "--batch", "1", "-i", "32768", "-o", "1")
    fp4, _ = run_json(capsys, "estimate", *common, "-p", "fp4")
    fp8, _ = run_json(capsys, "estimate", *common, "-p", "fp8")
    assert fp4["scenario"]["compute_dtype"] == "fp4" and fp8["scenario"]["compute_dtype"] == "fp8"
    ratio = fp4["latency"]["ttft_s"] / fp8["latency"]["ttft_s"]
    assert 0.55 <= ratio < 1.0
    # FP4 keeps a 16-bit KV cache, so its attention cannot use FP8 attention kernels: no faster than FP8's
    assert fp4["prefill"]["kernel_times"]["attention_s"] >= fp8["prefill"]["kernel_times"]["attention_s"]


def test_every_estimate_carries_the_engines_error_band(capsys):
    d, _ = run_json(capsys, "estimate", *SEVENTY, "--batch", "32")
    band = d["error_band"]
    assert band["n"] >= 3 and 0 < band["p80"] < 1 and band["regime"]
    ideal, _ = run_json(capsys, "estimate", *SEVENTY, "--ideal")
    assert ideal["error_band"] is None  # the roofline was never calibrated against anything


# ----------------------------------------------------------------- memory semantics


def _footprint(fraction_of: str, work_tokens: int) -> Footprint:
    # 80 GB GPU, 20 GB of weights, 1 GB reserve, 1 MB of activations per token in flight
    return Footprint(weights=20e9, kv_per_seq=1e8, live_bytes_per_token=1e6, logit_bytes_per_seq=0.0,
                     input_tokens=1000, workspace_tokens=work_tokens, pp=1, encoder=False, static=False,
                     reserve=1e9, capacity=80e9, fraction=0.9, fraction_of=fraction_of)


def test_the_three_engines_memory_fractions_mean_different_pools():
    # 5000 tokens x 1 MB = 5 GB of activations
    assert _footprint("total", 5000).kv_pool(1) == pytest.approx(0.9 * 80e9 - 20e9 - 5e9 - 1e9)  # vLLM
    assert _footprint("free", 5000).kv_pool(1) == pytest.approx(0.9 * (80e9 - 20e9 - 5e9 - 1e9))  # TensorRT-LLM
    # SGLang: activations and the reserve live in the 8 GB outside the static fraction while they fit ...
    assert _footprint("total_static", 5000).kv_pool(1) == pytest.approx(0.9 * 80e9 - 20e9)
    # ... and shrink the pool by what does not: 10 GB + 1 GB against 8 GB
    assert _footprint("total_static", 10000).kv_pool(1) == pytest.approx(0.9 * 80e9 - 20e9 - 3e9)


def test_engine_profiles_carry_their_memory_semantics_to_the_report(capsys):
    pools = {}
    for engine in ("vllm", "trtllm", "sglang"):
        d, _ = run_json(capsys, "estimate", "-m", "llama-3.1-8b", "-g", "h100", "-e", engine,
                        "--memory-fraction", "0.9", "--batch", "1")
        m = d["memory"]
        pools[engine] = m["kv_pool_bytes_per_gpu"]
        if engine == "vllm":
            assert m["usable_bytes_per_gpu"] == pytest.approx(0.9 * m["capacity_bytes_per_gpu"])
            assert m["kv_pool_bytes_per_gpu"] == pytest.approx(
                m["usable_bytes_per_gpu"] - m["weights_bytes_per_gpu"] - m["activation_bytes_per_gpu"]
                - m["reserve_bytes_per_gpu"])
        if engine == "trtllm":
            assert m["kv_pool_bytes_per_gpu"] == pytest.approx(0.9 * (
                m["capacity_bytes_per_gpu"] - m["weights_bytes_per_gpu"] - m["activation_bytes_per_gpu"]
                - m["reserve_bytes_per_gpu"]))
    assert len(set(round(p) for p in pools.values())) == 3


# ----------------------------------------------------------------- layouts


def test_attention_data_parallelism_holds_mla_caches_once_per_rank(capsys):
    """DeepSeek-V3's MLA latent cache is not split by tensor parallelism: every rank of a TP-8 group holds every
    sequence's latent. With attention data parallelism (--tp 1 --dp 8 --ep 8) each rank holds its own
    sequences only, so eight H200s hold several times more sequences and serve more tokens per second."""
    tp8, _ = run_json(capsys, "estimate", "-m", "deepseek-v3", "-g", "h200", "--tp", "8", "--ep", "8", "-b", "max")
    dp8, _ = run_json(capsys, "estimate", "-m", "deepseek-v3", "-g", "h200", "--tp", "1", "--dp", "8", "--ep", "8",
                      "-b", "max")
    assert tp8["memory"]["kv_bytes_per_sequence"] == dp8["memory"]["kv_bytes_per_sequence"]
    held_tp8 = tp8["memory"]["max_batch"]  # one replica of 8 GPUs
    held_dp8 = 8 * dp8["memory"]["max_batch"]  # eight ranks
    assert held_dp8 > 4 * held_tp8
    assert dp8["throughput"]["output_tokens_per_s"] > tp8["throughput"]["output_tokens_per_s"]
    # attention weights are replicated on every rank: more weight bytes per GPU than TP-8
    assert dp8["memory"]["weights_bytes_per_gpu"] > tp8["memory"]["weights_bytes_per_gpu"]


@pytest.mark.parametrize(("argv", "needle"), [
    (("-m", "deepseek-v3", "--tp", "1", "--dp", "4", "--ep", "8"), "give --dp 8 or more (--gpus 8)"),
    (("-m", "llama-3.1-70b", "--tp", "1", "--dp", "4", "--ep", "4"), "needs a mixture-of-experts model"),
    (("-m", "deepseek-v3", "--tp", "2", "--dp", "4", "--ep", "6"), "does not divide the 256 experts"),
    (("-m", "deepseek-v3", "--tp", "2", "--dp", "4", "--ep", "3"), "does not divide the 256 experts"),
    (("-m", "deepseek-v3", "--tp", "4", "--dp", "4", "--ep", "8", "--pp", "2"), "pp must be 1"),
])
def test_impossible_expert_layouts_name_the_rule(capsys, argv, needle):
    code, out, err = run(capsys, "estimate", "-g", "h200", *argv)
    assert code == 2 and out == "" and needle in err and err.count("\n") == 1


def test_a_gpu_count_alone_picks_the_widest_tensor_group_that_divides_the_heads(capsys):
    # 28 heads (Qwen2.5-7B): TP 4 divides them, TP 8 does not; 8 GPUs become two replicas of TP 4
    d, err = run_json(capsys, "estimate", "-m", "qwen2.5-7b", "-g", "h100", "--gpus", "8")
    s = d["scenario"]
    assert (s["tp"], s["pp"], s["dp"]) == (4, 1, 2)
    assert any(n.startswith("layout: 8 GPUs as --tp 4 --dp 2") for n in d["notes"])
    # a fleet: 100,000 GPUs are replicas of a scale-up domain, never TP 100,000
    d, _ = run_json(capsys, "estimate", "-m", "llama-3.1-70b", "-g", "h100", "--gpus", "100000")
    assert (d["scenario"]["tp"], d["scenario"]["dp"]) == (8, 12500)
    # a model one domain cannot hold gets pipeline stages
    d, _ = run_json(capsys, "estimate", "-m", "llama-3.1-405b", "-g", "a100-80gb", "--gpus", "16")
    assert (d["scenario"]["tp"], d["scenario"]["pp"]) == (8, 2)


def test_a_model_that_does_not_fit_names_the_smallest_layout_that_does(capsys):
    d, _ = run_json(capsys, "estimate", "-m", "llama-3.1-70b", "-g", "h100", "--tp", "1")
    m = d["memory"]
    assert m["fits"] is False
    assert (m["min_gpus"], m["min_gpus_layout"]) == (2, "--tp 2")
    assert any("the smallest replica that fits is 2 GPUs (--tp 2)" in n for n in d["notes"])


# ----------------------------------------------------------------- precision and checkpoints


def test_four_bit_precisions_keep_a_sixteen_bit_kv_cache_and_eight_bit_ones_follow(capsys):
    for precision, kv in (("fp4", "bf16"), ("int4", "bf16"), ("fp8", "fp8"), ("bf16", "bf16")):
        d, _ = run_json(capsys, "estimate", "-m", "llama-3.1-8b", "-g", "b200", "-p", precision)
        assert d["scenario"]["kv_dtype"] == kv, precision


def test_modelopt_fp4_checkpoint_bytes_follow_its_per_module_formats(capsys):
    """nvidia/Llama-3.3-70B-Instruct-FP4: NVFP4 (4 bits + an FP8 scale per 16 = 0.5625 B) in every decoder
    linear layer, BF16 embedding and LM head, FP8 KV cache."""
    d, _ = run_json(capsys, "estimate", "-m", "llama-3.3-70b", "-g", "b200", "-q", "modelopt-fp4")
    s = d["scenario"]
    assert (s["weights_dtype"], s["head_weights_dtype"], s["kv_dtype"], s["compute_dtype"]) == (
        "nvfp4", "bf16", "fp8", "fp4")
    layer = 8192 * (8192 + 2 * 1024 + 8192) + 3 * 8192 * 28672  # q, k, v, o and the gated FFN
    embedding = 128256 * 8192
    expected = 80 * layer * 0.5625 + 2 * embedding * 2.0
    assert d["memory"]["weights_bytes_per_gpu"] == pytest.approx(expected, rel=1e-4)


def test_gpt_oss_120b_in_its_native_mxfp4_fits_one_80_gb_gpu(capsys):
    """openai/gpt-oss README: 117B parameters that fit one 80 GB GPU, because the MoE weights are MXFP4 while
    attention and the embeddings stay BF16. In BF16 throughout it does not."""
    d, _ = run_json(capsys, "estimate", "-m", "gpt-oss-120b", "-g", "h100")
    s, m = d["scenario"], d["memory"]
    assert s["expert_weights_dtype"] == "mxfp4" and s["attention_weights_dtype"] == "bf16"
    assert m["fits"] and 116.8e9 * 0.53125 < m["weights_bytes_per_gpu"] < 80e9
    bf16, _ = run_json(capsys, "estimate", "-m", "gpt-oss-120b", "-g", "h100", "-p", "bf16")
    assert not bf16["memory"]["fits"] and bf16["memory"]["weights_bytes_per_gpu"] > 2 * 116e9


def test_deepseek_v3_mtp_layer_matches_its_published_size():
    """DeepSeek-V3 README: 685B on Hugging Face = 671B main model + 14B MTP module. The MTP module's own copies
    of the embedding and output head are in the 14B; engines share the main model's, so inferwall holds the rest."""
    m = load_catalog().model("deepseek-v3").model
    assert m.mtp_layers == 1
    assert arch.total_params(m) == pytest.approx(671e9, rel=0.005)
    with_copies = arch.mtp_params(m) + arch.embedding_params(m) + arch.lm_head_params(m)
    assert with_copies == pytest.approx(14e9, rel=0.05)


# ----------------------------------------------------------------- attention masks


def test_chunked_attention_spans_match_a_brute_force_sum():
    for first, last, chunk in ((1, 100, 8), (5, 37, 8), (8190, 20000, 8192), (1, 8192, 8192), (3, 3, 4)):
        brute = sum(((c - 1) % chunk) + 1 for c in range(first, last + 1)) / (last - first + 1)
        assert arch.mean_chunked(first, last, chunk) == pytest.approx(brute)


def test_llama_4_chunked_layers_attend_within_their_chunk():
    """Llama 4 Scout: 3 of every 4 layers attend within 8192-token chunks, so at a 100k context they attend
    to far fewer keys than the full-attention layers, but hold at most a chunk each in the KV cache."""
    m = load_catalog().model("llama-4-scout").model
    assert (m.window_kind, m.window, m.window_layers, m.num_layers) == ("chunked", 8192, 36, 48)
    attended = arch.attended_tokens(m, 100_000, 100_000)
    brute_local = ((100_000 - 1) % 8192) + 1
    assert attended == pytest.approx(12 * 100_000 + 36 * brute_local)
    assert arch.cached_tokens(m, 100_000) == 12 * 100_000 + 36 * 8192


def test_energy_follows_the_serving_cycle(capsys):
    """Joules per token are charged like dollars, over the cycle's requests: running requests share an iteration,
    waiting ones draw nothing, and speculative decoding's saved iterations save energy."""
    base = (*SEVENTY, "--batch", "64")
    d, _ = run_json(capsys, "estimate", *base)
    waiting, _ = run_json(capsys, "estimate", *SEVENTY, "--batch", "256", "--max-running-requests", "64")
    assert waiting["serving"]["running"] == 64
    # the same 64 requests run; the 192 waiting ones add no energy per token
    assert waiting["energy"]["joules_per_output_token"] == pytest.approx(d["energy"]["joules_per_output_token"])
    e, sv, lat = d["energy"], d["serving"], d["latency"]
    gpus = d["scenario"]["gpus"]
    decode_j = e["decode_power_w_per_gpu"] * gpus * (sv["cycle_time_s"] - sv["prefill_busy_s"])
    assert e["joules_per_output_token"] == pytest.approx(decode_j / (64 * 256))
    spec, _ = run_json(capsys, "estimate", *base, "--speculative", "1", "--acceptance", "0.8")
    assert spec["latency"]["tpot_s"] < lat["tpot_s"]
    assert spec["energy"]["joules_per_output_token"] < e["joules_per_output_token"]
