"""The whole journey on the virtual clock: charter, structured question, digest, answer."""

from __future__ import annotations

from typing import Any

from bot.app import build_app
from bot.clock import VirtualClock
from bot.config import Config
from bot.data.export import export
from tests.conftest import (
    QUESTION_EN,
    QUESTION_FR,
    Conversation,
    asking,
    say,
    signing,
)


def texts_to(lines: list[dict[str, Any]], who: str) -> list[str]:
    return [line["text"] for line in lines if line["to"] == who]


def test_charter_is_shown_article_by_article_then_signed(conversation: Conversation) -> None:
    out = conversation.run(signing("console:alice", "Alice Durand"))
    texts = texts_to(out, "console:alice")
    assert texts[0].startswith("Bienvenue")
    assert texts[1].startswith("Charte d'usage de WhatsApp")
    for n in range(1, 7):
        assert any(t.startswith(f"Article {n}/6\n{n}. ") for t in texts), n
    assert "Merci Alice Durand. La charte est signée le lundi 30 novembre à 07:00" in texts[-2]
    assert out[-1]["choices"][0] == "Poser une question"
    article = next(line for line in out if line["text"].startswith("Article 1/6\n1. Nature"))
    assert article["choices"] == ["J'accepte", "Je n'accepte pas"]


def test_the_full_journey_reaches_the_mentor_at_the_next_digest(conversation: Conversation) -> None:
    events = (
        signing("console:bob", "Bob Martin", "2026-11-30T06:00")
        + signing("console:alice", "Alice Durand", "2026-11-30T06:10")
        + signing("console:emma", "Emma Smith", "2026-11-30T06:20")
        + asking("console:alice", QUESTION_FR, "2026-11-30T07:30")
        + asking("console:emma", QUESTION_EN, "2026-11-30T07:40")
        + [{"at": "2026-11-30T08:00:00+01:00", "tick": True}]
    )
    out = conversation.run(events)
    alice = texts_to(out, "console:alice")
    emma = texts_to(out, "console:emma")
    assert any("Q1" in t and "lundi 30 novembre à 08:00" in t for t in alice)
    assert any("Q2" in t and "Monday 30 November at 08:00" in t for t in emma)
    digest = [
        line
        for line in out
        if line["to"] == "console:bob" and line["at"] == "2026-11-30T08:00:00+01:00"
    ]
    assert digest[0]["text"].startswith("Synthèse du lundi 30 novembre à 08:00 : 2 questions en attente et 0 besoin")
    q1 = next(line["text"] for line in digest if line["text"].startswith("Q1"))
    assert "Alice Durand" in q1
    for part in QUESTION_FR[1:4]:
        assert part in q1
    q2 = next(line["text"] for line in digest if line["text"].startswith("Q2"))
    for part in QUESTION_EN[1:4]:
        assert part in q2


def test_digest_only_on_open_days_and_unanswered_questions_wait(conversation: Conversation) -> None:
    # Friday evening question; Saturday and Sunday have no digest; Monday 08:00 has it.
    events = (
        signing("console:bob", "Bob Martin", "2026-11-27T19:00")
        + signing("console:alice", "Alice Durand", "2026-11-27T19:10")
        + asking("console:alice", QUESTION_FR, "2026-11-27T19:30")
        + [{"at": "2026-11-30T07:59:00+01:00", "tick": True}]
    )
    out = conversation.run(events)
    assert not [line for line in out if line["to"] == "console:bob" and "Synthèse" in line["text"]]
    out = conversation.run([{"at": "2026-11-30T13:00:00+01:00", "tick": True}])
    digests = [line for line in out if line["text"].startswith("Synthèse")]
    assert [d["at"] for d in digests] == ["2026-11-30T08:00:00+01:00", "2026-11-30T13:00:00+01:00"]
    second_q1 = [line["text"] for line in out if line["text"].startswith("Q1")][1]
    assert "En attente depuis le 30 novembre 2026 à 08:00" in second_q1


def test_mentor_answer_reaches_the_mentee_at_once(conversation: Conversation) -> None:
    events = (
        signing("console:bob", "Bob Martin", "2026-11-30T06:00")
        + signing("console:alice", "Alice Durand", "2026-11-30T06:10")
        + asking("console:alice", QUESTION_FR, "2026-11-30T07:30")
        + [
            say(
                "2026-11-30T09:00:00+01:00",
                "console:bob",
                "/repondre Q1 Qu'est-ce qui vous fait penser qu'elle se sent exclue ?",
            )
        ]
    )
    out = conversation.run(events)
    answer = next(line for line in out if line["to"] == "console:alice" and "répondu" in line["text"])
    assert "Votre mentor a répondu à votre question Q1" in answer["text"]
    assert "se sent exclue ?" in answer["text"]
    assert answer["at"] == "2026-11-30T09:00:00+01:00"
    confirmation = [line for line in out if line["to"] == "console:bob"][-2]
    assert confirmation == {"at": "2026-11-30T09:00:00+01:00", "to": "console:bob",
                            "text": "Votre réponse à Q1 est transmise à Alice Durand."}


def test_export_shows_signature_question_and_journal(
    config: Config, conversation: Conversation
) -> None:
    conversation.run(
        signing("console:bob", "Bob Martin", "2026-11-30T06:00")
        + signing("console:alice", "Alice Durand", "2026-11-30T06:10")
        + asking("console:alice", QUESTION_FR, "2026-11-30T07:30")
    )
    app = build_app(config, VirtualClock(conversation_time()))
    record = export(app.engine, "console:alice")
    assert record["person"] == {"id": "console:alice", "role": "mentee", "name": "Alice Durand"}
    [signature] = record["charter"]
    assert signature["name"] == "Alice Durand" and len(signature["version"]) == 12
    assert signature["at"].startswith("2026-11-30T05:10")  # stored in UTC
    [question] = record["questions"]
    assert question["id"] == "Q1" and question["status"] == "sent"
    assert question["context"] == QUESTION_FR[1]
    assert question["analysis"] == QUESTION_FR[2]
    assert question["ask"] == QUESTION_FR[3]
    directions = {e["direction"] for e in record["journal"]}
    assert directions == {"in", "out"}
    assert any(e["text"] == QUESTION_FR[1] for e in record["journal"])


def conversation_time() -> Any:
    from datetime import datetime

    return datetime.fromisoformat("2026-12-01T09:00:00+01:00")


def test_state_persists_across_two_simulate_runs(config: Config) -> None:
    first = Conversation(config)
    first.run(signing("console:alice", "Alice Durand")[:5])
    second = Conversation(config)
    out = second.run(signing("console:alice", "Alice Durand")[5:])
    assert out[-1]["choices"][0] == "Poser une question"


def test_a_redelivered_message_is_handled_once(conversation: Conversation) -> None:
    events = [
        say("2026-11-30T07:00:00+01:00", "console:alice", "Bonjour", id="m1"),
        say("2026-11-30T07:00:01+01:00", "console:alice", "1", id="m2"),
        say("2026-11-30T07:00:02+01:00", "console:alice", "1", id="m2"),
    ]
    out = conversation.run(events)
    assert len([line for line in out if "\n1. Nature" in line["text"]]) == 1
    assert not [line for line in out if "\n2. Confidentialité" in line["text"]]


def test_review_offers_send_edit_cancel_and_edit_returns_to_review(
    conversation: Conversation,
) -> None:
    events = (
        signing("console:alice", "Alice Durand")
        + asking("console:alice", QUESTION_FR[:4])
        + [
            say("2026-11-30T07:40:00+01:00", "console:alice", "Modifier"),
            say("2026-11-30T07:40:01+01:00", "console:alice", "La demande"),
            say(
                "2026-11-30T07:40:02+01:00",
                "console:alice",
                "J'hésite entre deux options : comment présenter le choix à l'équipe ?",
            ),
            say("2026-11-30T07:40:03+01:00", "console:alice", "Annuler"),
        ]
    )
    out = conversation.run(events)
    review = [line for line in out if line["text"].startswith("Voici votre question")]
    assert review[0]["choices"] == ["Envoyer", "Modifier", "Annuler"]
    assert "comment présenter le choix" in review[-1]["text"]
    assert any(line["text"] == "Votre brouillon de question est supprimé." for line in out)
