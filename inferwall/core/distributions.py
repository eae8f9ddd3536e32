"""Request traffic as the load model sees it: token-length distributions and arrival processes.

Standard library only, no I/O. Both are frozen dataclasses; sampling takes a caller-owned ``random.Random`` so
every simulation is reproducible from its seed. docs/queueing.md describes how they enter the load model.

Every length distribution is held as one representation, a discrete distribution over whole token counts
(``values`` ascending, ``probabilities`` summing to 1). The constructors build it from the usual forms:

* ``fixed(512)``: one length;
* ``uniform(128, 2048)``: every whole length in the range equally likely (ranges wider than
  ``MAX_POINTS`` lengths are held as that many equal-probability points);
* ``lognormal(mean=1024, sd=300)``: "a mean with a spread", a log-normal (positive, right-skewed, the usual
  shape of prompt and answer lengths), optionally truncated to ``[low, high]`` with the *truncated* mean
  kept at ``mean``. It is held as ``LOGNORMAL_POINTS`` equal-probability bins, each at its conditional
  mean, so the mean is exact (before rounding to whole tokens) and the tail is kept;
* ``histogram([(length, weight), ...])``: a user's histogram.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property

from .types import CoreError

MAX_POINTS = 4096
LOGNORMAL_POINTS = 256
MAX_LENGTH = 10**9  # the CLI's own cap on --input-tokens/--output-tokens

ARRIVAL_PROCESSES = ("poisson", "constant", "bursty")


def normal_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def normal_quantile(p: float) -> float:
    """Inverse of the standard normal CDF (Acklam's rational approximation, refined by one Halley step)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"normal_quantile: p must be in (0, 1), got {p}")
    a = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02,
         -3.066479806614716e01, 2.506628277459239e00)
    b = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01,
         -1.328068155288572e01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00, -2.549732539343734e00,
         4.374664141464968e00, 2.938163982698783e00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
    low = 0.02425
    if p < low:
        q = math.sqrt(-2 * math.log(p))
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / \
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    elif p <= 1 - low:
        q = p - 0.5
        r = q * q
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / \
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    else:
        q = math.sqrt(-2 * math.log1p(-p))
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / \
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    e = normal_cdf(x) - p
    u = e * math.sqrt(2 * math.pi) * math.exp(x * x / 2)
    return x - u / (1 + x * u / 2)


@dataclass(frozen=True)
class LengthDistribution:
    """Token lengths (a prompt's input tokens, or an answer's output tokens) as a discrete distribution.

    ``values`` are whole token counts >= 1 in ascending order, ``probabilities`` their probabilities (summing
    to 1), ``label`` a short description for output ("fixed 512", "lognormal mean 1024 sd 300", ...).
    Build it with the constructors (``fixed``, ``uniform``, ``lognormal``, ``histogram``).
    """

    values: tuple[int, ...]
    probabilities: tuple[float, ...]
    label: str
    _cumulative: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.values or len(self.values) != len(self.probabilities):
            raise CoreError("a length distribution needs at least one length, with one probability each")
        if any(not isinstance(v, int) or v < 1 or v > MAX_LENGTH for v in self.values):
            raise CoreError(f"{self.label}: lengths must be whole numbers of tokens in [1, {MAX_LENGTH:.0e}]")
        if any(b <= a for a, b in zip(self.values, self.values[1:])):
            raise CoreError(f"{self.label}: lengths must be distinct and ascending")
        if any(not (p > 0 and math.isfinite(p)) for p in self.probabilities):
            raise CoreError(f"{self.label}: probabilities must be positive and finite")
        if abs(sum(self.probabilities) - 1.0) > 1e-9:
            raise CoreError(f"{self.label}: probabilities must sum to 1")
        cumulative, running = [], 0.0
        for p in self.probabilities:
            running += p
            cumulative.append(running)
        cumulative[-1] = 1.0
        object.__setattr__(self, "_cumulative", tuple(cumulative))

    # ------------------------------------------------------------------ constructors

    @classmethod
    def fixed(cls, length: int) -> LengthDistribution:
        return cls((_whole(length, "length"),), (1.0,), f"fixed {length}")

    @classmethod
    def uniform(cls, low: int, high: int) -> LengthDistribution:
        """Every whole length in ``[low, high]`` equally likely."""
        low, high = _whole(low, "low"), _whole(high, "high")
        if high < low:
            raise CoreError(f"uniform lengths: the range {low}..{high} is empty; give low <= high")
        count = high - low + 1
        if count <= MAX_POINTS:
            values = tuple(range(low, high + 1))
        else:  # MAX_POINTS equal-probability points at the middle of each slice of the range
            width = count / MAX_POINTS
            values = tuple(sorted({min(high, low + int((i + 0.5) * width)) for i in range(MAX_POINTS)}))
        return cls(values, tuple(1.0 / len(values) for _ in values), f"uniform {low}..{high}")

    @classmethod
    def lognormal(cls, mean: float, sd: float, low: int = 1, high: int | None = None,
                  label: str | None = None) -> LengthDistribution:
        """A log-normal with this mean and standard deviation, truncated to ``[low, high]``.

        The location is solved so that the mean *after* truncation is ``mean``; the shape comes from ``sd``
        (its coefficient of variation before truncation). ``sd == 0`` is ``fixed(round(mean))``.
        """
        if not (math.isfinite(mean) and mean >= 1):
            raise CoreError(f"lognormal lengths: the mean must be at least 1 token, got {mean:g}")
        if not (math.isfinite(sd) and sd >= 0):
            raise CoreError(f"lognormal lengths: the spread must be >= 0, got {sd:g}")
        low = _whole(low, "low")
        high = MAX_LENGTH if high is None else _whole(high, "high")
        if not low <= mean <= high:
            raise CoreError(f"lognormal lengths: the mean {mean:g} must lie in [{low}, {high}]")
        name = label or (f"lognormal mean {mean:g} sd {sd:g}" + ("" if (low, high) == (1, MAX_LENGTH)
                                                                  else f" in {low}..{high}"))
        sigma = math.sqrt(math.log1p((sd / mean) ** 2))
        if sigma < 1e-6 or low == high:  # no spread to speak of
            return cls((min(high, max(low, int(round(mean)))),), (1.0,), name)
        # continuous support [low - 0.5, high + 0.5]: whole lengths are the continuous ones rounded
        lo_x, hi_x = max(low - 0.5, 1e-9), high + 0.5

        def truncated_mean(mu: float) -> float:
            za, zb = (math.log(lo_x) - mu) / sigma, (math.log(hi_x) - mu) / sigma
            mass = normal_cdf(zb) - normal_cdf(za)
            if mass <= 0:
                return lo_x if za > 0 else hi_x
            return math.exp(mu + sigma * sigma / 2) * (normal_cdf(zb - sigma) - normal_cdf(za - sigma)) / mass

        lo_mu, hi_mu = math.log(lo_x) - 10 * sigma, math.log(hi_x) + 10 * sigma
        for _ in range(200):
            mid = (lo_mu + hi_mu) / 2
            lo_mu, hi_mu = (mid, hi_mu) if truncated_mean(mid) < mean else (lo_mu, mid)
        mu = (lo_mu + hi_mu) / 2
        za, zb = (math.log(lo_x) - mu) / sigma, (math.log(hi_x) - mu) / sigma
        pa, pb = normal_cdf(za), normal_cdf(zb)
        scale = math.exp(mu + sigma * sigma / 2)
        points: dict[int, float] = {}
        edges = [pa + (pb - pa) * i / LOGNORMAL_POINTS for i in range(LOGNORMAL_POINTS + 1)]
        zs = [za] + [normal_quantile(e) if 0 < e < 1 else (za if e <= 0 else zb) for e in edges[1:-1]] + [zb]
        for i in range(LOGNORMAL_POINTS):
            mass = edges[i + 1] - edges[i]
            if mass <= 0:
                continue
            conditional_mean = scale * (normal_cdf(zs[i + 1] - sigma) - normal_cdf(zs[i] - sigma)) / mass
            value = min(high, max(low, int(round(conditional_mean))))
            points[value] = points.get(value, 0.0) + mass
        return cls._from_points(points, name)

    @classmethod
    def histogram(cls, pairs, label: str = "histogram") -> LengthDistribution:
        """From ``(length, weight)`` pairs; weights need not sum to 1; repeated lengths add up."""
        points: dict[int, float] = {}
        for length, weight in pairs:
            length = _whole(length, "length")
            if not (isinstance(weight, (int, float)) and math.isfinite(weight) and weight >= 0):
                raise CoreError(f"{label}: weights must be finite and >= 0, got {weight!r}")
            if weight > 0:
                points[length] = points.get(length, 0.0) + float(weight)
        if not points:
            raise CoreError(f"{label}: no length has a positive weight")
        return cls._from_points(points, label)

    @classmethod
    def _from_points(cls, points: dict[int, float], label: str) -> LengthDistribution:
        total = sum(points.values())
        values = tuple(sorted(points))
        probabilities = [points[v] / total for v in values]
        probabilities[-1] = 1.0 - sum(probabilities[:-1]) if len(values) > 1 else 1.0
        if probabilities[-1] <= 0:  # rounding left nothing for the last point: fold it into its neighbour
            probabilities[-2] += probabilities[-1]
            values, probabilities = values[:-1], probabilities[:-1]
        return cls(values, tuple(probabilities), label)

    # ------------------------------------------------------------------ moments and quantiles

    @cached_property
    def mean(self) -> float:
        return sum(v * p for v, p in zip(self.values, self.probabilities))

    @cached_property
    def variance(self) -> float:
        m = self.mean
        return max(0.0, sum((v - m) ** 2 * p for v, p in zip(self.values, self.probabilities)))

    @property
    def scv(self) -> float:
        """Squared coefficient of variation, Var/mean^2 (0 for a fixed length, 1 for an exponential)."""
        return self.variance / self.mean**2

    @property
    def low(self) -> int:
        return self.values[0]

    @property
    def high(self) -> int:
        return self.values[-1]

    def expect(self, fn) -> float:
        """E[fn(length)]."""
        return sum(fn(v) * p for v, p in zip(self.values, self.probabilities))

    def quantile(self, q: float) -> int:
        """The smallest length whose cumulative probability reaches ``q``."""
        i = bisect_right(self._cumulative, q - 1e-12)
        return self.values[min(i, len(self.values) - 1)]

    def compressed(self, points: int) -> tuple[tuple[float, float], ...]:
        """At most ``points`` (length, probability) pairs: equal-probability slices of the distribution, each
        at its conditional mean. The mean is kept exactly; the analytic model works on these."""
        if len(self.values) <= points:
            return tuple(zip(map(float, self.values), self.probabilities))
        out: list[tuple[float, float]] = []
        target = 1.0 / points
        mass = weighted = 0.0
        for value, p in zip(self.values, self.probabilities):
            while p > 1e-15:
                take = min(p, target - mass)
                mass += take
                weighted += take * value
                p -= take
                if mass >= target * (1 - 1e-12):
                    out.append((weighted / mass, mass))
                    mass = weighted = 0.0
        if mass > 1e-12:
            out.append((weighted / mass, mass))
        return tuple(out)

    def sampler(self, rng):
        """A function drawing one length per call from ``rng`` (a ``random.Random``)."""
        values, cumulative, draw = self.values, self._cumulative, rng.random
        if len(values) == 1:
            only = values[0]
            return lambda: only
        last = len(values) - 1
        return lambda: values[min(bisect_right(cumulative, draw()), last)]


@dataclass(frozen=True)
class Arrivals:
    """A renewal arrival process: requests arrive at ``rate`` per second on average.

    ``process`` is ``poisson`` (exponential gaps, coefficient of variation 1), ``constant`` (equal gaps, 0) or
    ``bursty`` (gamma-distributed gaps with coefficient of variation ``cv``; ``cv > 1`` is burstier than
    Poisson). vLLM's ``--burstiness`` factor is the gamma shape, ``1 / cv**2``. ``cv`` is set by the process
    for ``poisson`` (1) and ``constant`` (0).
    """

    rate: float
    process: str = "poisson"
    cv: float = 1.0

    def __post_init__(self) -> None:
        if not (isinstance(self.rate, (int, float)) and math.isfinite(self.rate) and self.rate > 0):
            raise CoreError(f"request rate must be a positive finite number of requests per second, got {self.rate!r}")
        if self.process not in ARRIVAL_PROCESSES:
            raise CoreError(f"unknown arrival process {self.process!r}; valid: {', '.join(ARRIVAL_PROCESSES)}")
        if self.process == "bursty" and not (isinstance(self.cv, (int, float)) and math.isfinite(self.cv)
                                             and 0 < self.cv <= 100):
            raise CoreError(f"a bursty arrival's coefficient of variation must be in (0, 100], got {self.cv!r}")
        if self.process != "bursty":  # the process fixes it
            object.__setattr__(self, "cv", 0.0 if self.process == "constant" else 1.0)

    @property
    def interarrival_cv(self) -> float:
        return self.cv

    @property
    def interarrival_scv(self) -> float:
        """Squared coefficient of variation of the gaps (c_a^2 in Kingman's formula)."""
        return self.interarrival_cv**2

    def empty_probability(self, expected: float) -> float:
        """Probability that a window at a random time, in which ``expected`` arrivals are due on average
        (rate x length), holds none."""
        if expected <= 0:
            return 1.0
        if self.process == "constant":
            return max(0.0, 1.0 - expected)
        shape = self.gamma_shape
        if shape == 1.0:
            return math.exp(-expected)
        x = shape * expected  # the window in units of the gamma's scale
        return max(0.0, gamma_q(shape + 1, x) - x / shape * gamma_q(shape, x))

    def expected_after(self, expected: float) -> float:
        """Arrivals expected in a window that starts at an arrival (the renewal function), where ``expected``
        arrivals are due on average: ``expected`` for Poisson; more for bursty arrivals, which cluster
        (about ``expected + (cv**2 - 1) / 2`` for long windows); ``floor(expected)`` for constant ones."""
        if expected <= 0:
            return 0.0
        if self.process == "constant":
            return float(math.floor(expected + 1e-12))
        shape = self.gamma_shape
        if shape == 1.0:
            return expected
        x = shape * expected
        total, n = 0.0, 1
        while True:
            term = 1.0 - gamma_q(n * shape, x)
            total += term
            if term < 1e-9 or n > 100_000:
                return total
            n += 1

    @property
    def gamma_shape(self) -> float:
        """Shape of the gamma distribution of the gaps (1 for Poisson)."""
        return 1.0 if self.process == "poisson" else 1.0 / self.cv**2

    @property
    def label(self) -> str:
        return f"bursty (cv {self.cv:g})" if self.process == "bursty" else self.process

    def at_rate(self, rate: float) -> Arrivals:
        return Arrivals(rate, self.process, self.cv)

    def gap_sampler(self, rng):
        """A function drawing one gap (seconds) per call. Gaps are unit-mean draws divided by the rate, so two
        rates with the same seed see the same arrival pattern, scaled in time."""
        scale = 1.0 / self.rate
        if self.process == "constant":
            return lambda: scale
        if self.process == "poisson" or (self.process == "bursty" and self.cv == 1.0):
            expo = rng.expovariate
            return lambda: expo(1.0) * scale
        shape = 1.0 / self.cv**2
        gamma = rng.gammavariate
        return lambda: gamma(shape, 1.0 / shape) * scale


def gamma_q(a: float, x: float) -> float:
    """Upper regularized incomplete gamma function Q(a, x) = Gamma(a, x) / Gamma(a) (series below a + 1,
    continued fraction above; Numerical Recipes 6.2)."""
    if x <= 0:
        return 1.0
    log_prefix = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        ap = a
        for _ in range(10_000):
            ap += 1
            term *= x / ap
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return max(0.0, 1.0 - total * math.exp(log_prefix))
    tiny = 1e-300
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-15:
            break
    return min(1.0, math.exp(log_prefix) * h)


def gamma_sampler(rng, mean: float, cv: float):
    """Draws from a gamma distribution with this mean and coefficient of variation (0: always ``mean``;
    1: exponential)."""
    if cv == 0:
        return lambda: mean
    if cv == 1:
        expo = rng.expovariate
        rate = 1.0 / mean
        return lambda: expo(rate)
    shape = 1.0 / cv**2
    scale = mean / shape
    gamma = rng.gammavariate
    return lambda: gamma(shape, scale)


def _whole(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value != int(value) or not 1 <= value <= MAX_LENGTH:
        raise CoreError(f"{what} must be a whole number of tokens in [1, {MAX_LENGTH:.0e}], got {value!r}")
    return int(value)
