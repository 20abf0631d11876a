"""The article-2 detector: settings, the detectors they enable, and the merge of their spans."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from bot.policies.identifying.denylist import DenyListDetector
from bot.policies.identifying.disguised import SpelledEmailDetector, SpelledPhoneDetector
from bot.policies.identifying.gazetteer import load_french_dictionary
from bot.policies.identifying.lexicon import Lexicon, load_lexicon
from bot.policies.identifying.model import entities, load_model
from bot.policies.identifying.names import NameDetector
from bot.policies.identifying.spans import Detector, Span, SpanKind, resolve_overlaps
from bot.policies.identifying.structured import (
    AddressDetector,
    CompanyIdDetector,
    EmailDetector,
    IbanDetector,
    NirDetector,
    PhoneDetector,
    UrlDetector,
)
from bot.policies.textnorm import fold

_IGNORABLE = frozenset({SpanKind.PERSON, SpanKind.ORGANISATION})


@dataclass(frozen=True)
class IdentifyingSettings:
    """Per-deployment configuration of article 2."""

    deny_list: tuple[str, ...] = ()
    disabled: frozenset[SpanKind] = frozenset()  # kinds switched off by config
    extra_stop_words: tuple[str, ...] = ()  # never flagged as names
    lexicon_path: Path | None = None  # default: <repo>/flows/policies/identifying.yaml
    use_model: bool = True  # spaCy NER on/off


class IdentifyingDetector:
    """Finds identifying data in a French or English message. Pure, apart from the model."""

    def __init__(self, settings: IdentifyingSettings) -> None:
        self.settings = settings
        self.lexicon: Lexicon = load_lexicon(settings.lexicon_path).with_stop_words(
            settings.extra_stop_words
        )
        self.detectors: tuple[Detector, ...] = tuple(self._build(settings))

    def _build(self, settings: IdentifyingSettings) -> list[Detector]:
        enabled = set(SpanKind) - settings.disabled
        lexicon = self.lexicon
        candidates: list[tuple[frozenset[SpanKind], Detector]] = [
            (frozenset({SpanKind.EMAIL}), EmailDetector()),
            (frozenset({SpanKind.EMAIL}), SpelledEmailDetector(lexicon)),
            (frozenset({SpanKind.PHONE}), PhoneDetector()),
            (frozenset({SpanKind.PHONE}), SpelledPhoneDetector()),
            (frozenset({SpanKind.IBAN}), IbanDetector()),
            (frozenset({SpanKind.COMPANY_ID}), CompanyIdDetector()),
            (frozenset({SpanKind.NIR}), NirDetector()),
            (frozenset({SpanKind.URL}), UrlDetector(lexicon)),
            (frozenset({SpanKind.ADDRESS}), AddressDetector(lexicon)),
            (
                frozenset({SpanKind.PERSON, SpanKind.ORGANISATION}),
                NameDetector(lexicon, entities if settings.use_model else None),
            ),
        ]
        if settings.deny_list:
            candidates.append((frozenset({SpanKind.DENIED}), DenyListDetector(settings.deny_list)))
        return [detector for kinds, detector in candidates if kinds & enabled]

    def warm_up(self) -> None:
        """Load the model now rather than on the first message that needs it."""
        if self.settings.use_model and not (
            {SpanKind.PERSON, SpanKind.ORGANISATION} <= self.settings.disabled
        ):
            load_model()
            load_french_dictionary()

    def _ignore_keys(self, surface: str) -> set[str]:
        """The folded surface, and the same without a title or legal form: "Mme Dupont" also
        ignores the span "Dupont" (spans never include the title)."""
        words = surface.split()
        lexicon = self.lexicon

        def decoration(word: str) -> bool:
            bare = word.rstrip(".")
            return (
                bare in lexicon.title_abbreviations
                or bare in lexicon.legal_forms
                or fold(bare) in lexicon.title_words | lexicon.trade_words
            )

        while words and decoration(words[0]):
            words.pop(0)
        while words and decoration(words[-1]):
            words.pop()
        return {fold(surface), fold(" ".join(words))} - {""}

    def detect(
        self,
        text: str,
        ignore: Collection[str] = (),
        allowed_names: Collection[str] = (),
    ) -> list[Span]:
        """Sorted, non-overlapping spans (the longest/most specific wins on overlap).

        `ignore`: surfaces (compared after casefold + accent folding) that the person declared
        not identifying; they apply to PERSON and ORGANISATION only, never to structured kinds
        nor to DENIED.
        `allowed_names`: the full names of the relationship's own parties (the mentor and
        the mentee talking to each other). A person's name made only of their words ("Alice",
        "Alice Durand" for "Alice Durand") is not identifying; "Alice Martin" still is.
        """
        ignored = {key for surface in ignore for key in self._ignore_keys(surface)}
        allowed = [words for words in map(_name_words, allowed_names) if words]
        candidates = [
            span
            for detector in self.detectors
            for span in detector.detect(text)
            if span.kind not in self.settings.disabled
            and not (span.kind in _IGNORABLE and fold(span.text) in ignored)
            and not (span.kind is SpanKind.PERSON and _is_party(span.text, allowed))
        ]
        return resolve_overlaps(candidates)


def _is_party(surface: str, parties: list[set[str]]) -> bool:
    """Every word of the name belongs to one and the same party's name."""
    words = _name_words(surface)
    return bool(words) and any(words <= party for party in parties)


def _name_words(name: str) -> set[str]:
    """The folded words of a name, its hyphenated parts too: "Jean-Marc Roy" -> jean, marc, roy."""
    return {part for part in re.split(r"[\W_]+", fold(name)) if len(part) >= 2}
