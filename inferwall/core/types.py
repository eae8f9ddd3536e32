"""The core's inputs and outputs: frozen dataclasses, SI units throughout (bytes, seconds, FLOPs, USD)."""

from __future__ import annotations

from dataclasses import dataclass, field

TYPE_CHECKING = False  # the issue-12 feature types load on first use (see the end of this module)
if TYPE_CHECKING:
    from .feature_types import (Disaggregation, DisaggReport, KVOffload, LoadReport, LoadSpec, OffloadReport,
                                PrefixReport, Speculation, SpeculativeReport)


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
    scale_up_kind: str = ""  # the scale-up fabric (nvlink, pcie, xgmi, ...): PCIe collectives are slower

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
    window_kind: str = "sliding"  # sliding: each token sees the last `window`; chunked: tokens see their chunk
    moe: MoE | None = None
    mla: MLA | None = None
    params: float = 0.0  # bare models: total parameters
    active_params: float = 0.0  # bare models: parameters used per token
    native_dtype: str = "bf16"
    mtp_layers: int = 0  # multi-token-prediction (draft) layers the checkpoint ships besides num_layers
    max_context: int = 0  # the longest context the model supports (0: unknown)

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
    """Storage and compute dtypes. ``weights``/``compute`` are the defaults of every matmul module; a quantized
    checkpoint may keep some modules wider (ModelOpt keeps the embedding and LM head in 16-bit, gpt-oss keeps
    attention in BF16): the per-module fields override the default where they are not empty."""

    weights: str = "bf16"
    kv: str = "bf16"
    compute: str = "bf16"
    activations: str = "bf16"
    attention_weights: str = ""  # attention projections (QKV, output)
    expert_weights: str = ""  # routed experts of MoE layers
    head_weights: str = ""  # embedding and LM head
    expert_compute: str = ""  # routed experts' math where it differs (gpt-oss: MXFP4 weights x FP8 on Blackwell)
    recipe: str = ""  # the quantization recipe these came from (``--quant``), for the record

    def weights_for(self, module: str) -> str:
        """Storage dtype of ``module``: attention, ffn (dense FFN, shared experts), experts or head."""
        override = {"attention": self.attention_weights, "experts": self.expert_weights,
                    "head": self.head_weights}.get(module, "")
        return override or self.weights


@dataclass(frozen=True)
class Parallelism:
    """t tensor x p pipeline GPUs per data-parallel rank, r ranks. ``ep`` experts groups: ep <= tp spreads the
    experts over the tensor group; ep > tp is attention data-parallel with wide expert parallelism (vLLM
    ``--data-parallel-size N --enable-expert-parallel``): ep/tp DP ranks share their MoE layers."""

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

    @property
    def attention_dp(self) -> bool:
        """Expert parallelism wider than the tensor group: DP ranks exchange tokens in every MoE layer."""
        return self.ep > self.tp

    @property
    def expert_tp(self) -> int:
        """How many ways each routed expert is split by tensor parallelism."""
        return self.tp // self.ep if self.ep <= self.tp else 1

    @property
    def dp_ranks_per_ep_group(self) -> int:
        return self.ep // self.tp if self.ep > self.tp else 1


@dataclass(frozen=True)
class Workload:
    batch: int = 1  # concurrent sequences per replica (data-parallel rank)
    input_tokens: int = 1024
    output_tokens: int = 256
    num_requests: int | None = None  # a finite offline run of this many requests (continuous batching)
    batch_max: bool = False  # the batch is the largest that fits (``--batch max``): a max-throughput run
    prefix_hit: float = 0.0  # share of input tokens served from the prefix cache (``--prefix-hit``)


@dataclass(frozen=True)
class Efficiency:
    """What each kernel class achieves, and the fixed costs. Resolved from ``specs/kernels.yaml`` (per chip
    architecture) and the engine profile (``specs/engines/``); ``Efficiency.ideal()`` is the pure roofline.

    Efficiencies are fractions of the dense datasheet peak of the dtype a kernel computes in, or of datasheet
    memory bandwidth."""

    mfu: float = 0.7  # GEMM efficiency of a compute dtype without its own entry in ``gemm``
    mbu: float = 0.85  # weight and activation streaming
    gemm: tuple[tuple[str, float], ...] = ()  # (compute dtype, large-shape GEMM efficiency)
    gemm_tile_m: int = 1  # a GEMM's token count is padded up to a multiple of the tensor-core tile
    gemm_transition: float = 0.0  # n of (c^n + m^n)^(1/n) near the ridge point; 0: the sharp max(c, m)
    weight_only: float = 0.0  # weight-only quantized GEMMs (dequantize in the kernel), of the 16-bit peak; 0: mfu
    weight_only_stream: float = 0.0  # their weight stream, of datasheet bandwidth; 0: mbu
    attention: tuple[tuple[str, float], ...] = ()  # (dtype, fused-attention efficiency at long sequences)
    attention_half_length: float = 0.0  # tokens at which attention reaches half its long-sequence efficiency
    decode_attention: float = 0.85  # KV-cache streaming in decode attention, of datasheet bandwidth
    moe_grouped: float = 1.0  # grouped expert GEMMs relative to a dense GEMM of the same dtype
    moe_tile_m: int = 1  # per-expert token padding in the grouped GEMM
    link_efficiency: float = 0.8  # large-message all-reduce bus bandwidth / link bandwidth
    collective_latency_s: float = 10e-6  # small-message all-reduce inside the scale-up domain
    all_to_all_efficiency: float = 0.8
    all_to_all_latency_s: float = 10e-6
    scale_out_efficiency: float = 0.8
    scale_out_latency_s: float = 20e-6
    kernel_floor_s: float = 0.0  # minimum time of one kernel (launch, ramp, tail)
    kernels_per_layer: float = 0.0  # kernels a decoder layer launches after the engine's fusions
    host_per_iteration_s: float = 0.0  # host work per iteration (scheduling, launch)
    host_per_request_s: float = 0.0  # host work per running request per iteration (sampling, detokenizing)
    host_hidden_fraction: float = 0.0  # share of host work overlapped with GPU work
    launch_s: float = 0.0  # host time to launch one kernel outside a CUDA graph (exposed: the GPU waits for it)

    @staticmethod
    def ideal() -> "Efficiency":
        return Efficiency(mfu=1.0, mbu=1.0, link_efficiency=1.0, collective_latency_s=0.0, decode_attention=1.0,
                          all_to_all_efficiency=1.0, all_to_all_latency_s=0.0, scale_out_efficiency=1.0,
                          scale_out_latency_s=0.0)

    def gemm_for(self, dtype: str) -> float:
        for key, value in self.gemm:
            if key == dtype:
                return value
        return self.mfu

    def attention_for(self, dtype: str) -> float:
        """Long-sequence fused-attention efficiency; without its own entry attention runs like a GEMM."""
        for key, value in self.attention:
            if key == dtype:
                return value
        return self.gemm_for(dtype)

    @property
    def layer_overhead_s(self) -> float:
        """Fixed kernel time per layer per pass: the kernel floor times the kernels a layer launches."""
        return self.kernel_floor_s * self.kernels_per_layer


@dataclass(frozen=True)
class Engine:
    """A serving engine's limits and scheduling (``specs/engines/<id>.yaml``); its efficiencies are in
    ``Efficiency`` and its memory semantics in ``MemoryPolicy``."""

    id: str = "ideal"
    name: str = "ideal roofline"
    version: str = ""
    batching: str = "static"  # static | continuous: how this run batches requests
    max_running_requests: int | None = None  # requests in flight per engine instance (None: no cap)
    max_tokens_per_iteration: int | None = None  # token budget per iteration (None: no budget)
    chunked_prefill: bool = True  # a long prompt is split across iterations
    kv_reservation: str = "current"  # current: a request holds its current context; full: S+T reserved on admission
    cuda_graphs: str = "all"  # which passes replay a CUDA graph: all, decode (decode-only iterations), none
    cuda_graph_max_batch: int | None = None  # the largest captured batch (None: any)
    error_bands: tuple = ()  # ErrorBand per calibration regime, from the profile's calibration residuals


@dataclass(frozen=True)
class MemoryPolicy:
    """How an engine sizes its KV-cache pool. ``fraction_of``:

    * ``total``: fraction x capacity holds weights, the activation peak and the KV pool (vLLM
      ``gpu_memory_utilization``);
    * ``free``: the KV pool is fraction x what is free after weights, activations and the reserve (TensorRT-LLM
      ``free_gpu_memory_fraction``);
    * ``total_static``: fraction x capacity holds weights and the KV pool; activations live outside it (SGLang
      ``mem_fraction_static``).
    """

    memory_fraction: float = 0.95
    reserve_bytes: float = 1.0 * 2**30  # CUDA context, NCCL buffers, CUDA graphs: outside the pool
    prefill_chunk_tokens: int = 8192  # tokens per iteration that size the activation workspace
    fraction_of: str = "total"


@dataclass(frozen=True)
class Scenario:
    accelerator: Accelerator
    model: ModelArch
    precision: Precision = field(default_factory=Precision)
    parallelism: Parallelism = field(default_factory=Parallelism)
    workload: Workload = field(default_factory=Workload)
    efficiency: Efficiency = field(default_factory=Efficiency)
    memory: MemoryPolicy = field(default_factory=MemoryPolicy)
    engine: Engine = field(default_factory=Engine)
    speculative: Speculation | None = None
    kv_offload: KVOffload | None = None
    disaggregation: Disaggregation | None = None
    load: LoadSpec | None = None  # a request rate instead of a fixed concurrency (issue 12; core/load.py)


# --------------------------------------------------------------------------- outputs

# Outputs compare by identity (eq=False): nothing compares estimates field by field, and skipping the
# generated __eq__/__hash__ keeps start-up down.


@dataclass(frozen=True, eq=False)
class KernelTimes:
    """A phase's wall time by kernel class; the five add up to the phase time."""

    gemm_s: float = 0.0  # dense matmuls: attention projections, dense FFN, shared experts, LM head
    attention_s: float = 0.0  # fused attention (prefill) and KV-cache streaming (decode)
    moe_s: float = 0.0  # routed experts: grouped GEMMs and permute/unpermute traffic
    collectives_s: float = 0.0  # all-reduce, all-to-all and pipeline sends: the bandwidth part
    fixed_s: float = 0.0  # host work, kernel floors and collective latency (see FixedCosts)

    @property
    def total_s(self) -> float:
        return self.gemm_s + self.attention_s + self.moe_s + self.collectives_s + self.fixed_s


@dataclass(frozen=True, eq=False)
class FixedCosts:
    """The part of a phase that does not scale with its work."""

    host_s: float = 0.0  # scheduling, sampling and detokenization the GPU waits for
    kernel_floor_s: float = 0.0  # kernels x the minimum time of one kernel
    collective_latency_s: float = 0.0  # collectives x their small-message latency

    @property
    def total_s(self) -> float:
        return self.host_s + self.kernel_floor_s + self.collective_latency_s


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
    compute_time_s: float  # every kernel's compute term: the roofline's time if only arithmetic counted
    memory_time_s: float  # every kernel's memory term: the time if only memory traffic counted
    comm_time_s: float
    overhead_time_s: float
    time_s: float
    bound: str  # compute | memory | communication | overhead
    utilization: float  # achieved FLOP/s / (replica GPUs x peak)
    bandwidth_utilization: float  # achieved bytes/s / (replica GPUs x datasheet bandwidth)
    context_tokens: float = 0.0  # mean context a decode step attends over
    flops_per_gpu: float = 0.0  # one pass through all layers, on one tensor rank (what the compute time divides)
    bytes_per_gpu: float = 0.0  # likewise for the memory time
    passes: float = 1.0  # passes the phase's wall time spans (pipeline fill, prefill chunks)
    collectives_per_pass: int = 0  # all-reduces, all-to-alls and stage sends on the critical path
    kernel_times: KernelTimes = field(default_factory=KernelTimes)
    fixed_costs: FixedCosts = field(default_factory=FixedCosts)

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
    batch_limited_by: str  # what stops the batch from growing: kv-cache | weights | request cap | ...
    kv_pool_bytes_per_gpu: float = 0.0  # what the engine's memory semantics leave for the KV cache
    min_gpus_layout: str = ""  # the layout of the smallest replica that fits (e.g. "--tp 8", "--tp 1 --pp 5")

    @property
    def headroom_bytes_per_gpu(self) -> float:
        return self.usable_bytes_per_gpu - self.total_bytes_per_gpu


@dataclass(frozen=True, eq=False)
class Latency:
    ttft_s: float
    tpot_s: float | None  # None when there is no decode step (one output token, encoders)
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
    usd_per_million_cached_input_tokens: float | None = None  # input tokens served from the prefix cache


@dataclass(frozen=True, eq=False)
class Bounds:
    """The seed argument's two limits on forward passes (batch-1 steps) per second, per replica."""

    compute_forward_passes_per_s: float
    memory_forward_passes_per_s: float


@dataclass(frozen=True, eq=False)
class Serving:
    """How the engine ran the requests: static batch or the steady state of in-flight batching."""

    batching: str  # static | continuous
    engine: str
    concurrency: int  # requests offered per replica
    running: int  # requests in flight
    waiting: int  # requests queued for a slot
    limited_by: str  # what caps the running requests: concurrency | kv-cache | request cap | token budget
    token_budget: int | None
    iterations_per_request: float  # iterations a request spends running
    prefill_iterations: float  # of which it is prefilling (its chunks, and waiting behind other prompts)
    mixed_iteration_share: float  # iterations that carry prefill chunks
    prefill_tokens_per_iteration: float  # in those iterations
    decode_requests_per_iteration: float
    cycle_time_s: float  # time in which `requests_per_cycle` requests complete
    requests_per_cycle: float
    prefill_busy_s: float  # of the cycle, attributed to prefill (marginal cost of the prompt tokens)
    decode_busy_s: float  # of the cycle, attributed to decode
    queue_wait_s: float  # mean wait for a slot
    num_requests: int | None = None
    total_time_s: float | None = None  # a finite run of num_requests requests
    cached_prefill_busy_s: float = 0.0  # of prefill_busy_s, attributed to prompt tokens read from the prefix cache


@dataclass(frozen=True, eq=False)
class ErrorBand:
    """The calibration residuals of the regime an estimate falls in."""

    regime: str
    p80: float  # 80 % of calibration errors are within this fraction
    n: int  # calibration rows behind it


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
    serving: Serving | None = None
    error_band: ErrorBand | None = None
    speculative: SpeculativeReport | None = None
    prefix_cache: PrefixReport | None = None
    kv_offload: OffloadReport | None = None
    disaggregation: DisaggReport | None = None
    load: LoadReport | None = None  # the steady state at the scenario's request rate (core/load.py)


# The issue-12 features' types (speculation, prefix cache, offload, disaggregation, load) live in
# ``feature_types``: most runs never use them, and each frozen dataclass costs start-up to create.
_FEATURE_TYPES = ("Speculation", "KVOffload", "Disaggregation", "SpeculativeReport", "PrefixReport", "OffloadReport",
                  "DisaggReport", "LoadSpec", "LoadLatency", "LoadReport")


def __getattr__(name: str):
    if name in _FEATURE_TYPES:
        from . import feature_types

        return getattr(feature_types, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
