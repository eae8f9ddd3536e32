"""The pure cost core: standard library only, no I/O, frozen dataclasses in and out."""

from .estimate import estimate, max_batch_for, memory_report, min_gpus_for, prepare
from .layout import validate_layout
from .types import (
    MLA,
    Accelerator,
    Bounds,
    CoreError,
    Cost,
    Efficiency,
    Engine,
    ErrorBand,
    Estimate,
    FixedCosts,
    KernelTimes,
    Latency,
    MemoryPolicy,
    MemoryReport,
    ModelArch,
    MoE,
    Parallelism,
    PhaseCost,
    Precision,
    Scenario,
    Serving,
    Throughput,
    Workload,
)

__all__ = [
    "MLA", "Accelerator", "Bounds", "CoreError", "Cost", "Efficiency", "Engine", "ErrorBand", "Estimate",
    "FixedCosts", "KernelTimes", "Latency", "MemoryPolicy", "MemoryReport", "ModelArch", "MoE", "Parallelism",
    "PhaseCost", "Precision", "Scenario", "Serving", "Throughput", "Workload", "estimate", "max_batch_for",
    "memory_report", "min_gpus_for", "prepare", "validate_layout",
]
