"""Data types: their storage size, and which compute dtype a GPU actually runs."""

from __future__ import annotations

from .types import Accelerator, CoreError, Precision

# Storage bytes per element. Block-scaled formats include their scales: MXFP4 stores one 8-bit scale
# per 32 values (4.25 bits), NVFP4 one 8-bit scale per 16 values (4.5 bits). `fp4` and `int4` are the bare
# 4-bit codes; real checkpoints store them block-scaled (nvfp4, mxfp4, int4-g128, the GGUF formats).
# GGUF (ggml-org/llama.cpp ggml/src/ggml-common.h block layouts): Q8_0 = 32 int8 + one fp16 scale (8.5 bits);
# Q4_0 = 32 4-bit + fp16 scale (4.5); Q4_K = 256-weight super-blocks with 6-bit scales and mins (4.5);
# Q6_K 6.5625; Q5_K 5.5. The _M mixes keep some tensors wider: Q4_K_M averages ~4.85 bits and Q5_K_M ~5.7
# over a Llama model (llama.cpp quantize's reported sizes). AWQ/GPTQ int4 with group size 128 adds an fp16
# scale and a 4-bit zero per 128 weights (4.156 bits).
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
    "int4-g128": (4 + 20 / 128) / 8,
    "int4-g32": (4 + 32 / 32) / 8,  # gpt-fast int4: a bf16 scale and a bf16 zero per 32 weights
    "q4_0": 4.5 / 8,
    "q4_k": 4.5 / 8,
    "q4_k_m": 4.8944 / 8,  # whole-file average of Llama-3.1-8B (llama.cpp tools/quantize/README.md@311c2c9)
    "q5_k": 5.5 / 8,
    "q5_k_m": 5.7036 / 8,  # likewise
    "q6_k": 6.5625 / 8,
    "q8_0": 8.5 / 8,
    "nf4": 4.5 / 8,  # bitsandbytes NF4: an fp32 absmax per 64 weights (QLoRA)
    "mxfp8": 8.25 / 8,  # OCP MX FP8: an E8M0 scale per 32
}

# The compute width of each storage format: a module stored narrower than (or as narrow as) the compute
# dtype multiplies in the compute dtype; one stored wider keeps its own width.
STORAGE_BITS: dict[str, int] = {
    "fp32": 32, "tf32": 32, "bf16": 16, "fp16": 16, "fp8": 8, "int8": 8, "fp6": 6, "int4": 4, "fp4": 4,
    "mxfp4": 4, "nvfp4": 4, "int4-g128": 4, "int4-g32": 4, "q4_0": 4, "q4_k": 4, "q4_k_m": 4, "q5_k": 5, "q5_k_m": 5,
    "q6_k": 6, "q8_0": 8, "nf4": 4, "mxfp8": 8,
}

ALIASES = {"fp8-per-tensor": "fp8", "fp8-per-channel": "fp8", "fp8-block128": "fp8", "int8-per-channel": "int8",
           "float32": "fp32", "float16": "fp16", "half": "fp16", "bfloat16": "bf16", "e4m3": "fp8",
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
    "mxfp8": ("fp8",),
    "int4": ("int4",),
}
_PEAK_KEYS.update({fmt: () for fmt in ("int4-g128", "int4-g32", "nf4", "q4_0", "q4_k", "q4_k_m", "q5_k", "q5_k_m", "q6_k", "q8_0")})

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


def module_compute(precision: Precision, module: str, acc: Accelerator) -> str:
    """The dtype a module's matmuls run in: the resolved compute dtype, unless the module is stored wider
    (a 16-bit LM head in an FP8 checkpoint, FP8 attention in an FP4 one), when it computes at its own width
    where the hardware has that math, else in 16-bit."""
    weights = precision.weights_for(module)
    compute = precision.compute
    if module == "experts" and precision.expert_compute:
        return precision.expert_compute
    if STORAGE_BITS.get(weights, 16) <= STORAGE_BITS.get(compute, 16) or weights == compute:
        return compute
    if weights in BYTES_PER_ELEMENT and _PEAK_KEYS.get(weights) and peak_flops(acc, weights):
        return weights
    return precision.activations if precision.activations in SIXTEEN_BIT + ("fp32",) else "bf16"


def is_weight_only(precision: Precision, module: str, compute: str) -> bool:
    """Quantized weights multiplied in a wider dtype: dequantized inside the kernel (Marlin, AWQ, GGUF)."""
    return STORAGE_BITS.get(precision.weights_for(module), 16) < STORAGE_BITS.get(compute, 16)


def sixteen_bit_for(acc: Accelerator) -> str | None:
    """The 16-bit type this accelerator computes in (bf16 preferred; V100/T4 have only fp16)."""
    for dtype in SIXTEEN_BIT:
        if acc.flops_for(dtype):
            return dtype
    return None


def _expert_compute(acc: Accelerator, dtype: str) -> str:
    """A recipe's expert compute dtype where the GPU has the math; else the module follows the default rule."""
    if not dtype:
        return ""
    dtype = normalize(dtype)
    return dtype if peak_flops(acc, dtype) else ""


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
        attention_weights=normalize(requested.attention_weights) if requested.attention_weights else "",
        expert_weights=normalize(requested.expert_weights) if requested.expert_weights else "",
        head_weights=normalize(requested.head_weights) if requested.head_weights else "",
        expert_compute=_expert_compute(acc, requested.expert_compute),
        recipe=requested.recipe,
    )
    return resolved, tuple(notes)
