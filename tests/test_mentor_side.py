"""The mentor's side: digests with choices, answering, redirecting, and the mentee's thread."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.conftest import QUESTION_FR, Conversation, asking, say, signing
from tests.storeview import StoreView, raw_text

DIGEST = {"at": "2026-11-30T08:00:00+01:00", "tick": True}


def prepared(conversation: Conversation) -> list[dict[str, Any]]:
    return conversation.run(
        signing("console:bob", "Bob Martin", "2026-11-30T06:00")
        + signing("console:alice", "Alice Durand", "2026-11-30T06:10")
        + asking("console:alice", QUESTION_FR, "2026-11-30T07:30")
        + [DIGEST]
    )


def test_each_digest_question_offers_reply_and_redirect(conversation: Conversation) -> None:
    out = prepared(conversation)
    q1 = next(line for line in out if line["text"].startswith("Q1 — Alice Durand"))
    assert q1["choices"] == ["Répondre Q1", "Rediriger Q1"]
    assert "envoyée le lundi 30 novembre à 07:30" in q1["text"]


def test_reply_by_the_digest_choice(conversation: Conversation) -> None:
    prepared(conversation)
    out = conversation.run(
        [
            say("2026-11-30T09:00:00+01:00", "console:bob", "Répondre Q1"),
            say("2026-11-30T09:01:00+01:00", "console:bob", "Et si vous lui demandiez ?"),
        ]
    )
    assert out[0]["text"].startswith("Votre réponse à Q1")
    answer = next(line for line in out if line["to"] == "console:alice")
    assert "Et si vous lui demandiez ?" in answer["text"]
    assert answer["choices"] == ["Poursuivre Q1", "Clore Q1"]
    assert out[-1]["choices"][0] == "Questions en attente"


def test_reply_from_the_menu_checks_the_question_number(conversation: Conversation) -> None:
    prepared(conversation)
    out = conversation.run(
        [
            say("2026-11-30T09:00:00+01:00", "console:bob", "Répondre à une question"),
            say("2026-11-30T09:00:01+01:00", "console:bob", "troisième"),
            say("2026-11-30T09:00:02+01:00", "console:bob", "Q9"),
            say("2026-11-30T09:00:03+01:00", "console:bob", "q1"),
            say("2026-11-30T09:00:04+01:00", "console:bob", "Une piste : reformulez."),
        ]
    )
    texts = [line["text"] for line in out]
    assert "Écrivez le numéro de la question, par exemple Q3." in texts
    assert any(t.startswith("La question Q9 n'existe pas") for t in texts)
    assert any(t == "Votre réponse à Q1 est transmise à Alice Durand." for t in texts)


def test_redirect_to_a_session_and_to_a_professional(conversation: Conversation) -> None:
    prepared(conversation)
    conversation.run(asking("console:alice", QUESTION_FR, "2026-11-30T09:30"))
    out = conversation.run(
        [
            say("2026-11-30T10:00:00+01:00", "console:bob", "Rediriger Q1"),
            say("2026-11-30T10:00:01+01:00", "console:bob", "En entretien"),
            say("2026-11-30T10:00:02+01:00", "console:bob", "jeudi 14h"),
            say("2026-11-30T10:01:00+01:00", "console:bob", "Rediriger une question"),
            say("2026-11-30T10:01:01+01:00", "console:bob", "Q2"),
            say("2026-11-30T10:01:02+01:00", "console:bob", "Autre professionnel"),
            say(
                "2026-11-30T10:01:03+01:00",
                "console:bob",
                "Le service de santé au travail, poste 1234",
            ),
        ]
    )
    to_alice = [line["text"] for line in out if line["to"] == "console:alice"]
    assert "lors d'un entretien" in to_alice[0] and "jeudi 14h" in to_alice[0]
    assert "un autre professionnel" in to_alice[1] and "santé au travail" in to_alice[1]
    asked = StoreView(conversation.config.storage.path).questions("console:alice")
    assert [q.status.value for q in asked] == ["redirected", "redirected"]
    assert [t.text for q in asked for t in q.thread] == [
        "jeudi 14h",
        "Le service de santé au travail, poste 1234",
    ]
    # Redirected questions no longer wait in digests.
    out = conversation.run([{"at": "2026-11-30T13:00:00+01:00", "tick": True}])
    assert not [line for line in out if line["text"].startswith("Synthèse")]


def test_follow_up_joins_the_thread_and_returns_to_the_next_digest(
    conversation: Conversation,
) -> None:
    prepared(conversation)
    out = conversation.run(
        [
            say("2026-11-30T09:00:00+01:00", "console:bob", "/repondre Q1 Qu'avez-vous observé ?"),
            say("2026-11-30T09:10:00+01:00", "console:alice", "Poursuivre Q1"),
            say(
                "2026-11-30T09:11:00+01:00",
                "console:alice",
                "Elle se tait quand son avis n'est pas demandé.",
            ),
            {"at": "2026-11-30T13:00:00+01:00", "tick": True},
        ]
    )
    assert any(line["text"].startswith("Votre suite pour Q1 est transmise") for line in out)
    q1 = next(
        line["text"]
        for line in out
        if line["text"].startswith("Q1 — Alice Durand")
        and line["at"].startswith("2026-11-30T13:00")
    )
    assert "Votre réponse du 30 novembre 2026 à 09:00 : Qu'avez-vous observé ?" in q1
    assert "Suite du 30 novembre 2026 à 09:11 : Elle se tait" in q1


def test_the_mentee_closes_a_question(conversation: Conversation) -> None:
    prepared(conversation)
    out = conversation.run(
        [
            say("2026-11-30T09:00:00+01:00", "console:bob", "/reply Q1 Bonne piste."),
            say("2026-11-30T09:10:00+01:00", "console:alice", "Clore Q1"),
            say("2026-11-30T09:11:00+01:00", "console:alice", "Clore Q1"),
            say("2026-11-30T09:12:00+01:00", "console:alice", "/journal"),
        ]
    )
    assert out[-3]["text"].startswith("La question Q1 est close")
    assert out[-2]["text"] == "La question Q1 est déjà close."
    assert "Q1 — 30 novembre 2026 à 07:30 — close" in out[-1]["text"]


def test_a_mentor_cannot_touch_another_mentors_question(new_conversation: Any) -> None:
    conversation = new_conversation("""
people:
  - {id: "console:bob", role: mentor, name: "Bob Martin"}
  - {id: "console:carla", role: mentor, name: "Carla Diaz"}
  - {id: "console:alice", role: mentee, name: "Alice Durand", mentor: "console:bob"}
""")
    conversation.run(
        signing("console:bob", "Bob Martin", "2026-11-30T06:00")
        + signing("console:carla", "Carla Diaz", "2026-11-30T06:05")
        + signing("console:alice", "Alice Durand", "2026-11-30T06:10")
        + asking("console:alice", QUESTION_FR, "2026-11-30T07:30")
    )
    out = conversation.run(
        [
            say("2026-11-30T09:00:00+01:00", "console:carla", "/repondre Q1 Non."),
            say("2026-11-30T09:00:01+01:00", "console:carla", "Répondre Q1"),
        ]
    )
    out = [line for line in out if line["at"].startswith("2026-11-30T09")]
    assert all(line["to"] == "console:carla" for line in out)
    assert out[0]["text"].startswith("La question Q1 n'existe pas")
    assert out[1]["text"].startswith("La question Q1 n'existe pas")


def test_a_mentee_cannot_follow_up_someone_elses_question(conversation: Conversation) -> None:
    prepared(conversation)
    conversation.run(signing("console:emma", "Emma Smith", "2026-11-30T08:10"))
    out = conversation.run([say("2026-11-30T09:00:00+01:00", "console:emma", "Continue Q1")])
    assert out and all(line["to"] == "console:emma" for line in out)
    assert not any("Q1" in line["text"] and "Alice" in line["text"] for line in out)


def test_withdrawing_consent_stops_processing_until_signed_again(
    conversation: Conversation,
) -> None:
    prepared(conversation)
    out = conversation.run(
        [
            say("2026-11-30T09:00:00+01:00", "console:alice", "/retirer"),
            say("2026-11-30T09:01:00+01:00", "console:alice", "Poser une question"),
            {"at": "2026-11-30T13:00:00+01:00", "tick": True},
            say("2026-11-30T13:10:00+01:00", "console:alice", "/aide"),
        ]
    )
    assert out[0]["text"].startswith("Votre consentement est retiré")
    assert out[1]["text"].startswith("Vous avez retiré votre consentement")
    assert not [line for line in out if line["text"].startswith("Synthèse")]
    assert "3114" in out[-1]["text"]
    out = conversation.run(
        [say("2026-11-30T14:00:00+01:00", "console:alice", "/start")]
        + signing("console:alice", "Alice Durand", "2026-11-30T14:01")[1:]
    )
    assert out[0]["text"].startswith("La charte a été modifiée") or out[0]["text"].startswith(
        "Bienvenue"
    )
    assert "Merci Alice Durand" in out[-2]["text"]


def test_erasure_in_the_chat_asks_first_then_removes_everything(conversation: Conversation) -> None:
    prepared(conversation)
    out = conversation.run(
        [
            say("2026-11-30T09:00:00+01:00", "console:alice", "/oublier"),
            say("2026-11-30T09:00:01+01:00", "console:alice", "Non, garder"),
        ]
    )
    assert out[0]["choices"] == ["Oui, tout effacer", "Non, garder"]
    assert out[1]["text"] == "Rien n'a été effacé."
    store = StoreView(conversation.config.storage.path)
    assert store.load_person("console:alice") is not None
    out = conversation.run(
        [
            say("2026-11-30T09:01:00+01:00", "console:alice", "/oublier"),
            say("2026-11-30T09:01:01+01:00", "console:alice", "1"),
        ]
    )
    notice = next(line for line in out if line["to"] == "console:bob")
    assert notice["text"].startswith("Alice Durand a quitté l'accompagnement")
    assert out[-1]["text"].startswith("Tout ce qui vous concernait a été effacé")
    assert store.load_person("console:alice") is None
    assert not any(e.qid == "Q1" for e in store.read_journal("console:bob"))
    raw = raw_text(conversation.config.storage.path)
    assert QUESTION_FR[1] not in raw and "Alice Durand" not in raw


def test_the_mentee_exports_their_trace_in_the_chat(conversation: Conversation) -> None:
    prepared(conversation)
    out = conversation.run([say("2026-11-30T09:00:00+01:00", "console:alice", "/export")])
    # Issue 14: a short summary (the ask, the status), and where the whole trace is.
    assert out[0]["text"].startswith("Résumé de votre trace de travail")
    assert QUESTION_FR[3] in out[0]["text"] and "Q1 — 30 novembre 2026 à 07:30 — lue par votre mentor" in out[0]["text"]
    assert "mentorbot data export --user console:alice --format html" in out[1]["text"]


def test_the_mentors_answer_is_checked_for_identifying_data_too(conversation: Conversation) -> None:
    prepared(conversation)
    out = conversation.run([
        say("2026-11-30T09:00:00+01:00", "console:bob", "/repondre Q1 Appelez Mme Lefebvre au 06 12 34 56 78."),
        say("2026-11-30T09:00:01+01:00", "console:bob", "Masquer"),
    ])
    # The mentor sees the masked version; the number is not echoed back (nor queued).
    assert out[0]["to"] == "console:bob" and "Appelez Mme [PERSONNE_1] au [TÉLÉPHONE]." in out[0]["text"]
    assert "06 12 34 56 78" not in out[0]["text"]
    answer = next(line for line in out if line["to"] == "console:alice")
    assert "[TÉLÉPHONE]" in answer["text"] and "06 12" not in answer["text"]
    assert "06 12 34 56 78" not in raw_text(conversation.config.storage.path)


def test_the_whole_thread_is_in_every_export_format(conversation: Conversation) -> None:
    """Answers, follow-ups and redirections are first-class parts of a question's thread."""
    from bot.app import build_app
    from bot.clock import VirtualClock
    from bot.data.export import export, render

    prepared(conversation)
    conversation.run([
        say("2026-11-30T09:00:00+01:00", "console:bob", "/repondre Q1 Une première piste."),
        say("2026-11-30T09:10:00+01:00", "console:alice", "Poursuivre Q1"),
        say("2026-11-30T09:10:01+01:00", "console:alice",
            "Merci, j'ai essayé et la réunion suivante s'est mieux passée."),
        say("2026-11-30T13:30:00+01:00", "console:bob", "Rediriger une question"),
        say("2026-11-30T13:30:01+01:00", "console:bob", "Q1"),
        say("2026-11-30T13:30:02+01:00", "console:bob", "En entretien"),
        say("2026-11-30T13:30:03+01:00", "console:bob", "jeudi 14h"),
    ])
    app = build_app(conversation.config,
                    VirtualClock(datetime.fromisoformat("2026-11-30T14:00:00+01:00")))
    try:
        record = export(app.engine, "console:alice")
        [question] = record["questions"]
        assert [t["kind"] for t in question["thread"]] == [
            "answer", "followup", "redirect_session"]
        assert question["followups"][0]["text"].startswith("Merci, j'ai essayé")
        # Issue 14: the redirection is one of the mentor's replies (was `"answers": []`).
        assert [(a["kind"], a["text"]) for a in question["answers"]] == [
            ("answer", "Une première piste."), ("redirect_session", "jeudi 14h")]
        assert question["redirections"] == [
            {"at": question["redirections"][0]["at"], "to": "session", "text": "jeudi 14h"}]
        for fmt in ("md", "html"):
            page = render(record, fmt, app.engine)
            assert "Une première piste." in page
            assert "la réunion suivante s" in page
            assert "jeudi 14h" in page and "redirigée vers un entretien" in page
    finally:
        app.close()
