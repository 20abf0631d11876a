"""Scoring the detector against a labelled corpus (used by the tests and the benchmark).

Structured identifiers count as found only when fully covered by spans of their kind:
half an IBAN is a leak. Names count as found when any name span (person, organisation or
deny-list) overlaps them: which of the three it is does not change the masking.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.policies.identifying.spans import NAME_KINDS, Span, SpanKind


@dataclass(frozen=True)
class LabelledSentence:
    text: str
    expected: tuple[Span, ...]

    @property
    def clean(self) -> bool:
        return not self.expected


@dataclass(frozen=True)
class Corpus:
    deny_list: tuple[str, ...]
    sentences: tuple[LabelledSentence, ...]


def _locate(text: str, labels: Iterable[Sequence[str]]) -> tuple[Span, ...]:
    spans: list[Span] = []
    seen: dict[str, int] = {}
    for kind_name, surface in labels:
        start = text.find(surface, seen.get(surface, 0))
        if start < 0:
            raise ValueError(f"{surface!r} not found (again) in {text!r}")
        seen[surface] = start + 1
        spans.append(Span.of(text, start, start + len(surface), SpanKind(kind_name)))
    return tuple(spans)


_MARK = re.compile(r"\{([A-Z]):([^{}]+)\}")
MARK_KINDS = {
    "P": SpanKind.PERSON,
    "O": SpanKind.ORGANISATION,
    "D": SpanKind.DENIED,
    "E": SpanKind.EMAIL,
    "T": SpanKind.PHONE,
    "A": SpanKind.ADDRESS,
    "U": SpanKind.URL,
    "I": SpanKind.IBAN,
    "S": SpanKind.COMPANY_ID,
    "N": SpanKind.NIR,
}


def parse_marked(line: str) -> LabelledSentence:
    """"Bonjour {P:Guillaume Roux}" -> the plain text and its labelled spans."""
    pieces: list[str] = []
    spans: list[Span] = []
    position = length = 0
    for match in _MARK.finditer(line):
        before = line[position : match.start()]
        pieces.append(before)
        length += len(before)
        surface = match.group(2)
        spans.append(Span(length, length + len(surface), MARK_KINDS[match.group(1)], surface))
        pieces.append(surface)
        length += len(surface)
        position = match.end()
    pieces.append(line[position:])
    return LabelledSentence("".join(pieces), tuple(spans))


def load_marked_corpus(path: Path) -> Corpus:
    """The one-line-per-sentence format of the held-out corpus (see its header)."""
    deny: list[str] = []
    sentences: list[LabelledSentence] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("deny:"):
            deny.append(line.removeprefix("deny:").strip())
            continue
        sentences.append(parse_marked(line))
    return Corpus(tuple(deny), tuple(sentences))


def load_corpus(path: Path) -> Corpus:
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    sentences = tuple(
        LabelledSentence(item["text"], _locate(item["text"], item.get("spans") or []))
        for item in data["sentences"]
    )
    return Corpus(tuple(data.get("deny_list") or ()), sentences)


@dataclass
class Score:
    """Counts for one kind (or group of kinds)."""

    expected: int = 0
    found: int = 0  # expected spans that were found
    detected: int = 0
    correct: int = 0  # detected spans that match an expected one

    @property
    def recall(self) -> float:
        return self.found / self.expected if self.expected else 1.0

    @property
    def precision(self) -> float:
        return self.correct / self.detected if self.detected else 1.0


@dataclass
class Report:
    scores: dict[str, Score] = field(default_factory=dict)
    clean_sentences: int = 0
    clean_flagged: int = 0
    misses: list[tuple[str, Span]] = field(default_factory=list)
    half_masked: list[tuple[str, Span]] = field(default_factory=list)
    false_positives: list[tuple[str, Span]] = field(default_factory=list)

    @property
    def clean_flagged_rate(self) -> float:
        return self.clean_flagged / self.clean_sentences if self.clean_sentences else 0.0

    def score(self, key: str) -> Score:
        return self.scores.setdefault(key, Score())


NAMES = "names"  # the person + organisation + deny-list group


def _covered(expected: Span, detected: Sequence[Span]) -> bool:
    """Every letter and digit of `expected` lies inside one of `detected`."""
    return all(
        any(d.start <= i < d.end for d in detected)
        for i in range(expected.start, expected.end)
        if expected.text[i - expected.start].isalnum()
    )


def evaluate(corpus: Corpus, detect: Callable[[str], list[Span]]) -> Report:
    report = Report()
    for kind in SpanKind:
        report.score(kind.value)
    report.score(NAMES)
    for sentence in corpus.sentences:
        detected = detect(sentence.text)
        if sentence.clean:
            report.clean_sentences += 1
            report.clean_flagged += bool(detected)
        for expected in sentence.expected:
            score = report.score(expected.kind.value)
            score.expected += 1
            if expected.kind.structured:
                same = [d for d in detected if d.kind is expected.kind]
                hit = _covered(expected, same)
                score.found += hit
            else:
                score.found += any(
                    d.kind is expected.kind and d.overlaps(expected) for d in detected
                )
                group = report.score(NAMES)
                group.expected += 1
                hit = any(d.kind in NAME_KINDS and d.overlaps(expected) for d in detected)
                group.found += hit
                if hit and not _covered(expected, [d for d in detected if d.kind in NAME_KINDS]):
                    report.half_masked.append((sentence.text, expected))
            if not hit:
                report.misses.append((sentence.text, expected))
        for span in detected:
            score = report.score(span.kind.value)
            score.detected += 1
            right = any(e.kind is span.kind and e.overlaps(span) for e in sentence.expected)
            score.correct += right
            if span.kind in NAME_KINDS:
                group = report.score(NAMES)
                group.detected += 1
                group_right = any(
                    e.kind in NAME_KINDS and e.overlaps(span) for e in sentence.expected
                )
                group.correct += group_right
                right = group_right
            if not right:
                report.false_positives.append((sentence.text, span))
    return report


def format_report(report: Report, title: str = "") -> str:
    lines = [title] if title else []
    lines.append(
        f"{'kind':<14}{'expected':>9}{'found':>7}{'recall':>8}{'detected':>10}{'prec.':>8}"
    )
    for key, score in report.scores.items():
        if not score.expected and not score.detected:
            continue
        lines.append(
            f"{key:<14}{score.expected:>9}{score.found:>7}{score.recall:>8.1%}"
            f"{score.detected:>10}{score.precision:>8.1%}"
        )
    lines.append(f"names left half-masked: {len(report.half_masked)}")
    lines.append(
        f"clean sentences flagged: {report.clean_flagged}/{report.clean_sentences}"
        f" = {report.clean_flagged_rate:.1%}"
    )
    return "\n".join(lines)
