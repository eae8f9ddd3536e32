"""Did-you-mean suggestions for unknown names (GPUs, models, columns), ranked by shared words first.

Edit distance alone ranks ``nvidia-h100`` closer to ``nvidia-h20`` than to ``nvidia-h100-sxm-80gb``; people
write names as words (vendor, part, variant), so a candidate that shares more of the words comes first, one
that the name fully contains (``h100`` in ``nvidia-h100``) before one that merely shares them, and edit
distance breaks ties and catches typos. A word that begins one of theirs counts half (``mi300`` of ``mi300x``). Pure logic, standard library only.
"""

from __future__ import annotations

import difflib
import re

TYPE_CHECKING = False  # typing costs start-up; its names are only needed by type checkers
if TYPE_CHECKING:
    from typing import Iterable, Mapping

_SPLIT = re.compile(r"[-_.\s/:,]+")


def words(name: str) -> set[str]:
    return {w for w in _SPLIT.split(name.lower()) if w}


def close_names(name: str, candidates: "Mapping[str, Iterable[str]] | Iterable[str]", n: int = 3,
                cutoff: float = 0.6) -> list[str]:
    """Up to ``n`` suggestions for an unknown ``name``, best first. ``candidates`` maps each thing (an id) to the
    names it goes by (the id and its aliases), or is a plain list of names; a thing is suggested by its name
    closest to what was typed (``h100`` for ``h1000``, the full id for ``nvidia-h100``)."""
    groups = candidates if hasattr(candidates, "items") else {c: (c,) for c in candidates}
    query = words(name)
    low = name.lower()
    ranked = []
    for shown, names in groups.items():
        names = [str(x) for x in (names or (shown,))] + [shown]
        theirs = set().union(*(words(x) for x in names))
        # a whole word counts 1, a word that begins one of theirs ("40" of "40gb", "mi300" of "mi300x") half
        shared = len(query & theirs) + 0.5 * len({q for q in query - theirs
                                                  if len(q) >= 2 and any(t.startswith(q) for t in theirs)})
        contained = any(words(x) and words(x) <= query for x in names)
        ratio, best = max((difflib.SequenceMatcher(None, low, x.lower()).ratio(), x) for x in names)
        if shared or ratio >= cutoff:
            ranked.append((-shared, not contained, -ratio, best))
    ranked.sort()
    return list(dict.fromkeys(best for *_, best in ranked))[:n]


def did_you_mean(name: str, candidates: "Mapping[str, Iterable[str]] | Iterable[str]", n: int = 3) -> str:
    """``"; did you mean a, b or c?"``, or "" when nothing is close."""
    close = close_names(name, candidates, n)
    if not close:
        return ""
    return "; did you mean " + (close[0] if len(close) == 1 else f"{', '.join(close[:-1])} or {close[-1]}") + "?"
