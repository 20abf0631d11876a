"""Issue 14, items 1 and 6, through the engine (`simulate`, virtual clock): the analysis step
recognises real analyses in French and English and never traps (after a second refusal: send
as it is, or rephrase); the mentor is never scope-warned for a redirection; "décide pour moi"
is explained; small talk is no context and no ask."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import Conversation, say, signing
from tests.storeview import StoreView

CORPUS = Path(__file__).resolve().parent / "corpus"
ISSUE_SENTENCES = [
    "I compared ticket volumes and found the drop comes from longer handling times, not from "
    "more tickets.",
    "I mapped where the disagreements start and it is always the same three shared resources.",
]
CONTEXT_FR = "Dans mon équipe, deux collègues se disputent sans cesse les mêmes salles de réunion."
CONTEXT_EN = "Our support team's satisfaction score dropped this quarter and my manager asked why."
ANALYSIS_FR = "J'ai essayé d'en parler avec elles ; je pense que le planning des salles est flou."
ASK_FR = "J'hésite entre un planning partagé ou une discussion d'équipe : quel regard sur ma posture ?"
NOT_ANALYSIS_1 = "La situation est compliquée et l'ambiance de l'équipe se dégrade chaque semaine."
NOT_ANALYSIS_2 = "Tout le monde est tendu en ce moment et les réunions durent beaucoup trop longtemps."
REFUSED = "Dites ce que vous avez déjà pensé, envisagé ou essayé"
OFFER = "Votre texte ne passe toujours pas cette vérification"
WAY_OUT = ["Envoyer tel quel", "Reformuler"]


class Clock:
    """Successive timestamps a second apart, from 06:30 on Monday 30 November 2026."""

    def __init__(self) -> None:
        self.second = 0

    def __call__(self) -> str:
        self.second += 1
        minutes, seconds = divmod(self.second, 60)
        hours, minutes = divmod(30 + minutes, 60)
        return f"2026-11-30T{6 + hours:02d}:{minutes:02d}:{seconds:02d}+01:00"


@pytest.fixture
def tick() -> Clock:
    return Clock()


def signed(conversation: Conversation) -> None:
    conversation.run(
        signing("console:bob", "Bob Martin", "2026-11-30T06:00")
        + signing("console:alice", "Alice Durand", "2026-11-30T06:10")
        + signing("console:emma", "Emma Smith", "2026-11-30T06:20")
    )


def send(conversation: Conversation, tick: Clock, who: str, *texts: str) -> list[dict[str, Any]]:
    """Each text in a `simulate` run of its own (a new process: state must survive)."""
    out: list[dict[str, Any]] = []
    for text in texts:
        out.extend(conversation.run([say(tick(), who, text)]))
    return out


def texts_to(out: list[dict[str, Any]], who: str) -> list[str]:
    return [line["text"] for line in out if line["to"] == who]


def at_analysis(conversation: Conversation, tick: Clock, who: str = "console:alice") -> None:
    signed(conversation)
    if who == "console:alice":
        out = send(conversation, tick, who, "Poser une question", CONTEXT_FR)
        assert out[-1]["text"].startswith("2/3 — Votre analyse")
    else:
        out = send(conversation, tick, who, "Ask a question", CONTEXT_EN)
        assert out[-1]["text"].startswith("2/3 — Your analysis")


# -- item 1: the analysis is recognised ---------------------------------------------------


@pytest.mark.parametrize("sentence", ISSUE_SENTENCES)
def test_the_issue_sentences_are_analyses(
    conversation: Conversation, tick: Clock, sentence: str
) -> None:
    at_analysis(conversation, tick, "console:emma")
    out = send(conversation, tick, "console:emma", sentence)
    assert [line["text"][:3] for line in out] == ["3/3"]


def test_held_out_genuine_analyses_are_refused_at_most_5_percent(
    conversation: Conversation, tick: Clock
) -> None:
    """Every genuine analysis of the held-out corpus, typed as a new version of the analysis
    (Modifier > L'analyse) in one conversation: the review comes back, or a refusal. A text
    that the safety policy finds alarming is kept as the person says it was their answer."""
    corpus = yaml.safe_load((CORPUS / "analysis_heldout.yaml").read_text(encoding="utf-8"))
    genuine: list[str] = corpus["genuine"]
    assert len(genuine) >= 50
    at_analysis(conversation, tick)
    send(conversation, tick, "console:alice", ANALYSIS_FR, ASK_FR)
    refused = []
    keep = "C'était ma réponse, l'enregistrer"  # held in memory: answered in the same process
    for text in genuine:
        out = conversation.run(
            [say(tick(), "console:alice", t) for t in ("Modifier", "L'analyse", text, keep)])
        review = f"Analyse : {text}\n"
        if not any(line["text"].startswith("Voici") and review in line["text"] for line in out):
            refused.append(text)
        if out[-1].get("choices") == WAY_OUT:
            send(conversation, tick, "console:alice", "Envoyer tel quel")
        elif out[-1].get("choices") != ["Envoyer", "Modifier", "Annuler"]:
            send(conversation, tick, "console:alice", ANALYSIS_FR)
    assert len(refused) / len(genuine) <= 0.05, refused


@pytest.mark.parametrize("text", [
    "Le planning est affiché au mur et les salles sont réservées par le secrétariat.",
    "Le client est mécontent, le projet a trois semaines de retard, la direction attend.",
    "I really don't know, that is exactly why I am asking you today.",
    "1234 5678 9012 3456 7890 1234 5678 9012",
])
def test_a_text_without_analysis_is_refused_with_the_reason(
    conversation: Conversation, tick: Clock, text: str
) -> None:
    at_analysis(conversation, tick)
    out = send(conversation, tick, "console:alice", text)
    assert len(out) == 1 and not out[0].get("choices")  # the first refusal: the reason only
    assert out[0]["text"].startswith(("Développez un peu votre analyse", REFUSED))


# -- item 1: never a trap ---------------------------------------------------------------


def test_second_refusal_offers_send_as_is_which_survives_a_restart(
    conversation: Conversation, tick: Clock
) -> None:
    at_analysis(conversation, tick)
    first = send(conversation, tick, "console:alice", NOT_ANALYSIS_1)
    assert [line["text"][: len(REFUSED)] for line in first] == [REFUSED]
    second = send(conversation, tick, "console:alice", NOT_ANALYSIS_2)
    assert second[0]["text"].startswith(REFUSED)  # says why, every time
    assert second[1]["text"].startswith(OFFER) and second[1].get("choices") == WAY_OUT
    # A new process (every `send` is one): the offer is still answerable, by its label.
    out = send(conversation, tick, "console:alice", "Envoyer tel quel")
    assert out[0]["text"] == "C'est noté, votre texte est gardé tel que vous l'avez écrit."
    assert out[1]["text"].startswith("3/3 — Votre demande")
    out = send(conversation, tick, "console:alice", ASK_FR)
    assert f"Analyse : {NOT_ANALYSIS_2}" in out[0]["text"]
    out = send(conversation, tick, "console:alice", "Envoyer")
    assert "Q1" in out[0]["text"]
    (question,) = StoreView(conversation.config.storage.path).questions("console:alice")
    assert question.analysis == NOT_ANALYSIS_2


def test_rephrase_gives_the_step_again_and_a_new_text_is_judged_again(
    conversation: Conversation, tick: Clock
) -> None:
    at_analysis(conversation, tick)
    send(conversation, tick, "console:alice", NOT_ANALYSIS_1, NOT_ANALYSIS_2)
    out = send(conversation, tick, "console:alice", "2")  # the number of "Reformuler"
    assert len(out) == 1 and out[0]["text"].startswith("2/3 — Votre analyse")
    # Still refused after rephrasing: the way out comes back at once, never a loop.
    out = send(conversation, tick, "console:alice", NOT_ANALYSIS_1)
    assert out[0]["text"].startswith(REFUSED) and out[1].get("choices") == WAY_OUT
    # Instead of a choice, a new version: judged as the analysis (here accepted).
    out = send(conversation, tick, "console:alice", ANALYSIS_FR)
    assert [line["text"][:3] for line in out] == ["3/3"]


def test_bad_answers_to_the_offer_are_judged_as_the_analysis(
    conversation: Conversation, tick: Clock
) -> None:
    at_analysis(conversation, tick)
    send(conversation, tick, "console:alice", NOT_ANALYSIS_1, NOT_ANALYSIS_2)
    out = send(conversation, tick, "console:alice", "7")  # no such choice, no words
    assert out[0]["text"].startswith("Développez un peu")
    assert out[1].get("choices") == WAY_OUT
    out = send(conversation, tick, "console:alice", "😀")
    assert out[0]["text"].startswith("Je ne peux pas interpréter")
    out = send(conversation, tick, "console:alice", "1")  # "Envoyer tel quel" by number
    assert out[1]["text"].startswith("3/3")
    person = StoreView(conversation.config.storage.path).load_person("console:alice")
    assert person is not None and person.state["answers"]["analysis"] == "7"


def test_the_count_starts_again_at_each_step(conversation: Conversation, tick: Clock) -> None:
    at_analysis(conversation, tick)
    send(conversation, tick, "console:alice", NOT_ANALYSIS_1, ANALYSIS_FR, ASK_FR)
    out = send(conversation, tick, "console:alice", "Modifier", "L'analyse", NOT_ANALYSIS_2)
    assert out[-1]["text"].startswith(REFUSED) and not out[-1].get("choices")  # one refusal here


def test_checks_without_a_way_out_refuse_every_time(
    conversation: Conversation, tick: Clock
) -> None:
    at_analysis(conversation, tick)
    send(conversation, tick, "console:alice", ANALYSIS_FR)
    out = send(conversation, tick, "console:alice", *["décide pour moi"] * 3)
    assert all(line["text"].startswith("Le mentor n'est pas décideur") for line in out)
    assert len(out) == 3 and not any(line.get("choices") for line in out)


# -- item 6: the right words to the right person -----------------------------------------


@pytest.mark.parametrize(("who", "text", "expected"), [
    ("console:alice", "décide pour moi", "Le mentor n'est pas décideur (charte, article 4)."),
    ("console:alice", "Décidez à ma place, franchement.", "Le mentor n'est pas décideur"),
    ("console:alice", "Tu ferais quoi, toi ?", "Le mentor n'est pas décideur"),
    ("console:emma", "decide for me", "The mentor is not a decision-maker (charter, article 4)."),
    ("console:emma", "You decide, I trust you.", "The mentor is not a decision-maker"),
    # the meaning layer alone reads these as distress; the step knows a handed-over decision
    ("console:alice", "Dites-moi simplement ce que je dois faire.", "Le mentor n'est pas"),
    ("console:alice", "Dis-moi ce que je dois faire.", "Le mentor n'est pas décideur"),
    ("console:alice", "Dites-moi quoi faire, je ne sais plus.", "Le mentor n'est pas décideur"),
])
def test_delegating_the_decision_gets_the_explanation(
    conversation: Conversation, tick: Clock, who: str, text: str, expected: str
) -> None:
    at_analysis(conversation, tick, who)
    analysis = ANALYSIS_FR if who == "console:alice" else ISSUE_SENTENCES[0]
    send(conversation, tick, who, analysis)
    out = send(conversation, tick, who, text)
    assert len(out) == 1 and out[0]["text"].startswith(expected)


def test_a_word_of_distress_still_wins_over_a_handed_over_decision(
    conversation: Conversation, tick: Clock
) -> None:
    at_analysis(conversation, tick)
    send(conversation, tick, "console:alice", ANALYSIS_FR)
    out = send(conversation, tick, "console:alice",
               "Dites-moi quoi faire, j'ai envie d'en finir avec la vie.")
    assert "3114" in out[0]["text"]


def test_small_talk_is_refused_as_the_ask_and_as_the_context(
    conversation: Conversation, tick: Clock
) -> None:
    signed(conversation)
    small_talk = "Au fait, tu as vu le match de foot hier soir ?"
    out = send(conversation, tick, "console:alice", "Poser une question",
               small_talk + " Quelle fin de partie, vraiment incroyable !")
    assert out[-1]["text"].startswith("Cela ne semble pas concerner une situation profession")
    send(conversation, tick, "console:alice", CONTEXT_FR, ANALYSIS_FR)
    out = send(conversation, tick, "console:alice", small_talk)
    assert len(out) == 1
    assert out[0]["text"].startswith("Cela ne semble pas concerner votre situation profession")
    out = send(conversation, tick, "console:emma", "Ask a question", CONTEXT_EN,
               ISSUE_SENTENCES[1], "By the way, did you watch the game last night?")
    assert out[-1]["text"].startswith("This does not seem to be about your work situation")
    # Football at work is work: a team-building match is a fine ask.
    out = send(conversation, tick, "console:alice",
               "Mon équipe organise un match de foot : comment y associer les plus réservés ?")
    assert out[0]["text"].startswith("Voici votre question avant envoi")


def test_the_mentor_redirecting_is_not_scope_warned(
    conversation: Conversation, tick: Clock
) -> None:
    signed(conversation)
    send(conversation, tick, "console:alice", "Poser une question", CONTEXT_FR, ANALYSIS_FR,
         ASK_FR, "Envoyer")
    conversation.run([{"at": "2026-11-30T08:00:00+01:00", "tick": True}])
    redirection = "Contactez un avocat en droit du travail, ou voyez le médecin du travail."
    out = conversation.run([
        say("2026-11-30T09:00:00+01:00", "console:bob", "Rediriger Q1"),
        say("2026-11-30T09:00:01+01:00", "console:bob", "Autre professionnel"),
        say("2026-11-30T09:00:02+01:00", "console:bob", redirection),
        say("2026-11-30T09:01:00+01:00", "console:bob", "/repondre Q1 " + redirection),
    ])
    to_bob = texts_to(out, "console:bob")
    assert not any("dépasser le cadre" in t or "juridique, médicale" in t for t in to_bob)
    assert any(redirection in t for t in texts_to(out, "console:alice"))
    (question,) = StoreView(conversation.config.storage.path).questions("console:alice")
    assert question.thread[0].text == redirection


def test_a_mentee_out_of_scope_is_still_told(conversation: Conversation, tick: Clock) -> None:
    signed(conversation)
    out = send(conversation, tick, "console:alice", "Poser une question",
               "Mon manager parle de rupture conventionnelle et je veux consulter un avocat.")
    assert any("dépasser le cadre de l'accompagnement" in line["text"] for line in out)


def test_what_strikes_me_is_an_analysis_not_violence(
    conversation: Conversation, tick: Clock
) -> None:
    """"Ce qui me frappe" (what strikes me) was read as violence: urgent numbers, and an
    urgent flag for the mentor, for an ordinary analysis."""
    at_analysis(conversation, tick)
    out = send(conversation, tick, "console:alice",
               "Ce qui me frappe, c'est que les conflits portent toujours sur les mêmes salles.")
    assert [line["text"][:3] for line in out] == ["3/3"]
    assert StoreView(conversation.config.storage.path).flags("console:alice") == []


@pytest.mark.parametrize("context", [
    "Au fait, je précise que la situation a changé depuis hier matin avec un nouvel arrivant.",
    "Mon équipe a perdu le match contre le service voisin au tournoi interne, l'ambiance en pâtit.",
    "By the way, since the reorganisation my team lead no longer invites me to the weekly meeting.",
])
def test_work_situations_near_small_talk_are_contexts(
    conversation: Conversation, tick: Clock, context: str
) -> None:
    signed(conversation)
    out = send(conversation, tick, "console:alice", "Poser une question", context)
    assert out[-1]["text"].startswith("2/3 — Votre analyse")


def test_the_context_and_the_ask_never_loop_either(conversation: Conversation, tick: Clock) -> None:
    """Every length check of a question has a way out: "My team is late." three times is not
    a trap at the context step, nor "Avis ?" at the ask."""
    signed(conversation)
    out = send(conversation, tick, "console:emma", "Ask a question", "My team is late.",
               "My team is late again.")
    assert out[-1].get("choices") == ["Send as it is", "Rephrase"], out[-1]
    out = send(conversation, tick, "console:emma", "Send as it is")
    assert out[-1]["text"].startswith("2/3")
    send(conversation, tick, "console:alice", "Poser une question", CONTEXT_FR, ANALYSIS_FR)
    out = send(conversation, tick, "console:alice", "Avis ?", "Votre avis ?")
    assert out[-1].get("choices") == WAY_OUT


@pytest.mark.parametrize("text", [
    "Tu as regardé la finale de la Ligue 1 hier soir ? C'était incroyable comme ambiance au stade.",
    "Vous avez vu cette série dont tout le monde parle ? Je n'arrive pas à décrocher le soir.",
])
def test_other_small_talk_is_refused_as_the_context(
    conversation: Conversation, tick: Clock, text: str
) -> None:
    signed(conversation)
    out = send(conversation, tick, "console:alice", "Poser une question", text)
    assert out[-1]["text"].startswith("Cela ne semble pas concerner une situation profession")
