"""Article 6 of the charter: urgency, deep distress and matters beyond mentoring.

The engine calls `SafetyPolicy.assess` on every incoming text, in any state and at any hour,
before anything else, and answers at once with help resources when the verdict is alarming.
This module only classifies: it is pure (no I/O in `assess`), holds no user-facing sentence,
and reports the ids of the lexicon entries that matched, never the text itself.

The words live in `flows/policies/safety.yaml` so that a deployment can tune them without
Python; the file's header documents its format. Reading, in short: fold the text (case,
accents, apostrophes), split it into sentences, blank out figurative idioms ("ce projet me
tue") unless a literal marker says otherwise, search the rules, and downgrade a match that a
negation cue governs ("je ne suis pas suicidaire" still earns a check-in). The most serious
sentence wins.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NamedTuple

import yaml

from bot.policies.textnorm import fold, strip_accents

if TYPE_CHECKING:
    from bot.policies.safety_semantic import SemanticLayer

__all__ = [
    "DEFAULT_LEXICON_PATH",
    "SafetyLevel",
    "SafetyLexiconError",
    "SafetyPolicy",
    "SafetyVerdict",
    "load_safety_policy",
    "reading_form",
]

DEFAULT_LEXICON_PATH: Final = Path(__file__).resolve().parents[2] / "flows/policies/safety.yaml"


class SafetyLevel(IntEnum):
    """How serious a message is; ordered so that `max` picks the most serious."""

    NONE = 0
    OUT_OF_SCOPE = 1  # legal or medical matter: a redirection hint, the message goes on
    CHECK_IN = 2  # ambiguous or negated distress: a gentle check-in with the resources
    DISTRESS = 3  # deep mal-être: immediate answer with resources
    URGENT = 4  # danger to life or safety: immediate answer with emergency numbers


@dataclass(frozen=True, slots=True)
class SafetyVerdict:
    """The classification of one message.

    `rules` holds the ids of the lexicon rules that raised the level (most serious first),
    so that logs and the mentor's alert can say why without keeping the person's words.
    """

    level: SafetyLevel
    rules: tuple[str, ...] = ()
    # Which layer set the level: "lexicon" or "semantic" ("" when NONE). Not compared:
    # two verdicts are equal when they say the same thing for the same reasons.
    layer: str = field(default="", compare=False)

    @property
    def alarming(self) -> bool:
        """True when the person must get help resources at once (check-in or worse)."""
        return self.level >= SafetyLevel.CHECK_IN


class SafetyLexiconError(ValueError):
    """The lexicon cannot be used; the message names the file and the faulty entry."""


_CLEAR: Final = SafetyVerdict(SafetyLevel.NONE)
_WORD: Final = re.compile(r"[^\W\d_]{2,}")


def _worth_reading(text: str) -> bool:
    """Three words or more. Shorter texts answer the bot ("ok", "non", "2", a name typed to
    sign): the model was trained on sentences and reads fragments badly ("Emma Smith" looked
    like distress to it). Short alarming texts ("jveux mourir") are the lexicon's job."""
    words = _WORD.findall(text)
    return len(words) >= 3 and not _looks_like_a_name(text)


_NAME_PARTICLES: Final = frozenset({"de", "du", "des", "del", "della", "la", "le", "van", "von",
                                    "der", "den", "da", "di", "dos", "das", "y", "d", "bin", "ben"})
_TOKEN: Final = re.compile("[^\\W\\d_][\\w'\u2019-]*")


def _looks_like_a_name(text: str) -> bool:
    """A few capitalised words ("Marie-Claire Dubois Martin"): a name typed to sign, which
    the model, trained on sentences, may misread. The lexicon still reads it."""
    tokens = _TOKEN.findall(text)
    return 0 < len(tokens) <= 6 and all(
        token[0].isupper() or token.lower() in _NAME_PARTICLES for token in tokens
    )

# Names used in the YAML file. "none" is only valid as a negation downgrade target.
_LEVELS: Final[Mapping[str, SafetyLevel]] = {
    "none": SafetyLevel.NONE,
    "out_of_scope": SafetyLevel.OUT_OF_SCOPE,
    "check_in": SafetyLevel.CHECK_IN,
    "distress": SafetyLevel.DISTRESS,
    "urgent": SafetyLevel.URGENT,
}
_LANGS: Final = frozenset({"fr", "en", "any"})
_ID: Final = re.compile(r"[a-z0-9][a-z0-9-]*\Z")
_TOP_KEYS: Final = frozenset(
    {"version", "negation", "rewrites", "literal_markers", "idioms", "rules"}
)
_ENTRY_KEYS: Final = frozenset({"id", "lang", "regex", "patterns", "note"})
_REWRITE_KEYS: Final = frozenset({"id", "lang", "patterns", "into", "note"})
_RULE_KEYS: Final = _ENTRY_KEYS | {"level", "negatable"}
_NEGATION_KEYS: Final = frozenset({"window", "cues", "ignore", "breakers", "downgrade"})

# What folding does not cover: ligatures (NFD keeps "œ") and doubled letters: "mouriiir",
# "mourrir" and "mourir" are one word. Text AND patterns are read with every run of a letter
# kept once, so that a doubled or missing double letter never hides a word.
_LIGATURES: Final = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae"})
_ELONGATED: Final = re.compile(r"([^\W\d_])\1+")
_DOUBLED_IN_PATTERN: Final = re.compile(r"(?<!\\)([a-z])\1+")
# A pattern written to match only at the end of a sentence also matches at the end of a
# clause: "je suis vidé, je n'en peux plus" (a comma, a colon, a bracket, a blanked idiom).
_SENTENCE_END_IN_PATTERN: Final = "\\s*$"
_CLAUSE_END_IN_PATTERN: Final = r"\s*(?:$|[,:()]|\|)"
_SENTENCE_END: Final = re.compile(r"[.!?;…]+")
# Blanked idioms become this mark, which also ends a negation's scope.
_IDIOM_MARK: Final = " | "
_TYPOGRAPHIC: Final = frozenset("\u2019\u2018\u02bc`\u00b4")
_ESCAPE: Final = re.compile(r"\\.")
# The regex parser behind `re` (private but stable since 3.11), used for dispatch only.
_SRE_PARSER: Final[Any] = importlib.import_module("re._parser")
_MAX_DISPATCH: Final = 24  # a pattern that may start with more characters is tried everywhere
_MAX_COPIES: Final = 5  # up to this many first characters, a pattern is copied under each


def reading_form(body: str) -> str:
    """A regex body as it is searched: doubled letters kept once, sentence ends = clause ends."""
    body = body.replace(_SENTENCE_END_IN_PATTERN, _CLAUSE_END_IN_PATTERN)
    return _DOUBLED_IN_PATTERN.sub(r"\1", body)


@functools.lru_cache(maxsize=4096)
def _first_chars(body: str) -> frozenset[str] | None:
    """The characters a match of `body` can start with; None when any character could.

    Used only to speed matching up: any doubt answers None, which is always correct.
    """
    try:
        chars, nullable = _first_of(list(_SRE_PARSER.parse(body)))
    except Exception:  # an optimisation must never break loading
        return None
    return None if chars is None or nullable or len(chars) > _MAX_DISPATCH else frozenset(chars)


def _first_of(items: Sequence[Any]) -> tuple[set[str] | None, bool]:
    """(first characters, can be empty) of a parsed regex sequence; None = unknown."""
    found: set[str] = set()
    for op, arg in items:
        name = str(op)
        if name in {"AT", "ASSERT", "ASSERT_NOT"}:  # zero-width: look further
            continue
        if name == "LITERAL":
            found.add(chr(arg))
            return found, False
        if name == "IN":
            chars = _charset(arg)
            return (None if chars is None else found | chars), False
        if name == "SUBPATTERN" and not arg[1] and not arg[2]:  # no inline flags
            sub, nullable = _first_of(arg[3])
        elif name == "BRANCH":
            sub, nullable = set(), False
            for branch in arg[1]:
                chars, empty = _first_of(branch)
                if chars is None:
                    return None, False
                sub |= chars
                nullable = nullable or empty
        elif name in {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}:
            sub, nullable = _first_of(arg[2])
            nullable = nullable or arg[0] == 0
        else:
            return None, False
        if sub is None:
            return None, False
        found |= sub
        if not nullable:
            return found, False
    return found, True


def _charset(items: Sequence[Any]) -> set[str] | None:
    """Characters of a parsed [...] set; None for categories (\\w) and negations."""
    chars: set[str] = set()
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            chars.add(chr(arg))
        elif name == "RANGE" and arg[1] - arg[0] < _MAX_DISPATCH:
            chars.update(chr(code) for code in range(arg[0], arg[1] + 1))
        else:
            return None
    return chars


class _Source(NamedTuple):
    """A compiled-to-be pattern: its regex body and whether it must start a word."""

    body: str
    head: bool


@dataclass(frozen=True, slots=True)
class _Rule:
    """One compiled rule: all its patterns in a single alternation."""

    id: str
    level: SafetyLevel
    negatable: bool
    negated_level: SafetyLevel
    pattern: re.Pattern[str]


class _Reader:
    """Validates the raw lexicon; every error names the source and the entry."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.seen_ids: dict[str, str] = {}

    def fail(self, where: str, problem: str) -> SafetyLexiconError:
        return SafetyLexiconError(f"{self.source}: {where}: {problem}")

    def mapping(self, value: object, where: str, allowed: frozenset[str]) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(where, f"expected a mapping, got {type(value).__name__}")
        unknown = sorted(str(key) for key in value if key not in allowed)
        if unknown:
            raise self.fail(
                where,
                f"unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})",
            )
        return value

    def sequence(self, value: object, where: str, *, empty_ok: bool = True) -> Sequence[Any]:
        if value is None and empty_ok:
            return ()
        if not isinstance(value, list):
            raise self.fail(where, f"expected a list, got {type(value).__name__}")
        if not value and not empty_ok:
            raise self.fail(where, "the list is empty")
        return value

    def flag(self, entry: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
        value = entry.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(where, f"'{key}' must be true or false, got {value!r}")
        return value

    def level(self, value: object, where: str, *, none_ok: bool = False) -> SafetyLevel:
        names = [name for name in _LEVELS if none_ok or name != "none"]
        if not isinstance(value, str) or value not in names:
            raise self.fail(where, f"unknown level {value!r} (expected one of {', '.join(names)})")
        return _LEVELS[value]

    def entry_id(self, entry: Mapping[str, Any], where: str) -> str:
        value = entry.get("id")
        if not isinstance(value, str) or not _ID.match(value):
            raise self.fail(where, f"'id' must be lowercase letters, digits and '-', got {value!r}")
        if value in self.seen_ids:
            raise self.fail(where, f"duplicate id {value!r} (first used in {self.seen_ids[value]})")
        self.seen_ids[value] = where
        return value

    def patterns(self, entry: Mapping[str, Any], where: str) -> list[_Source]:
        """Return the entry's patterns as regex sources that match whole words only."""
        is_regex = self.flag(entry, "regex", where, False)
        lang = entry.get("lang", "any")
        if lang not in _LANGS:
            raise self.fail(
                where, f"'lang' must be one of {', '.join(sorted(_LANGS))}, got {lang!r}"
            )
        if "note" in entry and not isinstance(entry["note"], str):
            raise self.fail(where, "'note' must be text")
        sources: list[_Source] = []
        for index, raw in enumerate(self.sequence(entry.get("patterns"), where, empty_ok=False)):
            at = f"{where}, pattern {index + 1}"
            text = self.pattern_text(raw, at, is_regex=is_regex)
            sources.append(self.whole_words(text) if is_regex else self.phrase(text))
        return sources

    def pattern_text(self, raw: object, where: str, *, is_regex: bool) -> str:
        if not isinstance(raw, str):
            hint = ""
            if isinstance(raw, bool):
                hint = " (YAML reads yes/no/on/off as booleans: quote the pattern)"
            elif isinstance(raw, Mapping):
                hint = " (YAML read ': ' as a key separator: quote the pattern)"
            raise self.fail(where, f"a pattern must be text, got {raw!r}{hint}")
        if not raw.strip():
            raise self.fail(where, "empty pattern")
        if is_regex:
            literal = _ESCAPE.sub("", raw)  # \S, \W... are legitimate capitals
            folded = strip_accents(literal).lower() == literal
            folded = folded and not (_TYPOGRAPHIC & set(raw))
            if folded:
                try:  # as it will be used, so that e.g. misplaced inline flags are caught here
                    re.compile(self.whole_words(raw).body)
                except re.error as exc:
                    raise self.fail(where, f"invalid regex {raw!r}: {exc}") from None
        else:
            folded = fold(raw) == raw
        if not folded:
            raise self.fail(
                where,
                f"{raw!r} is not in folded form (lowercase, no accents, straight apostrophes, "
                f"single spaces): write {fold(raw)!r}",
            )
        return raw

    @staticmethod
    def phrase(text: str) -> _Source:
        """A plain phrase; word boundaries only where the phrase starts or ends with a letter."""
        tail = r"(?!\w)" if text[-1].isalnum() else ""
        return _Source(re.escape(text) + tail, text[0].isalnum())

    @staticmethod
    def whole_words(source: str) -> _Source:
        return _Source(rf"(?:{source})(?!\w)", True)

    def compile(self, sources: Sequence[_Source], where: str) -> re.Pattern[str]:
        """One regex for many patterns, arranged so that Python's engine stays fast.

        A naive alternation tries every pattern at every position (hundreds of patterns,
        hundreds of microseconds per sentence). Here the word-start check comes once, and
        the patterns are dispatched on the character they can start with, so that at a
        given word only the few patterns starting with its first letter are tried.
        """
        buckets: dict[str, list[str]] = {}  # lookahead -> bodies, in lexicon order
        sources = [_Source(reading_form(source.body), source.head) for source in sources]
        for source in sources:
            chars = _first_chars(source.body) if source.head else None
            if chars is None:
                continue
            # Few first letters: copy the pattern under each; more: one group for the set.
            keys = sorted(chars) if len(chars) <= _MAX_COPIES else ["".join(sorted(chars))]
            for key in keys:
                look = re.escape(key) if len(key) == 1 else f"[{re.escape(key)}]"
                buckets.setdefault(look, []).append(source.body)
        headed = [f"(?={look})(?:{'|'.join(bodies)})" for look, bodies in sorted(buckets.items())]
        headed += [s.body for s in sources if s.head and _first_chars(s.body) is None]
        headless = [source.body for source in sources if not source.head]
        parts = [rf"(?<!\w)(?:{'|'.join(headed)})"] if headed else []
        parts += headless
        try:
            return re.compile("|".join(parts))
        except re.error as exc:  # e.g. inline flags, valid alone, invalid once wrapped
            raise self.fail(where, f"the pattern does not combine with the others: {exc}") from None


class SafetyPolicy:
    """The article 6 classifier, compiled once from a lexicon mapping (see the YAML file).

    Immutable after construction, hence safe to share between tasks and threads.
    """

    __slots__ = (
        "_any_rule",
        "_breakers",
        "_cues",
        "_idioms",
        "_ignore",
        "_literal",
        "_rewrites",
        "_rules",
        "_semantic",
        "_window",
        "source",
    )

    def __init__(
        self,
        lexicon: Mapping[str, Any],
        source: str = "<lexicon>",
        semantic: SemanticLayer | None = None,
    ) -> None:
        reader = _Reader(source)
        self._semantic = semantic
        top = reader.mapping(lexicon, "top level", _TOP_KEYS)
        if top.get("version", 1) != 1:
            raise reader.fail("version", f"unsupported version {top.get('version')!r}")
        self.source = source

        negation = reader.mapping(top.get("negation", {}), "negation", _NEGATION_KEYS)
        window = negation.get("window", 4)
        if not isinstance(window, int) or isinstance(window, bool) or not 0 < window <= 20:
            raise reader.fail(
                "negation.window", f"expected a number of words 1..20, got {window!r}"
            )
        self._window: int = window
        self._cues = self._raw_regexes(reader, negation.get("cues"), "negation.cues")
        self._ignore = self._raw_regexes(reader, negation.get("ignore"), "negation.ignore")
        breakers = self._raw_regexes(reader, negation.get("breakers"), "negation.breakers")
        self._breakers = re.compile(
            re.escape(_IDIOM_MARK.strip()) + ("" if breakers is None else f"|{breakers.pattern}")
        )
        downgrade = self._downgrade(reader, negation.get("downgrade", {}))

        self._rewrites = self._rewrite_entries(reader, top.get("rewrites"))
        self._literal = self._entries(reader, top.get("literal_markers"), "literal_markers")
        self._idioms = self._entries(reader, top.get("idioms"), "idioms")

        rules: list[_Rule] = []
        every_source: list[_Source] = []
        for index, raw in enumerate(reader.sequence(top.get("rules"), "rules", empty_ok=False)):
            where = f"rules[{index}]"
            entry = reader.mapping(raw, where, _RULE_KEYS)
            rule_id = reader.entry_id(entry, where)
            where = f"{where} (id {rule_id!r})"
            level = reader.level(entry.get("level"), f"{where}, level")
            negatable = reader.flag(entry, "negatable", where, True)
            sources = reader.patterns(entry, where)
            every_source.extend(sources)
            if negatable and self._cues is not None and not entry.get("regex", False):
                self._check_not_negative(reader, entry, where)
            rules.append(
                _Rule(rule_id, level, negatable, downgrade[level], reader.compile(sources, where))
            )
        # Most serious first, so that a verdict lists its strongest reasons first.
        self._rules: tuple[_Rule, ...] = tuple(sorted(rules, key=lambda rule: -rule.level))
        # One pass tells whether a sentence needs the per-rule evaluation at all.
        self._any_rule = reader.compile(every_source, "rules")

    @staticmethod
    def _raw_regexes(reader: _Reader, value: object, where: str) -> re.Pattern[str] | None:
        """Negation cues and breakers are raw regexes: they set their own boundaries."""
        sources: list[_Source] = []
        for index, raw in enumerate(reader.sequence(value, where)):
            text = reader.pattern_text(raw, f"{where}[{index}]", is_regex=True)
            sources.append(_Source(f"(?:{text})", False))
        return reader.compile(sources, where) if sources else None

    @staticmethod
    def _downgrade(reader: _Reader, value: object) -> dict[SafetyLevel, SafetyLevel]:
        """Where a negated match lands; by default the topic still earns a check-in."""
        result = {
            SafetyLevel.URGENT: SafetyLevel.CHECK_IN,
            SafetyLevel.DISTRESS: SafetyLevel.CHECK_IN,
            SafetyLevel.CHECK_IN: SafetyLevel.NONE,
            SafetyLevel.OUT_OF_SCOPE: SafetyLevel.OUT_OF_SCOPE,
        }
        keys = frozenset(name for name in _LEVELS if name != "none")
        for name, target in reader.mapping(value, "negation.downgrade", keys).items():
            where = f"negation.downgrade.{name}"
            source, landing = _LEVELS[name], reader.level(target, where, none_ok=True)
            if landing > source:
                raise reader.fail(where, f"a negation cannot raise the level ({name} -> {target})")
            result[source] = landing
        return result

    @property
    def semantic(self) -> SemanticLayer | None:
        """The meaning layer, when its package loaded (None: the lexicon alone)."""
        return self._semantic

    @staticmethod
    def _rewrite_entries(reader: _Reader, value: object) -> tuple[tuple[re.Pattern[str], str], ...]:
        """Spellings read as another (SMS style, missing apostrophes): regex -> replacement."""
        found: list[tuple[re.Pattern[str], str]] = []
        for index, raw in enumerate(reader.sequence(value, "rewrites")):
            where = f"rewrites[{index}]"
            entry = reader.mapping(raw, where, _REWRITE_KEYS)
            where = f"{where} (id {reader.entry_id(entry, where)!r})"
            into = entry.get("into")
            if not isinstance(into, str):
                raise reader.fail(where, f"'into' must be text, got {into!r}")
            for number, pattern in enumerate(
                reader.sequence(entry.get("patterns"), where, empty_ok=False)
            ):
                at = f"{where}, pattern {number + 1}"
                text = reader.pattern_text(pattern, at, is_regex=True)
                try:
                    compiled = re.compile(rf"(?<!\w)(?:{text})(?!\w)")
                    compiled.sub(into, "")
                except (re.error, IndexError) as exc:
                    raise reader.fail(at, f"invalid rewrite {text!r} -> {into!r}: {exc}") from None
                found.append((compiled, into))
        return tuple(found)

    @staticmethod
    def _entries(reader: _Reader, value: object, where: str) -> re.Pattern[str] | None:
        """Idioms and literal markers: entries without a level, merged into one regex."""
        sources: list[_Source] = []
        for index, raw in enumerate(reader.sequence(value, where)):
            at = f"{where}[{index}]"
            entry = reader.mapping(raw, at, _ENTRY_KEYS)
            at = f"{at} (id {reader.entry_id(entry, at)!r})"
            sources.extend(reader.patterns(entry, at))
        return reader.compile(sources, where) if sources else None

    def _check_not_negative(self, reader: _Reader, entry: Mapping[str, Any], where: str) -> None:
        """A negatable phrase that holds a negation cue would always be downgraded."""
        assert self._cues is not None
        for index, phrase in enumerate(entry["patterns"]):
            if self._cues.search(_ELONGATED.sub(r"\1", phrase)):
                raise reader.fail(
                    f"{where}, pattern {index + 1}",
                    f"{phrase!r} holds a negation cue, so it would always be downgraded: "
                    "set 'negatable: false' on this rule",
                )

    def assess(self, text: str) -> SafetyVerdict:
        """Classify one message: the higher of the lexicon and the meaning layer.

        The meaning layer is skipped when the lexicon already says URGENT (nothing higher)
        and on texts of one or two words (answers to the bot's own questions, names).
        """
        verdict = self.lexicon_verdict(text)
        semantic = self._semantic
        if semantic is None or verdict.level is SafetyLevel.URGENT or not _worth_reading(text):
            return verdict
        level = SafetyLevel(semantic.level(text))
        if level <= verdict.level:
            return verdict
        rule = f"semantic-{level.name.lower().replace('_', '-')}"
        return SafetyVerdict(level, (rule, *verdict.rules), layer="semantic")

    def lexicon_verdict(self, text: str) -> SafetyVerdict:
        """The lexicon's classification alone; the most serious sentence sets the level."""
        if not text:
            return _CLEAR
        found: dict[str, SafetyLevel] = {}
        for sentence in self._sentences(text):
            if self._any_rule.search(sentence) is None:
                continue
            for rule in self._rules:
                level = self._match(rule, sentence)
                if level > found.get(rule.id, SafetyLevel.NONE):
                    found[rule.id] = level
        if not found:
            return _CLEAR
        ranked = sorted(found, key=lambda rule_id: -found[rule_id])  # stable: lexicon order
        return SafetyVerdict(found[ranked[0]], tuple(ranked), layer="lexicon")

    def _sentences(self, text: str) -> Iterator[str]:
        """Folded sentences with their idioms blanked out (unless a literal marker is there)."""
        for line in text.translate(_LIGATURES).splitlines():
            folded = fold(line)
            for pattern, into in self._rewrites:
                folded = pattern.sub(into, folded)
            folded = _ELONGATED.sub(r"\1", folded)
            for sentence in _SENTENCE_END.split(folded):
                if not sentence or sentence.isspace():
                    continue
                if self._idioms is not None and (
                    self._literal is None or self._literal.search(sentence) is None
                ):
                    sentence = self._idioms.sub(_IDIOM_MARK, sentence)
                yield sentence

    def _match(self, rule: _Rule, sentence: str) -> SafetyLevel:
        """The rule's level for this sentence: full, downgraded by a negation, or NONE."""
        best = SafetyLevel.NONE
        for match in rule.pattern.finditer(sentence):
            if not rule.negatable or not self._negated(sentence, match.start(), match.end()):
                return rule.level
            best = max(best, rule.negated_level)
        return best

    def _negated(self, sentence: str, start: int, end: int) -> bool:
        """A cue within the match, or in the last few words of its clause before it."""
        if self._cues is None:
            return False
        clause_start = 0
        for breaker in self._breakers.finditer(sentence, 0, start):
            clause_start = breaker.end()
        before = sentence[clause_start:start].split()[-self._window :]
        scope = " ".join([*before, sentence[start:end]])
        if self._ignore is not None:  # "can't stop thinking about...", "n'arrête pas de..."
            scope = self._ignore.sub(" ", scope)
        return self._cues.search(scope) is not None


def load_safety_policy(path: Path | None = None, *, semantic: bool = True) -> SafetyPolicy:
    """Read and compile the lexicon (default: flows/policies/safety.yaml), with the meaning
    layer (bot.policies.safety_semantic) when `semantic` and its package loads.

    Compiling takes a fraction of a second, so the policy is cached per file and reused
    until the file changes (the policy is immutable, sharing it is safe). Any problem
    (missing file, YAML syntax, invalid entry) raises `SafetyLexiconError`, so that a broken
    deployment fails at start-up rather than missing a person in danger.
    """
    path = (DEFAULT_LEXICON_PATH if path is None else path).resolve()
    try:
        stat = path.stat()
    except OSError as exc:
        raise SafetyLexiconError(f"{path}: cannot read the lexicon: {exc.strerror}") from exc
    return _load(path, stat.st_mtime_ns, stat.st_size, semantic)


@functools.lru_cache(maxsize=8)
def _load(path: Path, mtime_ns: int, size: int, semantic: bool = True) -> SafetyPolicy:
    """The compiled policy for one version of one file (the key holds its mtime and size)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SafetyLexiconError(f"{path}: cannot read the lexicon: {exc.strerror}") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SafetyLexiconError(f"{path}: not valid YAML: {exc}") from exc
    layer = None
    if semantic:
        from bot.policies.safety_semantic import load_semantic_layer

        layer = load_semantic_layer()
    return SafetyPolicy(raw, source=str(path), semantic=layer)
