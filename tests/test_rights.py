"""Rights survive withdrawal (issue 14, item 4); the whole thread in the export (item 5);
`/export` in the chat (item 7). Through `simulate` and the engine, on a virtual clock."""

from __future__ import annotations

from typing import Any

from bot.config import Config
from tests.conftest import QUESTION_FR, Conversation, asking, say, signing
from tests.storeview import StoreView

WITHDRAWN = "retiré votre consentement"


def signed_with_a_question(conversation: Conversation) -> None:
    conversation.run(
        signing("console:bob", "Bob Martin", "2026-11-30T06:00")
        + signing("console:alice", "Alice Durand", "2026-11-30T06:10")
        + asking("console:alice", QUESTION_FR)
    )


def to(lines: list[dict[str, Any]], who: str) -> list[str]:
    return [line["text"] for line in lines if line["to"] == who]


def test_after_withdrawal_export_and_erasure_still_work(config: Config) -> None:
    conversation = Conversation(config)
    signed_with_a_question(conversation)
    store = StoreView(config.storage.path)
    conversation.run([say("2026-11-30T09:00:00+01:00", "console:alice", "/retirer")])
    kept = len(store.read_journal("console:alice"))

    refused = conversation.run([say("2026-11-30T09:01:00+01:00", "console:alice", "Bonjour")])
    assert WITHDRAWN in to(refused, "console:alice")[0]

    exported = to(conversation.run([say("2026-11-30T09:02:00+01:00", "console:alice", "/export")]),
                  "console:alice")
    assert exported and not any(WITHDRAWN in t for t in exported)
    assert any("Q1" in t for t in exported)

    asked = to(conversation.run([say("2026-11-30T09:03:00+01:00", "console:alice", "/oublier")]),
               "console:alice")
    assert "C'est définitif" in asked[0]
    kept_answer = conversation.run([say("2026-11-30T09:04:00+01:00", "console:alice", "2")])
    assert to(kept_answer, "console:alice") == ["Rien n'a été effacé."]
    # Withdrawn: answered, but nothing of these turns is recorded.
    assert len(store.read_journal("console:alice")) == kept

    conversation.run([say("2026-11-30T09:05:00+01:00", "console:alice", "/oublier")])
    done = conversation.run([say("2026-11-30T09:06:00+01:00", "console:alice", "Oui, tout effacer")])
    assert any("Tout ce qui vous concernait a été effacé" in t for t in to(done, "console:alice"))
    assert any("a quitté l'accompagnement" in t for t in to(done, "console:bob"))
    assert "console:alice" not in store.person_ids()
    assert store.question("Q1") is None


def test_a_withdrawn_person_answering_nothing_asked_is_still_refused(config: Config) -> None:
    conversation = Conversation(config)
    signed_with_a_question(conversation)
    conversation.run([say("2026-11-30T09:00:00+01:00", "console:alice", "/retirer")])
    # "Oui" with no erasure question pending is no erasure, and no menu answer either.
    out = conversation.run([say("2026-11-30T09:01:00+01:00", "console:alice", "Oui, tout effacer")])
    assert WITHDRAWN in to(out, "console:alice")[0]
    assert "console:alice" in StoreView(config.storage.path).person_ids()
    out = conversation.run([say("2026-11-30T09:02:00+01:00", "console:alice", "/journal")])
    assert WITHDRAWN in to(out, "console:alice")[0]


def exported(config: Config, pid: str = "console:alice") -> dict[str, Any]:
    from datetime import datetime

    from bot.app import build_app
    from bot.clock import VirtualClock
    from bot.data.export import export

    app = build_app(config, VirtualClock(datetime.fromisoformat("2026-12-01T12:00:00+01:00")))
    try:
        return export(app.engine, pid)
    finally:
        app.close()


def test_a_follow_up_sent_before_closing_and_a_redirection_are_in_the_export(
    config: Config,
) -> None:
    conversation = Conversation(config)
    signed_with_a_question(conversation)
    conversation.run(
        asking("console:alice", QUESTION_FR, "2026-11-30T07:40")
        + [
            {"at": "2026-11-30T08:00:00+01:00", "tick": True},
            say("2026-11-30T09:00:00+01:00", "console:bob", "/repondre Q1 Une piste."),
            say("2026-11-30T09:01:00+01:00", "console:alice", "Poursuivre Q1"),
            say("2026-11-30T09:02:00+01:00", "console:alice",
                "Je vais l'associer à la préparation dès lundi."),
            say("2026-11-30T09:03:00+01:00", "console:alice", "Clore Q1"),
            say("2026-11-30T09:04:00+01:00", "console:bob", "Rediriger Q2"),
            say("2026-11-30T09:05:00+01:00", "console:bob", "En entretien"),
            say("2026-11-30T09:06:00+01:00", "console:bob", "Jeudi 14h dans mon bureau"),
        ]
    )
    record = exported(config)
    first, second = record["questions"]
    assert first["status"] == "closed"
    assert [f["text"] for f in first["followups"]] == [
        "Je vais l'associer à la préparation dès lundi."]
    assert [t["kind"] for t in first["thread"]] == ["answer", "followup"]
    assert second["status"] == "redirected"
    assert second["answers"] == [{"at": second["answers"][0]["at"], "kind": "redirect_session",
                                  "text": "Jeudi 14h dans mon bureau"}]
