"""Default efficiency factors, calibrated per vendor class against shared/validation/calibration.yaml.

See docs/validation.md for how they were fitted (scripts/calibrate.py). Few, physical parameters:
never per-model or per-row corrections.
"""

from __future__ import annotations

from .types import Accelerator, Efficiency

# Fitted by scripts/calibrate.py; the report is docs/validation.md.
VENDOR_EFFICIENCY: dict[str, Efficiency] = {
    "NVIDIA": Efficiency(mfu=0.7, mbu=0.85, link_efficiency=0.8, collective_latency_s=10e-6, step_overhead_s=0.0),
    "AMD": Efficiency(mfu=0.5, mbu=0.8, link_efficiency=0.7, collective_latency_s=15e-6, step_overhead_s=0.0),
}
GENERIC_EFFICIENCY = Efficiency(mfu=0.6, mbu=0.8, link_efficiency=0.7, collective_latency_s=15e-6, step_overhead_s=0.0)


def default_efficiency(acc: Accelerator) -> Efficiency:
    """The calibrated defaults for this accelerator's vendor class."""
    return VENDOR_EFFICIENCY.get(acc.vendor, GENERIC_EFFICIENCY)


def efficiency_class(acc: Accelerator) -> str:
    return acc.vendor if acc.vendor in VENDOR_EFFICIENCY else "generic"
