"""Data types: their storage size, and which compute dtype a GPU actually runs."""

from __future__ import annotations

from .types import Accelerator, CoreError, Precision

# Storage bytes per element. Block-scaled formats include their scales: MXFP4 stores one 8-bit scale
# per 32 values (4.25 bits), NVFP4 one 8-bit scale per 16 values (4.5 bits).
BYTES_PER_ELEMENT: dict[str, float] = {
    "fp32": 4.0,
    "tf32": 4.0,
    "bf16": 2.0,
    "fp16": 2.0,
    "fp8": 1.0,
    "int8": 1.0,
    "fp6": 0.75,
    "int4": 0.5,
    "fp4": 0.5,
    "mxfp4": 4.25 / 8,
    "nvfp4": 4.5 / 8,
}

ALIASES = {"float32": "fp32", "float16": "fp16", "half": "fp16", "bfloat16": "bf16", "e4m3": "fp8",
           "float8": "fp8", "fp8_e4m3": "fp8", "w8": "int8", "w4": "int4", "16": "bf16", "8": "fp8"}

# Which peak a compute dtype uses, in order of preference.
_PEAK_KEYS = {
    "fp32": ("fp32",),
    "tf32": ("tf32",),
    "bf16": ("bf16", "fp16"),
    "fp16": ("fp16", "bf16"),
    "fp8": ("fp8",),
    "int8": ("int8",),
    "fp6": ("fp6",),
    "fp4": ("fp4",),
    "mxfp4": ("fp4",),
    "nvfp4": ("fp4",),
    "int4": ("int4",),
}

SIXTEEN_BIT = ("bf16", "fp16")


def normalize(dtype: str) -> str:
    """Canonical dtype name, or CoreError naming the valid ones."""
    if dtype in BYTES_PER_ELEMENT:
        return dtype
    key = str(dtype).strip().lower()
    key = ALIASES.get(key, key)
    if key not in BYTES_PER_ELEMENT:
        raise CoreError(f"unknown dtype {dtype!r}; valid: {', '.join(BYTES_PER_ELEMENT)}")
    return key


def nbytes(dtype: str) -> float:
    return BYTES_PER_ELEMENT[normalize(dtype)]


def peak_flops(acc: Accelerator, compute: str) -> float | None:
    for key in _PEAK_KEYS[normalize(compute)]:
        value = acc.flops_for(key)
        if value:
            return value
    return None


def sixteen_bit_for(acc: Accelerator) -> str | None:
    """The 16-bit type this accelerator computes in (bf16 preferred; V100/T4 have only fp16)."""
    for dtype in SIXTEEN_BIT:
        if acc.flops_for(dtype):
            return dtype
    return None


def resolve_precision(acc: Accelerator, requested: Precision, compute_explicit: bool) -> tuple[Precision, tuple[str, ...]]:
    """Pick the compute dtype the hardware really runs.

    Weight-only quantized weights (int4, int8, fp8, fp4 on hardware without that math) are
    dequantized and multiplied in 16-bit, so they run at the 16-bit peak. An explicitly requested
    compute dtype the accelerator lacks is an error, not a silent fallback.
    """
    notes: list[str] = []
    compute = normalize(requested.compute)
    if peak_flops(acc, compute) is None:
        if compute_explicit:
            have = sorted(k for k, v in acc.peak_flops.items() if v)
            raise CoreError(
                f"{acc.id} has no {compute} compute; it supports {', '.join(have) or 'nothing listed'}"
                f" (weight-only {compute} runs with --compute bf16)"
            )
        fallback = sixteen_bit_for(acc) or next((k for k, v in acc.peak_flops.items() if v), None)
        if fallback is None:
            raise CoreError(f"{acc.id} lists no peak FLOP/s for any dtype; give --flops")
        if compute in SIXTEEN_BIT:
            notes.append(f"{acc.id} has no {compute} math; computing in {fallback} at the same width")
        else:
            notes.append(
                f"{acc.id} has no {compute} math: {compute} weights are dequantized and multiplied in "
                f"{fallback} (weight-only), so compute runs at the {fallback} peak"
            )
        compute = fallback
    activations = "fp32" if compute in ("fp32", "tf32") else (sixteen_bit_for(acc) or "bf16")
    resolved = Precision(
        weights=normalize(requested.weights),
        kv=normalize(requested.kv),
        compute=compute,
        activations=activations,
    )
    return resolved, tuple(notes)
