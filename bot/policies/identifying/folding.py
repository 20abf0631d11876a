"""Folding that keeps track of offsets, so a match in folded text maps back to the source.

`bot.policies.textnorm.fold` is the reference (case, accents, apostrophes); here it is
applied character by character so that every folded character knows where it came from.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from bot.policies.textnorm import fold, strip_accents

APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})
_WORD_SEPARATORS = re.compile(r"[\s\-]+")


@functools.lru_cache(maxsize=4096)
def fold_char(ch: str) -> str:
    """Fold one character; may return zero or several characters ('ß' -> 'ss')."""
    if ch.isascii():
        return ch.lower() if ch != "`" else "'"
    return strip_accents(ch.translate(APOSTROPHES)).casefold()


@functools.lru_cache(maxsize=4096)
def fold_word(word: str) -> str:
    """`textnorm.fold`, cached: words repeat a lot from one message to the next."""
    return fold(word)


@dataclass(frozen=True, slots=True)
class FoldedText:
    """A source text, its folding, and the source offset of each folded character.

    `origin` is None when folding kept every character in place (the usual case).
    """

    source: str
    folded: str
    origin: tuple[int, ...] | None

    @classmethod
    def of(cls, source: str) -> FoldedText:
        return _folded_text(source)

    def source_range(self, start: int, end: int) -> tuple[int, int]:
        """Map a non-empty folded range back to the source."""
        if self.origin is None:
            return start, end
        return self.origin[start], self.origin[end - 1] + 1


@functools.lru_cache(maxsize=16)
def _folded_text(source: str) -> FoldedText:
    # Several detectors fold the same message: the small cache makes it once.
    if source.isascii():
        return FoldedText(source, source.lower().replace("`", "'"), None)
    parts = [fold_char(ch) for ch in source]
    if all(len(part) == 1 for part in parts):
        return FoldedText(source, "".join(parts), None)
    origin: list[int] = []
    for index, part in enumerate(parts):
        origin.extend([index] * len(part))
    return FoldedText(source, "".join(parts), tuple(origin))


class PhraseMatcher:
    """Whole-word, case- and accent-insensitive matching of a list of words or phrases.

    Inside a phrase, spaces and hyphens match any run of spaces or hyphens, so that
    "Jean Pierre" also finds "jean-pierre" and "Jean  Pierre".
    """

    def __init__(self, phrases: Iterable[str]) -> None:
        alternatives = sorted(
            {self._pattern(p) for p in phrases if fold(p)}, key=lambda p: (-len(p), p)
        )
        self._regex = (
            re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")
            if alternatives
            else None
        )

    @staticmethod
    def _pattern(phrase: str) -> str:
        words = [w for w in _WORD_SEPARATORS.split(fold(phrase)) if w]
        return r"[\s\-]+".join(re.escape(w) for w in words)

    def __bool__(self) -> bool:
        return self._regex is not None

    def finditer(self, text: FoldedText) -> Iterator[tuple[int, int]]:
        """Source ranges of every match, left to right."""
        if self._regex is None:
            return
        for match in self._regex.finditer(text.folded):
            if match.end() > match.start():
                yield text.source_range(match.start(), match.end())
