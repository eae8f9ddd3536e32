"""The physical range of every input quantity: what inferwall accepts, and why.

A value outside its range describes no real model or hardware, and would overflow to inf, underflow to 0 or make
a search run for ever. Every reader (flags, plan files, model files, Hugging Face configs, catalogs, the config
file) checks its values against this one table, so the core only ever sees finite numbers inside these ranges.
Each maximum is far beyond the largest published model or device (the ``why``), never a guess at plausibility.
docs/limits.md prints the table; a test keeps the two in step. Standard library only.
"""

from __future__ import annotations

import math
import sys

SMALLEST_NORMAL = sys.float_info.min  # 2.2e-308: anything smaller and non-zero is subnormal
DAY_YEARS = 1 / 365.25


class Limit:
    """A closed range [low, high] (or (0, high] when ``above_zero``) of one quantity, in SI units.

    A plain class rather than a dataclass: this module loads on every one-liner, and a dataclass costs start-up.
    """

    __slots__ = ("low", "high", "unit", "why", "above_zero", "low_text")

    def __init__(self, low: float, high: float, unit: str, why: str, above_zero: bool = False,
                 low_text: str = "") -> None:
        self.low, self.high = low, high
        self.unit = unit  # how messages write the value ("", " B/s", " s", ...)
        self.why = why  # the physical reason for the maximum (or the minimum)
        self.above_zero = above_zero  # the low end is exclusive zero: (0, high]
        self.low_text = low_text  # how messages write ``low`` when a number would not say it (1 day)

    def __repr__(self) -> str:
        return f"Limit({self.low!r}, {self.high!r}, {self.unit!r})"

    def problem(self, value: float) -> str | None:
        """None if ``value`` is in range, else what is wrong, e.g. 'must be at most 1e+15 (...)'."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"must be a number, got {value!r}"
        if isinstance(value, float) and not math.isfinite(value):
            return f"must be a finite number, got {value!r}"
        if value != 0 and abs(value) < SMALLEST_NORMAL:
            return f"{value!r} is too close to zero to compute with (subnormal); use 0 or a larger value"
        if self.above_zero and value <= 0:
            return f"must be > 0, got {show(value)}"
        if value < self.low:
            return f"must be at least {self.low_text or show(self.low) + self.unit}, got {show(value)}{self.unit}"
        if value > self.high:
            return f"must be at most {show(self.high)}{self.unit} ({self.why}), got {show(value)}{self.unit}"
        return None


def show(value: float) -> str:
    """A bound or a value as people read it: 100,000 or 1e+15, never 100000.0 nor 400 digits."""
    if isinstance(value, int) and abs(value) < 10**15 or isinstance(value, float) and value.is_integer() and abs(value) < 1e7:
        return f"{int(value):,}"
    try:
        return f"{float(value):.6g}"
    except OverflowError:  # an int beyond the float range
        return f"a number with {len(str(abs(value))):,} digits" if abs(value) < 10**4000 else "a number too long to print"


# Model shape: about 30 to 1,000 times the largest published model, so that no real model is refused and loops
# over layers, heads or experts stay short.
PARAMS = Limit(1, 1e15, "", "a quadrillion parameters, ~500x the largest published models")
LAYERS = Limit(1, 10_000, "", "published models have at most a few hundred layers")
HIDDEN = Limit(1, 2**20, "", "the widest published hidden size is about 25,000")
HEADS = Limit(1, 4096, "", "published models have at most 128 attention heads")
HEAD_DIM = Limit(1, 16_384, "", "published head dimensions are at most 576")
FFN_WIDTH = Limit(0, 2**22, "", "the widest published FFN is about 74,000")
VOCAB = Limit(1, 2**24, "", "the largest published vocabularies are about 260,000 tokens")
EXPERTS = Limit(1, 65_536, "", "published mixture-of-experts models have at most 512 experts")
WINDOW = Limit(0, 1e9, " tokens", "the longest context inferwall evaluates")

# Hardware, per device.
FLOPS = Limit(1, 1e21, " FLOP/s", "a zettaFLOP/s per device, ~50,000x a B200's dense FP4 peak")
BANDWIDTH = Limit(1, 1e18, " B/s", "an exabyte per second per device, ~100,000x HBM3e")
MEMORY = Limit(1, 1e18, " B", "an exabyte per device, ~7 million times an H200")
RESERVE = Limit(0, 1e18, " B", "an exabyte per device")
PRICE = Limit(0, 1e6, " $/GPU-hour", "a million dollars per GPU-hour")
TDP = Limit(0, 1e6, " W", "a megawatt per device; a GB200 superchip draws 2.7 kW")
SCALE_UP_DOMAIN = Limit(1, 10**7, " GPUs", "the most GPUs inferwall evaluates")
RELEASE_YEAR = Limit(1900, 2200, "", "a calendar year")

# Layout and workload.
GPUS = Limit(1, 10**7, " GPUs", "ten million GPUs, ~50x the largest clusters built")
BATCH = Limit(1, 10**9, "", "a billion concurrent sequences")
TOKENS = Limit(1, 10**9, " tokens", "a billion tokens per request")
OUTPUT_TOKENS = Limit(0, 10**9, " tokens", "a billion tokens per request")

# Efficiencies are fractions of a peak: at most 1, and not so small that a time overflows.
FRACTION = Limit(1e-6, 1, "", "a fraction of the peak", above_zero=True)
DRAFT_TOKENS = Limit(1, 64, " tokens", "engines draft at most a few tokens per step; 64 is far beyond any")
SEED = Limit(0, 2**63 - 1, "", "a 64-bit seed")
# Fixed costs per forward pass, per layer or per collective.
OVERHEAD = Limit(0, 3600, " s", "an hour per forward pass")

# Economics and planning.
GROWTH = Limit(0.01, 100, "x", "a hundredfold per period", above_zero=True)
PERIOD_YEARS = Limit(DAY_YEARS, 100, " years", "a century", above_zero=True, low_text="1 day (0.00274 years)")
PROJECTED_FACTOR = Limit(1e-30, 1e30, "x", "a projection beyond 30 orders of magnitude")
USD_PER_MILLION_TOKENS = Limit(1e-9, 1e9, " $/M tokens", "a billion dollars per million tokens")
TOKENS_PER_S = Limit(1e-6, 1e15, " tokens/s", "a quadrillion tokens per second")
REQUESTS_PER_S = Limit(1e-9, 1e12, " requests/s", "a trillion requests per second")
USERS = Limit(1, 1e12, " users", "a trillion concurrent users")
SLO_SECONDS = Limit(1e-9, 1e6, " s", "about 12 days", above_zero=True)
MINUTES_PER_DAY = Limit(1e-6, 1440, " min", "a day has 1,440 minutes", above_zero=True)
SEQ_LEN = Limit(1, 10**9, " tokens", "the longest context inferwall evaluates")
