"""The editable word lists of article 2, loaded once from `flows/policies/identifying.yaml`.

Keeping them in YAML lets trainers fix a false positive ("la DRH" flagged as a name) or a
miss (a new legal form) without touching code.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from bot.policies.identifying.folding import APOSTROPHES as _APOSTROPHES
from bot.policies.identifying.folding import PhraseMatcher
from bot.policies.textnorm import fold

DEFAULT_LEXICON_PATH = (
    Path(__file__).resolve().parents[3] / "flows" / "policies" / "identifying.yaml"
)


class LexiconError(ValueError):
    """The lexicon file is not shaped as expected."""


@dataclass(frozen=True)
class Lexicon:
    """Folded word sets. Single words go to sets, multi-word phrases to matchers."""

    title_abbreviations: frozenset[str]  # case-sensitive, without the final dot
    lowercase_title_abbreviations: frozenset[str]
    title_words: frozenset[str]
    legal_forms: frozenset[str]  # case-sensitive, without the final dot
    trade_words: frozenset[str]
    particles: frozenset[str]
    organisation_cues: frozenset[str]
    name_followers: frozenset[str]
    location_prepositions: frozenset[str]
    french_street_types: frozenset[str]
    ambiguous_french_street_types: frozenset[str]
    english_street_types: frozenset[str]
    number_suffixes: frozenset[str]
    top_level_domains: frozenset[str]
    stop_words: frozenset[str]
    stop_phrases: tuple[str, ...]
    function_words: frozenset[str] = frozenset()
    ambiguous_first_names: frozenset[str] = frozenset()
    public_bodies: frozenset[str] = frozenset()
    thing_words: frozenset[str] = frozenset()
    thing_words_after: frozenset[str] = frozenset()
    strong_organisation_cues: frozenset[str] = frozenset()

    @functools.cached_property
    def stop_phrase_matcher(self) -> PhraseMatcher:
        return PhraseMatcher(self.stop_phrases)

    def with_stop_words(self, extra: Iterable[str]) -> Lexicon:
        """A copy that also never flags the given words or phrases."""
        words, phrases = _split_words_and_phrases(extra)
        if not words and not phrases:
            return self
        return replace(
            self,
            stop_words=self.stop_words | words,
            stop_phrases=tuple(dict.fromkeys(self.stop_phrases + phrases)),
        )

    def is_stop_word(self, word: str) -> bool:
        """True when the folded word is never a name on its own."""
        return word in self.stop_words


def _strings(value: object, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise LexiconError(f"{where}: expected a list")
    for entry in value:
        if not isinstance(entry, str):
            raise LexiconError(f"{where}: entry {entry!r} is not a string (quote it in YAML)")
    return list(value)


def _section(data: Mapping[str, object], key: str) -> Mapping[str, object]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise LexiconError(f"{key}: expected a mapping")
    return value


def _folded(entries: Iterable[str]) -> frozenset[str]:
    return frozenset(f for f in (fold(e).rstrip(".") for e in entries) if f)


def _lowered(entries: Iterable[str]) -> frozenset[str]:
    """Case-insensitive but accent-sensitive ("refuse" is not "refusé")."""
    return frozenset(lower_word(e) for e in entries if e.strip())


def lower_word(word: str) -> str:
    return word.strip().translate(_APOSTROPHES).casefold()


def _exact(entries: Iterable[str]) -> frozenset[str]:
    return frozenset(e.strip().rstrip(".") for e in entries if e.strip().rstrip("."))


def _split_words_and_phrases(entries: Iterable[str]) -> tuple[frozenset[str], tuple[str, ...]]:
    words: set[str] = set()
    phrases: list[str] = []
    for entry in entries:
        folded = fold(entry)
        if not folded:
            continue
        if " " in folded:
            phrases.append(folded)
        else:
            words.add(folded)
    return frozenset(words), tuple(dict.fromkeys(phrases))


def parse_lexicon(data: object) -> Lexicon:
    """Build a lexicon from the YAML document (already parsed)."""
    if not isinstance(data, dict):
        raise LexiconError("the lexicon must be a mapping")
    titles = _section(data, "titles")
    addresses = _section(data, "addresses")
    stop_sections = _section(data, "stop_words")
    trade_words = _strings(data.get("trade_words"), "trade_words")
    title_words = _strings(titles.get("words"), "titles.words")
    title_abbreviations = _strings(titles.get("abbreviations"), "titles.abbreviations")
    legal_forms = _strings(data.get("legal_forms"), "legal_forms")
    stop_entries: list[str] = []
    for name, entries in stop_sections.items():
        stop_entries.extend(_strings(entries, f"stop_words.{name}"))
    # Titles, legal forms and trade words are never names themselves.
    stop_entries.extend(trade_words + title_words + title_abbreviations + legal_forms)
    stop_words, stop_phrases = _split_words_and_phrases(stop_entries)
    function_words = _folded(
        _strings(stop_sections.get("french_function_words"), "french_function_words")
        + _strings(stop_sections.get("english_function_words"), "english_function_words")
    )
    things = _section(data, "things")
    return Lexicon(
        function_words=function_words,
        ambiguous_first_names=_folded(
            _strings(data.get("ambiguous_first_names"), "ambiguous_first_names")
        ),
        public_bodies=_folded(_strings(data.get("public_bodies"), "public_bodies")),
        thing_words=_folded(_strings(things.get("before"), "things.before")),
        thing_words_after=_folded(_strings(things.get("after"), "things.after")),
        strong_organisation_cues=_folded(
            _strings(data.get("strong_organisation_cues"), "strong_organisation_cues")
        ),

        title_abbreviations=_exact(title_abbreviations),
        lowercase_title_abbreviations=_folded(
            _strings(titles.get("lowercase_abbreviations"), "titles.lowercase_abbreviations")
        ),
        title_words=_folded(title_words),
        legal_forms=_exact(legal_forms),
        trade_words=_folded(trade_words),
        particles=_folded(_strings(data.get("particles"), "particles")),
        organisation_cues=_folded(
            _strings(data.get("organisation_cues"), "organisation_cues")
            + _strings(data.get("strong_organisation_cues"), "strong_organisation_cues")
        ),
        name_followers=_lowered(_strings(data.get("name_followers"), "name_followers")),
        location_prepositions=_folded(
            _strings(data.get("location_prepositions"), "location_prepositions")
        ),
        french_street_types=_folded(
            _strings(addresses.get("french_street_types"), "addresses.french_street_types")
        ),
        ambiguous_french_street_types=_folded(
            _strings(
                addresses.get("ambiguous_french_street_types"),
                "addresses.ambiguous_french_street_types",
            )
        ),
        english_street_types=_folded(
            _strings(addresses.get("english_street_types"), "addresses.english_street_types")
        ),
        number_suffixes=_folded(
            _strings(addresses.get("number_suffixes"), "addresses.number_suffixes")
        ),
        top_level_domains=_folded(_strings(data.get("top_level_domains"), "top_level_domains")),
        stop_words=stop_words,
        stop_phrases=stop_phrases,
    )


@functools.lru_cache(maxsize=8)
def _load(path: Path) -> Lexicon:
    try:
        with path.open(encoding="utf-8") as handle:
            raw = yaml.safe_load(handle)
    except OSError as exc:
        raise LexiconError(f"{path}: cannot read the lexicon: {exc.strerror}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise LexiconError(f"{where}: {exc.problem or 'invalid YAML'}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise LexiconError(f"{path}: not valid YAML: {exc}") from None
    try:
        return parse_lexicon(raw)
    except LexiconError as exc:
        raise LexiconError(f"{path}: {exc}") from None


def load_lexicon(path: Path | None = None) -> Lexicon:
    """Load (once per path and process) the lexicon; the default is the repository's file."""
    return _load((path or DEFAULT_LEXICON_PATH).resolve())
