"""Masking: each span becomes a placeholder, so a message can be kept or quoted safely."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from bot.policies.identifying.spans import NAME_KINDS, Span, SpanKind
from bot.policies.textnorm import fold

Numbering = Callable[[str, str], int]  # (placeholder word, surface) -> its number


def mask(
    text: str,
    spans: Sequence[Span],
    labels: Mapping[SpanKind, str],
    numbering: Numbering | None = None,
) -> str:
    """Replace each span by a placeholder built from `labels` (translated elsewhere).

    Names (PERSON, ORGANISATION, DENIED) are numbered per placeholder word, and the same
    folded surface gets the same number: "[PERSONNE_1] ... [PERSONNE_2] ... [PERSONNE_1]".
    Structured kinds are not numbered: "[EMAIL]". A kind missing from `labels` falls back to
    its code in upper case. Overlapping spans are ignored after the first.
    `numbering` replaces the per-message numbers (the engine numbers per question, so that
    "[PERSONNE_1]" is the same person in the context, the analysis and the ask).
    """
    numbers: dict[tuple[str, str], int] = {}
    counters: dict[str, int] = {}
    pieces: list[str] = []
    position = 0
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if span.start < position:
            continue
        label = labels.get(span.kind, span.kind.value.upper())
        if span.kind in NAME_KINDS and numbering is not None:
            placeholder = f"[{label}_{numbering(label, span.text)}]"
        elif span.kind in NAME_KINDS:
            key = (label, fold(span.text))
            if key not in numbers:
                counters[label] = counters.get(label, 0) + 1
                numbers[key] = counters[label]
            placeholder = f"[{label}_{numbers[key]}]"
        else:
            placeholder = f"[{label}]"
        pieces.append(text[position : span.start])
        pieces.append(placeholder)
        position = span.end
    pieces.append(text[position:])
    return "".join(pieces)
