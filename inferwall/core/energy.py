"""Energy per token, from board power (TDP) and the utilization ``estimate()`` reports. Standard library only.

The model (docs/economics.md, "Energy"):

* A busy GPU draws a static share of its TDP whatever it does (clocks up, HBM refreshed, leakage, fans and
  voltage regulators on the board), plus a dynamic share proportional to how hard its busiest unit works:

      power per GPU = TDP x (idle + (1 - idle) x activity),   activity = max(FLOP utilization, bandwidth utilization)

  with ``idle`` = ``IDLE_POWER_FRACTION`` = 0.3 by default. A memory-bound decode step at 85 % of datasheet
  bandwidth therefore draws about 0.9 TDP, a compute-bound prefill at 70 % MFU about 0.8 TDP, an almost idle
  GPU 0.3 TDP. The activity of each phase is the one its ``PhaseCost`` reports (achieved FLOP/s over peak,
  achieved bytes/s over datasheet bandwidth), so no utilization is computed twice.
* Energy of a phase = power per GPU x GPUs of the replica x the phase's wall time. Tokens are charged the way
  ``cost`` charges dollars: output tokens the decode share ((T - 1) decode steps), input tokens the prefill
  share, blended = both over all tokens.
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
    gpus = s.parallelism.gpus_per_replica
    prefill_w = phase_power_w(tdp, est.prefill, idle_fraction)
    prefill_j = prefill_w * gpus * est.prefill.time_s
    decode_w = None
    decode_j = 0.0
    if est.decode is not None:
        decode_w = phase_power_w(tdp, est.decode, idle_fraction)
        steps = max(w.output_tokens - 1, 0)
        decode_j = decode_w * gpus * steps * est.decode.time_s
    out_tokens = 0 if s.model.encoder else w.output_tokens
    per_output = decode_j / (w.batch * out_tokens) if out_tokens else None
    per_input = prefill_j / (w.batch * w.input_tokens)
    blended = (prefill_j + decode_j) / (w.batch * (w.input_tokens + out_tokens))
    return Energy(tdp_w_per_gpu=tdp, idle_power_fraction=idle_fraction, prefill_power_w_per_gpu=prefill_w,
                  decode_power_w_per_gpu=decode_w, joules_per_output_token=per_output,
                  joules_per_input_token=per_input, joules_per_token_blended=blended)
