"""Article 6: the safety classifier, its lexicon and its labelled corpus.

Rule tests use a tiny lexicon built here, so that they pin the mechanisms (folding,
negation, idioms, sentences) whatever the deployment's words; a second set checks the
shipped lexicon on the cases the charter names. The corpus test prints recall per level and
false alarms (run with `-s` to see them) and asserts the aims.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.policies import safety
from bot.policies.safety import (
    SafetyLevel,
    SafetyLexiconError,
    SafetyPolicy,
    SafetyVerdict,
    load_safety_policy,
    reading_form,
)

ROOT = Path(__file__).resolve().parent.parent
LEXICON = ROOT / "flows" / "policies" / "safety.yaml"
CORPUS = ROOT / "tests" / "corpus" / "safety.yaml"

NONE, OUT, CHECK, DISTRESS, URGENT = (
    SafetyLevel.NONE,
    SafetyLevel.OUT_OF_SCOPE,
    SafetyLevel.CHECK_IN,
    SafetyLevel.DISTRESS,
    SafetyLevel.URGENT,
)


def mini(**extra: Any) -> dict[str, Any]:
    """A tiny lexicon exercising every mechanism; keyword arguments replace sections."""
    lexicon: dict[str, Any] = {
        "version": 1,
        "negation": {
            "window": 4,
            "cues": [r"\bne\b", r"\bn'", r"\bpas\b", r"\bjamais\b", r"n't\b", r"\bnot\b"],
            "ignore": [r"\bn'arrete pas de\b", r"\bcan't stop\b"],
            "breakers": [",", r"\bmais\b", r"\bbut\b"],
        },
        "literal_markers": [{"id": "literal", "patterns": ["pour de vrai"]}],
        "idioms": [
            {
                "id": "work-kills",
                "regex": True,
                "patterns": [r"(?:projet|client) (?:me tue|va me tuer)"],
            },
            {"id": "laugh", "patterns": ["mort de rire"]},
        ],
        "rules": [
            {
                "id": "die",
                "level": "urgent",
                "regex": True,
                "patterns": [r"(?:veux|envie de)(?: pas)? mourir", r"me tu(?:e|er)", "suicid\\w*"],
            },
            {
                "id": "no-will",
                "level": "urgent",
                "negatable": False,
                "patterns": ["plus envie de vivre", "don't want to live"],
            },
            {"id": "end-of-rope", "level": "distress", "patterns": ["a bout", "je craque"]},
            {"id": "alone", "level": "check_in", "patterns": ["me sens seule"]},
            {"id": "lawyer", "level": "out_of_scope", "patterns": ["mon avocat"]},
        ],
    }
    lexicon.update(extra)
    return lexicon


@pytest.fixture(scope="module")
def tiny() -> SafetyPolicy:
    return SafetyPolicy(mini(), source="mini")


@pytest.fixture(scope="module")
def policy() -> SafetyPolicy:
    return load_safety_policy(semantic=False)  # the lexicon layer alone


def corpus() -> dict[str, list[str]]:
    data = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return {category: list(texts) for category, texts in data.items()}


# -- the interface -------------------------------------------------------------------------


def test_levels_are_ordered_and_verdicts_are_frozen() -> None:
    assert [level.value for level in SafetyLevel] == [0, 1, 2, 3, 4]
    assert NONE < OUT < CHECK < DISTRESS < URGENT
    verdict = SafetyVerdict(CHECK, ("x",))
    assert verdict.alarming and SafetyVerdict(DISTRESS).alarming and SafetyVerdict(URGENT).alarming
    assert not SafetyVerdict(OUT).alarming and not SafetyVerdict(NONE).alarming
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.level = NONE  # type: ignore[misc]


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "👍🙂", "...", "ok", "1", "Merci !"])
def test_nothing_to_say_is_none(tiny: SafetyPolicy, policy: SafetyPolicy, text: str) -> None:
    assert tiny.assess(text) == SafetyVerdict(NONE, ())
    assert policy.assess(text) == SafetyVerdict(NONE, ())


def test_rules_name_lexicon_entries_never_the_text(policy: SafetyPolicy) -> None:
    ids = {entry["id"] for entry in yaml.safe_load(LEXICON.read_text(encoding="utf-8"))["rules"]}
    for texts in corpus().values():
        for text in texts:
            verdict = policy.assess(text)
            assert set(verdict.rules) <= ids
            assert (verdict.level is NONE) == (verdict.rules == ())


# -- folding: accents, case, apostrophes, spacing ------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "je suis a bout",
        "Je suis à bout",
        "JE SUIS À BOUT",
        "Je   suis\tà\u00a0bout",
        "je suis à bouuuut",
    ],
)
def test_accents_case_and_spacing_do_not_matter(tiny: SafetyPolicy, text: str) -> None:
    assert tiny.assess(text) == SafetyVerdict(DISTRESS, ("end-of-rope",))


@pytest.mark.parametrize("apostrophe", ["'", "\u2019", "\u2018", "\u02bc", "`"])
def test_apostrophes_do_not_matter(policy: SafetyPolicy, apostrophe: str) -> None:
    assert policy.assess(f"J{apostrophe}en peux plus").level is DISTRESS
    assert policy.assess(f"I don{apostrophe}t want to live anymore").level is URGENT


def test_ligatures_are_spelled_out(policy: SafetyPolicy) -> None:
    assert policy.assess("Ma sœur veut se suicider").level is URGENT
    assert policy.assess("MA SŒUR VEUT SE SUICIDER").level is URGENT


def test_patterns_match_whole_words_only(tiny: SafetyPolicy) -> None:
    assert tiny.assess("l'eau de cela bout").level is NONE  # "a bout" ends "cela bout"
    assert tiny.assess("mon avocate").level is NONE  # a plain phrase does not extend a word
    assert tiny.assess("mon avocat").level is OUT


# -- negation ------------------------------------------------------------------------------


def test_negated_distress_still_gets_a_check_in(tiny: SafetyPolicy) -> None:
    assert tiny.assess("je veux mourir").level is URGENT
    assert tiny.assess("je ne veux pas mourir") == SafetyVerdict(CHECK, ("die",))
    assert tiny.assess("je ne suis pas suicidaire").level is CHECK
    assert tiny.assess("I'm not suicidal").level is CHECK


def test_a_clause_break_ends_the_negation(tiny: SafetyPolicy) -> None:
    assert tiny.assess("je ne suis pas triste mais je veux mourir").level is URGENT
    assert tiny.assess("je ne dors pas, je veux mourir").level is URGENT
    verdict = tiny.assess("je ne suis pas suicidaire mais je suis a bout")
    assert verdict == SafetyVerdict(DISTRESS, ("end-of-rope", "die"))


def test_negation_only_reaches_a_few_words_back() -> None:
    lexicon = mini()
    lexicon["negation"] = {**lexicon["negation"], "window": 2}
    short = SafetyPolicy(lexicon)
    assert short.assess("je ne crois vraiment vraiment vraiment que je veux mourir").level is URGENT
    assert short.assess("je ne veux pas mourir").level is CHECK


def test_negative_phrases_that_mean_distress_are_not_negated(tiny: SafetyPolicy) -> None:
    assert tiny.assess("je n'ai plus envie de vivre").level is URGENT
    assert tiny.assess("I don't want to live").level is URGENT


def test_phrases_that_only_look_negative_are_ignored(tiny: SafetyPolicy) -> None:
    assert tiny.assess("je n'arrete pas de vouloir me tuer").level is URGENT
    assert tiny.assess("I can't stop thinking about suicide").level is URGENT


def test_downgrade_targets(tiny: SafetyPolicy) -> None:
    assert tiny.assess("je ne me sens seule").level is NONE  # check_in -> none by default
    assert tiny.assess("ce n'est pas mon avocat").level is OUT  # the topic stays out of scope
    custom = mini()
    custom["negation"] = {**custom["negation"], "downgrade": {"urgent": "distress"}}
    assert SafetyPolicy(custom).assess("je ne veux pas mourir").level is DISTRESS


def test_shipped_lexicon_negation(policy: SafetyPolicy) -> None:
    assert policy.assess("Je ne veux pas mourir.").level is CHECK
    assert policy.assess("Je ne suis pas suicidaire mais je suis à bout.").level >= CHECK
    assert policy.assess("Je ne suis pas suicidaire.").level is CHECK
    assert policy.assess("I would never kill myself.").level is CHECK
    assert policy.assess("Je n'ai plus envie de vivre.").level is URGENT
    assert policy.assess("Je n'arrête pas de penser à mourir.").level is URGENT
    assert policy.assess("Je ne pense qu'à mourir.").level is URGENT
    assert policy.assess("I can't stop thinking about killing myself.").level is URGENT
    assert policy.assess("Il ne respire plus !").level is URGENT


# -- idioms --------------------------------------------------------------------------------


def test_idioms_are_blanked_out(tiny: SafetyPolicy) -> None:
    assert tiny.assess("ce projet me tue").level is NONE
    assert tiny.assess("mort de rire").level is NONE
    assert tiny.assess("je vais me tuer").level is URGENT


def test_a_literal_cue_beats_an_idiom(tiny: SafetyPolicy) -> None:
    assert tiny.assess("ce projet me tue, je veux mourir").level is URGENT
    assert tiny.assess("ce client va me tuer pour de vrai").level is URGENT
    # The marker only acts in its own sentence.
    assert tiny.assess("Pour de vrai. Ce client va me tuer.").level is NONE


@pytest.mark.parametrize(
    "text",
    [
        "Ce projet me tue.",
        "Je suis mort de rire.",
        "Ce client va me tuer.",
        "I'm dying to know.",
        "This deadline is killing me.",
        "Il fait une chaleur à crever.",
        "Je crève de chaud.",
        "J'ai une urgence de livraison.",
        "On a tué le temps.",
        "Cette killer feature est prête.",
        "C'est du suicide commercial.",
        "Je me tue à le répéter.",
        "On est venus à bout du bug.",
        "Ce qui m'a frappé, c'est le silence.",
    ],
)
def test_shipped_idioms_do_not_trigger(policy: SafetyPolicy, text: str) -> None:
    assert policy.assess(text) == SafetyVerdict(NONE, ())


def test_shipped_idioms_yield_to_literal_cues(policy: SafetyPolicy) -> None:
    assert policy.assess("Ce projet me tue, j'ai envie de mourir.").level is URGENT
    assert policy.assess("Ce client va me tuer, je ne plaisante pas.").level is URGENT
    assert policy.assess("Mon mari va me tuer.").level is URGENT  # not a work idiom
    assert policy.assess("J'ai une urgence.").level is CHECK  # a personal one, maybe


# -- sentences -----------------------------------------------------------------------------


def test_the_most_serious_sentence_wins(tiny: SafetyPolicy) -> None:
    text = "Mon avocat a appelé. Je suis à bout ! Et je ne veux pas mourir…\nJe veux mourir."
    verdict = tiny.assess(text)
    assert verdict.level is URGENT
    assert verdict.rules == ("die", "end-of-rope", "lawyer")


def test_a_negation_does_not_cross_sentences(tiny: SafetyPolicy) -> None:
    assert tiny.assess("Je ne sais pas. Je veux mourir.").level is URGENT
    assert tiny.assess("Je ne sais pas\nje veux mourir").level is URGENT


def test_an_idiom_does_not_hide_another_sentence(policy: SafetyPolicy) -> None:
    verdict = policy.assess("Ce projet me tue. Sinon je n'en peux plus.")
    assert verdict == SafetyVerdict(DISTRESS, ("fr-end-of-rope",))


# -- lexicon validation --------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "safety.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def rules_yaml(*patterns: str, regex: bool = True, extra: str = "") -> str:
    items = "".join(f"      - {p}\n" for p in patterns)
    flag = "true" if regex else "false"
    negation = "negation: {cues: ['\\bpas\\b']}\n"
    head = f"{negation}rules:\n  - id: bad-rule\n    level: urgent\n    regex: {flag}\n"
    return f"{head}{extra}    patterns:\n{items}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (rules_yaml("'me (suicid'"), "bad-rule'), pattern 1: invalid regex 'me (suicid'"),
        (rules_yaml("ok", "'(?i)mourir'"), "pattern 2: invalid regex"),
        (rules_yaml("Mourir"), "is not in folded form"),
        (rules_yaml("je suis à bout", regex=False), "write 'je suis a bout'"),
        (rules_yaml("j\u2019en peux plus", regex=False), 'write "j\'en peux plus"'),
        (rules_yaml("no"), "quote the pattern"),
        (rules_yaml("(?: pas)? mourir"), "key separator: quote the pattern"),
        (rules_yaml("''"), "empty pattern"),
        (rules_yaml("pas le moral", regex=False), "set 'negatable: false'"),
        (rules_yaml("x", extra="    negateable: false\n"), "unknown key(s) negateable"),
        (rules_yaml("x", extra="    negatable: maybe\n"), "'negatable' must be true or false"),
        (rules_yaml("x", extra="    lang: de\n"), "'lang' must be one of"),
        ("rules:\n  - {id: a, level: grave, patterns: [x]}\n", "unknown level 'grave'"),
        ("rules:\n  - {id: a, level: none, patterns: [x]}\n", "unknown level 'none'"),
        ("rules:\n  - {id: A b, level: urgent, patterns: [x]}\n", "'id' must be lowercase"),
        (
            "rules:\n  - {id: a, level: urgent, patterns: [x]}\n"
            "  - {id: a, level: distress, patterns: [y]}\n",
            "rules[1]: duplicate id 'a' (first used in rules[0])",
        ),
        ("rules:\n  - {id: a, level: urgent, patterns: []}\n", "the list is empty"),
        ("rules:\n  - {id: a, level: urgent}\n", "expected a list, got NoneType"),
        ("rules: []\n", "rules: the list is empty"),
        ("[1, 2]\n", "top level: expected a mapping, got list"),
        ("version: 2\nrules: []\n", "unsupported version 2"),
        ("rule:\n  - {id: a, level: urgent, patterns: [x]}\n", "unknown key(s) rule"),
        (
            "idioms:\n  - {id: i, regex: true, patterns: ['(broken']}\n"
            "rules:\n  - {id: a, level: urgent, patterns: [x]}\n",
            "idioms[0] (id 'i'), pattern 1: invalid regex",
        ),
        (
            "negation: {window: 0}\nrules:\n  - {id: a, level: urgent, patterns: [x]}\n",
            "negation.window: expected a number of words 1..20",
        ),
        (
            "negation: {cues: ['(']}\nrules:\n  - {id: a, level: urgent, patterns: [x]}\n",
            "negation.cues[0]: invalid regex",
        ),
        (
            "negation: {downgrade: {check_in: urgent}}\n"
            "rules:\n  - {id: a, level: urgent, patterns: [x]}\n",
            "negation.downgrade.check_in: a negation cannot raise the level",
        ),
        ("rules: [\n", "not valid YAML"),
    ],
)
def test_a_malformed_lexicon_names_the_file_and_the_entry(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SafetyLexiconError) as caught:
        load_safety_policy(path)
    assert str(caught.value).startswith(str(path.resolve()))
    assert message in str(caught.value)


def test_a_missing_lexicon_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SafetyLexiconError, match="cannot read the lexicon"):
        load_safety_policy(tmp_path / "nowhere.yaml")


def test_the_constructor_validates_too() -> None:
    with pytest.raises(SafetyLexiconError, match=r"^inline: rules\[0\] \(id 'a'\), level"):
        SafetyPolicy({"rules": [{"id": "a", "level": "hot", "patterns": ["x"]}]}, "inline")


def test_loading_is_cached_until_the_file_changes(tmp_path: Path) -> None:
    path = write(tmp_path, "rules:\n  - {id: a, level: urgent, patterns: [mourir]}\n")
    first = load_safety_policy(path)
    assert load_safety_policy(path) is first
    path.write_text("rules:\n  - {id: a, level: distress, patterns: [mourir]}\n", "utf-8")
    os.utime(path, ns=(1, 1))  # a different mtime even on coarse clocks
    assert load_safety_policy(path).assess("mourir").level is DISTRESS


def test_the_default_lexicon_is_the_shipped_file() -> None:
    assert safety.DEFAULT_LEXICON_PATH == LEXICON
    assert load_safety_policy() is load_safety_policy(LEXICON)


# -- the fast path is exact ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "chars"),
    [
        ("abc", "a"),
        ("(?:veux|jveux|envie)", "vje"),
        ("(?:j'|n')?en peux", "jne"),
        ("[a-c]x", "abc"),
        (r"(?<!\w)(?=x)xy", "x"),
        (r"\w+ment", None),
        ("(?:a|b)?", None),  # may match the empty string
        (".x", None),
    ],
)
def test_first_characters(body: str, chars: str | None) -> None:
    expected = None if chars is None else frozenset(chars)
    assert safety._first_chars(body) == expected


def naive(pattern: str, *, regex: bool) -> re.Pattern[str]:
    """One pattern alone, with the documented whole-word semantics."""
    if regex:
        return re.compile(rf"(?<!\w)(?:{reading_form(pattern)})(?!\w)")
    head = r"(?<!\w)" if pattern[0].isalnum() else ""
    tail = r"(?!\w)" if pattern[-1].isalnum() else ""
    return re.compile(head + reading_form(re.escape(pattern)) + tail)


def sentences_of_the_corpus(policy: SafetyPolicy) -> Iterator[str]:
    for texts in corpus().values():
        for text in texts:
            yield from policy._sentences(text)


def test_dispatch_finds_exactly_what_each_pattern_finds(policy: SafetyPolicy) -> None:
    raw = yaml.safe_load(LEXICON.read_text(encoding="utf-8"))
    singles = [
        naive(p, regex=rule.get("regex", False)) for rule in raw["rules"] for p in rule["patterns"]
    ]
    words = [w for s in sentences_of_the_corpus(policy) for w in s.split()]
    shuffled = (" ".join(words[i : i + 6]) for i in range(0, len(words), 3))
    probes = [*sentences_of_the_corpus(policy), *shuffled]
    for sentence in probes:
        expected = any(single.search(sentence) for single in singles)
        assert (policy._any_rule.search(sentence) is not None) == expected, sentence


# -- the corpus ----------------------------------------------------------------------------

Aim = Callable[[SafetyLevel], bool]
AIMS: dict[str, tuple[str, Aim]] = {
    "urgent": ("URGENT or DISTRESS", lambda level: level >= DISTRESS),
    "distress": ("at least CHECK_IN", lambda level: level >= CHECK),
    "check_in": ("CHECK_IN or DISTRESS", lambda level: CHECK <= level <= DISTRESS),
    "out_of_scope": ("at least OUT_OF_SCOPE", lambda level: level >= OUT),
    "clean": ("NONE", lambda level: level is NONE),
    "figurative": ("NONE", lambda level: level is NONE),
}
TARGET = {"urgent": URGENT, "distress": DISTRESS, "check_in": CHECK, "out_of_scope": OUT}


def test_corpus_is_large_and_labelled() -> None:
    data = corpus()
    assert set(data) == set(AIMS)
    assert sum(len(texts) for texts in data.values()) >= 100
    assert all(isinstance(text, str) and text.strip() for texts in data.values() for text in texts)
    every = [text for texts in data.values() for text in texts]
    assert len(every) == len(set(every)), "a sentence appears twice"


def test_corpus_recall_and_false_alarms(policy: SafetyPolicy) -> None:
    data = corpus()
    misses: dict[str, list[str]] = {}
    print("\nsafety corpus (level reached per category)")
    for category, texts in data.items():
        label, aim = AIMS[category]
        levels = [policy.assess(text).level for text in texts]
        misses[category] = [t for t, level in zip(texts, levels, strict=True) if not aim(level)]
        spread = Counter(level.name for level in levels)
        met = len(texts) - len(misses[category])
        line = f"  {category:<13}{len(texts):>4}  aim {label:<21} {met:>3}/{len(texts)}"
        if category in TARGET:
            exact = sum(level is TARGET[category] for level in levels)
            line += f"  exact {TARGET[category].name} {exact / len(texts):6.1%}"
        print(f"{line}  {dict(spread)}")
        for text in misses[category]:
            print(f"      miss: {text!r} -> {policy.assess(text).level.name}")
    calm = data["clean"] + data["figurative"]
    alarms = [text for text in calm if policy.assess(text).level is not NONE]
    rate = len(alarms) / len(calm)
    print(f"  false alarms on clean + figurative: {len(alarms)}/{len(calm)} = {rate:.1%}")

    assert misses["urgent"] == [], "an urgent sentence fell below DISTRESS"
    assert misses["distress"] == [], "a distress sentence fell below CHECK_IN"
    assert rate <= 0.05
    assert not any(policy.assess(t).level is URGENT for t in data["check_in"])
    assert len(misses["out_of_scope"]) <= 0.1 * len(data["out_of_scope"])


# -- issue 12: spellings, doubled letters, clause ends -------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "jveux mourir",
        "j ai envie de mourir",
        "jai envie de mourir",
        "je veux mourrir",
        "jveux plus me réveiller",
        "i dont want to live anymore",
        "im gonna kill myself",
        "I don t want to wake up tomorrow",
    ],
)
def test_sms_spellings_and_doubled_letters_are_read(policy: SafetyPolicy, text: str) -> None:
    assert policy.assess(text).level is URGENT


def test_a_sentence_end_pattern_also_ends_at_a_comma(policy: SafetyPolicy) -> None:
    assert policy.assess("Je suis vidé, je ne sais plus quoi faire").level >= CHECK
    assert policy.assess("Je suis vidé").level >= CHECK


def test_a_client_who_does_not_answer_is_not_an_emergency(policy: SafetyPolicy) -> None:
    assert policy.assess("Le client ? Il ne répond plus.").level is NONE
    assert policy.assess("Mon père est tombé et ne répond plus.").level is URGENT


def test_a_broken_rewrite_names_the_file_and_the_entry(tmp_path: Path) -> None:
    rewrites = "rewrites:\n  - {id: bad, into: 'x', patterns: ['(unclosed']}\n"
    path = write(tmp_path, rewrites + rules_yaml("mourir"))
    with pytest.raises(SafetyLexiconError, match=r"safety\.yaml: rewrites\[0\] \(id 'bad'\)"):
        load_safety_policy(path, semantic=False)
