"""Parallel layouts: which (tp, pp, dp, ep) can run a model, and which one to pick when the user gives only a
GPU count. Pure functions of frozen inputs, remembered because grids evaluate the same layouts many times."""

from __future__ import annotations

import functools

from .types import CoreError, ModelArch, Parallelism

DIVISORS_SHOWN = 12  # an error lists at most this many valid values


def divisors(n: int, limit: int = DIVISORS_SHOWN) -> list[int]:
    """The smallest ``limit`` divisors of n, ascending, in O(sqrt n) steps."""
    small: list[int] = []
    large: list[int] = []
    i = 1
    while i * i <= n:
        if n % i == 0:
            small.append(i)
            if i != n // i:
                large.append(n // i)
            if len(small) >= limit:
                break
        i += 1
    return (small + large[::-1])[:limit]


def validate_layout(m: ModelArch, par: Parallelism) -> None:
    """Raise CoreError if ``par`` cannot run ``m``. Valid pairs are remembered (the check is pure)."""
    _validate_layout_cached(m, par)


@functools.lru_cache(maxsize=4096)
def _validate_layout_cached(m: ModelArch, par: Parallelism) -> None:
    for name in ("tp", "pp", "dp", "ep"):
        if getattr(par, name) < 1:
            raise CoreError(f"{name} must be >= 1, got {getattr(par, name)}")
    t = par.tp
    if par.ep > 1:
        if m.moe is None:
            raise CoreError(f"ep={par.ep} needs a mixture-of-experts model; {m.id} is dense")
        if m.moe.num_experts % par.ep:
            raise CoreError(f"ep={par.ep} does not divide the {m.moe.num_experts} experts of {m.id}; valid ep: "
                            + ", ".join(map(str, divisors(m.moe.num_experts))))
        if par.ep <= t and t % par.ep:
            raise CoreError(f"ep={par.ep} must divide tp={t} when it is not wider than the tensor group "
                            f"(or be a multiple of tp: attention data parallelism)")
        if par.ep > t:
            if par.ep % t:
                raise CoreError(f"ep={par.ep} wider than tp={t} must be a multiple of it (attention data parallelism: "
                                f"ep/tp data-parallel ranks share the MoE layers)")
            if t * par.dp < par.ep:
                raise CoreError(f"ep={par.ep} spans {par.ep // t} attention data-parallel ranks of tp={t}, but there "
                                f"are only dp={par.dp}; give --dp {par.ep // t} or more (--gpus {par.ep * par.pp})")
            if (t * par.dp) % par.ep:
                raise CoreError(f"tp x dp = {t * par.dp} GPUs must form whole expert-parallel groups of ep={par.ep}")
            if par.pp > 1:
                raise CoreError("attention data parallelism with ep > tp runs without pipeline stages (pp must be 1)")
    if not m.has_attention:
        return
    if m.num_heads % t:
        raise CoreError(f"tp={t} does not divide the {m.num_heads} attention heads of {m.id}; valid tp: "
                        + ", ".join(map(str, divisors(m.num_heads))))
    if not m.mla and m.num_kv_heads % t and t % m.num_kv_heads:
        raise CoreError(f"tp={t} must divide or be a multiple of the {m.num_kv_heads} KV heads of {m.id}")
    if m.num_layers and par.pp > m.num_layers:
        raise CoreError(f"pp={par.pp} exceeds the {m.num_layers} layers of {m.id}")


def is_valid(m: ModelArch, par: Parallelism) -> bool:
    try:
        validate_layout(m, par)
    except CoreError:
        return False
    return True


@functools.lru_cache(maxsize=4096)
def replica_layouts(m: ModelArch, gpus: int, domain: int) -> tuple[tuple[int, int], ...]:
    """Valid (tp, pp) with tp x pp == gpus, widest tensor group inside the scale-up domain first."""
    out = []
    for tp in divisors(gpus, limit=1 << 30):
        pp = gpus // tp
        if is_valid(m, Parallelism(tp=tp, pp=pp)):
            out.append((tp, pp))
    out.sort(key=lambda tp_pp: (tp_pp[0] > max(domain, 1), -tp_pp[0]))
    return tuple(out)


def describe(tp: int, pp: int, dp: int = 1, ep: int = 1) -> str:
    """A layout as the flags that spell it."""
    parts = [f"--tp {tp}"]
    if pp > 1:
        parts.append(f"--pp {pp}")
    if dp > 1:
        parts.append(f"--dp {dp}")
    if ep > 1:
        parts.append(f"--ep {ep}")
    return " ".join(parts)
