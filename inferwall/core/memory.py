"""Memory per GPU: the footprint of a layout, the KV-cache pool an engine's memory semantics leave, the largest
batch that fits and the smallest replica that fits.

Engines size the KV-cache pool differently (``MemoryPolicy.fraction_of``):

* ``total`` (vLLM): fraction x capacity holds weights, the activation peak, the reserve and the pool;
* ``free`` (TensorRT-LLM): the pool is fraction x (capacity - weights - activations - reserve);
* ``total_static`` (SGLang): fraction x capacity holds weights and the pool; activations and the reserve live in
  the rest (when they do not fit there, the pool shrinks by the excess).

A sequence holds KV for its whole length in a static batch. Under continuous batching an engine that reserves
on admission (TensorRT-LLM's guaranteed-no-evict scheduler) holds S+T per request; one that allocates as tokens
arrive (vLLM, SGLang) holds the mean over a request's life, S + T/2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import architecture as arch
from .dtypes import nbytes
from .layout import describe, replica_layouts
from .passes import rank_shape
from .types import MemoryReport, ModelArch, Parallelism, Scenario

MAX_BATCH = 1 << 24  # batches are searched up to 16.8 M sequences per replica
MIN_GPUS_SEARCH_LIMIT = 4096
MIN_GPUS_CANDIDATES = tuple(range(1, 9)) + tuple(range(16, MIN_GPUS_SEARCH_LIMIT + 1, 8))
LOGIT_BYTES = 4  # logits are kept in fp32


@dataclass(frozen=True)
class Footprint:
    """Per-GPU memory of one layout as a function of the batch (the most loaded GPU)."""

    weights: float
    kv_per_seq: float
    live_bytes_per_token: float  # activation workspace per token in flight
    logit_bytes_per_seq: float
    input_tokens: int
    workspace_tokens: int  # tokens one iteration carries at most (the engine's token budget)
    pp: int
    encoder: bool
    static: bool  # a static batch prefills every prompt at once; an engine's iteration is its token budget
    reserve: float
    capacity: float
    fraction: float
    fraction_of: str

    def workspace(self, batch: int) -> float:
        micro = math.ceil(batch / self.pp)
        if self.encoder:  # encoders keep no cache; attention scores are tiled (flash attention)
            return micro * self.input_tokens * self.live_bytes_per_token
        tokens = min(micro * self.input_tokens, self.workspace_tokens) if self.static else self.workspace_tokens
        return tokens * self.live_bytes_per_token + micro * self.logit_bytes_per_seq

    def kv_pool(self, batch: int) -> float:
        """Bytes the engine's memory semantics leave for the KV cache at this batch."""
        work = self.workspace(batch)
        if self.fraction_of == "free":
            return self.fraction * (self.capacity - self.weights - work - self.reserve)
        if self.fraction_of == "total_static":
            outside = max(0.0, work + self.reserve - (1 - self.fraction) * self.capacity)
            return self.fraction * self.capacity - self.weights - outside
        return self.fraction * self.capacity - self.weights - work - self.reserve

    def usable(self) -> float:
        """Capacity the engine may use (for reporting): its fraction of total, or all of it for ``free``."""
        return self.capacity if self.fraction_of == "free" else self.fraction * self.capacity

    def total(self, batch: int) -> float:
        return self.weights + self.kv_per_seq * batch + self.workspace(batch) + self.reserve

    def fits(self, batch: int) -> bool:
        pool = self.kv_pool(batch)
        return pool >= 0 and self.kv_per_seq * batch <= pool


def weights_per_gpu(s: Scenario, par: Parallelism) -> float:
    m, prec = s.model, s.precision
    shp = rank_shape(m, par)
    if m.bare:
        return shp.ffn_read_params * nbytes(prec.weights) / par.pp
    experts = shp.moe_layers * shp.local_experts * shp.expert_params * nbytes(prec.weights_for("experts"))
    total = (shp.attention_params * nbytes(prec.weights_for("attention"))
             + (shp.ffn_params + shp.other_params) * nbytes(prec.weights)
             + shp.held_head_params * nbytes(prec.weights_for("head")) + experts)
    return total / par.pp


def held_tokens(s: Scenario) -> float:
    """KV tokens one sequence holds while it runs (see the module docstring)."""
    w, m = s.workload, s.model
    if m.encoder:
        return 0.0
    if s.engine.batching == "continuous" and s.engine.kv_reservation != "full":
        return w.input_tokens + w.output_tokens / 2
    return w.input_tokens + w.output_tokens


def build_footprint(s: Scenario, par: Parallelism) -> Footprint:
    m, w = s.model, s.workload
    shp = rank_shape(m, par)
    kb, ab = nbytes(s.precision.kv), nbytes(s.precision.activations)
    layers_share = math.ceil(m.num_layers / par.pp) / m.num_layers if m.num_layers else 1.0 / par.pp
    kv_per_seq = arch.cached_tokens(m, held_tokens(s)) * shp.kv_elems_per_token_layer * kb * layers_share
    live = logits = 0.0
    if not m.bare and m.num_layers:
        # Live per token at the peak: residual stream and norms (~4d), Q and the attention output, and the FFN.
        # In the FFN the gate/up outputs and their activation product are live together (f widths: 3 gated,
        # 2 plain) and the down projection's input is that product, so f x FFN width, not 2f.
        live = (4 * m.hidden_size + (2 * arch.q_width(m) + m.ffn_matrices * arch.ffn_active_width(m)) / par.tp) * ab
        logits = m.vocab_size / par.tp * LOGIT_BYTES
    mp = s.memory
    return Footprint(weights=weights_per_gpu(s, par), kv_per_seq=kv_per_seq, live_bytes_per_token=live,
                     logit_bytes_per_seq=logits, input_tokens=w.input_tokens,
                     workspace_tokens=max(mp.prefill_chunk_tokens, 1), pp=par.pp, encoder=m.encoder,
                     static=s.engine.batching != "continuous", reserve=mp.reserve_bytes,
                     capacity=s.accelerator.memory_bytes, fraction=mp.memory_fraction, fraction_of=mp.fraction_of)


# Footprints, largest batches and min-GPU ladders depend only on these parts of a scenario, so a grid of
# thousands of configurations (``inferwall sweep``) computes each of them once. Results are identical.
_CACHE_LIMIT = 20000
_FOOTPRINTS: dict[tuple, Footprint] = {}
_LARGEST: dict[tuple, int] = {}
_LADDERS: dict[tuple, list[tuple[int, str]]] = {}


def memory_key(s: Scenario) -> tuple:
    w = s.workload
    return (s.model, s.precision, w.input_tokens, w.output_tokens, s.memory, s.accelerator.memory_bytes,
            s.engine.batching, s.engine.kv_reservation)


def _remember(cache: dict, key: tuple, value):
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value
    return value


def footprint(s: Scenario, par: Parallelism, key: tuple | None = None) -> Footprint:
    full = (key or memory_key(s), par)
    fp = _FOOTPRINTS.get(full)
    return fp if fp is not None else _remember(_FOOTPRINTS, full, build_footprint(s, par))


def largest_batch(fp: Footprint) -> int:
    """Largest batch whose KV fits the pool (0 if not even one sequence does)."""
    if not fp.fits(1):
        return 0
    if fp.kv_per_seq <= 0:
        return MAX_BATCH
    hi = min(MAX_BATCH, int(max(fp.kv_pool(1), 0) / fp.kv_per_seq) + 1)
    lo = 1
    while lo < hi:  # the workspace grows with the batch, so search rather than divide
        mid = (lo + hi + 1) // 2
        if fp.fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _largest_for(s: Scenario, par: Parallelism, key: tuple | None = None) -> int:
    full = (key or memory_key(s), par)
    best = _LARGEST.get(full)
    return best if best is not None else _remember(_LARGEST, full, largest_batch(footprint(s, par, full[0])))


def max_batch_for(s: Scenario, tp: int | None = None, pp: int | None = None) -> int:
    """Largest batch per replica whose weights, KV cache, workspace and reserve fit (0 if batch 1 does not)."""
    par = s.parallelism
    if tp is not None or pp is not None:
        par = Parallelism(tp=tp or par.tp, pp=pp or par.pp, dp=par.dp, ep=par.ep)
    return _largest_for(s, par)


def min_gpus_for(s: Scenario, batch: int | None = None, key: tuple | None = None) -> tuple[int, str] | None:
    """Smallest replica size, with a valid layout, whose most loaded GPU fits ``batch`` sequences; and the layout.

    Whether a layout fits is monotone in the batch, so the ladder of each candidate size's largest batch is
    computed once per memory key and answers every batch.
    """
    key = key or memory_key(s)
    domain = s.accelerator.scale_up_domain
    ladder = _LADDERS.get((key, domain))
    if ladder is None:
        ladder = _remember(_LADDERS, (key, domain), [])
    want = s.workload.batch if batch is None else batch
    for i, n in enumerate(MIN_GPUS_CANDIDATES):
        if i == len(ladder):
            best, layout = 0, ""
            for tp, pp in replica_layouts(s.model, n, domain):
                got = _largest_for(s, Parallelism(tp=tp, pp=pp), key)
                if got > best:
                    best, layout = got, describe(tp, pp)
            ladder.append((best, layout))
        if ladder[i][0] >= want:
            return n, ladder[i][1]
    return None


def memory_report(s: Scenario, running: int | None = None) -> MemoryReport:
    """The footprint at ``running`` sequences (default: the workload's batch)."""
    key = memory_key(s)
    par = s.parallelism
    fp = footprint(s, par, key)
    b = s.workload.batch if running is None else running
    mb = _largest_for(s, par, key)
    fits = fp.fits(b) if running is None or s.engine.batching != "continuous" else mb >= 1
    smallest = min_gpus_for(s, batch=max(min(b, mb) if s.engine.batching == "continuous" and mb else b, 1), key=key)
    here = par.gpus_per_replica
    n, layout = smallest if smallest else (None, "")
    if fits and (n is None or n > here):
        n, layout = here, describe(par.tp, par.pp)  # candidates are 1-8 and multiples of 8; this may sit between
    if mb == 0:
        limited_by = "weights"
    elif mb >= MAX_BATCH:
        limited_by = "search limit (no KV cache to fill memory)"
    else:
        limited_by = "kv-cache" if fp.kv_per_seq > 0 else "workspace"
    return MemoryReport(
        weights_bytes_per_gpu=fp.weights, kv_cache_bytes_per_gpu=fp.kv_per_seq * b,
        activation_bytes_per_gpu=fp.workspace(b), reserve_bytes_per_gpu=fp.reserve, total_bytes_per_gpu=fp.total(b),
        capacity_bytes_per_gpu=s.accelerator.memory_bytes, usable_bytes_per_gpu=fp.usable(), fits=fits,
        max_batch=mb, min_gpus=n, kv_bytes_per_sequence=fp.kv_per_seq, batch_limited_by=limited_by,
        kv_pool_bytes_per_gpu=max(fp.kv_pool(b), 0.0), min_gpus_layout=layout,
    )


def smallest_layout(m: ModelArch, gpus: int, domain: int) -> tuple[int, int] | None:
    """The first valid (tp, pp) of ``gpus`` GPUs, widest tensor group inside the domain first."""
    layouts = replica_layouts(m, gpus, domain)
    return layouts[0] if layouts else None
