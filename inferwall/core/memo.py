"""Remembering pure functions of frozen inputs by identity.

A sweep passes the same frozen model, GPU, precision and efficiency objects to thousands of scenarios. Hashing
those dataclasses field by field costs more than some of the functions they feed, so these caches key on the
objects' identities and keep the objects alive (an id cannot be reused while its object is held).
"""

from __future__ import annotations

import functools


def by_identity(size: int = 256):
    """Cache a function of positional arguments by their identities; cleared when it holds ``size`` entries."""

    def wrap(fn):
        entries: dict[tuple[int, ...], tuple[tuple, object]] = {}

        @functools.wraps(fn)
        def cached(*args):
            key = tuple(map(id, args))
            hit = entries.get(key)
            if hit is not None:
                return hit[1]
            result = fn(*args)
            if len(entries) >= size:
                entries.clear()
            entries[key] = (args, result)
            return result

        cached.cache_clear = entries.clear
        return cached

    return wrap
