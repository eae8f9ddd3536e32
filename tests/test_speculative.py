"""Speculative decoding and MTP (issue 12): tokens per verification step, what a step costs, when it pays."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cli_helpers import run, run_json
from inferwall.catalog import load_catalog
from inferwall.core import estimate
from inferwall.core.passes import PassWork, pass_cost
from inferwall.core.speculative import breakeven_batch, verification
from inferwall.core.types import Speculation
from inferwall.inputs import Options, build


def scenario(**flags):
    return build(Options(**flags), load_catalog()).scenario


# --------------------------------------------------------------------------- tokens per step


@given(k=st.integers(1, 16), a=st.floats(0.0, 0.999999))
def test_tokens_per_step_is_the_geometric_series(k, a):
    expected = sum(a ** i for i in range(k + 1))  # 1 + A + ... + A^K: the bonus token plus the accepted drafts
    assert Speculation(draft_tokens=k, acceptance=a).tokens_per_step == pytest.approx(expected, rel=1e-9)


@given(k=st.integers(1, 16))
def test_tokens_per_step_reaches_k_plus_1_at_full_acceptance_and_1_at_none(k):
    assert Speculation(draft_tokens=k, acceptance=1.0).tokens_per_step == k + 1
    assert Speculation(draft_tokens=k, acceptance=0.0).tokens_per_step == 1
    assert Speculation(draft_tokens=k, acceptance=1 - 1e-9).tokens_per_step == pytest.approx(k + 1, rel=1e-6)


@given(k=st.integers(1, 8), a=st.floats(0.0, 0.98), b=st.floats(0.0, 0.98))
def test_more_acceptance_never_yields_fewer_tokens(k, a, b):
    lo, hi = sorted((a, b))
    assert (Speculation(draft_tokens=k, acceptance=lo).tokens_per_step
            <= Speculation(draft_tokens=k, acceptance=hi).tokens_per_step + 1e-12)


def test_accepted_length_is_used_directly(capsys):
    r, _ = run_json(capsys, "estimate", "-m", "llama-3.1-8b", "--speculative", "3", "--accepted-length", "2.5")
    assert r["speculative"]["tokens_per_step"] == 2.5 and r["speculative"]["acceptance"] is None
    step = r["speculative"]["step_time_s"]
    # static-free check on the decode-only iteration: TPOT is an iteration over the tokens it yields
    assert r["latency"]["tpot_s"] == pytest.approx(r["decode"]["step_time_s"] / 2.5, rel=1e-9)
    assert step > 0


# --------------------------------------------------------------------------- the checks of the issue


@pytest.mark.parametrize("model", [["-m", "llama-3.1-8b"], ["-m", "llama-3.1-70b", "--gpus", "8"],
                                   ["-m", "deepseek-v3", "--gpu", "h200", "--gpus", "8"],
                                   ["-m", "mixtral-8x7b", "--gpus", "2"]])
@pytest.mark.parametrize("k", [1, 3])
def test_acceptance_zero_costs_more_than_none(capsys, model, k):
    base, _ = run_json(capsys, "estimate", *model, "--batch", "8")
    spec, _ = run_json(capsys, "estimate", *model, "--batch", "8", "--speculative", k, "--acceptance", "0")
    assert spec["speculative"]["tokens_per_step"] == 1
    assert spec["latency"]["tpot_s"] > base["latency"]["tpot_s"]
    assert spec["cost"]["usd_per_million_output_tokens"] > base["cost"]["usd_per_million_output_tokens"]
    assert spec["throughput"]["output_tokens_per_s"] < base["throughput"]["output_tokens_per_s"]
    assert spec["speculative"]["pays"] is False and spec["speculative"]["breakeven_batch"] == 1


@pytest.mark.parametrize("k", [1, 2, 4])
def test_acceptance_one_reaches_k_plus_1_tokens_per_step_while_memory_bound(capsys, k):
    base, _ = run_json(capsys, "estimate", "-m", "llama-3.1-70b", "--gpus", "8")
    r, _ = run_json(capsys, "estimate", "-m", "llama-3.1-70b", "--gpus", "8", "--speculative", k, "--acceptance", "1")
    sp = r["speculative"]
    assert sp["tokens_per_step"] == k + 1
    assert r["decode"]["bound"] == "memory"
    # memory-bound: K + 1 query tokens read the same weights and KV as one, so the verification costs about a step
    assert sp["verify_time_s"] == pytest.approx(sp["plain_step_time_s"], rel=0.01)
    # each of the K + 1 tokens costs an iteration / (K + 1)
    assert r["latency"]["tpot_s"] == pytest.approx((sp["verify_time_s"] + sp["draft_time_s"]) / (k + 1), rel=1e-6)
    speedup = base["latency"]["tpot_s"] / r["latency"]["tpot_s"]
    assert speedup == pytest.approx((k + 1) * sp["plain_step_time_s"] / sp["step_time_s"], rel=0.02)
    assert speedup > 0.9 * (k + 1)


def test_verification_carries_k_plus_1_query_tokens():
    s = scenario(model="llama-3.1-8b", batching="static", batch="4")
    k = 3
    spec = replace(s, speculative=Speculation(draft_tokens=k, acceptance=0.5))
    attended = 1100.0 * 32
    plain = PassWork(tokens=4, logit_rows=4, decode_seqs=4, decode_attended=4 * attended, requests=4)
    one = pass_cost(s, plain)
    verify = pass_cost(spec, verification(spec, plain))
    assert verify.flops == pytest.approx((k + 1) * one.flops, rel=1e-12)  # every matmul row and query, K + 1 times
    assert verify.weight_bytes == pytest.approx(one.weight_bytes, rel=1e-12)  # the weights are read once
    layers = s.model.num_layers
    per_token = one.kv_bytes / (4 * attended + 4 * layers)
    # the keys are read once per sequence; the KV of all K + 1 tokens is written
    assert verify.kv_bytes == pytest.approx(per_token * (4 * attended + 4 * layers * (k + 1)), rel=1e-12)


def test_the_draft_defaults_to_the_models_mtp_layer_else_an_eagle_head(capsys):
    r, err = run_json(capsys, "estimate", "-m", "deepseek-v3", "--gpu", "h200", "--gpus", "8", "--speculative", "1",
                      "--acceptance", "0.8")
    assert r["speculative"]["draft"] == "mtp" and r["scenario"]["draft"] == "mtp"
    assert "multi-token-prediction layer" in err
    r, err = run_json(capsys, "estimate", "-m", "llama-3.1-8b", "--speculative", "2", "--acceptance", "0.8")
    assert r["speculative"]["draft"] == "eagle"
    assert "EAGLE-style draft head costs about one decoder layer" in err
    r, _ = run_json(capsys, "estimate", "-m", "llama-3.1-70b", "--gpus", "8", "--speculative", "2", "--acceptance",
                    "0.8", "--draft-model", "llama-3.2-1b")
    assert r["speculative"]["draft"] == "model" and r["speculative"]["draft_model"] == "llama-3.2-1b"


def test_a_draft_model_costs_its_own_passes_and_memory(capsys):
    base = ["estimate", "-m", "llama-3.1-70b", "--gpus", "8", "--speculative", "3", "--acceptance", "0.7"]
    small, _ = run_json(capsys, *base, "--draft-model", "llama-3.2-1b")
    large, _ = run_json(capsys, *base, "--draft-model", "llama-3.1-8b")
    none, _ = run_json(capsys, "estimate", "-m", "llama-3.1-70b", "--gpus", "8")
    assert large["speculative"]["draft_time_s"] > small["speculative"]["draft_time_s"] > 0
    assert large["memory"]["weights_bytes_per_gpu"] > small["memory"]["weights_bytes_per_gpu"] \
        > none["memory"]["weights_bytes_per_gpu"]
    # the draft's weights are split over the target's tensor group: 8 ways for an 8B draft (32 heads)
    grown = large["memory"]["weights_bytes_per_gpu"] - none["memory"]["weights_bytes_per_gpu"]
    draft, _ = run_json(capsys, "estimate", "-m", "llama-3.1-8b", "--tp", "8")
    assert grown == pytest.approx(draft["memory"]["weights_bytes_per_gpu"], rel=1e-9)
    assert large["memory"]["kv_bytes_per_sequence"] > none["memory"]["kv_bytes_per_sequence"]


# --------------------------------------------------------------------------- where it stops paying


def test_breakeven_batch_is_where_speculation_stops_lowering_tpot():
    s = scenario(model="llama-3.1-70b", gpus="8", gpu="h200")
    spec = replace(s, speculative=Speculation(draft_tokens=3, acceptance=0.7))
    b = breakeven_batch(spec)
    assert b is not None and 16 < b < 1 << 16

    def tpots(batch):
        step = replace(spec, engine=replace(spec.engine, batching="static"),
                       workload=replace(spec.workload, batch=batch))
        big = replace(step, accelerator=replace(step.accelerator, memory_bytes=1e21))  # time does not need the fit
        return estimate(big).latency.tpot_s, estimate(replace(big, speculative=None)).latency.tpot_s

    with_spec, without = tpots(b - 1)
    assert with_spec < without
    with_spec, without = tpots(b)
    assert with_spec >= without
    # the decode step has turned compute-bound by then
    step = estimate(replace(spec, speculative=None, engine=replace(spec.engine, batching="static"),
                            accelerator=replace(spec.accelerator, memory_bytes=1e21),
                            workload=replace(spec.workload, batch=b)))
    assert step.decode.compute_time_s > step.decode.memory_time_s


def test_breakeven_moves_up_with_acceptance():
    s = scenario(model="llama-3.1-70b", gpus="8", gpu="h200")
    low, mid, high = (breakeven_batch(replace(s, speculative=Speculation(draft_tokens=3, acceptance=a)))
                      for a in (0.5, 0.7, 0.9))
    assert low is not None and mid is not None and low < mid
    # at 0.9 the step's KV reads, shared by the K + 1 queries, keep it paying up to the search limit
    assert high is None


def test_effect_on_tpot_throughput_and_cost_is_reported(capsys):
    r, _ = run_json(capsys, "estimate", "-m", "llama-3.1-70b", "--gpus", "8", "--batch", "16", "--speculative", "3",
                    "--acceptance", "0.8")
    base, _ = run_json(capsys, "estimate", "-m", "llama-3.1-70b", "--gpus", "8", "--batch", "16")
    sp = r["speculative"]
    assert sp["baseline_tpot_s"] == base["latency"]["tpot_s"]
    assert sp["baseline_output_tokens_per_s"] == base["throughput"]["output_tokens_per_s"]
    assert sp["baseline_usd_per_million_output_tokens"] == base["cost"]["usd_per_million_output_tokens"]
    assert sp["tpot_speedup"] == pytest.approx(base["latency"]["tpot_s"] / r["latency"]["tpot_s"])
    assert sp["throughput_gain"] == pytest.approx(r["throughput"]["output_tokens_per_s"]
                                                  / base["throughput"]["output_tokens_per_s"])
    assert sp["pays"] is True and sp["tpot_speedup"] > 1
    assert r["cost"]["usd_per_million_output_tokens"] < base["cost"]["usd_per_million_output_tokens"]


def test_static_and_continuous_agree_on_the_tokens_per_iteration(capsys):
    for batching in ("static", "continuous"):
        r, _ = run_json(capsys, "estimate", "-m", "llama-3.1-8b", "--batching", batching, "--batch", "4",
                        "--speculative", "2", "--acceptance", "0.6")
        t = r["speculative"]["tokens_per_step"]
        assert r["serving"]["iterations_per_request"] == pytest.approx(
            (1 if batching == "static" else r["serving"]["prefill_iterations"]) + 255 / t, rel=1e-9)
        assert r["latency"]["e2e_s"] == pytest.approx(r["latency"]["ttft_s"] + 255 * r["latency"]["tpot_s"], rel=1e-9)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("args, needle", [
    (["--speculative", "3", "--acceptance", "1.5"], "outside [0, 1]"),
    (["--speculative", "3", "--acceptance", "-0.1"], "outside [0, 1]"),
    (["--speculative", "3", "--acceptance", "lots"], "[0, 1]"),
    (["--speculative", "0", "--acceptance", "0.5"], ">= 1"),
    (["--speculative", "3", "--accepted-length", "5"], "[1, K + 1 = 4]"),
    (["--speculative", "3"], "needs one of --acceptance"),
    (["--speculative", "3", "--acceptance", "0.5", "--accepted-length", "2"], "needs one of --acceptance"),
    (["--acceptance", "0.5"], "goes with --speculative"),
    (["--speculative", "2", "--acceptance", "0.5", "--draft-model", "nope-7b"], "nope-7b"),
])
def test_bad_speculative_input_is_one_line_and_exit_2(capsys, args, needle):
    code, out, err = run(capsys, "estimate", "-m", "llama-3.1-8b", *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and needle in err and "Traceback" not in err


def test_json_keys_of_the_speculative_section(capsys):
    r, _ = run_json(capsys, "estimate", "-m", "llama-3.1-8b", "--speculative", "2", "--acceptance", "0.8")
    assert set(r["speculative"]) == {
        "draft", "draft_model", "draft_tokens", "acceptance", "tokens_per_step", "verify_time_s", "draft_time_s",
        "step_time_s", "plain_step_time_s", "baseline_tpot_s", "tpot_speedup", "baseline_output_tokens_per_s",
        "throughput_gain", "baseline_usd_per_million_output_tokens", "pays", "breakeven_batch"}
    plain, _ = run_json(capsys, "estimate", "-m", "llama-3.1-8b")
    assert plain["speculative"] is None and plain["scenario"]["speculative_tokens"] is None
    assert all(math.isfinite(v) for v in r["speculative"].values() if isinstance(v, float))


@settings(max_examples=15, deadline=None)
@given(a=st.floats(0.0, 1.0, allow_subnormal=False), k=st.integers(1, 6), batch=st.sampled_from([1, 8, 64]))
def test_times_and_costs_stay_positive_and_finite(a, k, batch):
    s = scenario(model="llama-3.1-8b", batch=str(batch), speculative=k, acceptance=a)
    e = estimate(s)
    assert 0 < e.latency.tpot_s < math.inf and 0 < e.cost.usd_per_million_output_tokens < math.inf
    assert 1 <= e.speculative.tokens_per_step <= k + 1


@pytest.mark.parametrize("layout", [["--gpus", "1"], ["--tp", "2", "--pp", "2"]])
def test_the_reported_iteration_is_the_decode_step(capsys, layout):
    """The speculative section's iteration is the decode step the estimate uses (pipeline micro-batches included)."""
    args = ["estimate", "-m", "llama-3.1-8b", *layout, "--batch", "4", "--batching", "static"]
    r, _ = run_json(capsys, *args, "--speculative", "2", "--acceptance", "0.6")
    base, _ = run_json(capsys, *args)
    assert r["speculative"]["step_time_s"] == pytest.approx(r["decode"]["step_time_s"], rel=1e-12)
    assert r["speculative"]["plain_step_time_s"] == pytest.approx(base["decode"]["step_time_s"], rel=1e-12)
    dis, _ = run_json(capsys, "estimate", "-m", "llama-3.1-8b", "--prefill-gpus", "1", "--decode-gpus", "4:tp2pp2",
                      "--batch", "8", "--speculative", "2", "--acceptance", "0.6")
    assert dis["speculative"]["step_time_s"] == pytest.approx(dis["decode"]["step_time_s"], rel=1e-12)
