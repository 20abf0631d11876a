"""Names of people and organisations: rules first, the spaCy model as a second opinion.

The small French model alone tags many capitalised common words (and most of an English
sentence) as entities, so the detector works from capitalised words instead:

1. rules that are almost never wrong: a courtesy title before a name ("Mme Dupont"), a
   legal form or trade word next to a name ("SARL Durand", "la boulangerie Moreau");
2. runs of capitalised words that are not in the lexicon's stop-lists (roles, days,
   months, acronyms, places, tools...). Mid-sentence, a capital letter is a strong sign of
   a name. At the start of a sentence it is not: a lone sentence-initial word is kept only
   when what follows makes it the subject of a verb ("Sophie m'a dit", "Olivia left", not
   "Formation validée", "Check the file") and the model sees an entity there. Sentences
   Written In Title Case and unknown acronyms ("KPI", unless "chez EDF") are left out;
3. the model's labels choose between person and organisation, and a word it tags as a
   location right after "à"/"in" is taken for a place;
4. a name found once is masked everywhere in the message.

The model only runs on the sentences where step 2 leaves a candidate whose kind is not
already known, which keeps most messages model-free.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.policies.identifying.folding import FoldedText, fold_word
from bot.policies.identifying.gazetteer import (
    Gazetteer,
    load_french_dictionary,
    load_gazetteer,
)
from bot.policies.identifying.lexicon import Lexicon, lower_word
from bot.policies.identifying.model import Entity
from bot.policies.identifying.spans import Span, SpanKind
from bot.policies.textnorm import fold

_WORD = re.compile(r"[^\W\d_]+(?:['\u2019\-][^\W\d_]+)*")
_ELISION = re.compile(
    r"^(?:[ldjmnstcLDJMNSTC]|[qQ]u|[jJ]usqu|[lL]orsqu|[pP]uisqu|[qQ]uoiqu|[pP]resqu)['\u2019]"
    r"(?=[^\W\d_])"
)
_POSSESSIVE = re.compile(r"['\u2019]s$")
_BLANK = r"[ \t\u00a0\u202f]"
# What may separate two words of one name: spaces, " & ", or an elided particle "d'".
_JOIN = re.compile(rf"{_BLANK}{{1,3}}|{_BLANK}*&{_BLANK}*|{_BLANK}+[dD]['\u2019]")
_TITLE_GAP = re.compile(rf"\.?{_BLANK}+")
_LEGAL_GAP = re.compile(rf",?{_BLANK}+|\.?{_BLANK}+")
_SENTENCE_ENDS = frozenset(".!?…:;\n\r")
_OPENERS = frozenset(" \t\u00a0\u202f\"'«»\u201c\u201d\u2018\u2019([{-\u2013\u2014•*·>_")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Pronouns glued to a verb by a hyphen ("Pourriez-vous", "Appelle-moi"): not a name.
_VERB_PRONOUNS = _words(
    "je tu il elle on nous vous ils elles moi toi lui leur ce le la les y en t-il t-elle t-on"
)
_DETERMINERS = frozenset({"la", "le", "les", "the"})
# After a comma, these open an apposition to a name: "Clara, ma N+1, ...".
_APPOSITION_OPENERS = _words(
    "ma mon mes ta ton sa son notre votre leur le la les un une my our your his her their the a an"
)
_COORDINATIONS = frozenset({"et", "ou", "and", "or"})
_PERSONAL_PRONOUNS = _words(
    "moi toi lui elle nous vous eux elles i me you he him she her we us they them"
)
_ELIDED_PRONOUN = re.compile(rf"{_BLANK}+[mtslnMTSLN]['\u2019]")
_COMMA = re.compile(rf"{_BLANK}*,{_BLANK}*")
_BLANK_GAP = re.compile(rf"{_BLANK}{{1,3}}")
_ORG_CONNECTORS = frozenset({"et", "&", "and", "de", "du", "des", "d'", "of"})
_PUBLIC_BODY_LINK = re.compile(
    rf"{_BLANK}+(?:(?:des|du|de|of)\b(?:{_BLANK}+(?:la|the|l['\u2019]))?|d['\u2019])?{_BLANK}*",
    re.IGNORECASE,
)
_TRADE_CONNECTORS = frozenset({"chez", "au", "aux", "du", "des", "de", "la", "le", "les"})
_MIN_PROPAGATED_LENGTH = 3
# A sentence whose long words are mostly capitalised is written in title case.
_TITLE_CASE_WORD_LENGTH = 4
_TITLE_CASE_MIN_WORDS = 4
_TITLE_CASE_SHARE = 0.75

EntityFinder = Callable[[str], Sequence[Entity]]


@dataclass(frozen=True, slots=True)
class _Token:
    start: int
    end: int
    text: str
    folded: str
    initial: bool  # first word of a sentence

    @property
    def capitalised(self) -> bool:
        return self.text[:1].isupper()

    @property
    def all_caps(self) -> bool:
        return len(self.text) >= 2 and self.text.isupper()


def _in_dictionary(word: str, dictionary: frozenset[str]) -> bool:
    """The dictionary holds lemmas: "résultats", "misérables" are found through their
    singular."""
    if word in dictionary:
        return True
    return len(word) > 3 and word[-1] in "sx" and word[:-1] in dictionary


def _is_sentence_start(text: str, start: int, lexicon: Lexicon) -> bool:
    index = start - 1
    while index >= 0 and text[index] in _OPENERS:
        index -= 1
    if index < 0:
        return True
    if text[index] not in _SENTENCE_ENDS:
        return False
    if text[index] == ".":
        # "M. Martin", "J. Dupont": the dot ends an abbreviation, not a sentence.
        first = index
        while first > 0 and text[first - 1].isalpha():
            first -= 1
        before = text[first:index]
        if before in lexicon.title_abbreviations or (len(before) == 1 and before.isupper()):
            return False
    return True


def _tokenise(text: str, lexicon: Lexicon) -> list[_Token]:
    tokens: list[_Token] = []
    for match in _WORD.finditer(text):
        start, end, word = match.start(), match.end(), match.group()
        elision = _ELISION.match(word)
        if elision:
            start += elision.end()
            word = word[elision.end() :]
        if len(word) > 3 and _POSSESSIVE.search(word):
            end -= 2
            word = word[:-2]
        tokens.append(
            _Token(start, end, word, fold_word(word), _is_sentence_start(text, start, lexicon))
        )
    return tokens


class NameDetector:
    """People and organisations. `entity_finder` is the model (None: rules only)."""

    name: str = "names"

    def __init__(
        self,
        lexicon: Lexicon,
        entity_finder: EntityFinder | None = None,
        gazetteer: Gazetteer | None = None,
    ) -> None:
        self._lexicon = lexicon
        self._entity_finder = entity_finder
        self._gazetteer = gazetteer if gazetteer is not None else load_gazetteer()

    def detect(self, text: str) -> list[Span]:
        return _Analysis(text, self._lexicon, self._entity_finder, self._gazetteer).run()


class _Analysis:
    """The work on one message; holds its tokens so that helpers stay small."""

    def __init__(
        self,
        text: str,
        lexicon: Lexicon,
        entity_finder: EntityFinder | None,
        gazetteer: Gazetteer,
    ) -> None:
        self.text = text
        self.lexicon = lexicon
        self.entity_finder = entity_finder
        self.gazetteer = gazetteer
        self.tokens = _tokenise(text, lexicon)
        self._entities: dict[int, Sequence[Entity]] = {}
        stopped = self._stop_phrase_ranges() + self._thing_ranges()
        self.namey = [self._is_namey(t, stopped) for t in self.tokens]
        self.first_name = [self._is_first_name(i) for i in range(len(self.tokens))]
        self.sentence_of = self._sentences()
        self.title_case = self._title_case_sentences()

    # ----------------------------------------------------------------- sentences
    def _sentences(self) -> list[int]:
        """The sentence number of each token."""
        numbers: list[int] = []
        current = 0
        for position, token in enumerate(self.tokens):
            if token.initial and position:
                current += 1
            numbers.append(current)
        return numbers

    def _title_case_sentences(self) -> frozenset[int]:
        """Sentences Written Like A Title, where a capital letter says nothing about names."""
        long_words: dict[int, list[bool]] = {}
        for token, sentence in zip(self.tokens, self.sentence_of, strict=True):
            if len(token.text) >= _TITLE_CASE_WORD_LENGTH:
                long_words.setdefault(sentence, []).append(token.capitalised)
        return frozenset(
            sentence
            for sentence, capitals in long_words.items()
            if len(capitals) >= _TITLE_CASE_MIN_WORDS
            and sum(capitals) >= _TITLE_CASE_SHARE * len(capitals)
        )

    # ----------------------------------------------------------------- token tests
    def _stop_phrase_ranges(self) -> list[tuple[int, int]]:
        matcher = self.lexicon.stop_phrase_matcher
        if not matcher or not any(t.capitalised for t in self.tokens):
            return []
        return list(matcher.finditer(FoldedText.of(self.text)))

    def _thing_ranges(self) -> list[tuple[int, int]]:
        """Capitalised words that name a thing, not a person: "la salle Everest", "le projet
        Phoenix", "the Everest room"."""
        ranges: list[tuple[int, int]] = []
        tokens = self.tokens
        for index, token in enumerate(tokens):
            if token.folded in self.lexicon.thing_words:
                following = index + 1
                while (
                    following < len(tokens)
                    and following - index <= 3
                    and tokens[following].capitalised
                    and _BLANK_GAP.fullmatch(self._gap(following - 1, following))
                ):
                    ranges.append((tokens[following].start, tokens[following].end))
                    following += 1
            if token.folded in self.lexicon.thing_words_after and index > 0:
                previous = index - 1
                while (
                    previous >= 0
                    and index - previous <= 2
                    and tokens[previous].capitalised
                    and _BLANK_GAP.fullmatch(self._gap(previous, previous + 1))
                ):
                    ranges.append((tokens[previous].start, tokens[previous].end))
                    previous -= 1
        return ranges

    def _common(self, folded: str) -> bool:
        """An ordinary word of French or English (a stop-list word, or a common word)."""
        return self.lexicon.is_stop_word(folded) or folded in self.gazetteer.common_words

    def _ordinary(self, folded: str) -> bool:
        """A word of the French dictionary or of the common and stop words: "Bilan Social",
        "Assemblée Générale" are capitalised ordinary words, not a name."""
        return all(
            # The dictionary loads on the first capitalised candidate (or at warm-up).
            self._common(part) or _in_dictionary(part, load_french_dictionary())
            for part in folded.split("-")
            if part
        )

    def _is_first_name(self, index: int) -> bool:
        """Evidence of a person: a first name of the gazetteer that is not also an ordinary
        word ("Rose", "Mark", "pierre"), capitalised or not."""
        token = self.tokens[index]
        folded = token.folded
        if len(folded) < _MIN_PROPAGATED_LENGTH or not self.gazetteer.is_first_name(folded):
            return False
        if folded in self.lexicon.ambiguous_first_names or self._common(folded):
            # "Mark Johnson", "Rose Dupont": an ordinary word, but followed by a surname.
            following = index + 1
            if following >= len(self.tokens) or not token.capitalised:
                return False
            after = self.tokens[following]
            return (
                bool(_BLANK_GAP.fullmatch(self._gap(index, following)))
                and after.capitalised
                and after.folded not in self.lexicon.function_words
                and (self.namey[following] or after.folded in self.gazetteer.surnames)
            )
        if token.capitalised:
            return self.namey[index]
        # In lower case, only the French and English first names: "said", "harsh" are words.
        # A hyphenated pair of first names ("jean-baptiste") is evidence enough.
        return token.text.islower() and (
            "-" in folded or folded in self.gazetteer.core_first_names
        )

    def _is_namey(self, token: _Token, stopped: list[tuple[int, int]]) -> bool:
        """Could this word be (part of) a name? Capitalised, and on no stop-list."""
        if not token.capitalised or len(token.folded) < 2:
            return False
        if self._glued_to_dot(token):
            return False
        if self.lexicon.is_stop_word(token.folded):
            return False
        parts = token.folded.split("-")
        if len(parts) > 1 and (
            parts[-1] in _VERB_PRONOUNS or "-".join(parts[-2:]) in _VERB_PRONOUNS
        ):
            return False
        return not any(start < token.end and token.start < end for start, end in stopped)

    def _glued_to_dot(self, token: _Token) -> bool:
        """Part of a dotted identifier ("Node.js", "Vue.js", "config.Main"), not a name."""
        text = self.text
        after = text[token.end : token.end + 2]
        before = text[max(token.start - 2, 0) : token.start]
        return (len(after) == 2 and after[0] == "." and after[1].isalpha()) or (
            len(before) == 2 and before[1] == "." and before[0].isalnum()
        )

    def _gap(self, left: int, right: int) -> str:
        return self.text[self.tokens[left].end : self.tokens[right].start]

    def _is_particle(self, index: int) -> bool:
        return self.tokens[index].folded in self.lexicon.particles

    # ----------------------------------------------------------------- runs of name words
    def _run_from(self, first: int) -> int:
        """Index of the last word of the name starting at `first` (a name word)."""
        last = index = first
        while index + 1 < len(self.tokens) and _JOIN.fullmatch(self._gap(index, index + 1)):
            index += 1
            if self.namey[index] or (
                # "Arnaud & Associés": after "&", any capitalised word belongs to the name.
                "&" in self._gap(index - 1, index) and self.tokens[index].capitalised
            ):
                last = index
            elif not self._is_particle(index):
                break
        return last

    def _run_to(self, last: int) -> int:
        """Index of the first word of the name ending at `last` (a name word)."""
        first = index = last
        while index > 0 and _JOIN.fullmatch(self._gap(index - 1, index)):
            index -= 1
            if self.namey[index]:
                first = index
            elif not self._is_particle(index):
                break
        return first

    def _span(self, first: int, last: int, kind: SpanKind) -> Span:
        return Span.of(self.text, self.tokens[first].start, self.tokens[last].end, kind)

    # ----------------------------------------------------------------- the model
    def _model_entities(self, sentence: int) -> Sequence[Entity]:
        """The model's entities in one sentence: it only runs where a candidate needs it."""
        if sentence not in self._entities:
            found: Sequence[Entity] = ()
            if self.entity_finder is not None:
                first = self.sentence_of.index(sentence)
                start = self.tokens[first].start
                following = first + 1
                while following < len(self.tokens) and self.sentence_of[following] == sentence:
                    following += 1
                end = self.tokens[following].start if following < len(self.tokens) else None
                found = [
                    Entity(start + e.start, start + e.end, e.label)
                    for e in self.entity_finder(self.text[start:end])
                ]
            self._entities[sentence] = found
        return self._entities[sentence]

    def _entity_over(self, first: int, last: int) -> Entity | None:
        """The model's entity that overlaps words `first` to `last` the most."""
        start, end = self.tokens[first].start, self.tokens[last].end
        best: Entity | None = None
        best_overlap = 0
        for entity in self._model_entities(self.sentence_of[first]):
            overlap = min(end, entity.end) - max(start, entity.start)
            if overlap > best_overlap:
                best, best_overlap = entity, overlap
        return best

    # ----------------------------------------------------------------- rules
    def _title_rule(self) -> list[Span]:
        """A courtesy title, then a name: "Mme Dupont", "M. Jean Martin", "mr smith"."""
        spans: list[Span] = []
        lexicon = self.lexicon
        for index, token in enumerate(self.tokens[:-1]):
            lowercase_title = token.folded in lexicon.lowercase_title_abbreviations
            if not (
                token.text in lexicon.title_abbreviations
                or token.folded in lexicon.title_words
                or lowercase_title
            ):
                continue
            if not _TITLE_GAP.fullmatch(self._gap(index, index + 1)):
                continue
            following = self.tokens[index + 1]
            if self.namey[index + 1]:
                spans.append(self._span(index + 1, self._run_from(index + 1), SpanKind.PERSON))
            elif (
                lowercase_title
                and following.text.islower()
                and len(following.folded) >= 2
                and not lexicon.is_stop_word(following.folded)
            ):
                spans.append(self._span(index + 1, index + 1, SpanKind.PERSON))
        return spans

    def _organisation_rule(self) -> list[Span]:
        """A legal form or trade word next to a name, all of it: "SARL Durand", "Acme Ltd",
        "la société Dupont Logistique"."""
        spans: list[Span] = []
        lexicon = self.lexicon
        count = len(self.tokens)
        for index, token in enumerate(self.tokens):
            if token.text in lexicon.legal_forms:
                after = index + 1
                if (
                    after < count
                    and self.tokens[after].capitalised
                    and _LEGAL_GAP.fullmatch(self._gap(index, after))
                ):
                    last = self._organisation_end(after)
                    spans.append(self._span(index, last, SpanKind.ORGANISATION))
                before = index - 1
                if (
                    before >= 0
                    and self.namey[before]
                    and _LEGAL_GAP.fullmatch(self._gap(before, index))
                ):
                    spans.append(self._span(self._run_to(before), index, SpanKind.ORGANISATION))
            elif token.folded in lexicon.trade_words:
                after = index + 1
                while (
                    after < count
                    and after - index <= 2
                    and self.tokens[after].folded in _TRADE_CONNECTORS
                    and not self.namey[after]
                ):
                    after += 1
                if after < count and self.namey[after] and self._plain_gaps(index, after):
                    last = self._organisation_end(self._run_from(after))
                    spans.append(self._span(index, last, SpanKind.ORGANISATION))
        return spans

    def _gazetteer_rule(self) -> list[Span]:
        """A first name of the gazetteer, in any case, and the surname after it:
        "Guillaume Roux", "jean-baptiste lefèvre", "thomas petit", "Sophie m'a dit"."""
        spans: list[Span] = []
        index = 0
        while index < len(self.tokens):
            if not self.first_name[index]:
                index += 1
                continue
            token = self.tokens[index]
            last = self._run_from(index) if token.capitalised else index
            last = self._surname_after(last, lowercase=not token.capitalised)
            first = index
            if (
                first > 0
                and self.tokens[first - 1].capitalised == token.capitalised
                and self.gazetteer.is_first_name(self.tokens[first - 1].folded)
                and _BLANK_GAP.fullmatch(self._gap(first - 1, first))
            ):
                first -= 1  # an ambiguous first name before another name: "grace kelly"
            spans.append(self._span(first, last, SpanKind.PERSON))
            index = last + 1
        return spans

    def _surname_after(self, last: int, *, lowercase: bool) -> int:
        """Extend a person's name over the surname that follows it ("Thomas Petit"); after a
        lower-case first name, one lower-case word that is a surname or no common word."""
        while last + 1 < len(self.tokens) and _BLANK_GAP.fullmatch(self._gap(last, last + 1)):
            following = self.tokens[last + 1]
            folded = following.folded
            if folded in self.lexicon.function_words or len(folded) < 2:
                break
            if following.capitalised:
                if self.namey[last + 1] or folded in self.gazetteer.surnames:
                    last += 1
                    continue
                break
            if (
                lowercase
                and following.text.islower()
                and (folded in self.gazetteer.surnames or not self._common(folded))
            ):
                last += 1
            break
        return last

    def _public_body_rule(self) -> list[Span]:
        """A public body and its name, all of it: "le CHU de Bordeaux", "la mairie de
        Villeurbanne", "le ministère de l'Intérieur", "l'hôpital Édouard-Herriot"."""
        spans: list[Span] = []
        for index, token in enumerate(self.tokens[:-1]):
            if token.folded not in self.lexicon.public_bodies:
                continue
            link = _PUBLIC_BODY_LINK.match(self.text, token.end)
            if link is None:
                continue
            following = next(
                (i for i in range(index + 1, len(self.tokens)) if self.tokens[i].end > link.end()),
                None,
            )
            if following is None or self.tokens[following].start != link.end():
                continue
            name = self.tokens[following]
            if not name.capitalised or name.folded in self.lexicon.function_words:
                continue
            last = self._organisation_end(following)
            first = index
            while (
                self.tokens[first].capitalised
                and first > 0
                and self.tokens[first - 1].capitalised
                and not self.tokens[first - 1].initial
                and _BLANK_GAP.fullmatch(self._gap(first - 1, first))
            ):
                first -= 1  # "the City Council of Bristol"
            spans.append(self._span(first, last, SpanKind.ORGANISATION))
        return spans

    def _organisation_end(self, last: int) -> int:
        """Extend an organisation's name over the capitalised words that follow, whatever
        they mean ("Dupont Logistique", "Martin et Fils", "Horizon Conseil")."""
        tokens = self.tokens
        while last + 1 < len(tokens):
            gap = self._gap(last, last + 1)
            following = tokens[last + 1]
            if _JOIN.fullmatch(gap) and following.capitalised:
                last += 1
                continue
            if (
                _BLANK_GAP.fullmatch(gap)
                and following.folded in _ORG_CONNECTORS
                and last + 2 < len(tokens)
                and tokens[last + 2].capitalised
                and _JOIN.fullmatch(self._gap(last + 1, last + 2))
            ):
                last += 2
                continue
            break
        return last

    def _lowercase_organisation_rule(self) -> list[Span]:
        """"chez michelin": an unknown lower-case word after "chez" is an employer."""
        spans: list[Span] = []
        for index, token in enumerate(self.tokens[:-1]):
            if token.folded != "chez":
                continue
            following = self.tokens[index + 1]
            folded = following.folded
            if (
                following.text.islower()
                and len(folded) >= _MIN_PROPAGATED_LENGTH
                and _BLANK_GAP.fullmatch(self._gap(index, index + 1))
                and not self._common(folded)
                and folded not in self.lexicon.function_words
            ):
                spans.append(self._span(index + 1, index + 1, SpanKind.ORGANISATION))
        return spans

    def _plain_gaps(self, first: int, last: int) -> bool:
        return all(
            _JOIN.fullmatch(self._gap(i, i + 1)) or self._gap(i, i + 1).strip() == ""
            for i in range(first, last)
        )

    # ----------------------------------------------------------------- capitalised runs
    def _candidate_runs(self, taken: list[Span]) -> list[tuple[int, int]]:
        runs: list[tuple[int, int]] = []
        index = 0
        while index < len(self.tokens):
            if not self.namey[index]:
                index += 1
                continue
            last = self._run_from(index)
            start, end = self.tokens[index].start, self.tokens[last].end
            if not any(span.start < end and start < span.end for span in taken):
                runs.append((index, last))
            index = last + 1
        return runs

    def _previous_word(self, index: int) -> int | None:
        """Index of the word before `index` in the same clause, skipping one determiner."""
        previous = index - 1
        if previous >= 0 and self.tokens[previous].folded in _DETERMINERS:
            previous -= 1
        if previous < 0:
            return None
        between = self.text[self.tokens[previous].end : self.tokens[index].start]
        if any(ch in _SENTENCE_ENDS or ch == "," for ch in between):
            return None
        return previous

    def _has_cue(self, index: int, *, strong: bool = False) -> bool:
        previous = self._previous_word(index)
        cues = (
            self.lexicon.strong_organisation_cues if strong else self.lexicon.organisation_cues
        )
        return previous is not None and self.tokens[previous].folded in cues

    def _is_subject(self, index: int) -> bool:
        """Does what follows word `index` make it the subject of a verb, or a named person?"""
        following = index + 1
        if following >= len(self.tokens):
            return False
        gap = self._gap(index, following)
        word = self.tokens[following].folded
        lowered = lower_word(self.tokens[following].text)
        if _ELIDED_PRONOUN.fullmatch(gap):
            return True
        if _COMMA.fullmatch(gap):
            return word in _APPOSITION_OPENERS
        if not _JOIN.fullmatch(gap):
            return False
        if word in _COORDINATIONS:
            after = following + 1
            return after < len(self.tokens) and (
                self.tokens[after].folded in _PERSONAL_PRONOUNS or self.namey[after]
            )
        return lowered in self.lexicon.name_followers

    def _judge_run(self, first: int, last: int) -> SpanKind | None:
        """Person, organisation, or None when the run is not a name after all."""
        words = [self.tokens[i] for i in range(first, last + 1) if self.namey[i]]
        cue = self._has_cue(first)
        if self.sentence_of[first] in self.title_case:
            return SpanKind.ORGANISATION if cue else None
        if all(word.all_caps for word in words):
            # Unknown acronyms are jargon more often than not, unless "chez SNCF", "la SNCF".
            return SpanKind.ORGANISATION if cue or self._after_determiner(first) else None
        if self.tokens[first].initial and len(words) == 1:
            # A lone capitalised word at a sentence start: "Sophie m'a dit" but "Formation
            # validée". Kept when it is the subject of a verb, and the model sees an entity.
            # Evidence needed too: a first name or surname of the gazetteer, or the model
            # seeing an organisation ("Working from home", "Morale is low" are not names).
            if not self._is_subject(last):
                return None
            known = self._known_name(words[0].folded)
            if self.entity_finder is None:
                return SpanKind.PERSON if known else None
            entity = self._entity_over(first, last)
            if entity is None or entity.start != self.tokens[first].start:
                return None
            if entity.label == "ORG" and not self._ordinary(words[0].folded):
                return SpanKind.ORGANISATION
            return SpanKind.PERSON if known else None
        ordinary = all(self._ordinary(word.folded) for word in words)
        # After a cue, ordinary words are an organisation when the cue names a business
        # relation or comes right before them: "chez Orange", "pour Crédit Agricole", but
        # not "rejoint la Cellule Innovation".
        right_after = self._previous_word(first) == first - 1
        if cue and (not ordinary or right_after or self._has_cue(first, strong=True)):
            return SpanKind.ORGANISATION
        if ordinary:
            return None  # capitalised ordinary words, and no evidence of a name
        entity = self._entity_over(first, last)
        if entity is not None and entity.label == "ORG":
            return SpanKind.ORGANISATION
        if not self._evidence(words, entity):
            return None
        if entity is not None and entity.label == "LOC":
            previous = self._previous_word(first)
            if (
                previous is not None
                and previous == first - 1
                and self.tokens[previous].folded in self.lexicon.location_prepositions
            ):
                return None
        return SpanKind.PERSON

    def _after_determiner(self, index: int) -> bool:
        """Right after "la", "le", "l'", "the": "la SNCF", "l'URSSAF"."""
        start = self.tokens[index].start
        before = self.text[max(start - 4, 0) : start]
        return bool(re.search(r"(?:^|[\s(])(?:[lL][ae]\s+|[lL]['\u2019]|[tT]he\s+)$", before))

    def _evidence(self, words: list[_Token], entity: Entity | None) -> bool:
        """A capitalised run is a name only with some evidence: several words, a first name
        or surname of the gazetteer, the model seeing a person or an organisation there, or,
        when the model sees nothing, a word in no French dictionary nor common-word list."""
        if len(words) >= 2:
            return True
        folded = words[0].folded
        if self._known_name(folded):
            return True
        if entity is not None:
            return entity.label in {"PER", "ORG"}
        return not self._ordinary(folded)

    def _known_name(self, folded: str) -> bool:
        return self.gazetteer.is_first_name(folded) or folded in self.gazetteer.surnames

    # ----------------------------------------------------------------- propagation
    def _propagate(self, spans: list[Span]) -> list[Span]:
        """Mask every mention of a name found once: "Mme Dupont ... Dupont a rappelé"."""
        surfaces: dict[str, SpanKind] = {}
        for span in spans:
            surfaces.setdefault(span.text, span.kind)
            if span.kind is SpanKind.PERSON:
                for word in _WORD.findall(span.text):
                    if (
                        len(word) >= _MIN_PROPAGATED_LENGTH
                        and word[0].isupper()
                        and not self.lexicon.is_stop_word(fold(word))
                    ):
                        surfaces.setdefault(word, span.kind)
        found = list(spans)
        for surface, kind in surfaces.items():
            for match in re.finditer(rf"(?<!\w){re.escape(surface)}(?!\w)", self.text):
                candidate = Span.of(self.text, match.start(), match.end(), kind)
                if not any(candidate.overlaps(other) for other in found):
                    found.append(candidate)
        return found

    # ----------------------------------------------------------------- all together
    def run(self) -> list[Span]:
        if not self.tokens:
            return []
        ruled = (
            self._title_rule()
            + self._organisation_rule()
            + self._public_body_rule()
            + self._lowercase_organisation_rule()
            + self._gazetteer_rule()
        )
        spans = list(ruled)
        for first, last in self._candidate_runs(ruled):
            kind = self._judge_run(first, last)
            if kind is SpanKind.ORGANISATION:
                last = self._organisation_end(last)
            if kind is not None:
                spans.append(self._span(first, last, kind))
        return self._propagate(spans) if spans else []
