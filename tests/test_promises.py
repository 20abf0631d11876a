"""Article 3, promises that hold (issue 14, item 3): the acknowledgement of a question or a
follow-up names the digest that will actually carry it to that mentor — the configured digest
times, open days, public holidays and the mentor's absences — and that digest comes then."""

from __future__ import annotations

from typing import Any

from tests.conftest import (
    BASE_CONFIG,
    QUESTION_EN,
    QUESTION_FR,
    Conversation,
    asking,
    say,
    signing,
)


def signed(conversation: Conversation, day: str = "2026-11-27") -> None:
    conversation.run(
        signing("console:bob", "Bob Martin", f"{day}T06:00")
        + signing("console:alice", "Alice Durand", f"{day}T06:10")
        + signing("console:emma", "Emma Smith", f"{day}T06:20")
    )


def ack(out: list[dict[str, Any]], qid: str = "Q1") -> str:
    return next(
        line["text"] for line in out
        if line["text"].startswith((f"Votre question {qid}", f"Your question {qid}",
                                    f"Votre suite pour {qid} est"))
    )


def digests(out: list[dict[str, Any]]) -> list[str]:
    return [line["at"] for line in out
            if line["to"] == "console:bob" and line["text"].startswith("Synthèse")]


def tick(at: str) -> dict[str, Any]:
    return {"at": at, "tick": True}


def test_friday_after_the_last_digest_names_monday_8_00(conversation: Conversation) -> None:
    signed(conversation)
    # Friday 4 December 2026, 17:15: still inside the hours, but today's digests are sent.
    out = conversation.run(asking("console:alice", QUESTION_FR, "2026-12-04T17:15")
                           + [tick("2026-12-07T09:00:00+01:00")])
    text = ack(out)
    assert "lundi 7 décembre à 08:00" in text
    assert "aujourd'hui" not in text
    assert digests(out) == ["2026-12-07T08:00:00+01:00"]


def test_monday_after_the_last_digest_names_tuesday(conversation: Conversation) -> None:
    signed(conversation)
    out = conversation.run(asking("console:alice", QUESTION_FR, "2026-11-30T13:18")
                           + [tick("2026-12-01T09:00:00+01:00")])
    text = ack(out)
    assert "mardi 1 décembre à 08:00" in text and "aujourd'hui" not in text
    assert digests(out) == ["2026-12-01T08:00:00+01:00"]


def test_before_a_digest_of_the_day_names_its_time(conversation: Conversation) -> None:
    signed(conversation)
    out = conversation.run(asking("console:alice", QUESTION_FR, "2026-11-30T10:00")
                           + [tick("2026-11-30T14:00:00+01:00")])
    assert ack(out).startswith(
        "Votre question Q1 est envoyée. Votre mentor la lira aujourd'hui à partir de 13:00")
    assert digests(out) == ["2026-11-30T13:00:00+01:00"]


def test_the_configured_digest_times_are_the_promise(new_conversation: Any) -> None:
    conversation = new_conversation(BASE_CONFIG + 'digest: {times: ["09:30", "16:00"]}\n')
    signed(conversation)
    out = conversation.run(asking("console:alice", QUESTION_FR, "2026-11-30T10:00"))
    assert "aujourd'hui à partir de 16:00" in ack(out)
    out = conversation.run(asking("console:alice", QUESTION_FR, "2026-11-30T16:05")
                           + [tick("2026-12-01T10:00:00+01:00")])
    assert "mardi 1 décembre à 09:30" in ack(out, "Q2")
    # Q1's digest at 16:00 comes before Q2 is sent; Q2 waits for Tuesday's first digest.
    assert digests(out) == ["2026-11-30T16:00:00+01:00", "2026-12-01T09:30:00+01:00"]


def test_a_public_holiday_is_skipped(conversation: Conversation) -> None:
    signed(conversation, "2026-11-06")
    # Tuesday 10 November after 13:00; Wednesday 11 November (Armistice) is closed.
    out = conversation.run(asking("console:alice", QUESTION_FR, "2026-11-10T14:00")
                           + [tick("2026-11-12T09:00:00+01:00")])
    assert "jeudi 12 novembre à 08:00" in ack(out)
    assert digests(out) == ["2026-11-12T08:00:00+01:00"]


def test_an_absence_set_in_the_chat_moves_the_promise(conversation: Conversation) -> None:
    signed(conversation)
    out = conversation.run([say("2026-11-30T09:00:00+01:00", "console:bob",
                                "/absence 2026-12-01 2026-12-02")])
    assert out[0]["text"].startswith("Absence enregistrée")
    out = conversation.run(asking("console:alice", QUESTION_FR, "2026-11-30T13:18")
                           + [tick("2026-12-03T09:00:00+01:00")])
    assert "jeudi 3 décembre à 08:00" in ack(out)
    assert digests(out) == ["2026-12-03T08:00:00+01:00"]


def test_an_absence_from_today_closes_today_s_digest_too(conversation: Conversation) -> None:
    signed(conversation)
    conversation.run([say("2026-11-30T07:00:00+01:00", "console:bob",
                          "/absence 2026-11-30 2026-11-30")])
    out = conversation.run(asking("console:alice", QUESTION_FR, "2026-11-30T10:00")
                           + [tick("2026-12-01T09:00:00+01:00")])
    text = ack(out)
    assert "mardi 1 décembre à 08:00" in text and "aujourd'hui" not in text
    assert digests(out) == ["2026-12-01T08:00:00+01:00"]


def test_a_follow_up_names_the_next_digest(conversation: Conversation) -> None:
    signed(conversation)
    conversation.run(asking("console:alice", QUESTION_FR, "2026-11-30T07:30")
                     + [tick("2026-11-30T08:00:00+01:00")])
    out = conversation.run([
        say("2026-11-30T09:00:00+01:00", "console:bob", "/repondre Q1 Qu'avez-vous observé ?"),
        say("2026-11-30T13:30:00+01:00", "console:alice", "Poursuivre Q1"),
        say("2026-11-30T13:31:00+01:00", "console:alice",
            "Elle se tait quand son avis n'est pas demandé."),
    ])
    text = ack(out)
    assert text.startswith("Votre suite pour Q1 est enregistrée")
    assert "mardi 1 décembre à 08:00" in text
    out = conversation.run([
        say("2026-12-01T09:00:00+01:00", "console:bob", "/repondre Q1 Et ensuite ?"),
        say("2026-12-01T09:10:00+01:00", "console:alice", "Poursuivre Q1"),
        say("2026-12-01T09:11:00+01:00", "console:alice", "Elle parle davantage en tête-à-tête."),
    ])
    assert ack(out).startswith("Votre suite pour Q1 est transmise. Votre mentor la lira "
                               "aujourd'hui à partir de 13:00")


def test_in_english(conversation: Conversation) -> None:
    signed(conversation)
    out = conversation.run(asking("console:emma", QUESTION_EN, "2026-12-04T17:15"))
    assert "Monday 7 December at 08:00" in ack(out)
    out = conversation.run(asking("console:emma", QUESTION_EN, "2026-12-07T09:00"))
    assert "today from 13:00" in ack(out, "Q2")


def test_other_opening_hours_are_never_contradicted(new_conversation: Any) -> None:
    """A deployment open Tuesday to Saturday, 09:00-17:00: the acknowledgement names the real
    next digest and states no other hours than the configured ones."""
    conversation = new_conversation(
        BASE_CONFIG + 'hours: {days: [tue, wed, thu, fri, sat], open: "09:00", close: "17:00"}\n'
        'digest: {times: ["09:00"]}\n')
    signed(conversation)
    # Monday 30 November 2026, 10:00: closed today; the next digest is Tuesday 09:00.
    out = conversation.run(asking("console:alice", QUESTION_FR, "2026-11-30T10:00")
                           + [tick("2026-12-01T10:00:00+01:00")])
    text = ack(out)
    assert "mardi 1 décembre à 09:00" in text
    assert "8h" not in text and "18h" not in text and "lundi au vendredi" not in text
    assert digests(out) == ["2026-12-01T09:00:00+01:00"]
