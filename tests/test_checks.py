
"""The checks a flow step may name, on French and English texts, with the shipped markers."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine.checks import (
    CHECKS,
    full_name,
    max_length,
    mentions_attempt,
    min_words,
    not_delegating,
    not_empty,
    on_topic,
    words,
)
from bot.flows.vocabulary import CHECKS as CHECK_SCHEMAS
from bot.flows.yamlsrc import load_located

ROOT = Path(__file__).resolve().parent.parent


def shipped_params(step: str, check: str) -> dict[str, Any]:
    """The parameters the shipped question flow gives a check (read from its YAML alone, so
    that a mistake elsewhere in the flows does not hide these tests)."""
    doc = load_located(ROOT / "flows" / "question.yaml")
    for spec in doc["steps"][step]["checks"]:
        if spec["check"] == check:
            return {k: v for k, v in spec.items() if k not in ("check", "error")}
    raise AssertionError(f"no {check} in question:{step}")


@pytest.fixture(scope="module")
def attempt() -> dict[str, Any]:
    return shipped_params("analysis", "mentions_attempt")


@pytest.fixture(scope="module")
def delegating() -> dict[str, Any]:
    return shipped_params("ask", "not_delegating")


def test_every_check_has_an_implementation() -> None:
    assert set(CHECKS) == set(CHECK_SCHEMAS)


# -- not_empty --------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "ok"), [
    ("Bonjour", True), ("ok", True), ("42", True), ("é", True), ("日本", True),
    ("", False), ("   \n\t ", False), ("...", False), ("?!", False), ("😀", False),
    ("👍🏽👍🏽", False), ("👨‍👩‍👧", False), ("\u200b", False), ("— « » ’", False),
])
def test_not_empty(text: str, ok: bool) -> None:
    assert not_empty(text, {}) is ok


# -- words and min_words ----------------------------------------------------------------------


def test_words_keep_apostrophes_and_hyphens_inside() -> None:
    assert words("J'ai l’impression qu'aujourd'hui Jean-Luc a tort.") == [
        "J'ai", "l’impression", "qu'aujourd'hui", "Jean-Luc", "a", "tort"]
    assert words("3 options, 2 pistes 😀 !") == ["options", "pistes"]
    assert words("") == []


def test_decomposed_accents_are_one_word() -> None:
    nfd = unicodedata.normalize("NFD", "Amélie Éléonore")
    assert nfd != "Amélie Éléonore"
    assert words(nfd) == ["Amélie", "Éléonore"]


@pytest.mark.parametrize(("text", "minimum", "ok"), [
    ("Mon manager m'a demandé de revoir le planning de l'équipe.", 8, True),
    ("My manager asked me to review the team schedule today.", 8, True),
    ("Trop court.", 8, False),
    ("un deux trois", 3, True),
    ("un deux", 3, False),
    ("1 2 3 4 5 6 7 8 9", 3, False),
    ("😀 😀 😀 😀", 1, False),
    ("l'équipe n'a pas", 3, True),
])
def test_min_words(text: str, minimum: int, ok: bool) -> None:
    assert min_words(text, {"min": minimum}) is ok


def test_min_words_default() -> None:
    assert min_words("un deux trois", {}) is True
    assert min_words("un deux", {}) is False


# -- max_length -------------------------------------------------------------------------------


def test_max_length() -> None:
    assert max_length("a" * 10, {"max": 10}) is True
    assert max_length("a" * 11, {"max": 10}) is False
    assert max_length("é" * 10, {"max": 10}) is True
    assert max_length(unicodedata.normalize("NFD", "é" * 10), {"max": 10}) is True
    assert max_length("a" * 2000, {}) is True and max_length("a" * 2001, {}) is False


# -- mentions_attempt (the analysis) ----------------------------------------------------------


@pytest.mark.parametrize("text", [
    "J'ai essayé d'en parler avec l'équipe, sans succès.",
    "J’ai déjà proposé une réunion.",                       # typographic apostrophe
    "JE PENSE que le problème vient du planning.",
    "Il me semble que la consigne n'était pas claire.",
    "J'hésite entre deux approches.",                         # accent folded: "j'hesite"
    "J’HÉSITE encore.",
    "Mon hypothèse : un malentendu sur les rôles.",
    "J'envisage de reformuler la demande.",
    "À mon avis, il faut clarifier les attentes.",
    "I think the deadline is unrealistic.",
    "I've tried talking to them twice.",
    "I tried a one-to-one meeting.",
    "It seems the brief was ambiguous.",
    # Issue 14: refused forever before.
    "I compared ticket volumes and found the drop comes from longer handling times, not from "
    "more tickets.",
    "I mapped where the disagreements start and it is always the same three shared resources.",
    "J'ai cartographié les échanges et tout passe par une seule personne.",
    "Je penche pour la migration, l'outil actuel ne tiendra pas la charge.",
])
def test_mentions_attempt_accepts(attempt: dict[str, Any], text: str) -> None:
    assert mentions_attempt(text, attempt) is True


@pytest.mark.parametrize("text", [
    "Le client est mécontent et le projet est en retard.",
    "The client is unhappy and the project is late.",
    "Je pensais partir tôt.",           # "je pense" is not a prefix match of "je pensais"
    "J'ai une réunion demain avec lui.",  # "j'ai" + a noun: no participle, nothing done
    "I have a meeting with him tomorrow.",
    "Je ne sais pas.",
    "I don't know what to do.",
    "Une opinion tranchée.",            # "option" inside "opinion"? no: whole words only
    "",
    "😀",
])
def test_mentions_attempt_refuses(attempt: dict[str, Any], text: str) -> None:
    assert mentions_attempt(text, attempt) is False


def test_markers_match_whole_words_only() -> None:
    params = {"markers": ["piste"]}
    assert mentions_attempt("Une piste : déléguer.", params)
    assert not mentions_attempt("La pisteuse est partie.", params)
    assert not mentions_attempt("anything", {"markers": []})
    assert not mentions_attempt("anything", {})


def test_markers_are_matched_without_case_accents_or_apostrophe_style() -> None:
    params = {"markers": ["j’ai réfléchi"]}
    for text in ["J'ai reflechi.", "J’AI RÉFLÉCHI", "j`ai réfléchi", "j'ai\n  réfléchi"]:
        assert mentions_attempt(text, params), text


# -- not_delegating (the ask) -----------------------------------------------------------------


@pytest.mark.parametrize(("text", "ok"), [
    ("Que dois-je faire ?", False),
    ("que dois je faire", False),                   # without the hyphen
    ("QUE DOIS-JE FAIRE", False),
    ("Qu’est-ce que je dois faire ?", False),       # typographic apostrophe
    ("Dites-moi quoi faire.", False),
    ("Décidez pour moi.", False),                   # accent folded: "decidez pour moi"
    ("décide pour moi", False),                     # issue 14: tutoiement
    ("Décide à ma place.", False),
    ("Tu ferais quoi, toi ?", False),
    ("decide for me", False),
    ("You decide.", False),
    ("What should I do?", False),
    ("Tell me what to do.", False),
    ("Que dois-je faire : soit je relance, soit j'attends ?", True),
    ("J'hésite entre relancer et attendre : que feriez-vous ?", True),
    ("What should I do: either escalate or wait?", True),
    ("Pouvez-vous relire ma posture dans cet échange ?", True),
    ("Could you challenge my reading of the situation?", True),
    ("", True),
])
def test_not_delegating(delegating: dict[str, Any], text: str, ok: bool) -> None:
    assert not_delegating(text, delegating) is ok


def test_not_delegating_without_markers_passes() -> None:
    assert not_delegating("Que dois-je faire ?", {}) is True


# -- on_topic (context and ask) ---------------------------------------------------------------


@pytest.mark.parametrize(("text", "ok"), [
    ("Au fait, tu as vu le match de foot hier soir ?", False),       # issue 14
    ("AU FAIT, TU AS VU LE MATCH ?", False),
    ("Did you watch the game last night?", False),
    ("Il fait beau aujourd'hui, quoi de neuf ?", False),
    ("Mon équipe organise un match de foot : comment associer les plus réservés ?", True),
    ("How do I keep my team focused during the World Cup weeks?", True),
    ("Au fait, mon manager a changé les priorités hier.", True),
    ("Comment voyez-vous ma posture dans cet échange ?", True),
    ("La recette de la version 2 échoue à chaque livraison.", True),  # acceptance testing
    ("", True), ("😀", True),
])
def test_on_topic(text: str, ok: bool) -> None:
    assert on_topic(text, shipped_params("ask", "on_topic")) is ok


def test_on_topic_without_markers_passes() -> None:
    assert on_topic("Tu as vu le match ?", {}) is True


# -- full_name --------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "Camille Martin", "camille martin", "  Camille   Martin  ", "Jean-Pierre Dupont",
    "Anne-Sophie Le Goff", "Martin, Camille", "Éloïse Lefèvre", "O'Neil Smith",
    "N’Diaye Awa", "Dr. Camille Martin", "Li Na", "Zoë Ørsted", "Ngô Bảo Châu",
    unicodedata.normalize("NFD", "Éloïse Lefèvre"), "Мария Иванова",
])
def test_full_name_accepts(text: str) -> None:
    assert full_name(text, {}) is True


@pytest.mark.parametrize("text", [
    "", "Camille", "C M", "Camille M", "Camille M.", "Camille 😀", "Camille Martin 😀",
    "Camille Martin2", "R2D2 Robot", "camille@example.org", "https://example.org Martin",
    "Camille_Martin", "Camille / Martin", "Camille: Martin",
    unicodedata.normalize("NFD", "Amélie"),  # one word, even with a combining accent
    "A" * 61 + " " + "B" * 61,
])
def test_full_name_refuses(text: str) -> None:
    assert full_name(text, {}) is False


# -- robustness -------------------------------------------------------------------------------

TEXTS = st.text(max_size=300) | st.lists(st.sampled_from(
    [*"aeiouéèêàçœ’'-— .,;:!?😀👍🏽\u200d\u0301 \n\tQJI", "j'ai", "que dois-je faire"]),
    max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=TEXTS, markers=st.lists(st.text(max_size=12), max_size=4),
       number=st.integers(1, 10_000))
def test_checks_never_raise(text: str, markers: list[str], number: int) -> None:
    params: dict[str, Any] = {"min": number, "max": number, "markers": markers,
                              "options": markers}
    for name, check in CHECKS.items():
        result = check(text, params)
        assert isinstance(result, bool), name


@settings(max_examples=200, deadline=None)
@given(TEXTS)
def test_checks_agree_with_each_other(text: str) -> None:
    if full_name(text, {}):
        assert min_words(text, {"min": 2}) and not_empty(text, {})
    if min_words(text, {"min": 1}):
        assert not_empty(text, {})
    nfc = unicodedata.normalize("NFC", text)
    nfd = unicodedata.normalize("NFD", text)
    for check in CHECKS.values():
        assert check(nfc, {"min": 2, "markers": ["j'ai"]}) == check(
            nfd, {"min": 2, "markers": ["j'ai"]})
