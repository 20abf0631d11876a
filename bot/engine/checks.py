"""Implementations of the checks a flow step may name (see `bot.flows.vocabulary.CHECKS`).

Each check is a pure function of the text and its parameters; True means the text passes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from bot.policies.textnorm import fold, has_words

_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['’-])*", re.UNICODE)

CheckFn = Callable[[str, Mapping[str, Any]], bool]


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def _contains_any(text: str, markers: list[str]) -> bool:
    folded = f" {fold(text)} "
    for marker in markers:
        m = fold(marker)
        if re.search(rf"(?<![\w]){re.escape(m)}(?![\w])", folded):
            return True
    return False


def not_empty(text: str, params: Mapping[str, Any]) -> bool:
    return has_words(text)


def min_words(text: str, params: Mapping[str, Any]) -> bool:
    return len(words(text)) >= int(params.get("min", 3))


def max_length(text: str, params: Mapping[str, Any]) -> bool:
    return len(text) <= int(params.get("max", 2000))


def mentions_attempt(text: str, params: Mapping[str, Any]) -> bool:
    """The analysis says what was already thought or tried (charter, article 4)."""
    return _contains_any(text, list(params.get("markers", [])))


def not_delegating(text: str, params: Mapping[str, Any]) -> bool:
    """An ask that hands the decision over passes only if it states options first."""
    if not _contains_any(text, list(params.get("markers", []))):
        return True
    return _contains_any(text, list(params.get("options", [])))


def full_name(text: str, params: Mapping[str, Any]) -> bool:
    """At least two words of two letters or more, and nothing but a name."""
    found = words(text)
    if len(found) < 2 or len(text.strip()) > 120:
        return False
    if any(ch.isdigit() for ch in text):
        return False
    return sum(1 for w in found if len(w) >= 2) >= 2


CHECKS: dict[str, CheckFn] = {
    "not_empty": not_empty,
    "min_words": min_words,
    "max_length": max_length,
    "mentions_attempt": mentions_attempt,
    "not_delegating": not_delegating,
    "full_name": full_name,
}
