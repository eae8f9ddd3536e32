"""Energy per token, from board power (TDP) and the utilization ``estimate()`` reports. Standard library only.

The model (docs/economics.md, "Energy"):

* A busy GPU draws a static share of its TDP whatever it does (clocks up, HBM refreshed, leakage, fans and
  voltage regulators on the board), plus a dynamic share proportional to how hard its busiest unit works:

      power per GPU = TDP x (idle + (1 - idle) x activity),   activity = max(FLOP utilization, bandwidth utilization)

  with ``idle`` = ``IDLE_POWER_FRACTION`` = 0.3 by default. A memory-bound decode step at 85 % of datasheet
  bandwidth therefore draws about 0.9 TDP, a compute-bound prefill at 70 % MFU about 0.8 TDP, an almost idle
  GPU 0.3 TDP. The activity of each phase is the one its ``PhaseCost`` reports (achieved FLOP/s over peak,
  achieved bytes/s over datasheet bandwidth), so no utilization is computed twice.
* Energy of a serving cycle (every running request completes once; a static batch is prefill then T - 1 decode
  steps) = power per GPU x GPUs of the replica x time, split the way ``cost`` splits dollars: output tokens the
  decode share, input tokens the prefill share (under continuous batching, what iterations carrying prompts take
  beyond decode-only ones), blended = both over all tokens. With speculative decoding the cycle has fewer decode
  iterations, so fewer joules. Disaggregated pools: each pool draws its phase's power for the share of time the
  request rate keeps it busy and idles the rest; prompt tokens carry the prefill pool, output tokens the decode pool.
* Device power only: no host CPUs, network, cooling or power-delivery losses (multiply by the data centre's
  PUE and a host share for facility energy). No TDP in the catalog -> every field ``None`` and a note.
"""

from __future__ import annotations

from dataclasses import dataclass

from .types import Estimate, PhaseCost

IDLE_POWER_FRACTION = 0.3  # of TDP, drawn by an allocated GPU that does no work


@dataclass(frozen=True)
class Energy:
    """Energy of one estimate. ``None`` everywhere when the accelerator has no TDP."""

    tdp_w_per_gpu: float | None
    idle_power_fraction: float
    prefill_power_w_per_gpu: float | None
    decode_power_w_per_gpu: float | None
    joules_per_output_token: float | None
    joules_per_input_token: float | None
    joules_per_token_blended: float | None
    notes: tuple[str, ...] = ()


def phase_power_w(tdp_w: float, phase: PhaseCost, idle_fraction: float = IDLE_POWER_FRACTION) -> float:
    """Mean power per GPU while a phase runs: TDP x (idle + (1 - idle) x max(FLOP util, bandwidth util))."""
    activity = min(max(phase.utilization, phase.bandwidth_utilization, 0.0), 1.0)
    return tdp_w * (idle_fraction + (1.0 - idle_fraction) * activity)


def energy_of(est: Estimate, idle_fraction: float = IDLE_POWER_FRACTION) -> Energy:
    """J per output, input and blended token of an estimate (per replica; replicas do not change it)."""
    if not 0.0 <= idle_fraction <= 1.0:
        raise ValueError(f"idle power fraction must be in [0, 1], got {idle_fraction}")
    s = est.scenario
    tdp = s.accelerator.tdp_w
    if not tdp:
        return Energy(None, idle_fraction, None, None, None, None, None,
                      notes=(f"no TDP for {s.accelerator.id}: energy per token is not estimated",))
    w = s.workload
    out_tokens = 0 if s.model.encoder else w.output_tokens
    prefill_w = phase_power_w(tdp, est.prefill, idle_fraction)
    decode_w = phase_power_w(tdp, est.decode, idle_fraction) if est.decode is not None else None
    if est.disaggregation is not None:
        prefill_j, decode_j, requests = _pools(est, tdp, idle_fraction)
    else:
        # a serving cycle (every running request completes once; a static batch: prefill, then T - 1 steps),
        # split between prompts and generation the way cost splits dollars
        gpus = s.parallelism.gpus_per_replica
        sv = est.serving
        if sv is not None and sv.cycle_time_s > 0:
            prefill_s, decode_s, requests = sv.prefill_busy_s, sv.cycle_time_s - sv.prefill_busy_s, sv.requests_per_cycle
        else:
            prefill_s, requests = est.prefill.time_s, w.batch
            decode_s = max(w.output_tokens - 1, 0) * est.decode.time_s if est.decode is not None else 0.0
        prefill_j = prefill_w * gpus * prefill_s
        decode_j = (decode_w or prefill_w) * gpus * decode_s
    per_output = decode_j / (requests * out_tokens) if out_tokens and est.decode is not None else None
    per_input = prefill_j / (requests * w.input_tokens)
    blended = (prefill_j + decode_j) / (requests * (w.input_tokens + out_tokens))
    return Energy(tdp_w_per_gpu=tdp, idle_power_fraction=idle_fraction, prefill_power_w_per_gpu=prefill_w,
                  decode_power_w_per_gpu=decode_w, joules_per_output_token=per_output,
                  joules_per_input_token=per_input, joules_per_token_blended=blended)


def _pools(est: Estimate, tdp: float, idle_fraction: float) -> tuple[float, float, float]:
    """Joules per second of the prefill and decode pools at the delivered rate, and requests per second."""
    d = est.disaggregation
    rate = est.throughput.requests_per_s

    def pool_j(instances: int, gpus: int, phase: PhaseCost | None, capacity: float) -> float:
        busy = min(rate / capacity, 1.0) if capacity > 0 else 1.0
        activity = min(max(phase.utilization, phase.bandwidth_utilization, 0.0), 1.0) if phase is not None else 0.0
        return instances * gpus * tdp * (idle_fraction + (1.0 - idle_fraction) * activity * busy)

    prefill_j = pool_j(d.prefill_instances, d.prefill_gpus_per_instance, est.prefill, d.prefill_requests_per_s)
    decode_j = pool_j(d.decode_instances, d.decode_gpus_per_instance, est.decode, d.decode_requests_per_s)
    return prefill_j, decode_j, rate
