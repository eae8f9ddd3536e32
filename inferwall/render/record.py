"""The estimate as plain data: nested dicts with stable keys in SI units. These keys are an interface."""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs start-up; its names are only needed by type checkers
if TYPE_CHECKING:
    from typing import Any

from inferwall.core import Estimate, PhaseCost
from inferwall.core.dtypes import peak_flops
from inferwall.core.energy import Energy, energy_of

from . import nonfinite_keys, nonfinite_note


def energy_record(energy: Energy) -> dict[str, Any]:
    """The ``energy`` section: device power and joules per token (docs/economics.md, "Energy")."""
    return {
        "tdp_w_per_gpu": energy.tdp_w_per_gpu,
        "idle_power_fraction": energy.idle_power_fraction,
        "prefill_power_w_per_gpu": energy.prefill_power_w_per_gpu,
        "decode_power_w_per_gpu": energy.decode_power_w_per_gpu,
        "joules_per_output_token": energy.joules_per_output_token,
        "joules_per_input_token": energy.joules_per_input_token,
        "joules_per_token_blended": energy.joules_per_token_blended,
    }


def _phase(p: PhaseCost | None, decode: bool) -> dict[str, Any] | None:
    if p is None:
        return None
    out: dict[str, Any] = {
        "tokens": p.tokens,
        "flops": p.flops,
        "bytes": p.bytes,
        "weight_bytes": p.weight_bytes,
        "kv_bytes": p.kv_bytes,
        "activation_bytes": p.activation_bytes,
        "arithmetic_intensity": p.arithmetic_intensity,
        "compute_time_s": p.compute_time_s,
        "memory_time_s": p.memory_time_s,
        "comm_time_s": p.comm_time_s,
        "overhead_time_s": p.overhead_time_s,
    }
    out["step_time_s" if decode else "time_s"] = p.time_s
    out["bound"] = p.bound
    out["utilization"] = p.utilization
    out["bandwidth_utilization"] = p.bandwidth_utilization
    if decode:
        out["context_tokens"] = p.context_tokens
    k, f = p.kernel_times, p.fixed_costs
    out["kernel_times"] = {"gemm_s": k.gemm_s, "attention_s": k.attention_s, "moe_s": k.moe_s,
                           "collectives_s": k.collectives_s, "fixed_s": k.fixed_s}
    out["fixed_costs"] = {"host_s": f.host_s, "kernel_floor_s": f.kernel_floor_s,
                          "collective_latency_s": f.collective_latency_s}
    return out


def serving_record(est: Estimate) -> dict[str, Any] | None:
    """The ``serving`` section: how the engine batched the requests."""
    sv = est.serving
    if sv is None:
        return None
    return {
        "batching": sv.batching,
        "engine": sv.engine,
        "concurrency": sv.concurrency,
        "running": sv.running,
        "waiting": sv.waiting,
        "limited_by": sv.limited_by,
        "token_budget": sv.token_budget,
        "iterations_per_request": sv.iterations_per_request,
        "prefill_iterations": sv.prefill_iterations,
        "mixed_iteration_share": sv.mixed_iteration_share,
        "prefill_tokens_per_iteration": sv.prefill_tokens_per_iteration,
        "decode_requests_per_iteration": sv.decode_requests_per_iteration,
        "cycle_time_s": sv.cycle_time_s,
        "requests_per_cycle": sv.requests_per_cycle,
        "prefill_busy_s": sv.prefill_busy_s,
        "queue_wait_s": sv.queue_wait_s,
        "num_requests": sv.num_requests,
        "total_time_s": sv.total_time_s,
    }


def _whole(count: float) -> int | float:
    """A parameter count is a whole number (``70553706496``, not ``70553706496.0``)."""
    return int(round(count)) if count == count and abs(count) < 1e30 else count


def scenario_record(est: Estimate) -> dict[str, Any]:
    """Every resolved input of an estimate (the ``scenario`` section every record shares)."""
    s = est.scenario
    acc, m, par, w, eff, prec = s.accelerator, s.model, s.parallelism, s.workload, s.efficiency, s.precision
    return {
        "model": m.id,
        "params": _whole(est.params),
        "active_params": _whole(est.active_params),
        "gpu": acc.id,
        "gpus": s.disaggregation.gpus if s.disaggregation else par.gpus,
        "tp": par.tp,
        "pp": par.pp,
        "dp": par.dp,
        "ep": par.ep,
        "batch": w.batch,
        "input_tokens": w.input_tokens,
        "output_tokens": w.output_tokens,
        "weights_dtype": prec.weights,
        "kv_dtype": prec.kv,
        "compute_dtype": prec.compute,
        "peak_flops_per_gpu": peak_flops(acc, prec.compute),
        "memory_bandwidth_bytes_per_s_per_gpu": acc.bandwidth_bytes_per_s,
        "memory_bytes_per_gpu": acc.memory_bytes,
        "price_usd_per_gpu_hour": acc.price_usd_per_hour,
        "engine": s.engine.id,
        "engine_version": s.engine.version,
        "batching": s.engine.batching,
        "max_running_requests": s.engine.max_running_requests,
        "token_budget": s.engine.max_tokens_per_iteration,
        "num_requests": w.num_requests,
        "quant": prec.recipe or None,
        "attention_weights_dtype": prec.weights_for("attention"),
        "expert_weights_dtype": prec.weights_for("experts") if s.model.moe else None,
        "head_weights_dtype": prec.weights_for("head"),
        "mfu": eff.gemm_for(prec.compute),
        "mbu": eff.mbu,
        "attention_efficiency": eff.attention_for(prec.activations),
        "decode_attention_efficiency": eff.decode_attention,
        "link_efficiency": eff.link_efficiency,
        "collective_latency_s": eff.collective_latency_s,
        "kernel_floor_s": eff.kernel_floor_s,
        "kernels_per_layer": eff.kernels_per_layer,
        "layer_overhead_s": eff.layer_overhead_s,
        "host_per_iteration_s": eff.host_per_iteration_s,
        "host_per_request_s": eff.host_per_request_s,
        "host_hidden_fraction": eff.host_hidden_fraction,
        "memory_fraction": s.memory.memory_fraction,
        "memory_fraction_of": s.memory.fraction_of,
        "reserve_bytes": s.memory.reserve_bytes,
        "request_rate": s.load.arrivals.rate if s.load is not None else None,  # issue 12: the load's inputs
        "arrival": s.load.arrivals.label if s.load is not None else None,
        **_feature_inputs(s),
    }


def _feature_inputs(s) -> dict[str, Any]:
    """The issue-12 inputs: speculation, the prefix cache and its offload tier, disaggregated pools."""
    spec, off, d = s.speculative, s.kv_offload, s.disaggregation
    return {
        "speculative_tokens": spec.draft_tokens if spec else None,
        "acceptance": spec.acceptance if spec else None,
        "accepted_length": spec.tokens_per_step if spec else None,
        "draft": (spec.draft_model.id if spec.draft == "model" and spec.draft_model else spec.draft) if spec else None,
        "prefix_hit": s.workload.prefix_hit,
        "kv_offload": off.tier if off else None,
        "disaggregation": f"{d.prefill_instances}P{d.decode_instances}D" if d else None,
    }


def speculative_record(est: Estimate) -> dict[str, Any] | None:
    """The ``speculative`` section: what a verification step yields and costs, against no speculation."""
    sp = est.speculative
    if sp is None:
        return None
    from inferwall.core.speculative import effect

    fx = effect(est)
    tpot = est.latency.tpot_s
    base_out = fx.baseline_output_tokens_per_s
    return {
        "draft": sp.draft,
        "draft_model": sp.draft_model,
        "draft_tokens": sp.draft_tokens,
        "acceptance": sp.acceptance,
        "tokens_per_step": sp.tokens_per_step,
        "verify_time_s": sp.verify_time_s,
        "draft_time_s": sp.draft_time_s,
        "step_time_s": sp.verify_time_s + sp.draft_time_s,
        "plain_step_time_s": sp.plain_step_time_s,
        "baseline_tpot_s": fx.baseline_tpot_s,
        "tpot_speedup": fx.baseline_tpot_s / tpot if tpot and fx.baseline_tpot_s else None,
        "baseline_output_tokens_per_s": base_out,
        "throughput_gain": est.throughput.output_tokens_per_s / base_out if base_out else None,
        "baseline_usd_per_million_output_tokens": fx.baseline_usd_per_million_output_tokens,
        "pays": bool(tpot is not None and fx.baseline_tpot_s is not None and tpot < fx.baseline_tpot_s),
        "breakeven_batch": fx.breakeven_batch,
    }


def prefix_record(est: Estimate) -> dict[str, Any] | None:
    px = est.prefix_cache
    if px is None:
        return None
    return {"hit_rate": px.hit_rate, "cached_tokens": px.cached_tokens, "prefilled_tokens": px.prefilled_tokens,
            "hbm_cache_tokens": px.hbm_cache_tokens}


def offload_record(est: Estimate) -> dict[str, Any] | None:
    off = est.kv_offload
    if off is None:
        return None
    return {"tier": off.tier, "capacity_bytes_per_gpu": off.capacity_bytes_per_gpu,
            "bandwidth_bytes_per_s_per_gpu": off.bandwidth_bytes_per_s_per_gpu, "capacity_tokens": off.capacity_tokens,
            "load_bytes_per_gpu": off.load_bytes_per_gpu, "load_s": off.load_s, "recompute_s": off.recompute_s,
            "breakeven_bytes_per_s": off.breakeven_bytes_per_s, "link_utilization": off.link_utilization,
            "pays": off.pays}


def disaggregation_record(est: Estimate) -> dict[str, Any] | None:
    d = est.disaggregation
    if d is None:
        return None
    return {
        "prefill_instances": d.prefill_instances, "decode_instances": d.decode_instances,
        "prefill_gpus_per_instance": d.prefill_gpus_per_instance, "decode_gpus_per_instance": d.decode_gpus_per_instance,
        "prefill_layout": d.prefill_layout, "decode_layout": d.decode_layout, "gpus": d.gpus,
        "prefill_requests_per_s": d.prefill_requests_per_s, "decode_requests_per_s": d.decode_requests_per_s,
        "limited_by": d.limited_by, "prefill_running": d.prefill_running, "decode_running": d.decode_running,
        "prefill_ttft_s": d.prefill_ttft_s, "decode_tpot_s": d.decode_tpot_s,
        "kv_transfer_bytes": d.kv_transfer_bytes, "kv_transfer_s": d.kv_transfer_s,
        "kv_transfer_link": d.kv_transfer_link, "kv_transfer_bytes_per_s": d.kv_transfer_bytes_per_s,
        "balanced_prefill_per_decode": d.balanced_prefill_per_decode,
    }


# --------------------------------------------------------------------------- load (issue 12)

PERCENTILE_KEYS = tuple(f"{name}_{q}_s" for name in ("ttft", "tpot", "e2e") for q in ("p50", "p90", "p99"))
LOAD_KEYS = (
    "method", "request_rate_per_replica", "input_lengths", "input_tokens_mean", "output_lengths",
    "output_tokens_mean", "saturated", "saturation_request_rate", "limited_by", "utilization",
    "concurrency_per_replica", "queued_per_replica", "mean_iteration_s", "decode_requests_per_iteration",
    "prefill_tokens_per_iteration", "running_cap", "kv_capacity_tokens", "simulated_requests", "seed",
)


def latency_percentiles(est: Estimate) -> dict[str, Any]:
    """``ttft_p50_s`` ... ``e2e_p99_s``: null without a request rate (a fixed batch has no distribution) and past
    the saturation rate (the queue grows without bound), never a finite number there."""
    load = est.load
    out: dict[str, Any] = {}
    for name in ("ttft", "tpot", "e2e"):
        pct = getattr(load, name) if load is not None else None
        for q in ("p50", "p90", "p99"):
            out[f"{name}_{q}_s"] = getattr(pct, q) if pct is not None else None
    return out


def load_record(est: Estimate) -> dict[str, Any]:
    """The ``load`` section (docs/model.md, "Load"): every key present, null without --request-rate, so the
    columns of sweep and compare stay the same."""
    load = est.load
    if load is None:
        return dict.fromkeys(LOAD_KEYS)
    return {
        "method": load.method,
        "request_rate_per_replica": load.request_rate / load.replicas,
        "input_lengths": load.input_lengths,
        "input_tokens_mean": load.input_tokens_mean,
        "output_lengths": load.output_lengths,
        "output_tokens_mean": load.output_tokens_mean,
        "saturated": load.saturated,
        "saturation_request_rate": load.saturation_request_rate,
        "limited_by": load.limited_by,
        "utilization": load.utilization,
        "concurrency_per_replica": load.concurrency_per_replica,
        "queued_per_replica": load.queued_per_replica,
        "mean_iteration_s": load.mean_iteration_s,
        "decode_requests_per_iteration": load.decode_requests_per_iteration,
        "prefill_tokens_per_iteration": load.prefill_tokens_per_iteration,
        "running_cap": load.running_cap,
        "kv_capacity_tokens": load.kv_capacity_tokens,
        "simulated_requests": load.simulated_requests,
        "seed": load.seed,
    }


def estimate_record(est: Estimate, provenance: dict[str, str] | None = None,
                    notes: tuple[str, ...] = ()) -> dict[str, Any]:
    scenario = scenario_record(est)
    mem = est.memory
    energy = energy_of(est)
    notes = tuple(dict.fromkeys(tuple(notes) + energy.notes))
    record = {
        "scenario": scenario,
        "prefill": _phase(est.prefill, decode=False),
        "decode": _phase(est.decode, decode=True),
        "memory": {
            "weights_bytes_per_gpu": mem.weights_bytes_per_gpu,
            "kv_cache_bytes_per_gpu": mem.kv_cache_bytes_per_gpu,
            "activation_bytes_per_gpu": mem.activation_bytes_per_gpu,
            "reserve_bytes_per_gpu": mem.reserve_bytes_per_gpu,
            "total_bytes_per_gpu": mem.total_bytes_per_gpu,
            "capacity_bytes_per_gpu": mem.capacity_bytes_per_gpu,
            "usable_bytes_per_gpu": mem.usable_bytes_per_gpu,
            "headroom_bytes_per_gpu": mem.headroom_bytes_per_gpu,
            "kv_bytes_per_sequence": mem.kv_bytes_per_sequence,
            "fits": mem.fits,
            "max_batch": mem.max_batch,
            "batch_limited_by": mem.batch_limited_by,
            "kv_pool_bytes_per_gpu": mem.kv_pool_bytes_per_gpu,
            "min_gpus": mem.min_gpus,
            "min_gpus_layout": mem.min_gpus_layout or None,
        },
        "serving": serving_record(est),
        "latency": {"ttft_s": est.latency.ttft_s, "tpot_s": est.latency.tpot_s, "e2e_s": est.latency.e2e_s,
                    **latency_percentiles(est)},
        "throughput": {
            "output_tokens_per_s": est.throughput.output_tokens_per_s,
            "input_tokens_per_s": est.throughput.input_tokens_per_s,
            "requests_per_s": est.throughput.requests_per_s,
        },
        "cost": {
            "usd_per_hour": est.cost.usd_per_hour,
            "usd_per_million_output_tokens": est.cost.usd_per_million_output_tokens,
            "usd_per_million_input_tokens": est.cost.usd_per_million_input_tokens,
            "usd_per_million_tokens_blended": est.cost.usd_per_million_tokens_blended,
            "usd_per_million_cached_input_tokens": est.cost.usd_per_million_cached_input_tokens,
        },
        "bounds": {
            "compute_forward_passes_per_s": est.bounds.compute_forward_passes_per_s,
            "memory_forward_passes_per_s": est.bounds.memory_forward_passes_per_s,
        },
        "speculative": speculative_record(est),
        "prefix_cache": prefix_record(est),
        "kv_offload": offload_record(est),
        "disaggregation": disaggregation_record(est),
        "energy": energy_record(energy),
        "load": load_record(est),
        "error_band": ({"regime": est.error_band.regime, "p80": est.error_band.p80, "n": est.error_band.n}
                       if est.error_band else None),
        "sources": dict(provenance or {}),
        "notes": list(notes),
    }
    overflowed = nonfinite_keys(record)
    if overflowed:
        record["notes"].append(nonfinite_note(overflowed))
    return record


def flatten(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"decode": {"bound": "memory"}}`` -> ``{"decode.bound": "memory"}``; lists are joined with '; '."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        elif isinstance(value, list):
            out[name] = "; ".join(map(str, value))
        else:
            out[name] = value
    return out
