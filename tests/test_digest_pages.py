"""Issue 14, item 10: a digest a mentor can read. With 1,000 pending questions the digest is a
bounded number of messages: a summary first (urgent flags on top), the questions grouped by
mentee and paged, each reachable by its id. Item 5: a follow-up the mentee sent before closing
the question still reaches the mentor's digest."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from bot.config import Config
from bot.domain import Flag, Question
from bot.store import open_store
from tests.conftest import QUESTION_FR, Conversation, asking, say, signing

DIGEST = {"at": "2026-11-30T08:00:00+01:00", "tick": True}
PENDING = 1000


def seed(config: Config, count: int, flags: tuple[str, ...] = ()) -> None:
    """`count` questions of Alice and Emma (alternating), sent on Sunday; distress flags."""
    store = open_store(config)
    try:
        start = datetime.fromisoformat("2026-11-29T10:00:00+01:00")
        with store.turn() as uow:
            for i in range(count):
                mentee = "console:alice" if i % 2 == 0 else "console:emma"
                uow.question_add(Question(
                    id=uow.next_question_id(), mentee=mentee, mentor="console:bob",
                    context=f"Contexte numéro {i} : une situation d'équipe.",
                    analysis="J'ai observé les réunions et comparé les semaines.",
                    ask=f"Demande {i} : " + "comment aborder la suite avec l'équipe ? " * 4,
                    submitted_at=(start + timedelta(seconds=i)).isoformat(),
                ))
            for j, level in enumerate(flags):
                uow.flag_add(Flag(person="console:alice", level=level,
                                  at=(start + timedelta(minutes=j)).isoformat()))
    finally:
        store.close()


def signed(conversation: Conversation) -> None:
    conversation.run(
        signing("console:bob", "Bob Martin", "2026-11-30T06:00")
        + signing("console:alice", "Alice Durand", "2026-11-30T06:10")
        + signing("console:emma", "Emma Smith", "2026-11-30T06:20")
    )


def to_bob(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if line["to"] == "console:bob"]


def test_a_thousand_pending_questions_make_a_short_digest(conversation: Conversation) -> None:
    signed(conversation)
    seed(conversation.config, PENDING, flags=("check_in", "urgent", "distress"))
    out = to_bob(conversation.run([DIGEST]))
    # it used to be 1,001 messages (476 KB)
    assert len(out) <= 6
    assert sum(len(json.dumps(line, ensure_ascii=False).encode()) for line in out) < 8_000
    summary = out[0]["text"]
    assert summary.startswith("Synthèse du lundi 30 novembre à 08:00 : 1000 questions en attente")
    assert "3 besoins d'aide signalés" in summary
    flags = [line["text"] for line in out if "Besoin d'aide signalé" in line["text"]]
    assert [f.split("(")[1].split(")")[0] for f in flags] == ["urgence", "détresse", "à vérifier"]
    listing = out[-1]
    assert listing["text"].startswith("Questions 1 à 9 sur 1000 (page 1 sur 112), par personne accompagnée :")
    lines = [line for line in listing["text"].splitlines() if line]
    # grouped by mentee: Alice's 500 (Q1, Q3, ...) first, oldest first
    assert lines[1] == "Alice Durand" and "Emma Smith" not in listing["text"]
    assert [line.split(" — ")[0] for line in lines[2:11]] == [f"• Q{n}" for n in range(1, 19, 2)]
    assert "• Q1 — " in listing["text"] and "…" in listing["text"]  # asks are cut short
    assert listing["choices"][:3] == ["Lire Q1", "Lire Q3", "Lire Q5"]
    assert listing["choices"][-1] == "Page suivante (2 sur 112)"
    assert len(listing["choices"]) == 10


def test_pages_and_ids_reach_every_question(conversation: Conversation) -> None:
    signed(conversation)
    seed(conversation.config, PENDING)
    listing = to_bob(conversation.run([DIGEST]))[-1]
    out = conversation.run([say("2026-11-30T09:00:00+01:00", "console:bob", "10")])
    assert out[-1]["text"].startswith("Questions 10 à 18 sur 1000 (page 2 sur 112)")
    assert out[-1]["choices"][-1] == "Page suivante (3 sur 112)"
    out = conversation.run([say("2026-11-30T09:00:30+01:00", "console:bob", "/digest")])
    assert to_bob(out)[-1]["text"].startswith("Questions 1 à 9 sur 1000")
    # to Emma's questions, page by page ("10": the last choice, "Page suivante")
    out = conversation.run([say("2026-11-30T09:00:31+01:00", "console:bob", "10")] * 55)
    assert out[-1]["text"].startswith("Questions 496 à 504 sur 1000 (page 56 sur 112)")
    assert "\nEmma Smith\n• Q2 — " in out[-1]["text"]
    out = conversation.run([say("2026-11-30T09:01:00+01:00", "console:bob", "Q537")])
    assert out[-1]["text"].startswith("Q537 — Alice Durand")
    assert out[-1]["choices"] == ["Répondre Q537", "Rediriger Q537"]
    # an older page's button still answers while its batch is current... it is not: told so
    out = conversation.run([say("2026-11-30T09:02:00+01:00", "console:bob", "2",
                                prompt=listing["prompt"])])
    assert out[-1]["text"].startswith("Ce bouton n'est plus d'actualité")
    assert out[-1]["choices"] == ["Répondre Q537", "Rediriger Q537"]
    out = conversation.run([say("2026-11-30T09:03:00+01:00", "console:bob", "1")])
    assert out[-1]["text"] == "Votre réponse à Q537 (elle sera transmise aussitôt) :"


def test_a_list_button_shows_its_question(conversation: Conversation) -> None:
    signed(conversation)
    seed(conversation.config, 20)
    listing = to_bob(conversation.run([DIGEST]))[-1]
    out = conversation.run([say("2026-11-30T09:00:00+01:00", "console:bob", "2",
                                prompt=listing["prompt"])])
    assert out[-1]["text"].startswith("Q3 — Alice Durand")
    # a page past the end shows the last page; an unknown id is said so
    out = conversation.run([
        say("2026-11-30T09:01:00+01:00", "console:bob", "Q999"),
        say("2026-11-30T09:02:00+01:00", "console:bob", "/digest"),
    ])
    assert out[0]["text"].startswith("La question Q999 n'existe pas")
    assert out[-1]["text"].startswith("Questions 1 à 9 sur 20 (page 1 sur 3)")


def test_a_few_questions_still_come_in_full(conversation: Conversation) -> None:
    signed(conversation)
    seed(conversation.config, 3)
    out = to_bob(conversation.run([DIGEST]))
    assert len(out) == 4
    assert [line["choices"] for line in out[1:]] == [
        ["Répondre Q1", "Rediriger Q1"], ["Répondre Q2", "Rediriger Q2"],
        ["Répondre Q3", "Rediriger Q3"]]


def test_a_follow_up_sent_before_closing_reaches_the_digest(conversation: Conversation) -> None:
    conversation.run(
        signing("console:bob", "Bob Martin", "2026-11-30T06:00")
        + signing("console:alice", "Alice Durand", "2026-11-30T06:10")
        + asking("console:alice", QUESTION_FR, "2026-11-30T07:30")
        + [DIGEST]
    )
    conversation.run([
        say("2026-11-30T09:00:00+01:00", "console:bob", "Répondre Q1"),
        say("2026-11-30T09:00:01+01:00", "console:bob", "Qu'attendez-vous d'elle ?"),
        say("2026-11-30T10:00:00+01:00", "console:alice", "Poursuivre Q1"),
        say("2026-11-30T10:00:01+01:00", "console:alice", "Qu'elle propose ses priorités."),
        say("2026-11-30T10:00:02+01:00", "console:alice", "Clore Q1"),
    ])
    out = to_bob(conversation.run([{"at": "2026-11-30T13:00:00+01:00", "tick": True}]))
    assert out, "the follow-up vanished from the digest"
    q1 = out[-1]
    assert "Suite du 30 novembre 2026 à 10:00 : Qu'elle propose ses priorités." in q1["text"]
    assert "Votre réponse du 30 novembre 2026 à 09:00 : Qu'attendez-vous d'elle ?" in q1["text"]
    assert "close le 30 novembre 2026 à 10:00" in q1["text"]
    assert "choices" not in q1  # nothing to answer
    # shown once: the next digest has nothing for Bob
    assert to_bob(conversation.run([{"at": "2026-12-01T08:00:00+01:00", "tick": True}])) == []


class CountingStore:
    """The real store, counting the units of work opened (a fake at the seam, not a patch)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.turns = 0

    def turn(self, person_ids: Any = ()) -> Any:
        self.turns += 1
        return self.inner.turn(person_ids)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_the_idle_digest_round_opens_no_transaction_per_mentor(tmp_path: Any) -> None:
    from bot.clock import VirtualClock
    from bot.engine.core import Engine
    from tests.conftest import make_config

    roster = "".join(f'  - {{id: "console:m{i}", role: mentor, name: "Mentor {i}"}}\n'
                     for i in range(200))
    config = make_config(tmp_path, "locale: fr\ntimezone: Europe/Paris\npeople:\n"
                         '  - {id: "console:bob", role: mentor, name: "Bob Martin"}\n'
                         '  - {id: "console:alice", role: mentee, name: "Alice Durand", '
                         'mentor: "console:bob"}\n' + roster)
    monday = datetime.fromisoformat("2026-11-30T08:00:00+01:00")
    store = CountingStore(open_store(config))
    try:
        engine = Engine(config, store, VirtualClock(monday))  # type: ignore[arg-type]
        assert engine.run_digests(monday) == []
        assert store.turns == 0  # 201 mentors, nothing pending: no unit of work each
    finally:
        store.close()
    seed(config, 1)
    store = CountingStore(open_store(config))
    try:
        engine = Engine(config, store, VirtualClock(monday))  # type: ignore[arg-type]
        engine.run_digests(monday + timedelta(hours=5))
        assert store.turns == 1  # Bob only (not signed yet: nothing sent)
    finally:
        store.close()


def test_many_flags_come_in_one_message_urgent_first(conversation: Conversation) -> None:
    signed(conversation)
    seed(conversation.config, 2, flags=("check_in", "distress", "urgent", "check_in", "urgent"))
    out = to_bob(conversation.run([DIGEST]))
    assert len(out) == 4  # summary, the five flags together, the two questions
    flags = out[1]["text"]
    kinds = [part.split("(")[1].split(")")[0] for part in flags.split("⚠")[1:]]
    assert kinds == ["urgence", "urgence", "détresse", "à vérifier", "à vérifier"]
