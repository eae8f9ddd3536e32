"""The core's inputs and outputs: frozen dataclasses, SI units throughout (bytes, seconds, FLOPs, USD)."""

from __future__ import annotations

from dataclasses import dataclass, field


class CoreError(ValueError):
    """An input the core cannot evaluate (an impossible layout, an unsupported dtype)."""


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Accelerator:
    """One accelerator (per-device figures)."""

    id: str
    memory_bytes: float
    bandwidth_bytes_per_s: float
    peak_flops: dict[str, float]  # dense peak per compute dtype, FLOP/s (OP/s for ints)
    name: str = ""
    vendor: str = ""
    scale_up_bytes_per_s: float = 0.0  # unidirectional per device
    scale_up_domain: int = 1
    scale_out_bytes_per_s: float = 12.5e9  # unidirectional per device
    tdp_w: float | None = None
    price_usd_per_hour: float | None = None
    release_year: int | None = None
    architecture: str = ""  # chip generation (hopper, blackwell, cdna3, ...): selects kernel efficiencies

    def flops_for(self, dtype: str) -> float | None:
        return self.peak_flops.get(dtype)


@dataclass(frozen=True)
class MoE:
    num_experts: int
    experts_per_token: int
    expert_intermediate_size: int
    shared_experts: int = 0
    shared_expert_intermediate_size: int = 0
    moe_layers: int = 0  # how many layers are MoE; the rest use the dense FFN


@dataclass(frozen=True)
class MLA:
    """DeepSeek multi-head latent attention: the cache holds a latent plus a RoPE key."""

    kv_lora_rank: int
    qk_rope_head_dim: int
    qk_nope_head_dim: int
    v_head_dim: int
    q_lora_rank: int = 0  # 0 = queries projected directly from the hidden state


@dataclass(frozen=True)
class ModelArch:
    """A transformer's shape.

    A *bare* model (``params`` > 0) is known by its parameter count, as in the seed texts; it has an
    attention term and a KV cache only if its attention shape (layers, heads, KV heads, head dim) is given.
    """

    id: str
    name: str = ""
    num_layers: int = 0
    hidden_size: int = 0
    num_heads: int = 0
    num_kv_heads: int = 0
    head_dim: int = 0
    intermediate_size: int = 0
    ffn_matrices: int = 3  # 3 for gated FFNs (SwiGLU), 2 for plain
    vocab_size: int = 0
    tie_embeddings: bool = False
    encoder: bool = False  # bidirectional, no decode phase
    window: int = 0  # sliding-window / chunk size of local layers, 0 = none
    window_layers: int = 0  # how many layers use the window
    moe: MoE | None = None
    mla: MLA | None = None
    params: float = 0.0  # bare models: total parameters
    active_params: float = 0.0  # bare models: parameters used per token
    native_dtype: str = "bf16"

    @property
    def bare(self) -> bool:
        """Given by parameter count (``--params``) rather than derived from its full shape."""
        return self.params > 0

    @property
    def has_attention(self) -> bool:
        """Enough shape for a KV cache and an attention term."""
        return self.num_layers > 0 and self.num_heads > 0 and self.num_kv_heads > 0 and self.head_dim > 0


@dataclass(frozen=True)
class Precision:
    weights: str = "bf16"
    kv: str = "bf16"
    compute: str = "bf16"
    activations: str = "bf16"


@dataclass(frozen=True)
class Parallelism:
    tp: int = 1
    pp: int = 1
    dp: int = 1
    ep: int = 1

    @property
    def gpus_per_replica(self) -> int:
        return self.tp * self.pp

    @property
    def gpus(self) -> int:
        return self.tp * self.pp * self.dp


@dataclass(frozen=True)
class Workload:
    batch: int = 1  # concurrent sequences per replica
    input_tokens: int = 1024
    output_tokens: int = 256


@dataclass(frozen=True)
class Efficiency:
    """Achievable fractions of peak, and fixed costs. ``Efficiency.ideal()`` is the pure roofline."""

    mfu: float = 0.7  # fraction of peak FLOP/s reached by the matmuls
    mbu: float = 0.85  # fraction of datasheet HBM bandwidth reached when streaming
    link_efficiency: float = 0.8  # fraction of link bandwidth reached by collectives
    collective_latency_s: float = 10e-6  # per collective (launch + synchronisation)
    step_overhead_s: float = 0.0  # per forward pass: scheduling, sampling, host work
    layer_overhead_s: float = 0.0  # per layer per forward pass: kernel launches, synchronisation

    @staticmethod
    def ideal() -> "Efficiency":
        return Efficiency(mfu=1.0, mbu=1.0, link_efficiency=1.0, collective_latency_s=0.0, step_overhead_s=0.0,
                          layer_overhead_s=0.0)


@dataclass(frozen=True)
class MemoryPolicy:
    memory_fraction: float = 0.95  # of capacity the serving engine may use (TensorRT-LLM's KV-cache fraction)
    reserve_bytes: float = 1.0 * 2**30  # CUDA context, CUDA graphs, communication buffers
    prefill_chunk_tokens: int = 8192  # tokens per prefill chunk, sizes the activation workspace


@dataclass(frozen=True)
class Scenario:
    accelerator: Accelerator
    model: ModelArch
    precision: Precision = field(default_factory=Precision)
    parallelism: Parallelism = field(default_factory=Parallelism)
    workload: Workload = field(default_factory=Workload)
    efficiency: Efficiency = field(default_factory=Efficiency)
    memory: MemoryPolicy = field(default_factory=MemoryPolicy)


# --------------------------------------------------------------------------- outputs

# Outputs compare by identity (eq=False): nothing compares estimates field by field, and skipping the
# generated __eq__/__hash__ keeps start-up down.


@dataclass(frozen=True, eq=False)
class PhaseCost:
    """One phase on one replica. FLOPs and bytes are replica totals; times are wall-clock."""

    name: str
    tokens: int  # tokens processed by the replica in this phase (one step for decode)
    flops: float
    bytes: float
    weight_bytes: float
    kv_bytes: float
    activation_bytes: float
    compute_time_s: float
    memory_time_s: float
    comm_time_s: float
    overhead_time_s: float
    time_s: float
    bound: str  # compute | memory | communication | overhead
    utilization: float  # achieved FLOP/s / (replica GPUs x peak)
    bandwidth_utilization: float  # achieved bytes/s / (replica GPUs x datasheet bandwidth)
    context_tokens: float = 0.0  # mean context a decode step attends over
    flops_per_gpu: float = 0.0  # one pass through all layers, on one tensor rank (what the compute time divides)
    bytes_per_gpu: float = 0.0  # likewise for the memory time
    passes: float = 1.0  # passes the phase's wall time spans (pipeline fill for prefill)
    collectives_per_pass: int = 0  # all-reduces, all-to-alls and stage sends on the critical path

    @property
    def arithmetic_intensity(self) -> float:
        return self.flops / self.bytes if self.bytes else 0.0


@dataclass(frozen=True, eq=False)
class MemoryReport:
    weights_bytes_per_gpu: float
    kv_cache_bytes_per_gpu: float
    activation_bytes_per_gpu: float
    reserve_bytes_per_gpu: float
    total_bytes_per_gpu: float
    capacity_bytes_per_gpu: float
    usable_bytes_per_gpu: float
    fits: bool
    max_batch: int  # largest batch that fits with this layout (0 = the weights alone do not fit)
    min_gpus: int | None  # smallest replica (tp x pp) that fits this batch; None if none up to the search limit
    kv_bytes_per_sequence: float
    batch_limited_by: str  # what stops the batch from growing: kv-cache | weights

    @property
    def headroom_bytes_per_gpu(self) -> float:
        return self.usable_bytes_per_gpu - self.total_bytes_per_gpu


@dataclass(frozen=True, eq=False)
class Latency:
    ttft_s: float
    tpot_s: float
    e2e_s: float


@dataclass(frozen=True, eq=False)
class Throughput:
    output_tokens_per_s: float
    input_tokens_per_s: float
    requests_per_s: float


@dataclass(frozen=True, eq=False)
class Cost:
    usd_per_hour: float | None
    usd_per_million_output_tokens: float | None
    usd_per_million_input_tokens: float | None
    usd_per_million_tokens_blended: float | None


@dataclass(frozen=True, eq=False)
class Bounds:
    """The seed argument's two limits on forward passes (batch-1 steps) per second, per replica."""

    compute_forward_passes_per_s: float
    memory_forward_passes_per_s: float


@dataclass(frozen=True, eq=False)
class Estimate:
    scenario: Scenario
    params: float
    active_params: float
    weight_bytes: float  # whole model
    prefill: PhaseCost
    decode: PhaseCost | None  # None for encoders and single-token outputs
    memory: MemoryReport
    latency: Latency
    throughput: Throughput
    cost: Cost
    bounds: Bounds
    notes: tuple[str, ...] = ()
