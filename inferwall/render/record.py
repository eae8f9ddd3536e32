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
        "gpus": par.gpus,
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
        "latency": {"ttft_s": est.latency.ttft_s, "tpot_s": est.latency.tpot_s, "e2e_s": est.latency.e2e_s},
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
        },
        "bounds": {
            "compute_forward_passes_per_s": est.bounds.compute_forward_passes_per_s,
            "memory_forward_passes_per_s": est.bounds.memory_forward_passes_per_s,
        },
        "energy": energy_record(energy),
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
