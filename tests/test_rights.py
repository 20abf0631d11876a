"""Rights survive withdrawal (issue 14, item 4); the whole thread in the export (item 5);
`/export` in the chat (item 7). Through `simulate` and the engine, on a virtual clock."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
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


def export_lines(conversation: Conversation, at: str, who: str = "console:alice") -> list[str]:
    return to(conversation.run([say(at, who, "/export")]), who)


def test_export_in_the_chat_is_never_journalled(config: Config) -> None:
    conversation = Conversation(config)
    signed_with_a_question(conversation)
    store = StoreView(config.storage.path)
    before = len(store.read_journal("console:alice"))
    first = export_lines(conversation, "2026-11-30T09:00:00+01:00")
    second = export_lines(conversation, "2026-11-30T09:01:00+01:00")
    assert first == second  # the first export is not part of the second
    added = store.read_journal("console:alice")[before:]
    assert [(e.direction, e.text) for e in added] == [("in", "/export"), ("in", "/export")]
    assert len(exported(config)["journal"]) == before + 2


def test_exports_journalled_by_an_older_version_are_left_out(config: Config) -> None:
    from bot.app import build_app
    from bot.clock import VirtualClock
    from bot.domain import JournalEntry

    conversation = Conversation(config)
    signed_with_a_question(conversation)
    dump = "# Trace de travail de Alice Durand\n" + "x" * 40_000
    app = build_app(config, VirtualClock(datetime.fromisoformat("2026-11-30T09:00:00+01:00")))
    try:
        with app.engine.store.turn(["console:alice"]) as uow:
            uow.journal_add("console:alice", [JournalEntry(
                at="2026-11-30T08:00:00+00:00", direction="out", text=dump, kind="export",
                key="old-export#1")])
    finally:
        app.close()
    record = exported(config)
    assert not any("x" * 100 in e["text"] for e in record["journal"])
    assert len(StoreView(config.storage.path).read_journal("console:alice")) == \
        len(record["journal"]) + 1


def test_export_without_questions_and_in_english(config: Config) -> None:
    conversation = Conversation(config)
    conversation.run(signing("console:emma", "Emma Smith", "2026-11-30T06:20"))
    lines = export_lines(conversation, "2026-11-30T09:00:00+01:00", "console:emma")
    assert lines[0].startswith("You have not sent any")  # no question yet, in English
    assert lines[1].startswith("The full record, with the log of exchanges, cannot be sent")
    assert "mentorbot data export --user console:emma --format html" in lines[1]


def test_the_summary_is_short_whatever_the_number_and_length_of_questions(config: Config) -> None:
    conversation = Conversation(config)
    conversation.run(
        signing("console:bob", "Bob Martin", "2026-11-30T06:00")
        + signing("console:alice", "Alice Durand", "2026-11-30T06:10")
    )
    long_ask = QUESTION_FR[3][:-1] + " " + "et je détaille encore ma demande " * 40 + "?"
    events = []
    for n in range(12):
        texts = [*QUESTION_FR[:3], long_ask if n == 11 else QUESTION_FR[3], QUESTION_FR[4]]
        events += asking("console:alice", texts, f"2026-11-30T07:{n:02d}")
    conversation.run(events)
    summary = export_lines(conversation, "2026-11-30T09:00:00+01:00")[0]
    assert "Vos questions (12) :" in summary
    assert "Seules vos 10 dernières questions sont résumées ici" in summary
    assert "\nQ1 — " not in summary and "\nQ2 — " not in summary
    assert "\nQ3 — " in summary and "\nQ12 — " in summary
    assert long_ask not in summary and "…" in summary
    assert len(summary) < 3000
    # The document (where it can be sent) and `data export` keep everything.
    [q12] = [q for q in exported(config)["questions"] if q["id"] == "Q12"]
    assert q12["ask"] == long_ask


def test_a_mentor_cannot_export_a_mentees_trace(config: Config) -> None:
    conversation = Conversation(config)
    signed_with_a_question(conversation)
    lines = export_lines(conversation, "2026-11-30T09:00:00+01:00", "console:bob")
    assert lines[-1] == "La commande /export n'est pas disponible pour vous."
    assert not any(t.startswith("Résumé de votre trace") for t in lines)


def test_export_works_before_signing_the_charter(config: Config) -> None:
    conversation = Conversation(config)
    lines = export_lines(conversation, "2026-11-30T09:00:00+01:00")
    assert lines[0].startswith("Vous n'avez encore envoyé aucune question")
    assert "mentorbot data export --user console:alice" in lines[1]


def test_simulate_shows_the_document_it_would_send(tmp_path: Path) -> None:
    from tests.conftest import make_config

    config = make_config(tmp_path, """
locale: fr
timezone: Europe/Paris
people:
  - {id: "console:bob", role: mentor, name: "Bob Martin"}
  - {id: "telegram:42", role: mentee, name: "Alice Durand", mentor: "console:bob"}
""")
    conversation = Conversation(config)
    conversation.run(
        signing("console:bob", "Bob Martin", "2026-11-30T06:00")
        + signing("telegram:42", "Alice Durand", "2026-11-30T06:10")
        + asking("telegram:42", QUESTION_FR)
    )
    out = conversation.run([say("2026-11-30T09:00:00+01:00", "telegram:42", "/export")])
    summary, document = [line for line in out if line["to"] == "telegram:42"]
    assert summary["text"].startswith("Résumé de votre trace") and "document" not in summary
    assert document["text"].startswith("Votre trace complète")
    assert document["document"]["filename"] == "trace-de-travail-2026-11-30.html"
    assert document["document"]["media_type"] == "text/html"
    assert document["document"]["size"] > 2000


def test_the_studio_shows_the_document_a_telegram_person_receives(tmp_path: Path) -> None:
    import warnings

    with warnings.catch_warnings():  # Starlette would rather use httpx2, not installed here
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from bot.studio.server import Options, build
    from tests.conftest import make_config

    config = make_config(tmp_path, """
people:
  - {id: "telegram:1000", role: mentor, name: "Bob Martin"}
  - {id: "telegram:1001", role: mentee, name: "Alice Durand", mentor: "telegram:1000"}
""")
    start = datetime.fromisoformat("2026-11-30T07:00:00+01:00")
    studio = build(Options(config=config, start=start, stories=tmp_path / "stories"))
    with TestClient(studio, base_url="http://127.0.0.1:8765") as client:
        response = client.post("/api/say", json={"person": "telegram:1001", "text": "/export"})
        assert response.status_code == 200
        shown = [b for b in client.get("/api/state").json()["bubbles"]
                 if b["direction"] == "out"]
        assert shown[-1]["text"].startswith("Votre trace complète")
        assert shown[-1]["document"]["filename"] == "trace-de-travail-2026-11-30.html"
        assert shown[-1]["document"]["size"] > 1000
        assert "document" not in shown[-2]
