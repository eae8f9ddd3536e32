"""The shipped catalog: every entry parses and validates, ids and aliases are unique, counts match the reference."""

from __future__ import annotations

import pytest

from inferwall.catalog import ARCHITECTURES, SCALE_UP_KINDS, load_catalog
from inferwall.core import architecture as arch


def test_every_builtin_entry_parses():
    cat = load_catalog()
    assert len(cat.gpus) == 63 and len(cat.models) == 46


def test_aliases_resolve_to_their_entries():
    cat = load_catalog()
    assert cat.gpu("h100").accelerator.id == "nvidia-h100-sxm-80gb"
    assert cat.gpu("MI300X").accelerator.id == "amd-mi300x"
    assert cat.model("meta-llama/Llama-3.1-70B").model.id == "llama-3.1-70b"


@pytest.mark.parametrize("model_id", [m for m in load_catalog().models])
def test_parameter_counts_match_the_reference_derivation(model_id):
    entry = load_catalog().model(model_id)
    if entry.params_derived_total is None or entry.model.bare:
        pytest.skip(f"{model_id} has no derived count in the reference")
    assert arch.total_params(entry.model) == pytest.approx(entry.params_derived_total, rel=0.015)


@pytest.mark.parametrize("model_id", [m for m in load_catalog().models if load_catalog().model(m).params_published_total])
def test_parameter_counts_match_the_published_count_within_one_percent(model_id):
    """Entries citing a precise published count (safetensors totals, shard sizes, model cards) are held to 1%."""
    entry = load_catalog().model(model_id)
    assert arch.total_params(entry.model) == pytest.approx(entry.params_published_total, rel=0.01)


def test_every_model_has_a_context_and_a_count_to_check_against():
    cat = load_catalog()
    for model_id in cat.models:
        entry = cat.model(model_id)
        assert entry.max_context, model_id
        assert entry.sources, model_id
        if not entry.model.bare:
            assert entry.params_derived_total or entry.params_published_total, model_id


def test_mtp_layers_are_parsed_and_follow_aliases():
    cat = load_catalog()
    assert cat.model("deepseek-v3").mtp_layers == 1
    assert cat.model("deepseek-ai/DeepSeek-R1").mtp_layers == 1
    assert cat.model("deepseek-r1").model.id == "deepseek-v3"
    assert cat.model("glm-4.5").mtp_layers == 1
    assert cat.model("kimi-k2").mtp_layers == 0
    assert cat.model("llama-3.1-8b").mtp_layers == 0


def test_every_accelerator_has_an_architecture_and_a_scale_up_kind():
    cat = load_catalog()
    for gpu_id in cat.gpus:
        entry = cat.gpu(gpu_id)
        assert entry.accelerator.architecture in ARCHITECTURES, gpu_id
        assert entry.scale_up_kind in SCALE_UP_KINDS, gpu_id
        assert entry.sources, gpu_id
        if entry.accelerator.price_usd_per_hour is not None:
            assert entry.price_provider and entry.price_as_of and entry.price_verified is not None, gpu_id
    assert cat.gpu("rtx-3090").accelerator.architecture == "ampere"
    assert cat.gpu("nvidia-rtx-6000-ada").accelerator.architecture == "ada"
    assert cat.gpu("nvidia-rtx-pro-6000-blackwell").accelerator.architecture == "blackwell-geforce"
    assert cat.gpu("nvidia-gb300-per-gpu").accelerator.architecture == "blackwell"
    assert cat.gpu("amd-radeon-rx-7900-xtx").accelerator.architecture == "rdna3"
    assert cat.gpu("intel-arc-pro-b60").accelerator.architecture == "xe2"
    assert cat.gpu("h100").scale_up_kind == "nvlink"
    assert cat.gpu("mi300x").scale_up_kind == "xgmi"
    assert cat.gpu("apple-m2-ultra").scale_up_kind == "none"


def test_apple_entries_have_gpu_flops_and_estimates_say_how():
    cat = load_catalog()
    apple = [cat.gpu(g) for g in cat.gpus if g.startswith("apple-")]
    assert len(apple) == 7
    for entry in apple:
        assert entry.accelerator.peak_flops.get("fp32"), entry.accelerator.id
        if entry.compute_estimated:
            assert entry.compute_derivation and "x" in entry.compute_derivation
            assert entry.compute_derivation in entry.estimate_note()
        else:
            assert entry.estimate_note() == ""
    estimated = {e.accelerator.id for e in apple if e.compute_estimated}
    assert estimated == {"apple-m3-max", "apple-m3-ultra", "apple-m4-max"}


def test_geforce_peaks_are_fp32_accumulate():
    """GeForce and RTX PRO Blackwell run FP16/BF16 tensor math at half rate with FP32 accumulation; the catalog
    quotes that rate (the RTX 5090's 209.5 TFLOPS, not the FP16-accumulate 419)."""
    cat = load_catalog()
    assert cat.gpu("rtx-5090").accelerator.peak_flops["bf16"] == pytest.approx(209.5e12)
    assert cat.gpu("rtx-4090").accelerator.peak_flops["bf16"] == pytest.approx(165.2e12)
    for gpu_id in cat.gpus:
        acc = cat.gpu(gpu_id).accelerator
        peaks = acc.peak_flops
        if acc.architecture == "blackwell-geforce":
            assert peaks["fp4"] / peaks["bf16"] == pytest.approx(8, rel=0.01), gpu_id
            assert peaks["fp8"] / peaks["bf16"] == pytest.approx(2, rel=0.01), gpu_id
        if gpu_id.startswith(("nvidia-rtx-30", "nvidia-rtx-40")) and not gpu_id.endswith("-ada"):
            # GeForce: INT8 tensor is not halved, so it is 4x the FP32-accumulate BF16 rate.
            assert peaks["int8"] / peaks["bf16"] == pytest.approx(4, rel=0.01), gpu_id
        if gpu_id in ("nvidia-rtx-a4000", "nvidia-rtx-a5000", "nvidia-rtx-a6000", "nvidia-a40", "nvidia-a30",
                      "nvidia-rtx-4000-ada", "nvidia-rtx-5000-ada", "nvidia-rtx-6000-ada"):
            # Workstation and data-center parts: full-rate FP32 accumulation, so INT8 is 2x BF16.
            assert peaks["int8"] / peaks["bf16"] == pytest.approx(2, rel=0.01), gpu_id


def test_dense_peaks_are_not_sparse():
    """NVIDIA prints 2:4-sparse figures from A100 on; the catalog stores dense (H100 bf16 989.5, not 1979)."""
    h100 = load_catalog().gpu("h100").accelerator
    assert h100.peak_flops["bf16"] == pytest.approx(989.5e12)
    assert h100.peak_flops["fp8"] == pytest.approx(1979e12)
    assert "fp8" not in load_catalog().gpu("a100").accelerator.peak_flops
