"""Issue 14, item 2: a typed number or label answers the choices last shown to that person
(kept durably in the store), every button carries the key of its prompt, and an old button
says it is no longer current and shows what is."""

from __future__ import annotations

from typing import Any

from tests.conftest import QUESTION_FR, Conversation, asking, say, signing

DIGEST = {"at": "2026-11-30T08:00:00+01:00", "tick": True}
MENU = ["Questions en attente", "Répondre à une question", "Rediriger une question",
        "Relire la charte", "Aide"]
STALE = "Ce bouton n'est plus d'actualité"


def prepared(conversation: Conversation) -> list[dict[str, Any]]:
    """Bob and Alice signed; Alice asked Q1 before the opening; the 08:00 digest came. Each
    `run` is a new engine on the same store: what was shown is read back from the store."""
    conversation.run(
        signing("console:bob", "Bob Martin", "2026-11-30T06:00")
        + signing("console:alice", "Alice Durand", "2026-11-30T06:10")
        + asking("console:alice", QUESTION_FR, "2026-11-30T07:30")
    )
    return conversation.run([DIGEST])


def press(at: str, who: str, message: dict[str, Any], label: str) -> dict[str, Any]:
    """A press of the button `label` of `message`, as a channel gives it to the engine."""
    return say(at, who, str(message["choices"].index(label) + 1), prompt=message["prompt"])


def test_one_under_a_digest_answers_its_question(conversation: Conversation) -> None:
    out = prepared(conversation)
    q1 = next(line for line in out if line["text"].startswith("Q1 — "))
    assert q1["choices"] == ["Répondre Q1", "Rediriger Q1"]
    out = conversation.run([say("2026-11-30T09:00:00+01:00", "console:bob", "1")])
    # it used to re-send the digest (the menu's "1. Questions en attente")
    assert [line["text"] for line in out] == ["Votre réponse à Q1 (elle sera transmise aussitôt) :"]


def test_two_after_the_digest_command_redirects(conversation: Conversation) -> None:
    prepared(conversation)
    out = conversation.run([
        say("2026-11-30T09:00:00+01:00", "console:bob", "/digest"),
        say("2026-11-30T09:00:01+01:00", "console:bob", "2"),
    ])
    # it used to open "Répondre à une question" (the menu's 2)
    assert out[-1]["text"].startswith("Vers quel cadre rediriger Q1")
    assert out[-1]["choices"] == ["En entretien", "Autre professionnel", "Annuler"]


def test_one_under_an_answer_continues_the_question(conversation: Conversation) -> None:
    prepared(conversation)
    out = conversation.run([
        say("2026-11-30T09:00:00+01:00", "console:bob", "Répondre Q1"),
        say("2026-11-30T09:00:01+01:00", "console:bob", "Et si vous l'associiez à la préparation ?"),
    ])
    answer = next(line for line in out if line["to"] == "console:alice")
    assert answer["choices"] == ["Poursuivre Q1", "Clore Q1"]
    out = conversation.run([say("2026-11-30T10:00:00+01:00", "console:alice", "1")])
    # it used to start a new question (the menu's "1. Poser une question")
    assert out[-1]["text"].startswith("Votre suite pour Q1 :")
    out = conversation.run([
        say("2026-11-30T10:00:01+01:00", "console:alice", "Je vais lui proposer de préparer."),
        say("2026-11-30T10:00:02+01:00", "console:alice", "Clore Q1"),
    ])
    assert out[-1]["text"].startswith("La question Q1 est close")


def test_labels_and_beginnings_answer_the_last_choices_too(conversation: Conversation) -> None:
    prepared(conversation)
    out = conversation.run([say("2026-11-30T09:00:00+01:00", "console:bob", "rediriger q1")])
    assert out[-1]["text"].startswith("Vers quel cadre rediriger Q1")


def test_a_number_that_is_no_choice_is_refused(conversation: Conversation) -> None:
    prepared(conversation)
    out = conversation.run([
        say("2026-11-30T09:00:00+01:00", "console:bob", "7"),
        say("2026-11-30T09:00:01+01:00", "console:bob", "0"),
    ])
    assert all(line["text"].startswith("Je n'ai pas reconnu ce choix") for line in out)
    assert all(line["choices"] == ["Répondre Q1", "Rediriger Q1"] for line in out)
    out = conversation.run([say("2026-11-30T09:00:02+01:00", "console:bob", "2")])
    assert out[-1]["text"].startswith("Vers quel cadre rediriger Q1")


def test_every_message_with_choices_has_its_own_prompt_key(conversation: Conversation) -> None:
    out = prepared(conversation)
    keyed = [line for line in conversation.lines if line.get("choices")]
    assert keyed and all(line["prompt"].isalnum() and len(line["prompt"]) == 10 for line in keyed)
    assert len({line["prompt"] for line in keyed}) == len(keyed)
    assert all("prompt" not in line for line in out if not line.get("choices"))


def test_an_old_button_says_so_and_shows_what_is_current(conversation: Conversation) -> None:
    out = prepared(conversation)
    q1 = next(line for line in out if line["text"].startswith("Q1 — "))
    conversation.run([
        press("2026-11-30T09:00:00+01:00", "console:bob", q1, "Répondre Q1"),
        say("2026-11-30T09:00:01+01:00", "console:bob", "Et si vous l'associiez à la préparation ?"),
    ])
    out = conversation.run([press("2026-11-30T09:01:00+01:00", "console:bob", q1, "Rediriger Q1")])
    assert len(out) == 1 and out[0]["text"].startswith(STALE)
    assert out[0]["choices"] == MENU  # what is current: the menu
    # the re-shown choices are current
    out = conversation.run([press("2026-11-30T09:02:00+01:00", "console:bob", out[0], "Aide")])
    assert "Commandes" in out[0]["text"]


def test_a_made_up_or_out_of_range_button_is_old(conversation: Conversation) -> None:
    out = prepared(conversation)
    q1 = next(line for line in out if line["text"].startswith("Q1 — "))
    out = conversation.run([
        say("2026-11-30T09:00:00+01:00", "console:bob", "1", prompt="0123456789"),
        say("2026-11-30T09:00:01+01:00", "console:bob", "3", prompt=q1["prompt"]),
    ])
    assert [line["text"] for line in out] == [STALE + ". Voici les choix en cours :"] * 2
    assert all(line["choices"] == ["Répondre Q1", "Rediriger Q1"] for line in out)


def test_the_step_button_stays_current_after_a_digest(conversation: Conversation) -> None:
    """The menu shown before the digest still answers: Bob is still at the menu."""
    conversation.run(signing("console:bob", "Bob Martin", "2026-11-30T06:00"))
    menu = conversation.lines[-1]
    assert menu["choices"] == MENU
    conversation.run(signing("console:alice", "Alice Durand", "2026-11-30T06:10")
                     + asking("console:alice", QUESTION_FR, "2026-11-30T07:30"))
    conversation.run([DIGEST])
    out = conversation.run([press("2026-11-30T09:00:00+01:00", "console:bob", menu,
                                  "Rediriger une question")])
    assert out[-1]["text"].startswith("Quelle question voulez-vous rediriger")


def test_a_policy_question_is_answered_by_its_button(conversation: Conversation) -> None:
    """/oublier's confirmation: its own button answers it; an old digest button cannot."""
    out = prepared(conversation)
    q1 = next(line for line in out if line["text"].startswith("Q1 — "))
    out = conversation.run([say("2026-11-30T09:00:00+01:00", "console:bob", "/oublier")])
    confirm = out[-1]
    assert confirm["choices"] == ["Oui, tout effacer", "Non, garder"]
    out = conversation.run([press("2026-11-30T09:00:01+01:00", "console:bob", q1, "Répondre Q1")])
    assert out[0]["text"].startswith(STALE) and out[0]["choices"] == confirm["choices"]
    out = conversation.run([press("2026-11-30T09:00:02+01:00", "console:bob", confirm,
                                  "Non, garder")])
    assert out[0]["text"] == "Rien n'a été effacé."


def test_the_digest_from_the_menu_ends_with_its_choices(conversation: Conversation) -> None:
    """"Questions en attente" from the menu: the menu is not said again after the digest, so
    "1" answers the question shown (it re-sent the digest)."""
    prepared(conversation)
    out = conversation.run([say("2026-11-30T09:00:00+01:00", "console:bob", "1")])
    assert out[0]["text"].startswith("Votre réponse à Q1")
    conversation.run([say("2026-11-30T09:00:01+01:00", "console:bob",
                          "Et si vous l'associiez à la préparation ?")])
    conversation.run(asking("console:alice", QUESTION_FR, "2026-11-30T09:30"))
    out = conversation.run([say("2026-11-30T10:00:00+01:00", "console:bob", "1")])
    assert out[-1]["text"].startswith("Q2 — ")
    assert out[-1]["choices"] == ["Répondre Q2", "Rediriger Q2"]
    out = conversation.run([say("2026-11-30T10:00:01+01:00", "console:bob", "1")])
    assert out[-1]["text"].startswith("Votre réponse à Q2")


def test_an_old_button_is_told_in_the_person_s_language(conversation: Conversation) -> None:
    out = conversation.run([say("2026-11-30T07:00:00+01:00", "console:emma", "Hello")])
    intro = out[-1]
    out = conversation.run([
        press("2026-11-30T07:00:01+01:00", "console:emma", intro, intro["choices"][0]),
        press("2026-11-30T07:00:02+01:00", "console:emma", intro, intro["choices"][0]),
    ])
    assert out[-1]["text"] == "This button is no longer current. Here are the current choices:"
    assert out[-1]["choices"] == out[-2]["choices"] and out[-1]["prompt"] == out[-2]["prompt"]


def test_a_bare_number_under_several_questions_is_not_guessed(
    conversation: Conversation,
) -> None:
    """Q1 and Q2 in one digest, each with "1. Répondre / 2. Rediriger": "2" could be either;
    the mentor is told how to name one, and the buttons and full labels still answer."""
    conversation.run(
        signing("console:bob", "Bob Martin", "2026-11-30T06:00")
        + signing("console:alice", "Alice Durand", "2026-11-30T06:10")
        + asking("console:alice", QUESTION_FR, "2026-11-30T07:30")
        + asking("console:alice", QUESTION_FR, "2026-11-30T07:40")
    )
    out = conversation.run([DIGEST])
    q1 = next(line for line in out if line["text"].startswith("Q1 — "))
    out = conversation.run([say("2026-11-30T09:00:00+01:00", "console:bob", "2")])
    assert len(out) == 1 and out[0]["text"].startswith("Plusieurs questions sont affichées")
    assert "« Répondre Q2 »" in out[0]["text"] or "« Répondre Q1 »" in out[0]["text"]
    out = conversation.run([press("2026-11-30T09:01:00+01:00", "console:bob", q1,
                                  "Rediriger Q1")])
    assert "Q1" in out[0]["text"] and "Q2" not in out[0]["text"]
