"""Default efficiency factors, calibrated per vendor class against shared/validation/calibration.yaml.

See docs/validation.md for how they were fitted (scripts/calibrate.py). Few, physical parameters:
never per-model or per-row corrections.
"""

from __future__ import annotations

from .types import Accelerator, Efficiency

# Fitted by `python scripts/calibrate.py --fit`: a coordinate search over 9 physical parameters (mfu and mbu per
# vendor class; link efficiency, collective latency, step overhead and layer overhead shared by all; the memory
# fraction, which the core's MemoryPolicy owns), confined to physically plausible ranges and rounded. The per-group
# errors, overfitting checks and known gaps are in docs/validation.md. The ranges come from
# shared/validation/calibration.yaml:
#   mfu  NVIDIA best-shape GEMMs reach 70-87 % of dense peak; the fit sits on the 0.70 floor (end-to-end FP8
#        engines would want ~0.62, see docs/validation.md). AMD MI3xx GEMMs reach 51-68 % of peak: 0.60.
#   mbu  STREAM-like kernels reach 79-95 % of datasheet (H100 2.90-3.18 of 3.35 TB/s): 0.83. AMD 0.84 rests on
#        one MI250X GCD's gpt-fast decode rows.
#   link_efficiency       NCCL ring all-reduce reaches 77 % of A100 NVLink; capped at 0.9 (H100's >100 % is
#                         NVLink-SHARP, not the ring the core models).
#   collective_latency_s  per all-reduce, small-message latency inside a node (box 5-40 us); on the 5 us floor:
#                         gpt-fast's Llama-2-7B costs ~9 us more per layer at TP8 than at TP1, two all-reduces.
#   layer_overhead_s      per layer per forward pass: kernel launches and synchronisation (box 0-100 us). gpt-fast's
#                         batch-1 time per token beyond the weight stream is 56-65 us per layer for Llama-2-7B and
#                         75-85 us for 70B on A100 at every TP; the TensorRT-LLM rows pull the fit to 88 us.
#   step_overhead_s       per forward pass: scheduling, sampling, host work (box 0-2 ms).
# The generic class's mfu/mbu are not fitted (the set has no serving measurements on other vendors).
VENDOR_EFFICIENCY: dict[str, Efficiency] = {
    "NVIDIA": Efficiency(mfu=0.70, mbu=0.83, link_efficiency=0.9, collective_latency_s=5e-6, step_overhead_s=0.6e-3,
                         layer_overhead_s=88e-6),
    "AMD": Efficiency(mfu=0.60, mbu=0.84, link_efficiency=0.9, collective_latency_s=5e-6, step_overhead_s=0.6e-3,
                      layer_overhead_s=88e-6),
}
GENERIC_EFFICIENCY = Efficiency(mfu=0.6, mbu=0.8, link_efficiency=0.9, collective_latency_s=5e-6,
                                step_overhead_s=0.6e-3, layer_overhead_s=88e-6)


def default_efficiency(acc: Accelerator) -> Efficiency:
    """The calibrated defaults for this accelerator's vendor class."""
    return VENDOR_EFFICIENCY.get(acc.vendor, GENERIC_EFFICIENCY)


def efficiency_class(acc: Accelerator) -> str:
    return acc.vendor if acc.vendor in VENDOR_EFFICIENCY else "generic"
