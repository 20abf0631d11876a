"""Benchmark of the article 6 classifier: corpus figures and per-message latency.

    .venv/bin/python benchmarks/bench_safety.py [--repeat 30] [--seed 6]

Prints, for the shipped lexicon (flows/policies/safety.yaml) and the labelled corpus
(tests/corpus/safety.yaml): recall per level, false alarms on clean and figurative
sentences, the one-off compile time, and latency p50/p95/p99 over the corpus repeated.
The same figures are printed, in the same run, for a baseline: a naive search of the same
lexicon in the folded text, with no idioms, no negation, no sentences and no word
boundaries. Nothing is asserted: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import gc
import random
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from bot.policies import safety
from bot.policies.safety import SafetyLevel, SafetyPolicy
from bot.policies.textnorm import fold

ROOT = Path(__file__).resolve().parent.parent
LEXICON = ROOT / "flows" / "policies" / "safety.yaml"
CORPUS = ROOT / "tests" / "corpus" / "safety.yaml"

Classify = Callable[[str], SafetyLevel]

AIMS: dict[str, tuple[str, Callable[[SafetyLevel], bool]]] = {
    "urgent": (">= DISTRESS", lambda level: level >= SafetyLevel.DISTRESS),
    "distress": (">= CHECK_IN", lambda level: level >= SafetyLevel.CHECK_IN),
    "check_in": ("CHECK_IN..DISTRESS", lambda level: 2 <= level <= 3),
    "out_of_scope": (">= OUT_OF_SCOPE", lambda level: level >= SafetyLevel.OUT_OF_SCOPE),
    "clean": ("NONE", lambda level: level is SafetyLevel.NONE),
    "figurative": ("NONE", lambda level: level is SafetyLevel.NONE),
}
TARGET = {
    "urgent": SafetyLevel.URGENT,
    "distress": SafetyLevel.DISTRESS,
    "check_in": SafetyLevel.CHECK_IN,
    "out_of_scope": SafetyLevel.OUT_OF_SCOPE,
}
LEVELS = {name.upper(): level for name, level in safety._LEVELS.items()}


class Baseline:
    """What a first attempt would do: any pattern anywhere in the folded text."""

    def __init__(self, lexicon: Mapping[str, Any]) -> None:
        self.phrases: list[tuple[str, SafetyLevel]] = []
        self.regexes: list[tuple[re.Pattern[str], SafetyLevel]] = []
        for rule in lexicon["rules"]:
            level = LEVELS[rule["level"].upper()]
            for pattern in rule["patterns"]:
                if rule.get("regex", False):
                    self.regexes.append((re.compile(pattern), level))
                else:
                    self.phrases.append((pattern, level))

    def assess(self, text: str) -> SafetyLevel:
        folded = fold(text)
        best = SafetyLevel.NONE
        for phrase, level in self.phrases:
            if level > best and phrase in folded:
                best = level
        for regex, level in self.regexes:
            if level > best and regex.search(folded):
                best = level
        return best


def figures(name: str, classify: Classify, corpus: Mapping[str, Sequence[str]]) -> None:
    """Recall per level and false alarms, as the tests print them."""
    print(f"\n{name}: corpus figures")
    print(f"  {'category':<13}{'n':>4}  {'aim':<19}{'met':>9}  {'exact level':>12}  spread")
    for category, texts in corpus.items():
        label, aim = AIMS[category]
        levels = [classify(text) for text in texts]
        met = sum(aim(level) for level in levels)
        exact = ""
        if category in TARGET:
            exact = f"{sum(level is TARGET[category] for level in levels) / len(texts):.1%}"
        spread = dict(Counter(level.name for level in levels).most_common())
        print(
            f"  {category:<13}{len(texts):>4}  {label:<19}{met:>4}/{len(texts):<4}"
            f"  {exact:>12}  {spread}"
        )
    calm = [*corpus["clean"], *corpus["figurative"]]
    alarms = sum(classify(text) is not SafetyLevel.NONE for text in calm)
    print(
        f"  false alarms (clean + figurative above NONE): {alarms}/{len(calm)}"
        f" = {alarms / len(calm):.1%}"
    )


def latency(name: str, classify: Classify, messages: Sequence[str]) -> None:
    """Per-message time, garbage collector paused so that it does not blur the tail.

    Two clocks: the thread's CPU time (what the classifier costs, unaffected by other
    processes on a busy machine) and wall time (what a person waits, preemption included).
    """
    for text in messages[:200]:  # warm-up
        classify(text)
    cpu: list[int] = []
    wall: list[int] = []
    gc.collect()
    gc.disable()
    try:
        for text in messages:
            start_wall, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
            classify(text)
            cpu.append(time.thread_time_ns() - start_cpu)
            wall.append(time.perf_counter_ns() - start_wall)
    finally:
        gc.enable()
    for clock, samples in (("cpu", cpu), ("wall", wall)):
        samples.sort()

        def pct(q: float, samples: list[int] = samples) -> float:
            return samples[min(len(samples) - 1, int(q * len(samples)))] / 1000

        print(
            f"  {name:<9}{clock:<5} n={len(samples):>6}  p50 {pct(0.50):8.1f} µs"
            f"  p95 {pct(0.95):8.1f} µs  p99 {pct(0.99):8.1f} µs"
            f"  max {samples[-1] / 1000:8.1f} µs  mean {statistics.fmean(samples) / 1000:8.1f} µs"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=30, help="corpus passes (default 30)")
    parser.add_argument("--seed", type=int, default=6, help="shuffle seed (default 6)")
    args = parser.parse_args()

    lexicon = yaml.safe_load(LEXICON.read_text(encoding="utf-8"))
    corpus: dict[str, list[str]] = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    size = sum(len(texts) for texts in corpus.values())
    patterns = sum(len(rule["patterns"]) for rule in lexicon["rules"])
    print(
        f"lexicon: {len(lexicon['rules'])} rules, {patterns} patterns, "
        f"{sum(len(i['patterns']) for i in lexicon.get('idioms', []))} idiom patterns"
    )
    print(f"corpus:  {size} sentences ({', '.join(f'{k} {len(v)}' for k, v in corpus.items())})")

    re.purge()
    safety._first_chars.cache_clear()
    start = time.perf_counter()
    policy = SafetyPolicy(lexicon, source=str(LEXICON))
    compile_ms = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    baseline = Baseline(lexicon)
    baseline_ms = (time.perf_counter() - start) * 1000
    print(
        f"compile: policy {compile_ms:.0f} ms (once per process, cached by the loader); "
        f"baseline {baseline_ms:.0f} ms"
    )

    def classify(text: str) -> SafetyLevel:
        return policy.assess(text).level

    figures("policy", classify, corpus)
    figures("baseline (naive search, same lexicon)", baseline.assess, corpus)

    messages = [text for texts in corpus.values() for text in texts] * args.repeat
    random.Random(args.seed).shuffle(messages)
    lengths = sorted(len(text) for text in messages)
    print(
        f"\nlatency per message: corpus x {args.repeat}, shuffled "
        f"(median length {lengths[len(lengths) // 2]} characters)"
    )
    latency("policy", classify, messages)
    latency("baseline", baseline.assess, messages)

    paragraph = (
        "Bonjour, voici le point de la semaine : le client a validé la maquette, la démo est "
        "prête et l'équipe avance bien sur les tickets urgents avant la deadline de vendredi. "
    )
    long_messages = [paragraph * 12] * max(50, args.repeat)
    print(f"long message ({len(long_messages[0])} characters, {len(long_messages)} runs)")
    latency("policy", classify, long_messages)
    latency("baseline", baseline.assess, long_messages)


if __name__ == "__main__":
    main()
