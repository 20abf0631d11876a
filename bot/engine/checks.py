"""Implementations of the checks a flow step may name (see `bot.flows.vocabulary.CHECKS`).

Each check is a pure function of the text and its parameters; True means the text passes.
Texts are compared in NFC form, so a name typed with combining accents ("e" + U+0301) is one
word, as it reads.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from bot.policies.analysis import shows_analysis
from bot.policies.textnorm import fold, has_words

# A word: letters, with apostrophes (' and \u2019) or hyphens inside ("l'analyse", "Jean-Luc").
_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['\u2019-])*", re.UNICODE)
# What a typed name may hold besides letters: spaces, apostrophes, hyphens, dots, commas.
_NAME_PUNCTUATION = frozenset(" '\u2019-.,")
_HYPHENS = re.compile(r"[-\u2010\u2011\u2012\u2013\u2014]")

CheckFn = Callable[[str, Mapping[str, Any]], bool]


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def words(text: str) -> list[str]:
    """The words of a text (letters only: numbers and emoji are not words)."""
    return _WORD.findall(_nfc(text))


def _fold_markers(text: str) -> str:
    """Folded text where a hyphen counts as a space ("dis-moi" and "dis moi" are alike)."""
    return " ".join(_HYPHENS.sub(" ", fold(text)).split())


@lru_cache(maxsize=64)
def _markers_pattern(markers: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern for a step's markers, folded and compiled once (not on every message)."""
    folded = [m for m in (_fold_markers(marker) for marker in markers) if m]
    if not folded:
        return None
    return re.compile(rf"(?<!\w)(?:{'|'.join(re.escape(m) for m in folded)})(?!\w)")


def _contains_any(text: str, markers: list[str]) -> bool:
    pattern = _markers_pattern(tuple(markers))
    return pattern is not None and pattern.search(f" {_fold_markers(text)} ") is not None


def not_empty(text: str, params: Mapping[str, Any]) -> bool:
    return has_words(text)


def min_words(text: str, params: Mapping[str, Any]) -> bool:
    return len(words(text)) >= int(params.get("min", 3))


def max_length(text: str, params: Mapping[str, Any]) -> bool:
    return len(_nfc(text)) <= int(params.get("max", 2000))


def mentions_attempt(text: str, params: Mapping[str, Any]) -> bool:
    """The analysis says what was already thought, tried or understood (charter, article 4):
    the French and English cues of `bot.policies.analysis`, or one of the step's `markers`
    (words a trainer adds in the flow)."""
    return _contains_any(text, list(params.get("markers", []))) or shows_analysis(text)


def not_delegating(text: str, params: Mapping[str, Any]) -> bool:
    """An ask that hands the decision over passes only if it states options first."""
    if not _contains_any(text, list(params.get("markers", []))):
        return True
    return _contains_any(text, list(params.get("options", [])))


def on_topic(text: str, params: Mapping[str, Any]) -> bool:
    """Not small talk (issue 14: "Au fait, tu as vu le match de foot hier soir ?" is no ask):
    a text with an `off_topic` marker passes only if it also names the work (`work`)."""
    if not _contains_any(text, list(params.get("off_topic", []))):
        return True
    return _contains_any(text, list(params.get("work", [])))


def full_name(text: str, params: Mapping[str, Any]) -> bool:
    """At least two words of two letters or more, and nothing but a name.

    A name holds letters (with their accents), spaces, apostrophes, hyphens, dots (initials)
    and commas ("Martin, Camille"); no digits, symbols or emoji.
    """
    name = _nfc(text).strip()
    if len(name) > 120:
        return False
    for ch in name:
        if ch in _NAME_PUNCTUATION or ch.isalpha() or unicodedata.combining(ch):
            continue
        if ch.isspace():
            continue
        return False
    return sum(1 for w in words(name) if len(w) >= 2) >= 2


QUESTION_ID = re.compile(r"^\s*q\s*(\d{1,7})\s*$", re.IGNORECASE)


def question_id(text: str, params: Mapping[str, Any]) -> bool:
    """A question number like "Q3" (or "q 3", or "3")."""
    return bool(QUESTION_ID.match(text) or re.fullmatch(r"\s*\d{1,7}\s*", text))


def normal_qid(text: str) -> str:
    match = QUESTION_ID.match(text)
    return f"Q{int(match.group(1)) if match else int(text.strip())}"


CHECKS: dict[str, CheckFn] = {
    "not_empty": not_empty,
    "min_words": min_words,
    "max_length": max_length,
    "mentions_attempt": mentions_attempt,
    "not_delegating": not_delegating,
    "on_topic": on_topic,
    "full_name": full_name,
    "question_id": question_id,
}
