"""Default efficiency factors, calibrated per vendor class against shared/validation/calibration.yaml.

See docs/validation.md for how they were fitted (scripts/calibrate.py). Few, physical parameters:
never per-model or per-row corrections.
"""

from __future__ import annotations

from .types import Accelerator, Efficiency

# Fitted by `python scripts/calibrate.py --fit`: a coordinate search over 8 physical parameters (mfu and mbu per
# vendor class; link efficiency, collective latency and step overhead shared by all), confined to physically
# plausible ranges and rounded. The per-group errors, overfitting checks and known gaps are in
# docs/validation.md. The ranges come from shared/validation/calibration.yaml:
#   mfu  NVIDIA best-shape GEMMs reach 70-87 % of dense peak; the fit sits on the 0.70 floor (end-to-end FP8
#        engines would want ~0.62, see docs/validation.md). AMD MI3xx GEMMs reach 51-68 % of peak: 0.60.
#   mbu  STREAM-like kernels reach 79-95 % of datasheet (H100 2.90-3.18 of 3.35 TB/s): 0.84. AMD sits on the
#        0.80 floor (one MI250X GCD decodes at ~63 % of datasheet in gpt-fast, overheads included).
#   link_efficiency       NCCL ring all-reduce reaches 77 % of A100 NVLink; capped at 0.9 (H100's >100 % is
#                         NVLink-SHARP, not the ring the core models).
#   collective_latency_s  per all-reduce (launch + synchronisation).
#   step_overhead_s       per forward pass (launches, scheduling, sampling); on the 3 ms ceiling of the fit. With
#                         the collective latency it brings batch-1 decode to the 55-70 % of datasheet bandwidth
#                         that gpt-fast measures (Llama-2-7B on A100: 1397 GB/s at TP1, 704 GB/s per GPU at TP8).
# The generic class's mfu/mbu are not fitted (the set has no serving measurements on other vendors).
VENDOR_EFFICIENCY: dict[str, Efficiency] = {
    "NVIDIA": Efficiency(mfu=0.70, mbu=0.84, link_efficiency=0.9, collective_latency_s=25e-6, step_overhead_s=3.0e-3),
    "AMD": Efficiency(mfu=0.60, mbu=0.80, link_efficiency=0.9, collective_latency_s=25e-6, step_overhead_s=3.0e-3),
}
GENERIC_EFFICIENCY = Efficiency(mfu=0.6, mbu=0.8, link_efficiency=0.9, collective_latency_s=25e-6,
                                step_overhead_s=3.0e-3)


def default_efficiency(acc: Accelerator) -> Efficiency:
    """The calibrated defaults for this accelerator's vendor class."""
    return VENDOR_EFFICIENCY.get(acc.vendor, GENERIC_EFFICIENCY)


def efficiency_class(acc: Accelerator) -> str:
    return acc.vendor if acc.vendor in VENDOR_EFFICIENCY else "generic"
