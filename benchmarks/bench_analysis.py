"""Benchmark of the analysis step (charter, article 4; issue 14): how often is a genuine
analysis refused?

Run: .venv/bin/python benchmarks/bench_analysis.py [--misses]

Every text of the corpora is checked exactly as the shipped flow checks an analysis: the
checks of `question:analysis` in flows/question.yaml, with their parameters, through
`bot.engine.checks.CHECKS` (the length checks included). Prints, for the HELD-OUT corpus
(tests/corpus/analysis_heldout.yaml, never used to tune) then for the development corpus
(tests/corpus/analysis_dev.yaml, tuned on): the share of genuine analyses refused against the
target (<= 5%), and the share of non-analyses accepted (no target: these meet the way out
after two refusals at worst). Then, for information, how many genuine analyses the safety
policy (article 6, which reads every text first) would interrupt with help resources: the
person then says "C'était ma réponse, l'enregistrer" to keep the text. `--misses` lists the
texts wrongly judged, for a human reading the result, NOT to tune the detector on the held-out
set. No assertion: the figures are for reading; tests/test_analysis_in_the_engine.py holds the
assertions.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

from bot.engine.checks import CHECKS
from bot.flows.yamlsrc import load_located
from bot.policies.safety import load_safety_policy

ROOT = Path(__file__).resolve().parents[1]
CORPORA = (
    ("held-out", ROOT / "tests" / "corpus" / "analysis_heldout.yaml"),
    ("development", ROOT / "tests" / "corpus" / "analysis_dev.yaml"),
)
TARGET = 0.05


def shipped_checks() -> list[tuple[str, dict[str, Any]]]:
    """The checks of the shipped analysis step, as (name, parameters)."""
    doc = load_located(ROOT / "flows" / "question.yaml")
    specs = doc["steps"]["analysis"]["checks"]
    return [
        (str(spec["check"]), {k: v for k, v in spec.items() if k not in ("check", "error")})
        for spec in specs
    ]


def passes(text: str, checks: list[tuple[str, dict[str, Any]]]) -> bool:
    return all(CHECKS[name](text, params) for name, params in checks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list the texts wrongly judged")
    args = parser.parse_args()
    checks = shipped_checks()
    safety = load_safety_policy(ROOT / "flows" / "policies" / "safety.yaml")
    for label, path in CORPORA:
        corpus = yaml.safe_load(path.read_text(encoding="utf-8"))
        genuine, other = corpus["genuine"], corpus["not_analysis"]
        refused = [t for t in genuine if not passes(t, checks)]
        accepted = [t for t in other if passes(t, checks)]
        rate = len(refused) / len(genuine)
        verdict = "meets" if rate <= TARGET else "MISSES"
        print(f"{label} ({path.name}): genuine analyses refused {len(refused)}/{len(genuine)}"
              f" = {rate:.1%} (target <= {TARGET:.0%}: {verdict});"
              f" non-analyses accepted {len(accepted)}/{len(other)}"
              f" = {len(accepted) / len(other):.1%}")
        if args.misses:
            for text in refused:
                print(f"   refused genuine: {text}")
            for text in accepted:
                print(f"   accepted non-analysis: {text}")
        alarmed = [(t, safety.assess(t)) for t in genuine]
        alarmed = [(t, v) for t, v in alarmed if v.alarming]
        print(f"   genuine analyses the safety policy interrupts: {len(alarmed)}/{len(genuine)}"
              f" = {len(alarmed) / len(genuine):.1%}")
        if args.misses:
            for text, verdict in alarmed:
                print(f"   safety {verdict.level.name} ({', '.join(verdict.rules)}): {text}")


if __name__ == "__main__":
    main()
