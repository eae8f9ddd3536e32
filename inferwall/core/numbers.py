"""Small number-theory helpers for the core. Standard library only."""

from __future__ import annotations

import math


def divisors(n: int, limit: int | None = None) -> list[int]:
    """The divisors of ``n`` in ascending order, at most ``limit`` of them (all when ``limit`` is None).

    Trial division up to sqrt(n): O(sqrt n) steps, so an error message listing the valid tensor-parallel degrees of
    a model with 10^15 heads answers in well under a second instead of walking 10^15 candidates. The small
    divisors come in ascending order and each pairs with a large one, so the first ``limit`` are known as soon as
    the small ones run out or ``limit`` of them are found.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"divisors: n must be a positive integer, got {n!r}")
    if limit is not None and limit < 0:
        raise ValueError(f"divisors: limit must be >= 0, got {limit!r}")
    small: list[int] = []
    large: list[int] = []
    root = math.isqrt(n)
    for d in range(1, root + 1):
        if limit is not None and len(small) >= limit:
            return small[:limit]
        if n % d == 0:
            small.append(d)
            if d != n // d:
                large.append(n // d)
    found = small + large[::-1]
    return found if limit is None else found[:limit]
