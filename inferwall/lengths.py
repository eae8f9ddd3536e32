"""Token-length distributions from user text: the notation of ``--input-tokens`` / ``--output-tokens`` under load.

======================  =====================================================================
``512``, ``4k``         fixed: every request has this many tokens
``128..2048``           uniform: every whole length in the range equally likely
                        (``uniform:128..2048`` is the same, and is the form to use where a
                        ``sweep`` grid would read ``a..b`` as a list of values)
``1024~300``            a mean with a spread: log-normal with mean 1024 and standard deviation
``1024~30%``            300 tokens (or 30% of the mean)
``sharegpt``            the ShareGPT chat preset (``PRESETS``; input and output differ)
``@lengths.csv``        a histogram file: ``length,weight`` rows (``low..high,weight`` spreads a
                        weight evenly over a range); ``.yaml``/``.json``: a mapping
                        ``{length: weight}`` or a list of ``[length, weight]`` pairs
======================  =====================================================================

Every error is an ``InputError`` with one line naming the problem and the valid forms. The distributions
themselves (``inferwall.core.distributions.LengthDistribution``) are pure; only this module reads files.
"""

from __future__ import annotations

import math
import os
import re

from inferwall.core.distributions import MAX_LENGTH, LengthDistribution
from inferwall.core.types import CoreError
from inferwall.errors import InputError

FORMS = "512 (fixed), 128..2048 (uniform), 1024~300 or 1024~30% (mean~spread), sharegpt, @FILE.csv"
MAX_HISTOGRAM_ROWS = 100_000

# Workload presets: input and output length shapes with their sources.
PRESETS: dict[str, dict] = {
    "sharegpt": {
        "input": {"mean": 229.7, "cv": 1.0, "low": 4, "high": 1024},
        "output": {"mean": 203.1, "cv": 1.0, "low": 4, "high": 1024},
        "source": (
            "means: vLLM `vllm bench serve` on ShareGPT_Vicuna_unfiltered, 1000 prompts, Llama-3.1-8B-Instruct "
            "tokenizer: 229,711 input and 203,068 output tokens (vllm-project/vllm PR #18566); bounds: vLLM's "
            "ShareGPT sampling keeps prompts and outputs of at least 4 tokens, prompts up to 1024 and prompt + "
            "output up to 2048 (vllm/benchmarks/datasets.py, is_valid_sequence); shape: log-normal with a "
            "coefficient of variation of 1, an inferwall assumption (the source publishes means only)"
        ),
    },
}

_NUMBER = r"\d+(?:\.\d*)?(?:[eE][+-]?\d+)?[kKM]?"
_UNIFORM = re.compile(rf"^(?:uniform:)?({_NUMBER})\s*\.\.\s*({_NUMBER})$")
_SPREAD = re.compile(rf"^({_NUMBER})\s*~\s*(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?[kKM]?)(%?)$")
_SUFFIX = {"k": 1e3, "K": 1e3, "M": 1e6}


def parse_lengths(text: str, what: str = "--input-tokens", role: str = "input") -> LengthDistribution:
    """Parse a token-length distribution (see the module docstring). ``role`` (``input`` or ``output``)
    picks the side of a preset."""
    if isinstance(text, LengthDistribution):
        return text
    raw = str(text).strip()
    if not raw:
        raise InputError(f"{what}: empty; valid: {FORMS}")
    try:
        if raw.startswith("@"):
            return read_histogram(raw[1:], what)
        if raw.lower() in PRESETS:
            return preset(raw.lower(), role)
        match = _UNIFORM.match(raw)
        if match:
            low, high = _whole(match[1], what, raw), _whole(match[2], what, raw)
            if high < low:
                raise InputError(f"{what}: the range {raw!r} is empty; write low..high with low <= high")
            return LengthDistribution.uniform(low, high)
        match = _SPREAD.match(raw)
        if match:
            mean = _number(match[1])
            spread = _number(match[2])
            sd = mean * spread / 100 if match[3] else spread
            if not 1 <= mean <= MAX_LENGTH:
                raise InputError(f"{what}: the mean in {raw!r} must be in [1, {MAX_LENGTH:.0e}] tokens")
            if not math.isfinite(sd) or sd > 100 * mean:
                raise InputError(f"{what}: the spread in {raw!r} must be at most 100x the mean")
            return LengthDistribution.lognormal(mean, sd, label=f"mean {mean:g} sd {sd:g} (log-normal)")
        return LengthDistribution.fixed(_whole(raw, what, raw))
    except CoreError as exc:
        raise InputError(f"{what}: {exc}") from None


def preset(name: str, role: str) -> LengthDistribution:
    if role not in ("input", "output"):
        raise ValueError(f"role must be input or output, got {role!r}")
    spec = PRESETS[name][role]
    return LengthDistribution.lognormal(spec["mean"], spec["mean"] * spec["cv"], spec["low"], spec["high"],
                                        label=f"{name} {role}")


def read_histogram(path: str, what: str = "--input-tokens") -> LengthDistribution:
    """A histogram file: CSV/TSV rows ``length,weight`` (or ``low..high,weight``), or YAML/JSON."""
    from inferwall.catalog.yamlio import load_document, read_text

    if not path:
        raise InputError(f"{what}: '@' needs a file name, e.g. @lengths.csv")
    label = os.path.basename(path)
    if path.endswith((".yaml", ".yml", ".json")):
        pairs = _document_pairs(load_document(path), path)
    else:
        text = read_text(path)
        if not text.strip():
            raise InputError(f"{path}: file is empty; expected 'length,weight' lines, e.g. '512,0.3'")
        pairs = _csv_pairs(text, path)
    if not pairs:
        raise InputError(f"{path}: no rows; expected 'length,weight' lines, e.g. '512,0.3'")
    if len(pairs) > MAX_HISTOGRAM_ROWS:
        raise InputError(f"{path}: {len(pairs)} rows, more than the {MAX_HISTOGRAM_ROWS} a histogram may have")
    points: list[tuple[int, float]] = []
    for where, (low, high), weight in pairs:
        if weight < 0 or not math.isfinite(weight):
            raise InputError(f"{where}: the weight must be a finite number >= 0, got {weight!r}")
        if high < low:
            raise InputError(f"{where}: the range {low}..{high} is empty; write low..high with low <= high")
        width = high - low + 1
        if width == 1:
            points.append((low, weight))
        else:  # spread the weight evenly over the range (at most 256 points per range)
            count = min(width, 256)
            for i in range(count):
                points.append((low + (i * width) // count + (width // count) // 2, weight / count))
    if not any(w > 0 for _, w in points):
        raise InputError(f"{path}: every weight is zero; at least one length needs a weight > 0")
    try:
        return LengthDistribution.histogram(points, label=f"histogram {label}")
    except CoreError as exc:
        raise InputError(f"{path}: {exc}") from None


def _csv_pairs(text: str, path: str) -> list[tuple[str, tuple[int, int], float]]:
    rows = []
    first = True
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        cells = [c.strip() for c in re.split(r"[,;\t]", line)]
        if first:
            first = False
            if not cells[0][:1].isdigit() and (len(cells) < 2 or not _is_number(cells[1])):
                continue  # a header such as 'length,weight'
        where = f"{path}:{number}"
        if len(cells) != 2:
            raise InputError(f"{where}: expected 'length,weight' (two columns), got {line!r}")
        rows.append((where, _length_cell(cells[0], where), _weight_cell(cells[1], where)))
    return rows


def _document_pairs(data, path: str) -> list[tuple[str, tuple[int, int], float]]:
    rows = []
    if isinstance(data, dict):
        items = list(data.items())
    elif isinstance(data, list):
        items = []
        for i, item in enumerate(data):
            if isinstance(item, dict) and set(item) == {"length", "weight"}:
                items.append((item["length"], item["weight"]))
            elif isinstance(item, (list, tuple)) and len(item) == 2:
                items.append((item[0], item[1]))
            else:
                raise InputError(f"{path}: item {i + 1}: expected [length, weight] or {{length: .., weight: ..}}, "
                                 f"got {item!r}")
    else:
        raise InputError(f"{path}: expected a mapping {{length: weight}} or a list of [length, weight] pairs")
    for length, weight in items:
        where = f"{path}: {length!r}"
        rows.append((where, _length_cell(str(length), where), _weight_cell(weight, where)))
    return rows


def _length_cell(cell: str, where: str) -> tuple[int, int]:
    cell = cell.strip()
    match = _UNIFORM.match(cell)
    try:
        if match:
            return _whole(match[1], where, cell), _whole(match[2], where, cell)
        value = _whole(cell, where, cell)
        return value, value
    except InputError:
        raise InputError(f"{where}: the length must be a whole number of tokens in [1, {MAX_LENGTH:.0e}] "
                         f"(or low..high), got {cell!r}") from None


def _weight_cell(cell, where: str) -> float:
    if isinstance(cell, bool):
        raise InputError(f"{where}: the weight must be a number >= 0, got {cell!r}")
    try:
        value = float(cell)
    except (TypeError, ValueError):
        raise InputError(f"{where}: the weight must be a number >= 0, got {cell!r}") from None
    if not math.isfinite(value) or value < 0:
        raise InputError(f"{where}: the weight must be a finite number >= 0, got {cell!r}")
    return value


def _is_number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


def _number(text: str) -> float:
    factor = _SUFFIX.get(text[-1:], 1.0)
    return float(text[:-1] if factor != 1.0 else text) * factor


def _whole(text: str, what: str, whole_text: str) -> int:
    if not re.fullmatch(_NUMBER, text.strip()):
        raise InputError(f"{what}: cannot parse {whole_text!r} as a token-length distribution; valid: {FORMS}")
    value = _number(text.strip())
    if not math.isfinite(value) or value != int(value) or not 1 <= value <= MAX_LENGTH:
        raise InputError(f"{what}: lengths must be whole numbers of tokens in [1, {MAX_LENGTH:.0e}], "
                         f"got {whole_text!r}")
    return int(value)
