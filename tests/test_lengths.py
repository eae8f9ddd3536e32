"""Token-length distributions and arrival processes: the pure representations and the user notation."""

from __future__ import annotations

import bisect
import json
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferwall.arrivals import parse_arrivals, parse_cv, parse_request_rate
from inferwall.core.distributions import Arrivals, LengthDistribution, gamma_q, normal_quantile
from inferwall.core.types import CoreError
from inferwall.errors import InputError
from inferwall.lengths import PRESETS, parse_lengths


def sample_mean(dist: LengthDistribution, n: int = 50_000, seed: int = 1) -> float:
    draw = dist.sampler(random.Random(seed))
    return sum(draw() for _ in range(n)) / n


def one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text and text
    return text


# ----------------------------------------------------------------------------- the notation

def test_fixed_length_and_thousands_suffix():
    assert parse_lengths("512").values == (512,)
    d = parse_lengths("4k")
    assert d.values == (4000,) and d.mean == 4000 and d.variance == 0


def test_uniform_range_has_every_length_equally_likely():
    d = parse_lengths("128..2048")
    assert (d.low, d.high, len(d.values)) == (128, 2048, 1921)
    assert d.mean == pytest.approx((128 + 2048) / 2)
    assert d.variance == pytest.approx(((2048 - 128 + 1) ** 2 - 1) / 12)
    assert parse_lengths("uniform:128..2048") == d


def test_mean_with_spread_keeps_mean_and_spread():
    d = parse_lengths("1024~300")
    assert d.mean == pytest.approx(1024, abs=0.5)
    assert math.sqrt(d.variance) == pytest.approx(300, rel=0.02)
    pct = parse_lengths("1024~30%")
    assert math.sqrt(pct.variance) == pytest.approx(0.3 * 1024, rel=0.02)
    # right-skewed like a log-normal: the median is below the mean
    assert d.quantile(0.5) < d.mean
    assert parse_lengths("1000~0").values == (1000,)


def test_sharegpt_preset_matches_its_source_means_and_bounds():
    inp, out = parse_lengths("sharegpt", role="input"), parse_lengths("ShareGPT", role="output")
    assert inp.mean == pytest.approx(PRESETS["sharegpt"]["input"]["mean"], abs=0.5)
    assert out.mean == pytest.approx(PRESETS["sharegpt"]["output"]["mean"], abs=0.5)
    assert inp.mean == pytest.approx(229_711 / 1000, abs=0.5)  # vLLM PR #18566: totals over 1000 prompts
    assert out.mean == pytest.approx(203_068 / 1000, abs=0.5)
    for d in (inp, out):
        assert d.low >= 4 and d.high <= 1024
    assert "vllm" in PRESETS["sharegpt"]["source"].lower()


def test_histogram_csv_with_header_comments_and_ranges(tmp_path):
    path = tmp_path / "lengths.csv"
    path.write_text("length,weight\n# chat traffic\n100,3\n1000,1\n\n2000..2003,4  # a bin\n")
    d = parse_lengths(f"@{path}")
    assert d.values == (100, 1000, 2000, 2001, 2002, 2003)
    assert d.probabilities[0] == pytest.approx(3 / 8)
    assert d.mean == pytest.approx((100 * 3 + 1000 + (2000 + 2001 + 2002 + 2003)) / 8)


def test_histogram_yaml_and_json_forms(tmp_path):
    yaml_file = tmp_path / "h.yaml"
    yaml_file.write_text("256: 1\n512: 3\n")
    assert parse_lengths(f"@{yaml_file}").mean == pytest.approx((256 + 3 * 512) / 4)
    json_file = tmp_path / "h.json"
    json_file.write_text(json.dumps([[64, 1], {"length": 128, "weight": 1}]))
    assert parse_lengths(f"@{json_file}").mean == pytest.approx(96)


@pytest.mark.parametrize("text", ["abc", "0", "-5", "1.5", "2048..128", "12..", "1024~", "1024~-3", "1e12",
                                  "", "3 tokens", "1024~x%"])
def test_bad_length_text_is_one_line_naming_the_valid_forms(text):
    with pytest.raises(InputError) as exc:
        parse_lengths(text, "--input-tokens")
    line = one_line(exc)
    assert line.startswith("--input-tokens")
    assert "valid" in line or "[1," in line or "low <= high" in line or "empty" in line


@pytest.mark.parametrize("content, fragment", [
    ("100,1,2\n", "two columns"),
    ("abc,1\n", "whole number"),
    ("100,-1\n", ">= 0"),
    ("100,x\n", ">= 0"),
    ("0,1\n", "whole number"),
    ("100,0\n200,0\n", "zero"),
    ("# nothing\n", "no rows"),
    ("", "empty"),
])
def test_histogram_that_does_not_parse_is_one_line(tmp_path, content, fragment):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(InputError) as exc:
        parse_lengths(f"@{path}")
    line = one_line(exc)
    assert fragment in line and "bad.csv" in line


def test_histogram_file_problems(tmp_path):
    with pytest.raises(InputError) as exc:
        parse_lengths(f"@{tmp_path}/missing.csv")
    assert "no such file" in one_line(exc)
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"\x00\x01\x02")
    with pytest.raises(InputError):
        parse_lengths(f"@{binary}")
    bad_yaml = tmp_path / "b.yaml"
    bad_yaml.write_text("- [1, 2, 3]\n")
    with pytest.raises(InputError) as exc:
        parse_lengths(f"@{bad_yaml}")
    assert "[length, weight]" in one_line(exc)


# ----------------------------------------------------------------------------- rates and arrivals

def test_request_rate_units():
    assert parse_request_rate("12") == 12
    assert parse_request_rate("12/s") == 12
    assert parse_request_rate("720/min") == pytest.approx(12)
    assert parse_request_rate("36000/h") == pytest.approx(10)


@pytest.mark.parametrize("text", ["0", "-1", "0/s", "abc", "inf", "nan", "", "12/day"])
def test_rate_not_above_zero_is_one_line_naming_the_valid_range(text):
    with pytest.raises(InputError) as exc:
        parse_request_rate(text)
    line = one_line(exc)
    assert "--request-rate" in line and ("> 0" in line)


def test_arrival_processes():
    assert parse_arrivals("poisson", 5).interarrival_cv == 1
    assert parse_arrivals("constant", 5).interarrival_cv == 0
    bursty = parse_arrivals("bursty:3", 5)
    assert (bursty.process, bursty.cv, bursty.gamma_shape) == ("bursty", 3, pytest.approx(1 / 9))


@pytest.mark.parametrize("text", ["bursty:0", "bursty:-1", "bursty:x", "bursty:1000", "bursty", "gamma",
                                  "poisson:2"])
def test_bad_arrival_is_one_line(text):
    with pytest.raises(InputError) as exc:
        parse_arrivals(text, 5)
    line = one_line(exc)
    assert "--arrival" in line and ("valid" in line or "(0, 100]" in line)


def test_cv_not_above_zero_names_the_range():
    with pytest.raises(InputError) as exc:
        parse_cv("0")
    assert "(0, 100]" in one_line(exc)


def test_core_rejects_bad_rate_and_cv():
    for rate in (0, -1, math.inf, math.nan):
        with pytest.raises(CoreError):
            Arrivals(rate)
    with pytest.raises(CoreError):
        Arrivals(1, "bursty", 0)
    with pytest.raises(CoreError):
        Arrivals(1, "weibull")


# ----------------------------------------------------------------------------- the pure representation

def test_sampling_follows_the_distribution():
    for d in (LengthDistribution.uniform(1, 1000), LengthDistribution.lognormal(500, 400),
              LengthDistribution.histogram([(10, 1), (1000, 1)])):
        n = 50_000
        standard_error = math.sqrt(d.variance / n)
        assert abs(sample_mean(d, n) - d.mean) < 4 * standard_error


def test_compressed_points_keep_the_mean():
    d = LengthDistribution.lognormal(800, 600)
    points = d.compressed(12)
    assert len(points) <= 12
    assert sum(p for _, p in points) == pytest.approx(1)
    assert sum(v * p for v, p in points) == pytest.approx(d.mean, rel=1e-9)


def test_truncated_lognormal_keeps_its_mean_inside_bounds():
    d = LengthDistribution.lognormal(300, 600, low=10, high=1000)
    assert d.low >= 10 and d.high <= 1000
    assert d.mean == pytest.approx(300, abs=1)


def test_wide_uniform_is_held_in_bounded_points():
    d = LengthDistribution.uniform(1, 10**8)
    assert len(d.values) <= 4096
    assert d.mean == pytest.approx((1 + 10**8) / 2, rel=1e-3)


@pytest.mark.parametrize("make", [
    lambda: LengthDistribution.fixed(0),
    lambda: LengthDistribution.uniform(10, 5),
    lambda: LengthDistribution.lognormal(0.5, 1),
    lambda: LengthDistribution.lognormal(100, -1),
    lambda: LengthDistribution.histogram([(10, 0)]),
    lambda: LengthDistribution.histogram([(10, -1)]),
    lambda: LengthDistribution((2, 1), (0.5, 0.5), "unsorted"),
    lambda: LengthDistribution((1, 2), (0.5, 0.6), "not normalized"),
])
def test_invalid_distributions_are_core_errors(make):
    with pytest.raises(CoreError):
        make()


@settings(max_examples=60, deadline=None)
@given(st.floats(1, 1e5), st.floats(0, 3))
def test_lognormal_quantiles_are_ordered_and_mean_exact(mean, cv):
    d = LengthDistribution.lognormal(mean, mean * cv)
    assert d.quantile(0.1) <= d.quantile(0.5) <= d.quantile(0.9) <= d.high
    assert d.mean == pytest.approx(mean, abs=0.5 + 1e-6 * mean)


# ----------------------------------------------------------------------------- special functions and renewals

def test_incomplete_gamma_against_closed_forms():
    for x in (0.01, 0.5, 1, 3, 10, 40):
        assert gamma_q(1, x) == pytest.approx(math.exp(-x), rel=1e-10)
        assert gamma_q(2, x) == pytest.approx(math.exp(-x) * (1 + x), rel=1e-10)
        assert gamma_q(0.5, x) == pytest.approx(math.erfc(math.sqrt(x)), rel=1e-9)


def test_normal_quantile_inverts_the_cdf():
    for p in (1e-9, 0.001, 0.1, 0.5, 0.9, 0.999, 1 - 1e-9):
        z = normal_quantile(p)
        assert 0.5 * math.erfc(-z / math.sqrt(2)) == pytest.approx(p, rel=1e-9)


@pytest.mark.parametrize("arrivals", [Arrivals(1.0), Arrivals(1.0, "bursty", 2.0), Arrivals(1.0, "bursty", 0.5),
                                      Arrivals(1.0, "constant")])
def test_window_counts_match_a_simulated_arrival_stream(arrivals):
    """The probability that a random window holds no arrival, and the arrivals expected in a window that
    starts at an arrival (the renewal function), against a long simulated stream."""
    rng = random.Random(7)
    gap = arrivals.gap_sampler(rng)
    times, t = [], 0.0
    for _ in range(200_000):
        t += gap()
        times.append(t)
    for window in (0.3, 1.0, 2.5):
        empty = sum(1 for i in range(40_000)
                    for start in (rng.random() * times[-1] * 0.98,)
                    if times[bisect.bisect_right(times, start)] > start + window) / 40_000
        assert empty == pytest.approx(arrivals.empty_probability(window), abs=0.01)
        after = sum(bisect.bisect_right(times, times[i] + window) - i - 1 for i in range(50_000)) / 50_000
        assert after == pytest.approx(arrivals.expected_after(window), rel=0.03, abs=0.01)
