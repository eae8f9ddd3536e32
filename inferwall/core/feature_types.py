"""Frozen dataclasses of the issue-12 serving features: speculative decoding, the prefix cache and its offload
tier, disaggregated prefill/decode pools, and load under a request rate. ``types`` re-exports them on first use,
so one-liners that never use them do not pay for creating them at start-up."""

from __future__ import annotations

from dataclasses import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .distributions import Arrivals, LengthDistribution
    from .types import ModelArch, Parallelism


@dataclass(frozen=True)
class Speculation:
    """Speculative decoding: a draft proposes ``draft_tokens`` (K) tokens per step and the target verifies them in
    one pass carrying K + 1 query tokens per sequence. ``acceptance`` (A) is the probability that a drafted token is
    accepted given that the ones before it were; ``accepted_length`` gives the mean tokens per step directly.
    ``draft``: ``mtp`` (the checkpoint's multi-token-prediction layers), ``eagle`` (a one-layer head on the
    target's features) or ``model`` (``draft_model``, a separate catalog model on the same GPUs)."""

    draft_tokens: int = 1
    acceptance: float | None = None
    accepted_length: float | None = None
    draft: str = "eagle"
    draft_model: ModelArch | None = None

    @property
    def tokens_per_step(self) -> float:
        """Expected tokens a verification step yields per sequence: (1 - A^(K+1)) / (1 - A), K + 1 at A = 1."""
        if self.accepted_length is not None:
            return self.accepted_length
        a, k = self.acceptance if self.acceptance is not None else 0.0, self.draft_tokens
        return float(k + 1) if a >= 1.0 else (1.0 - a ** (k + 1)) / (1.0 - a)


@dataclass(frozen=True)
class KVOffload:
    """A tier below HBM that holds prefix-cache KV (``--kv-offload``): host memory or SSD, per GPU."""

    tier: str  # host | ssd
    capacity_bytes: float  # per GPU
    bandwidth_bytes_per_s: float  # per GPU, reading KV back into HBM


@dataclass(frozen=True)
class Disaggregation:
    """Separate prefill and decode pools (``--disaggregate xPyD``): ``prefill_instances`` engines with the layout
    ``prefill`` run prompts only; ``decode_instances`` engines with the layout ``decode`` (the scenario's
    ``parallelism``) receive each prompt's KV cache and decode."""

    prefill_instances: int
    decode_instances: int
    prefill: Parallelism
    decode: Parallelism

    @property
    def gpus(self) -> int:
        return self.prefill_instances * self.prefill.gpus + self.decode_instances * self.decode.gpus


@dataclass(frozen=True, eq=False)
class SpeculativeReport:
    """What speculation does at the estimate's operating point (one decode iteration of the running requests)."""

    draft: str  # mtp | eagle | model
    draft_model: str | None
    draft_tokens: int
    acceptance: float | None
    tokens_per_step: float
    verify_time_s: float  # the target's verification pass (K + 1 query tokens per sequence)
    draft_time_s: float  # the K draft passes
    plain_step_time_s: float  # the same iteration without speculation (one token per sequence)


@dataclass(frozen=True, eq=False)
class PrefixReport:
    hit_rate: float
    cached_tokens: float  # per request, read from the cache
    prefilled_tokens: float  # per request, computed (the last prompt token is always computed)
    hbm_cache_tokens: float  # prompt tokens the KV pool holds beside the running requests, per replica


@dataclass(frozen=True, eq=False)
class OffloadReport:
    tier: str
    capacity_bytes_per_gpu: float
    bandwidth_bytes_per_s_per_gpu: float
    capacity_tokens: float  # prompt tokens the tier holds, per replica
    load_bytes_per_gpu: float  # per request: the cached tokens' KV read back into one GPU
    load_s: float  # per request, added to its first token
    recompute_s: float  # what prefilling the cached tokens instead would add to the first token
    breakeven_bytes_per_s: float | None  # the read-back bandwidth above which loading beats recomputing
    link_utilization: float  # load traffic / tier bandwidth at the estimate's request rate
    pays: bool


@dataclass(frozen=True, eq=False)
class DisaggReport:
    prefill_instances: int
    decode_instances: int
    prefill_gpus_per_instance: int
    decode_gpus_per_instance: int
    prefill_layout: str
    decode_layout: str
    gpus: int
    prefill_requests_per_s: float  # the prefill pool's capacity (saturated)
    decode_requests_per_s: float  # the decode pool's capacity at its batch
    limited_by: str  # prefill | decode: the pool that sets the request rate
    prefill_running: float  # prompts in flight per prefill instance at the operating rate
    decode_running: float  # requests decoding per decode instance at the operating rate
    prefill_ttft_s: float  # the prefill pool's first token, without the transfer
    decode_tpot_s: float | None
    kv_transfer_bytes: float  # per request
    kv_transfer_s: float
    kv_transfer_link: str  # scale-up | scale-out
    kv_transfer_bytes_per_s: float  # the bandwidth the transfer runs at
    balanced_prefill_per_decode: float  # prefill instances per decode instance that balance the two pools


@dataclass(frozen=True)
class LoadSpec:
    """Traffic at a request rate, in place of a fixed concurrency (``--request-rate``; core/load.py and
    docs/queueing.md). ``arrivals`` is the process at the rate of the *whole deployment*: the replicas share it
    evenly, each seeing the same process at rate / replicas. ``input_lengths`` and ``output_lengths`` are
    ``distributions.LengthDistribution``s. ``method``: ``analytic`` (the closed form, ``queueing.solve_load``) or
    ``simulation`` (``simulate.simulate_engine`` of ``requests`` requests after a warm-up, seeded by ``seed``)."""

    arrivals: Arrivals
    input_lengths: LengthDistribution
    output_lengths: LengthDistribution
    method: str = "analytic"
    requests: int = 10_000
    seed: int = 0


@dataclass(frozen=True, eq=False)
class LoadLatency:
    """p50, p90, p99 and the mean of one latency under load, in seconds."""

    p50: float
    p90: float
    p99: float
    mean: float


@dataclass(frozen=True, eq=False)
class LoadReport:
    """An engine's steady state at a request rate. Rates are for the whole deployment (every replica); counts
    (concurrency, queue) are per replica. Past the saturation rate the queue grows without bound: ``saturated``
    is true and the latencies and ``queued_per_replica`` are ``None``."""

    method: str  # analytic | simulation
    request_rate: float  # offered, all replicas
    replicas: int
    arrival: str  # poisson, constant, bursty (cv 2)
    input_lengths: str  # the distribution's label
    input_tokens_mean: float
    output_lengths: str
    output_tokens_mean: float
    saturated: bool
    saturation_request_rate: float  # all replicas: the rate from which the queue grows without bound
    limited_by: str  # running_requests | kv_capacity | token_budget: the engine limit that sets it
    utilization: float | None  # request_rate / saturation_request_rate (None: no rate can be served)
    concurrency_per_replica: float  # mean requests in flight (prefilling or decoding)
    queued_per_replica: float | None  # mean requests waiting for admission
    mean_iteration_s: float
    decode_requests_per_iteration: float
    prefill_tokens_per_iteration: float
    running_cap: int  # requests that can run at once (the request cap, or the token budget if smaller)
    token_budget: int | None  # tokens per iteration (None: the engine has none)
    kv_capacity_tokens: int  # KV-cache tokens per replica, in tokens reserved at admission
    ttft: LoadLatency | None
    tpot: LoadLatency | None
    e2e: LoadLatency | None
    simulated_requests: int | None = None
    seed: int | None = None
    iteration_time_calls: int = 0  # evaluations of the cost model behind the load model
    notes: tuple[str, ...] = ()
