"""Speculative decoding and multi-token prediction: what a verification step costs and yields.

A draft proposes K tokens per sequence; the target verifies them in one pass carrying K + 1 query tokens per
sequence (the K drafts and the token after the last accepted one) and keeps the accepted prefix plus one token of
its own. With acceptance A (each drafted token accepted given the ones before it were) a step yields
(1 - A^(K+1)) / (1 - A) tokens per sequence, K + 1 at A = 1 (``Speculation.tokens_per_step``).

One decode iteration with speculation is

* the verification pass: K + 1 times the matmul rows and LM-head rows of a plain step, attention scores of K + 1
  queries over the context (the keys are read once per sequence), and the KV of the K + 1 tokens written;
* the draft: K passes of one token per sequence through the draft, plus one pass over the prompt tokens of the
  iteration (the draft keeps its own KV cache; under static batching the batch's prefill does not run it). The draft is the checkpoint's multi-token-prediction layer
  (``ModelArch.mtp_layers``, DeepSeek-V3: one, reused for every drafted token), an EAGLE-style head (one decoder
  layer of the target with its LM head), or a separate catalog model on the same GPUs (``--draft-model``).

A request then decodes in (T - 1) / tokens_per_step iterations and its time per output token is the iteration
time / tokens_per_step. At small batch a decode iteration is bound by reading the weights, so K + 1 query tokens
cost little more than one and speculation pays; as the batch grows the step turns compute-bound, the verification
costs up to K + 1 times a plain step and speculation stops paying (``breakeven_batch``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from . import architecture as arch
from .dtypes import nbytes
from .passes import PassCost, PassWork, pass_cost, rank_shape
from .types import CoreError, Estimate, ModelArch, Parallelism, Scenario, SpeculativeReport

DRAFTS = ("mtp", "eagle", "model")
BREAKEVEN_SEARCH_LIMIT = 1 << 16  # sequences per replica


def validate(s: Scenario) -> None:
    spec = s.speculative
    if spec is None:
        return
    if spec.draft_tokens < 1:
        raise CoreError(f"speculative decoding drafts K >= 1 tokens per step, got {spec.draft_tokens}")
    if spec.acceptance is not None and not 0.0 <= spec.acceptance <= 1.0:
        raise CoreError(f"the acceptance rate must be in [0, 1], got {spec.acceptance:g}")
    if spec.accepted_length is not None and not 1.0 <= spec.accepted_length <= spec.draft_tokens + 1:
        raise CoreError(f"the accepted length is tokens per verification step, in [1, K + 1 = {spec.draft_tokens + 1}]"
                        f", got {spec.accepted_length:g}")
    if spec.draft not in DRAFTS:
        raise CoreError(f"unknown draft {spec.draft!r}; valid: {', '.join(DRAFTS)}")
    if spec.draft == "model" and (spec.draft_model is None or not spec.draft_model.has_attention):
        raise CoreError("a draft model needs its full shape (layers, heads, KV heads, head dim)")
    if spec.draft == "mtp" and not s.model.mtp_layers:
        raise CoreError(f"{s.model.id} ships no multi-token-prediction layers; use an EAGLE-style head or a draft model")
    if s.model.encoder:
        raise CoreError(f"{s.model.id} is an encoder: it generates no tokens to speculate on")
    if spec.draft != "model" and s.model.bare and not s.model.num_layers:
        raise CoreError("a --params model needs --layers for a draft head of one decoder layer (or a --draft-model)")


def one_layer(m: ModelArch) -> ModelArch:
    """One decoder layer of ``m`` with its LM head: the cost of an MTP module or an EAGLE-style head."""
    if m.bare:
        layers = max(m.num_layers, 1)
        return replace(m, id=f"{m.id}:draft-layer", params=m.params / layers,
                       active_params=(m.active_params or m.params) / layers, num_layers=1, window_layers=0,
                       mtp_layers=0)
    moe = replace(m.moe, moe_layers=1) if m.moe else None
    return replace(m, id=f"{m.id}:draft-layer", num_layers=1, window_layers=0, moe=moe, mtp_layers=0)


def _draft_parallelism(draft: ModelArch, par: Parallelism) -> Parallelism:
    """The draft runs on the target's tensor group, narrower where its heads do not divide (pp 1, no EP)."""
    from .layout import is_valid

    tp = par.tp
    while tp > 1 and not is_valid(draft, Parallelism(tp=tp)):
        tp -= 1
    return Parallelism(tp=tp)


def draft_scenario(s: Scenario) -> Scenario:
    """The draft as a scenario of its own: its model, layout, and no host work of its own (the engine schedules
    one iteration; the draft steps run inside it)."""
    spec = s.speculative
    if spec.draft == "model":
        draft = spec.draft_model
        par = _draft_parallelism(draft, s.parallelism)
    else:
        draft = one_layer(s.model)
        par = replace(s.parallelism, pp=1)
    eff = replace(s.efficiency, host_per_iteration_s=0.0, host_per_request_s=0.0)
    return replace(s, model=draft, parallelism=par, efficiency=eff, speculative=None, disaggregation=None,
                   kv_offload=None)


def decode_tokens_per_sequence(s: Scenario) -> int:
    """Tokens a decoding sequence puts through the target per iteration (and against the token budget)."""
    return s.speculative.draft_tokens + 1 if s.speculative is not None else 1


def iterations(s: Scenario, decode_tokens: float) -> float:
    """Decode iterations a request needs for ``decode_tokens`` tokens."""
    return decode_tokens / s.speculative.tokens_per_step if s.speculative is not None else decode_tokens


def per_token(s: Scenario, iteration_s: float | None) -> float | None:
    """Time per output token from the time of one decode iteration."""
    if iteration_s is None or s.speculative is None:
        return iteration_s
    return iteration_s / s.speculative.tokens_per_step


def _draft_cost(s: Scenario, w: PassWork) -> PassCost | None:
    """The K draft passes of an iteration (the first also runs over the iteration's prompt tokens)."""
    k = s.speculative.draft_tokens
    n = w.decode_seqs
    if n <= 0 and w.prefill_tokens <= 0:
        return None
    d = draft_scenario(s)
    wl = s.workload
    attended = arch.attended_tokens(d.model, wl.input_tokens + 1, wl.input_tokens + wl.output_tokens - 1)
    target_keys = arch.cached_tokens(s.model, wl.input_tokens) or 1.0
    pair_share = arch.cached_tokens(d.model, wl.input_tokens) / target_keys  # draft keys per target key
    decode = PassWork(tokens=n, logit_rows=n, decode_seqs=n, decode_attended=n * attended, requests=0.0)
    first = replace(decode, tokens=n + w.prefill_tokens, prefill_tokens=w.prefill_tokens,
                    prefill_pairs=w.prefill_pairs * pair_share, prefill_cached_reads=w.prefill_cached_reads * pair_share,
                    prefill_length=w.prefill_length, logit_rows=n)
    parts = [(1.0, pass_cost(d, first))]
    if k > 1 and n > 0:
        parts.append((float(k - 1), pass_cost(d, decode)))
    return total(parts)


def total(parts: list[tuple[float, PassCost]]) -> PassCost:
    """Passes run one after another, ``count`` times each: their sum."""
    from .serving import blend  # the weighted sum of every additive field

    return blend(parts)


def verification(s: Scenario, w: PassWork) -> PassWork:
    """The target's pass with K + 1 query tokens per decoding sequence."""
    k = s.speculative.draft_tokens
    n = w.decode_seqs
    return replace(w, tokens=w.tokens + n * k, logit_rows=w.logit_rows + n * k, decode_queries=k + 1.0)


def step_cost(s: Scenario, w: PassWork) -> PassCost:
    """One iteration with speculation: the verification pass plus the draft passes."""
    verify = pass_cost(s, verification(s, w))
    draft = _draft_cost(s, w)
    return verify if draft is None else total([(1.0, verify), (1.0, draft)])


# --------------------------------------------------------------------------- memory


def draft_weight_bytes_per_gpu(s: Scenario, par: Parallelism) -> float:
    """Weights the draft adds per GPU: an EAGLE-style head's layer (its LM head is the target's), a draft model's
    weights; MTP layers ship in the checkpoint and are already counted with the model."""
    spec = s.speculative
    if spec is None or spec.draft == "mtp":
        return 0.0
    from .memory import weights_per_gpu

    d = draft_scenario(replace(s, parallelism=par))
    if spec.draft == "model":
        return weights_per_gpu(d, d.parallelism)
    shp = rank_shape(d.model, d.parallelism)
    prec = s.precision
    if d.model.bare:
        return shp.ffn_read_params * nbytes(prec.weights)
    return (shp.attention_params * nbytes(prec.weights_for("attention")) + shp.ffn_params * nbytes(prec.weights)
            + shp.moe_layers * shp.local_experts * shp.expert_params * nbytes(prec.weights_for("experts")))


def draft_kv_bytes_per_sequence(s: Scenario, par: Parallelism, held_tokens: float) -> float:
    """The draft's own KV cache for a sequence of ``held_tokens`` tokens, on one GPU."""
    if s.speculative is None:
        return 0.0
    d = draft_scenario(replace(s, parallelism=par))
    per_token_layer = arch.kv_elements_per_token_per_layer(d.model, d.parallelism.tp) * nbytes(s.precision.kv)
    return arch.cached_tokens(d.model, held_tokens) * per_token_layer


# --------------------------------------------------------------------------- reports


def report(s: Scenario, running: float) -> SpeculativeReport:
    """Verification, draft and a plain step, for a decode-only iteration of ``running`` sequences (each of the
    p pipeline micro-batches carries 1/p of them, and the iteration takes one micro-batch's pass, as in
    ``serving.continuous``)."""
    spec = s.speculative
    p = s.parallelism.pp
    wl = s.workload
    attended = arch.attended_tokens(s.model, wl.input_tokens + 1, wl.input_tokens + wl.output_tokens - 1)
    mic = running / p
    plain = PassWork(tokens=mic, logit_rows=mic, decode_seqs=mic, decode_attended=mic * attended, requests=running)
    draft = _draft_cost(s, plain)
    draft_name = spec.draft_model.id if spec.draft == "model" and spec.draft_model else None
    return SpeculativeReport(
        draft=spec.draft, draft_model=draft_name, draft_tokens=spec.draft_tokens, acceptance=spec.acceptance,
        tokens_per_step=spec.tokens_per_step, verify_time_s=pass_cost(s, verification(s, plain)).time_s,
        draft_time_s=draft.time_s if draft else 0.0, plain_step_time_s=pass_cost(s, plain).time_s)


class _Pair:
    """Speculation and its baseline at the same batch, for the batch searches of ``economics``."""

    def __init__(self, s: Scenario, compute_explicit: bool):
        from .economics import BatchProbe

        self.spec = BatchProbe(s, compute_explicit)
        self.base = BatchProbe(replace(s, speculative=None), compute_explicit)

    def at(self, batch: int) -> tuple[Estimate, Estimate]:
        return self.spec.at(batch), self.base.at(batch)


def _tpot(est: Estimate) -> float:
    return est.latency.tpot_s if est.latency.tpot_s is not None else float("inf")


def breakeven_batch(s: Scenario, compute_explicit: bool = False) -> int | None:
    """The smallest batch per replica at which speculation no longer lowers the time per output token (1: it never
    pays; None: it pays up to the search limit). Decode turns compute-bound as the batch grows, and the verification
    pass then costs up to K + 1 plain steps while yielding tokens_per_step < K + 1 tokens. Evaluated on the decode
    step itself (a batch decoded in lock step, as ``economics`` does for the roofline), beyond the memory limit
    and the engine's caps: the batch at which the physics turns, which may lie past what fits."""
    from .economics import smallest_batch

    # the decode step in lock step (static batching), without the engine's caps on running requests and tokens
    plain = replace(s, workload=replace(s.workload, batch=1, num_requests=None, batch_max=False),
                    engine=replace(s.engine, batching="static"))
    pair = _Pair(plain, compute_explicit)
    return smallest_batch(pair, lambda ab: _tpot(ab[0]) >= _tpot(ab[1]), BREAKEVEN_SEARCH_LIMIT)


@dataclass(frozen=True, eq=False)
class Effect:
    """Speculation against the same configuration without it."""

    baseline_tpot_s: float | None
    baseline_output_tokens_per_s: float
    baseline_usd_per_million_output_tokens: float | None
    breakeven_batch: int | None


def effect(est: Estimate, compute_explicit: bool = False) -> Effect:
    from .estimate import estimate

    s = est.scenario
    base = estimate(replace(s, speculative=None), compute_explicit)
    return Effect(baseline_tpot_s=base.latency.tpot_s, baseline_output_tokens_per_s=base.throughput.output_tokens_per_s,
                  baseline_usd_per_million_output_tokens=base.cost.usd_per_million_output_tokens,
                  breakeven_batch=breakeven_batch(s, compute_explicit))
