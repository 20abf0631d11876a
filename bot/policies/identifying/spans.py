"""Spans of identifying data, the detector protocol and the overlap rule they share."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class SpanKind(StrEnum):
    """What a span of identifying data is. The values are stable: configs and logs use them."""

    EMAIL = "email"
    PHONE = "phone"
    IBAN = "iban"
    COMPANY_ID = "company_id"  # SIREN / SIRET
    NIR = "nir"  # French social-security number
    URL = "url"
    ADDRESS = "address"
    PERSON = "person"
    ORGANISATION = "organisation"
    DENIED = "denied"  # from the per-deployment deny-list (client names)

    @property
    def structured(self) -> bool:
        """True for identifiers recognised by their shape (and checksum), not by a name."""
        return self not in NAME_KINDS


NAME_KINDS = frozenset({SpanKind.PERSON, SpanKind.ORGANISATION, SpanKind.DENIED})

# On overlap between two structured spans of the same length, the more specific kind wins.
_SPECIFICITY = {
    kind: rank
    for rank, kind in enumerate(
        (
            SpanKind.IBAN,
            SpanKind.NIR,
            SpanKind.COMPANY_ID,
            SpanKind.PHONE,
            SpanKind.EMAIL,
            SpanKind.URL,
            SpanKind.ADDRESS,
            SpanKind.DENIED,
            SpanKind.PERSON,
            SpanKind.ORGANISATION,
        )
    )
}


@dataclass(frozen=True, slots=True)
class Span:
    """A detected piece of identifying data: `text == source[start:end]`."""

    start: int
    end: int
    kind: SpanKind
    text: str

    @classmethod
    def of(cls, source: str, start: int, end: int, kind: SpanKind) -> Span:
        """Build a span from offsets, copying its text from the source."""
        return cls(start, end, kind, source[start:end])

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end

    def __len__(self) -> int:
        return self.end - self.start


class Detector(Protocol):
    """One family of identifying data. Pure: the same text always gives the same spans."""

    name: str

    def detect(self, text: str) -> list[Span]: ...


def resolve_overlaps(candidates: Iterable[Span]) -> list[Span]:
    """Keep sorted, non-overlapping spans.

    Structured identifiers win over names (they are validated, and a name inside an e-mail
    or an address is masked with it); the deny-list wins over the model's guesses; then the
    longest span wins, then the most specific kind.
    """
    ranked = sorted(
        set(candidates),
        key=lambda s: (
            not s.kind.structured,
            s.kind is not SpanKind.DENIED,
            -len(s),
            _SPECIFICITY[s.kind],
            s.start,
        ),
    )
    kept: list[Span] = []
    for span in ranked:
        if not any(span.overlaps(other) for other in kept):
            kept.append(span)
    return sorted(kept, key=lambda s: (s.start, s.end))
