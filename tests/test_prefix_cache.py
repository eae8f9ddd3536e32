"""Prefix caching and KV offload (issue 12): what a hit saves, what cached input tokens cost, when offload pays."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cli_helpers import run, run_json
from inferwall.catalog import load_catalog
from inferwall.core import estimate
from inferwall.inputs import Options, build

MODEL = ["-m", "llama-3.1-70b", "--gpus", "8", "--batch", "32", "-i", "4096"]


@pytest.mark.parametrize("batching", ["continuous", "static"])
def test_a_full_hit_leaves_only_decode_cost_and_the_cached_input_price(capsys, batching):
    r, _ = run_json(capsys, "estimate", *MODEL, "--batching", batching, "--prefix-hit", "1")
    c, w = r["cost"], r["scenario"]
    assert c["usd_per_million_input_tokens"] is None  # no input token misses the cache
    assert c["usd_per_million_cached_input_tokens"] > 0
    total = c["usd_per_million_tokens_blended"] * (w["input_tokens"] + w["output_tokens"])
    parts = c["usd_per_million_output_tokens"] * w["output_tokens"] + \
        c["usd_per_million_cached_input_tokens"] * w["input_tokens"]
    assert total == pytest.approx(parts, rel=1e-9)
    none, _ = run_json(capsys, "estimate", *MODEL, "--batching", batching)
    # the output price is the decode share: a hit does not change it
    assert c["usd_per_million_output_tokens"] == pytest.approx(none["cost"]["usd_per_million_output_tokens"], rel=1e-6)
    assert r["prefix_cache"]["prefilled_tokens"] == 1  # the last prompt token is computed for its logits
    # continuous batching: the prefill iterations still carry the other requests' decodes
    assert r["prefill"]["flops"] < none["prefill"]["flops"] / (1000 if batching == "static" else 20)


def test_a_hit_cuts_prefill_work_and_time_but_not_what_decode_reads(capsys):
    none, _ = run_json(capsys, "estimate", *MODEL, "--batching", "static")
    half, _ = run_json(capsys, "estimate", *MODEL, "--batching", "static", "--prefix-hit", "0.5")
    assert half["prefill"]["flops"] < 0.6 * none["prefill"]["flops"]
    assert half["latency"]["ttft_s"] < 0.6 * none["latency"]["ttft_s"]
    # the computed half still reads the cached half as KV
    assert half["prefill"]["kv_bytes"] > 0.5 * none["prefill"]["kv_bytes"]
    # decode attends over the whole context either way, and each request holds its whole prompt's KV
    assert half["decode"]["step_time_s"] == none["decode"]["step_time_s"]
    assert half["memory"]["kv_bytes_per_sequence"] == none["memory"]["kv_bytes_per_sequence"]
    assert half["prefix_cache"]["cached_tokens"] == 2048 and half["prefix_cache"]["prefilled_tokens"] == 2048


def test_cached_input_tokens_cost_less_than_missed_ones(capsys):
    r, _ = run_json(capsys, "estimate", *MODEL, "--prefix-hit", "0.5")
    c = r["cost"]
    assert 0 < c["usd_per_million_cached_input_tokens"] < c["usd_per_million_input_tokens"] / 5
    # DeepSeek's API (shared/validation api_prices) bills a hit at 0.26 of a miss; the GPU time of a hit is smaller
    # still, since a hit only reads KV


@settings(max_examples=20, deadline=None)
@given(a=st.floats(0.0, 1.0, allow_subnormal=False), b=st.floats(0.0, 1.0, allow_subnormal=False))
def test_more_hits_never_cost_more_prefill(a, b):
    lo, hi = sorted((a, b))
    cat = load_catalog()

    def est(hit):
        return estimate(build(Options(model="llama-3.1-8b", batch="16", input_tokens="2048", prefix_hit=hit),
                              cat).scenario)

    e_lo, e_hi = est(lo), est(hi)
    assert e_hi.prefill.flops <= e_lo.prefill.flops * (1 + 1e-9)
    assert e_hi.latency.ttft_s <= e_lo.latency.ttft_s * (1 + 1e-9)
    assert e_hi.cost.usd_per_million_tokens_blended <= e_lo.cost.usd_per_million_tokens_blended * (1 + 1e-9)


# --------------------------------------------------------------------------- KV offload


def test_offload_read_back_is_cached_kv_over_the_link(capsys):
    r, _ = run_json(capsys, "estimate", *MODEL, "--prefix-hit", "0.5", "--kv-offload", "host:512GiB@25GB/s")
    off = r["kv_offload"]
    assert off["tier"] == "host" and off["capacity_bytes_per_gpu"] == 512 * 2**30
    assert off["bandwidth_bytes_per_s_per_gpu"] == 25e9
    # 2048 cached tokens x 80 layers x 8 KV heads / tp 8 x 128 x (K and V) x 2 bytes, on one GPU
    assert off["load_bytes_per_gpu"] == pytest.approx(2048 * 80 * 1 * 128 * 2 * 2)
    assert off["load_s"] == pytest.approx(off["load_bytes_per_gpu"] / 25e9)
    plain, _ = run_json(capsys, "estimate", *MODEL, "--prefix-hit", "0.5")
    assert r["latency"]["ttft_s"] == pytest.approx(plain["latency"]["ttft_s"] + off["load_s"])
    assert r["throughput"] == plain["throughput"]  # the link does the loading, not the GPUs
    assert off["capacity_tokens"] == pytest.approx(512 * 2**30 / (80 * 128 * 2 * 2))


def test_a_static_batch_loads_every_prompts_hit_before_its_prefill(capsys):
    r, _ = run_json(capsys, "estimate", *MODEL, "--batching", "static", "--prefix-hit", "0.5", "--kv-offload", "host")
    off = r["kv_offload"]
    assert off["load_s"] == pytest.approx(32 * off["load_bytes_per_gpu"] / off["bandwidth_bytes_per_s_per_gpu"])
    assert off["breakeven_bytes_per_s"] == pytest.approx(32 * off["load_bytes_per_gpu"] / off["recompute_s"])


def test_offload_pays_when_the_link_beats_recomputing(capsys):
    fast, _ = run_json(capsys, "estimate", *MODEL, "--prefix-hit", "0.5", "--kv-offload", "host")
    off = fast["kv_offload"]
    assert off["recompute_s"] > 0 and off["breakeven_bytes_per_s"] == pytest.approx(
        off["load_bytes_per_gpu"] / off["recompute_s"])
    slow_bw = off["breakeven_bytes_per_s"] / 2
    quick_bw = off["breakeven_bytes_per_s"] * 2
    slow, _ = run_json(capsys, "estimate", *MODEL, "--prefix-hit", "0.5", "--kv-offload", f"ssd@{slow_bw:.6g}")
    quick, _ = run_json(capsys, "estimate", *MODEL, "--prefix-hit", "0.5", "--kv-offload", f"ssd@{quick_bw:.6g}")
    assert slow["kv_offload"]["pays"] is False and slow["kv_offload"]["load_s"] > slow["kv_offload"]["recompute_s"]
    assert quick["kv_offload"]["pays"] is True and quick["kv_offload"]["load_s"] < quick["kv_offload"]["recompute_s"]


def test_offload_tier_defaults_come_from_the_spec_with_their_sources(capsys):
    host, _ = run_json(capsys, "estimate", *MODEL, "--prefix-hit", "0.3", "--kv-offload", "host")
    ssd, _ = run_json(capsys, "estimate", *MODEL, "--prefix-hit", "0.3", "--kv-offload", "ssd")
    assert host["kv_offload"]["bandwidth_bytes_per_s_per_gpu"] > ssd["kv_offload"]["bandwidth_bytes_per_s_per_gpu"]
    assert ssd["kv_offload"]["capacity_bytes_per_gpu"] > host["kv_offload"]["capacity_bytes_per_gpu"]
    assert "DGX H100 datasheet" in host["sources"]["kv_offload_tier"]


def test_offload_without_a_hit_rate_says_what_it_needs(capsys):
    r, err = run_json(capsys, "estimate", "-m", "llama-3.1-8b", "--kv-offload", "host")
    assert r["kv_offload"]["load_s"] == 0 and "give --prefix-hit" in err


@pytest.mark.parametrize("args, needle", [
    (["--prefix-hit", "1.5"], "outside [0, 1]"),
    (["--prefix-hit", "-0.2"], "outside [0, 1]"),
    (["--prefix-hit", "120%"], "outside [0, 1]"),
    (["--kv-offload", "tape"], "valid: host, ssd"),
    (["--kv-offload", "host:lots"], "--kv-offload capacity"),
    (["--kv-offload", "host@fast"], "--kv-offload bandwidth"),
])
def test_bad_prefix_input_is_one_line_and_exit_2(capsys, args, needle):
    code, out, err = run(capsys, "estimate", "-m", "llama-3.1-8b", *args)
    assert code == 2 and out == "" and err.count("\n") == 1 and needle in err
