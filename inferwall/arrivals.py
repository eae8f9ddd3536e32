"""Request rates and arrival processes from user text: ``--request-rate`` and ``--arrival``.

* rate: ``12``, ``12/s``, ``720/min``, ``43200/h`` (requests per second unless a unit says otherwise);
* arrival: ``poisson`` (the default), ``constant``, or ``bursty:CV`` (gamma-distributed gaps with coefficient
  of variation CV; CV > 1 is burstier than Poisson, e.g. ``bursty:2``). vLLM's ``--burstiness`` factor is the
  gamma shape, 1 / CV^2: burstiness 0.25 is ``bursty:2``.

Bad input raises ``InputError`` with one line naming the valid range.
"""

from __future__ import annotations

import math
import re

from inferwall.core.distributions import ARRIVAL_PROCESSES, Arrivals
from inferwall.errors import InputError

_RATE = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(?:/\s*(s|sec|second|min|minute|h|hr|hour))?\s*$")
_PER = {None: 1.0, "s": 1.0, "sec": 1.0, "second": 1.0, "min": 60.0, "minute": 60.0, "h": 3600.0, "hr": 3600.0,
        "hour": 3600.0}
MAX_CV = 100.0


def parse_request_rate(text, what: str = "--request-rate") -> float:
    """Requests per second, > 0."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        match = _RATE.match(str(text))
        if not match:
            raise InputError(f"{what}: cannot parse {text!r} as a request rate; valid: a number > 0 of requests "
                             "per second, e.g. 12, 12/s, 720/min")
        value = float(match[1]) / _PER[match[2]]
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"{what}: the request rate must be > 0 requests per second, got {text!r}")
    from inferwall.core.limits import REQUESTS_PER_S

    problem = REQUESTS_PER_S.problem(value)
    if problem:
        raise InputError(f"{what}: {problem}")
    return value


def parse_cv(text, what: str = "--arrival") -> float:
    """A coefficient of variation of inter-arrival gaps, in (0, 100]."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise InputError(f"{what}: the coefficient of variation must be a number in (0, {MAX_CV:g}], "
                         f"got {text!r}") from None
    if not (math.isfinite(value) and 0 < value <= MAX_CV):
        raise InputError(f"{what}: the coefficient of variation must be in (0, {MAX_CV:g}] (1 is Poisson, "
                         f"> 1 burstier), got {text!r}")
    return value


def parse_arrivals(text, rate: float, what: str = "--arrival") -> Arrivals:
    """``poisson``, ``constant`` or ``bursty:CV`` at ``rate`` requests per second."""
    raw = str(text).strip().lower()
    name, _, cv_text = raw.partition(":")
    valid = "valid: poisson, constant, bursty:CV (gamma gaps, CV > 0, e.g. bursty:2)"
    if name not in ARRIVAL_PROCESSES:
        raise InputError(f"{what}: unknown arrival process {text!r}; {valid}")
    if name == "bursty":
        if not cv_text:
            raise InputError(f"{what}: bursty arrivals need a coefficient of variation, e.g. bursty:2; {valid}")
        return Arrivals(rate, "bursty", parse_cv(cv_text, what))
    if cv_text:
        raise InputError(f"{what}: {name} arrivals take no parameter, got {text!r}; {valid}")
    return Arrivals(rate, name)
