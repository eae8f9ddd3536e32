"""Prefix caching and KV offload: input tokens served from a cache instead of prefilled.

With a hit rate F (``Workload.prefix_hit``) the first F x S tokens of a prompt are found in the prefix cache.
Prefill computes only the rest, max(S (1 - F), 1) tokens: engines always recompute the last prompt token to get
the first output token's logits. The computed tokens still attend over the whole prompt, so their attention scores
the cached keys and reads the cached KV; decode attends over the whole context as before. Memory is charged as if
every running request held its own prompt KV (requests sharing a prefix share its blocks, which this does not
assume).

Cost. The prefill share of a cycle is split between cached and computed input tokens by marginal time: the
cached tokens are charged what the prefill iterations cost beyond the same iterations carrying only the
S (1 - F) uncached tokens, with no prefix (their KV reads and the scores against them; at F = 1 the one
recomputed token). ``cost.usd_per_million_cached_input_tokens`` is that share per cached token, as API providers
price cache hits apart.

KV offload (``KVOffload``): a host-memory or SSD tier holds prefix KV beyond HBM. A hit served from it is read
back over the tier's link before the request's prefill can use it: load = cached KV bytes per GPU / link
bandwidth (a static batch loads all its prompts' hits before its prefill), added to the first token (not overlapped; engines that load layer by layer hide part of it). It pays
when loading is faster than recomputing the cached tokens, i.e. when the link is faster than
``breakeven_bytes_per_s`` = load bytes / recompute time. The load uses the link, not the GPU, so throughput is
unchanged unless the link saturates (``link_utilization`` > 1, said in a note).
"""

from __future__ import annotations

from dataclasses import replace

from . import architecture as arch
from .dtypes import nbytes
from .types import CoreError, Cost, Estimate, OffloadReport, PrefixReport, Scenario

TIERS = ("host", "ssd")


def validate(s: Scenario) -> None:
    hit = s.workload.prefix_hit
    if not 0.0 <= hit <= 1.0:
        raise CoreError(f"the prefix-cache hit rate must be in [0, 1], got {hit:g}")
    off = s.kv_offload
    if off is not None:
        if off.tier not in TIERS:
            raise CoreError(f"unknown KV offload tier {off.tier!r}; valid: {', '.join(TIERS)}")
        if not (off.capacity_bytes > 0 and off.bandwidth_bytes_per_s > 0):
            raise CoreError("a KV offload tier needs a capacity and a bandwidth > 0")


def computed_tokens(s: Scenario) -> float:
    """Prompt tokens a request prefills: the misses, and at least the last token."""
    w = s.workload
    return max(w.input_tokens * (1.0 - w.prefix_hit), 1.0) if w.prefix_hit else float(w.input_tokens)


def cached_tokens(s: Scenario) -> float:
    """Prompt tokens a request reads from the prefix cache."""
    return s.workload.input_tokens - computed_tokens(s)


def uncached_tokens(s: Scenario) -> float:
    """Input tokens that miss the cache, as a provider bills them: S (1 - F)."""
    return s.workload.input_tokens * (1.0 - s.workload.prefix_hit)


def cached_share(actual_s: float, uncached_s: float, floor_s: float) -> float:
    """Of the marginal time ``actual_s - floor_s`` of prompt work, the part the cached tokens add."""
    marginal = actual_s - floor_s
    if marginal <= 0:
        return 0.0
    return min(max((actual_s - uncached_s) / marginal, 0.0), 1.0)


def price(cost: Cost, s: Scenario, usd: float, cycle_s: float, cached_busy_s: float, prefill_busy_s: float,
          requests: float) -> Cost:
    """Split the input price into cached and uncached tokens (``usd`` is one replica over ``cycle_s``)."""
    if cycle_s <= 0:
        return cost
    hit_tokens = requests * s.workload.input_tokens * s.workload.prefix_hit  # billed as the user sees them
    miss_tokens = requests * uncached_tokens(s)
    cached_usd = usd * cached_busy_s / cycle_s
    miss_usd = usd * max(prefill_busy_s - cached_busy_s, 0.0) / cycle_s
    return replace(cost, usd_per_million_input_tokens=miss_usd / miss_tokens * 1e6 if miss_tokens > 1e-9 else None,
                   usd_per_million_cached_input_tokens=cached_usd / hit_tokens * 1e6 if hit_tokens > 0 else None)


def kv_bytes_per_gpu(s: Scenario, tokens: float) -> float:
    """The target's KV bytes for a prefix of ``tokens`` tokens on the most loaded GPU (local layers capped)."""
    import math

    from .passes import rank_shape

    m, par = s.model, s.parallelism
    layers_share = math.ceil(m.num_layers / par.pp) / m.num_layers if m.num_layers else 1.0 / par.pp
    per_layer = rank_shape(m, par).kv_elems_per_token_layer * nbytes(s.precision.kv)
    return arch.cached_tokens(m, tokens) * per_layer * layers_share


def report(est: Estimate) -> PrefixReport:
    s, mem = est.scenario, est.memory
    per_token = kv_bytes_per_gpu(s, 1.0)
    spare = max(mem.kv_pool_bytes_per_gpu - mem.kv_cache_bytes_per_gpu, 0.0)
    return PrefixReport(hit_rate=s.workload.prefix_hit, cached_tokens=cached_tokens(s),
                        prefilled_tokens=computed_tokens(s),
                        hbm_cache_tokens=spare / per_token if per_token > 0 else 0.0)


def offload_report(est: Estimate, recompute_s: float) -> OffloadReport:
    """The offload tier at the estimate's operating point; ``recompute_s`` is what prefilling the cached tokens
    would add to a request's prefill (from an estimate without the prefix cache)."""
    s = est.scenario
    off = s.kv_offload
    per_token = kv_bytes_per_gpu(s, 1.0)
    load_bytes = kv_bytes_per_gpu(s, cached_tokens(s))
    # a static batch loads every prompt's hit before its one prefill; in-flight batching loads a request's own
    prompts = s.workload.batch if s.engine.batching == "static" else 1
    load_s = prompts * load_bytes / off.bandwidth_bytes_per_s
    replicas = s.parallelism.dp
    per_replica_rps = est.throughput.requests_per_s / replicas if replicas else 0.0
    utilization = per_replica_rps * load_bytes / off.bandwidth_bytes_per_s
    breakeven = prompts * load_bytes / recompute_s if recompute_s > 0 and load_bytes > 0 else None
    return OffloadReport(
        tier=off.tier, capacity_bytes_per_gpu=off.capacity_bytes, bandwidth_bytes_per_s_per_gpu=off.bandwidth_bytes_per_s,
        capacity_tokens=off.capacity_bytes / per_token if per_token > 0 else 0.0, load_bytes_per_gpu=load_bytes,
        load_s=load_s, recompute_s=recompute_s, breakeven_bytes_per_s=breakeven, link_utilization=utilization,
        pays=load_bytes > 0 and load_s < recompute_s)
