"""The per-deployment deny-list: client names that must never appear, whatever their case."""

from __future__ import annotations

from collections.abc import Iterable

from bot.policies.identifying.folding import FoldedText, PhraseMatcher
from bot.policies.identifying.spans import Span, SpanKind


class DenyListDetector:
    """Each entry, matched as whole words, ignoring case and accents; reports the original span."""

    name: str = "deny_list"

    def __init__(self, entries: Iterable[str]) -> None:
        self._matcher = PhraseMatcher(entries)

    def detect(self, text: str) -> list[Span]:
        if not self._matcher:
            return []
        return [
            Span.of(text, start, end, SpanKind.DENIED)
            for start, end in self._matcher.finditer(FoldedText.of(text))
        ]
