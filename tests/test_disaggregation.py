"""Disaggregated prefill and decode (issue 12): pools, KV transfer, the ratio that balances them, plan --disaggregate."""

from __future__ import annotations

import json

import pytest

from cli_helpers import run, run_json

L70 = ["-m", "llama-3.1-70b", "--gpu", "h100"]


def test_gpus_split_evenly_over_the_instances(capsys):
    r, err = run_json(capsys, "estimate", *L70, "--gpus", "16", "--disaggregate", "1P1D", "--batch", "64")
    d = r["disaggregation"]
    assert (d["prefill_instances"], d["decode_instances"]) == (1, 1)
    assert d["prefill_gpus_per_instance"] == d["decode_gpus_per_instance"] == 8 and d["gpus"] == 16
    assert r["scenario"]["gpus"] == 16 and r["scenario"]["disaggregation"] == "1P1D"
    assert r["cost"]["usd_per_hour"] == pytest.approx(16 * r["scenario"]["price_usd_per_gpu_hour"])
    assert "disaggregated:" in err
    r, _ = run_json(capsys, "estimate", *L70, "--gpus", "24", "--tp", "4", "--disaggregate", "1P2D", "--batch", "32")
    d = r["disaggregation"]
    assert d["prefill_layout"] == d["decode_layout"] == "--tp 4 --dp 2" and d["gpus"] == 24


def test_the_long_form_gives_each_pool_its_own_layout(capsys):
    r, _ = run_json(capsys, "estimate", *L70, "--prefill-gpus", "16:tp4", "--decode-gpus", "8:tp8", "--batch", "64")
    d = r["disaggregation"]
    assert (d["prefill_instances"], d["prefill_layout"]) == (4, "--tp 4")
    assert (d["decode_instances"], d["decode_layout"]) == (1, "--tp 8")
    assert d["gpus"] == 24 and r["scenario"]["tp"] == 8


def test_kv_transfer_time_is_bytes_over_link_bandwidth(capsys):
    base = ["estimate", "-m", "llama-3.1-8b", "--gpu", "h100", "--gpus", "4", "--disaggregate", "1P1D", "--batch", "16"]
    r, _ = run_json(capsys, *base)
    d = r["disaggregation"]
    # 1024 prompt tokens x 32 layers x 8 KV heads x 128 x (K and V) x 2 bytes, once
    assert d["kv_transfer_bytes"] == 1024 * 32 * 8 * 128 * 2 * 2
    assert d["kv_transfer_link"] == "scale-up"  # 2 + 2 GPUs inside the 8-GPU NVLink domain
    latency = r["scenario"]["collective_latency_s"]
    assert d["kv_transfer_s"] == pytest.approx(d["kv_transfer_bytes"] / d["kv_transfer_bytes_per_s"] + latency)
    slow, _ = run_json(capsys, *base, "--link-bandwidth", "225GB/s")  # half of the H100's 450 GB/s
    s = slow["disaggregation"]
    assert s["kv_transfer_bytes_per_s"] == pytest.approx(d["kv_transfer_bytes_per_s"] / 2)
    assert s["kv_transfer_s"] - latency == pytest.approx(2 * (d["kv_transfer_s"] - latency))
    longer, _ = run_json(capsys, *base, "-i", "2048")
    assert longer["disaggregation"]["kv_transfer_bytes"] == 2 * d["kv_transfer_bytes"]
    assert longer["disaggregation"]["kv_transfer_s"] - latency == pytest.approx(2 * (d["kv_transfer_s"] - latency))


def test_across_the_scale_up_domain_the_transfer_uses_the_scale_out_network(capsys):
    r, _ = run_json(capsys, "estimate", *L70, "--gpus", "16", "--disaggregate", "1P1D", "--batch", "64")
    d = r["disaggregation"]
    assert d["kv_transfer_link"] == "scale-out"  # 8 + 8 GPUs do not fit one 8-GPU domain
    inside, _ = run_json(capsys, "estimate", *L70, "--gpus", "8", "--disaggregate", "1P1D", "--batch", "16")
    assert inside["disaggregation"]["kv_transfer_link"] == "scale-up"
    assert inside["disaggregation"]["kv_transfer_bytes"] == d["kv_transfer_bytes"]
    assert inside["disaggregation"]["kv_transfer_bytes_per_s"] != d["kv_transfer_bytes_per_s"]


def test_disaggregated_ttft_never_includes_decode_interference(capsys):
    args = ["--gpus", "24", "--batch", "64", "-i", "4096", "-o", "512"]
    dis, _ = run_json(capsys, "estimate", *L70, *args, "--disaggregate", "2P1D")
    d = dis["disaggregation"]
    # the prefill pool's first token is a prefill-only engine's: the same instance estimated with no decode phase
    alone, _ = run_json(capsys, "estimate", *L70, "--gpus", "8", "-i", "4096", "-o", "1",
                        "--batch", int(d["prefill_running"]))
    assert d["prefill_ttft_s"] == pytest.approx(alone["latency"]["ttft_s"], rel=1e-12)
    assert dis["prefill"]["flops"] == pytest.approx(alone["prefill"]["flops"], rel=1e-12)
    assert dis["latency"]["ttft_s"] == pytest.approx(d["prefill_ttft_s"] + d["kv_transfer_s"], rel=1e-12)
    # longer generations load the decode pool, not the prefill iterations
    longer, _ = run_json(capsys, "estimate", *L70, "--gpus", "24", "--batch", "64", "-i", "4096", "-o", "2048",
                         "--disaggregate", "2P1D")
    assert longer["disaggregation"]["prefill_ttft_s"] <= d["prefill_ttft_s"] * (1 + 1e-12)
    # aggregated, the same prompt shares its iterations with 63 decoding requests
    agg, _ = run_json(capsys, "estimate", *L70, "--gpus", "8", "--batch", "64", "-i", "4096", "-o", "512")
    assert agg["latency"]["ttft_s"] > d["prefill_ttft_s"]


def test_the_decode_pool_runs_decode_only_iterations(capsys):
    dis, _ = run_json(capsys, "estimate", *L70, "--gpus", "24", "--batch", "32", "--disaggregate", "2P1D")
    static, _ = run_json(capsys, "estimate", *L70, "--gpus", "8", "--batch", "32", "--batching", "static")
    # a decode-only iteration of 32 requests is the lock-step decode step of a batch of 32 (same host costs aside)
    assert dis["decode"]["flops"] == pytest.approx(static["decode"]["flops"], rel=1e-12)
    assert dis["serving"]["mixed_iteration_share"] == 0


def test_the_pool_that_binds_and_the_ratio_that_balances(capsys):
    args = ["--batch", "64", "-i", "4096", "-o", "256"]
    short, _ = run_json(capsys, "estimate", *L70, "--gpus", "32", "--disaggregate", "1P3D", *args)
    many, _ = run_json(capsys, "estimate", *L70, "--gpus", "32", "--disaggregate", "3P1D", *args)
    assert short["disaggregation"]["limited_by"] == "prefill"
    assert many["disaggregation"]["limited_by"] == "decode"
    for r in (short, many):
        d = r["disaggregation"]
        per_decode = d["decode_requests_per_s"] / d["decode_instances"]
        per_prefill = d["prefill_requests_per_s"] / d["prefill_instances"]
        assert d["balanced_prefill_per_decode"] == pytest.approx(per_decode / per_prefill, rel=0.02)
        assert r["throughput"]["requests_per_s"] == pytest.approx(
            min(d["decode_requests_per_s"], d["prefill_requests_per_s"]), rel=0.02)
    # an underfed decode pool runs fewer requests, so its iterations are shorter
    assert short["disaggregation"]["decode_running"] < 64
    assert short["latency"]["tpot_s"] < many["latency"]["tpot_s"]
    # the prefill pool's cost goes to input tokens, the decode pool's to output tokens
    c, price = many["cost"], many["scenario"]["price_usd_per_gpu_hour"]
    rate = many["throughput"]["requests_per_s"]
    assert c["usd_per_million_input_tokens"] == pytest.approx(3 * 8 * price / 3600 / (rate * 4096) * 1e6)
    assert c["usd_per_million_output_tokens"] == pytest.approx(1 * 8 * price / 3600 / (rate * 256) * 1e6)


@pytest.mark.parametrize("args, needle", [
    (["--gpus", "3", "--disaggregate", "1P1D"], "valid: a multiple of 2"),
    (["--disaggregate", "0P1D"], "xPyD with x, y >= 1"),
    (["--disaggregate", "prefill"], "xPyD"),
    (["--prefill-gpus", "8"], "go together"),
    (["--prefill-gpus", "8:tp3", "--decode-gpus", "8"], "valid: a multiple of 3"),
    (["--prefill-gpus", "8:xx8", "--decode-gpus", "8"], "tpN, ppN, dpN, epN"),
    (["--disaggregate", "1P1D", "--prefill-gpus", "8", "--decode-gpus", "8"], "not both"),
    (["--prefill-gpus", "1", "--decode-gpus", "8:tp8"], "the prefill instance"),
    (["--prefill-gpus", "8:tp8", "--decode-gpus", "1"], "the decode instance"),
    (["--gpus", "16", "--disaggregate", "1P1D", "-o", "1"], "output tokens >= 2"),
])
def test_bad_disaggregation_input_is_one_line_and_exit_2(capsys, args, needle):
    code, out, err = run(capsys, "estimate", *L70, *args)
    assert code == 2 and out == "" and err.count("\n") == 1 and needle in err, err


def test_a_pool_that_cannot_hold_the_model_names_the_smallest_that_can(capsys):
    code, _, err = run(capsys, "estimate", *L70, "--prefill-gpus", "1", "--decode-gpus", "8:tp8")
    assert code == 2 and "cannot hold llama-3.1-70b" in err and "valid: an instance of at least 2 GPUs" in err


# --------------------------------------------------------------------------- plan --disaggregate


PLAN = ["plan", "-m", "llama-3.1-70b", "--requests-per-s", "10", "-i", "4096", "-o", "512", "--max-ttft", "2s",
        "--max-tpot", "50ms", "--gpus-from", "h100"]


def test_plan_searches_both_modes_and_says_which_wins(capsys):
    code, out, err = run(capsys, *PLAN, "--disaggregate", "--top", "20", "-f", "json")
    assert code == 0, err
    rows = json.loads(out)
    modes = {r["mode"] for r in rows}
    assert modes == {"aggregated", "disaggregated"}
    best = {m: min(r["usd_per_hour"] for r in rows if r["mode"] == m) for m in modes}
    winner = min(best, key=best.get)
    assert rows[0]["mode"] == winner
    assert f"{winner.capitalize()} wins at these objectives" in err
    for r in rows:
        assert r["ttft_s"] <= 2.0 and r["tpot_s"] <= 0.05 and r["requests_per_s"] >= 10 * (1 - 1e-9)
        if r["mode"] == "disaggregated":
            assert r["gpus"] == (r["prefill_instances"] * _gpus(r["prefill_layout"])
                                 + r["decode_instances"] * _gpus(r["decode_layout"]))
    # the aggregated rows are the plan without --disaggregate
    code, out, _ = run(capsys, *PLAN, "--top", "20", "-f", "json")
    plain = json.loads(out)
    assert min(r["usd_per_hour"] for r in plain) == best["aggregated"]


def _gpus(layout: str) -> int:
    words = layout.split()
    n = 1
    for flag, value in zip(words[::2], words[1::2]):
        if flag in ("--tp", "--pp", "--dp"):
            n *= int(value)
    return n


def test_plan_disaggregated_rows_are_their_own_estimates(capsys):
    code, out, _ = run(capsys, *PLAN, "--disaggregate", "--top", "20", "-f", "json")
    row = next(r for r in json.loads(out) if r["mode"] == "disaggregated")
    prefill = f"{row['prefill_instances'] * _gpus(row['prefill_layout'])}:" + _layout(row["prefill_layout"])
    decode = f"{row['decode_instances'] * _gpus(row['decode_layout'])}:" + _layout(row["decode_layout"])
    r, _ = run_json(capsys, "estimate", "-m", "llama-3.1-70b", "--gpu", "h100", "-i", "4096", "-o", "512",
                    "--precision", row["precision"], "--prefill-gpus", prefill, "--decode-gpus", decode,
                    "--batch", row["batch"])
    assert r["latency"]["tpot_s"] == pytest.approx(row["tpot_s"], rel=1e-9)
    assert r["latency"]["ttft_s"] == pytest.approx(row["ttft_s"], rel=1e-9)
    assert r["cost"]["usd_per_hour"] == pytest.approx(row["usd_per_hour"], rel=1e-9)


def _layout(text: str) -> str:
    words = text.split()
    return "".join(f"{flag[2:]}{value}" for flag, value in zip(words[::2], words[1::2]))


def test_plan_disaggregate_does_not_combine_with_pareto(capsys):
    code, _, err = run(capsys, *PLAN, "--disaggregate", "--pareto")
    assert code == 2 and "--pareto" in err
