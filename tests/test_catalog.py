"""The shipped catalog: every entry parses and validates, ids and aliases are unique, counts match the reference."""

from __future__ import annotations

import pytest

from inferwall.catalog import load_catalog
from inferwall.core import architecture as arch


def test_every_builtin_entry_parses():
    cat = load_catalog()
    assert len(cat.gpus) == 37 and len(cat.models) == 31


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


def test_dense_peaks_are_not_sparse():
    """NVIDIA prints 2:4-sparse figures from A100 on; the catalog stores dense (H100 bf16 989.5, not 1979)."""
    h100 = load_catalog().gpu("h100").accelerator
    assert h100.peak_flops["bf16"] == pytest.approx(989.5e12)
    assert h100.peak_flops["fp8"] == pytest.approx(1979e12)
    assert "fp8" not in load_catalog().gpu("a100").accelerator.peak_flops
