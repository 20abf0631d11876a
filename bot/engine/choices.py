"""Matching what a person typed to the choices offered: number, label, or a unique beginning."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from bot.policies.textnorm import fold

MIN_PREFIX = 3


@lru_cache(maxsize=1024)
def _fold_label(label: str) -> str:
    """A choice label folded once: the labels come from the flows, a fixed set."""
    return fold(label)


def pick(answer: str, options: Sequence[Sequence[str]]) -> int | None:
    """The 1-based option that `answer` names. Each option has several accepted labels (its
    source text and its translation). A number picks by position; an exact label (any case,
    accents, apostrophes) wins; else a unique beginning of at least three letters."""
    typed = answer.strip().rstrip(".").strip()
    if typed.isdecimal() and len(typed) <= 9:  # not isdigit(): int("²") fails
        number = int(typed)
        return number if 1 <= number <= len(options) else None
    wanted = fold(typed)
    if not wanted:
        return None
    folded = [{_fold_label(label) for label in labels} for labels in options]
    for i, labels in enumerate(folded, 1):
        if wanted in labels:
            return i
    if len(wanted) < MIN_PREFIX:
        return None
    hits = [i for i, labels in enumerate(folded, 1) if any(lb.startswith(wanted) for lb in labels)]
    return hits[0] if len(hits) == 1 else None
