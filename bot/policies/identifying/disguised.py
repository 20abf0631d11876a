"""Structured identifiers written out to slip past a filter, or just typed that way.

E-mail addresses with "point", "dot", "arobase", "AT", "(at)", spaces around "@"
("jean point dupont arobase gmail point com", "j.dupont AT free DOT fr"), and phone numbers
spelled in words, in French or English ("zéro six douze trente-quatre...", "oh seven seven
double oh nine..."). Plain forms are left to `structured.py`.
"""

from __future__ import annotations

import re

from bot.policies.identifying.folding import FoldedText
from bot.policies.identifying.lexicon import Lexicon
from bot.policies.identifying.spans import Span, SpanKind

_WORD = r"[\w+\-]+"
_DOT = (
    r"(?:[ \t]*\.[ \t]*|[ \t]*[\[(][ \t]*(?:dot|point)[ \t]*[\])][ \t]*"
    r"|[ \t]+(?:dot|point)[ \t]+)"
)
_AT = (
    r"(?:[ \t]*@[ \t]*|[ \t]*[\[(][ \t]*(?:at|arobase|@)[ \t]*[\])][ \t]*"
    r"|[ \t]+(?:at|arobase)[ \t]+)"
)
_HINT = re.compile(r"@|\barobase\b|\bat\b|[\[(]\s*at\s*[\])]", re.IGNORECASE)


class SpelledEmailDetector:
    """E-mail addresses whose "@" or dots are written as words or spaced out."""

    name: str = "spelled_email"

    def __init__(self, lexicon: Lexicon) -> None:
        tlds = "|".join(sorted(map(re.escape, lexicon.top_level_domains), key=len, reverse=True))
        self._regex = re.compile(
            rf"(?<![\w.+\-]){_WORD}(?:{_DOT}{_WORD})*{_AT}"
            rf"{_WORD}(?:{_DOT}{_WORD})*?{_DOT}(?:{tlds})(?![\w\-])",
            re.IGNORECASE,
        )

    def detect(self, text: str) -> list[Span]:
        if not _HINT.search(text):
            return []
        spans: list[Span] = []
        for match in self._regex.finditer(text):
            surface = match.group()
            # A plain address is the plain detector's; this one wants a disguise in it.
            if re.fullmatch(r"[\w.+\-]+@[\w.\-]+", surface):
                continue
            spans.append(Span.of(text, *match.span(), SpanKind.EMAIL))
        return spans


_UNITS = {
    "zero": 0, "oh": 0, "o": 0, "un": 1, "une": 1, "one": 1, "deux": 2, "two": 2,
    "trois": 3, "three": 3, "quatre": 4, "four": 4, "cinq": 5, "five": 5, "six": 6,
    "sept": 7, "seven": 7, "huit": 8, "eight": 8, "neuf": 9, "nine": 9,
}  # fmt: skip
_TEENS = {
    "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15,
    "seize": 16, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {
    "vingt": 20, "vingts": 20, "trente": 30, "quarante": 40, "cinquante": 50,
    "soixante": 60, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_REPEAT = {"double": 2, "triple": 3}
_LINKS = frozenset({"et", "and"})
_NUMBER_WORDS = frozenset(_UNITS) | frozenset(_TEENS) | frozenset(_TENS) | frozenset(_REPEAT)
_TOKEN = re.compile(r"[^\W\d_]+|\d+")
_GAP = re.compile(r"[\s,.\-/]*")
_MIN_WORDS = 4  # a number in words has several of them


def _digits(words: list[str]) -> str:
    """The digits a run of number words says: "zero six douze" -> "0612"."""
    out: list[str] = []
    index = 0
    count = len(words)

    def peek(offset: int = 1) -> str:
        return words[index + offset] if index + offset < count else ""

    while index < count:
        word = words[index]
        if word.isdigit():
            out.append(word)
        elif word in _REPEAT and peek() in _UNITS:
            out.append(str(_UNITS[peek()]) * _REPEAT[word])
            index += 1
        elif word == "quatre" and peek() in {"vingt", "vingts"}:
            index += 1
            value = 80
            index, value = _add_unit_or_teen(words, index, value)
            out.append(str(value))
        elif word in _TENS:
            value = _TENS[word]
            index, value = _add_unit_or_teen(words, index, value)
            out.append(str(value))
        elif word in _TEENS:
            value = _TEENS[word]
            if word == "dix" and peek() in {"sept", "huit", "neuf"}:
                value += _UNITS[peek()]
                index += 1
            out.append(str(value))
        elif word in _UNITS:
            out.append(str(_UNITS[word]))
        index += 1
    return "".join(out)


def _add_unit_or_teen(words: list[str], index: int, value: int) -> tuple[int, int]:
    """After a tens word: "trente-quatre", "vingt et un", "soixante-dix-huit"."""
    following = index + 1
    if following < len(words) and words[following] in _LINKS:
        following += 1
    word = words[following] if following < len(words) else ""
    if value in {60, 80} and word in _TEENS and _TEENS[word] < 17:
        value += _TEENS[word]
        if word == "dix" and following + 1 < len(words) and words[following + 1] in {
            "sept",
            "huit",
            "neuf",
        }:
            value += _UNITS[words[following + 1]]
            following += 1
        return following, value
    if word in _UNITS and _UNITS[word] > 0:
        return following, value + _UNITS[word]
    return index, value


def _looks_dialled(digits: str) -> bool:
    """French (0X XX XX XX XX), UK (07XXX XXXXXX) or international (+33, +44) shapes."""
    if digits.startswith("0"):
        return len(digits) in {10, 11}
    return digits[:2] in {"33", "44"} and len(digits) in {11, 12}


class SpelledPhoneDetector:
    """Phone numbers spelled out in French or English words, possibly mixed with digits."""

    name: str = "spelled_phone"

    def detect(self, text: str) -> list[Span]:
        source = FoldedText.of(text)
        folded = source.folded
        if not any(word in _NUMBER_WORDS for word in re.findall(r"[a-z]+", folded)):
            return []
        spans: list[Span] = []
        run: list[re.Match[str]] = []
        previous_end = -1
        for match in _TOKEN.finditer(folded):
            word = match.group()
            joined = previous_end >= 0 and _GAP.fullmatch(folded, previous_end, match.start())
            if word in _NUMBER_WORDS or word.isdigit() or (word in _LINKS and run):
                if run and not joined:
                    spans.extend(self._judge(source, run))
                    run = []
                run.append(match)
            else:
                spans.extend(self._judge(source, run))
                run = []
            previous_end = match.end()
        spans.extend(self._judge(source, run))
        return spans

    @staticmethod
    def _judge(source: FoldedText, run: list[re.Match[str]]) -> list[Span]:
        while run and run[-1].group() in _LINKS:
            run = run[:-1]
        words = [m.group() for m in run]
        if sum(not w.isdigit() for w in words) < _MIN_WORDS:
            return []
        if not _looks_dialled(_digits(words)):
            return []
        start, end = source.source_range(run[0].start(), run[-1].end())
        return [Span.of(source.source, start, end, SpanKind.PHONE)]
