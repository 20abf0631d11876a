"""Charter versions, stale states, invitations, export formats and erasure."""

from __future__ import annotations

import io
import shutil
from datetime import datetime
from pathlib import Path

from rich.console import Console

from bot.app import build_app
from bot.clock import RealClock, VirtualClock
from bot.config import Config
from bot.data.export import export, render
from bot.data.forget import forget
from bot.data.invitations import create_invitation
from bot.messages import Inbound
from bot.transports.console import parse_duration, run_console
from tests.conftest import QUESTION_FR, ROOT, Conversation, asking, say, signing
from tests.storeview import StoreView, raw_text

NOW = datetime.fromisoformat("2026-11-30T07:00:00+01:00")


def copy_flows(tmp_path: Path) -> Path:
    target = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", target)
    return target


def with_flows(config: Config, flows: Path) -> Config:
    return config.model_copy(update={"paths": config.paths.model_copy(update={"flows": flows})})


def test_a_changed_charter_text_asks_everyone_to_sign_again(tmp_path: Path, config: Config) -> None:
    Conversation(config).run(signing("console:alice", "Alice Durand"))
    flows = copy_flows(tmp_path)
    charter = flows / "charter.yaml"
    charter.write_text(
        charter.read_text(encoding="utf-8").replace("de 8h à 18h.", "de 9h à 17h."),
        encoding="utf-8",
    )
    changed = with_flows(config, flows)
    out = Conversation(changed).run([say("2026-12-01T07:00:00+01:00", "console:alice", "Bonjour")])
    assert out[0]["text"].startswith("La charte a été modifiée depuis votre signature")
    assert out[1]["text"].startswith("Charte d'usage")
    out = Conversation(changed).run(
        signing("console:alice", "Alice Durand", "2026-12-01T07:10")[1:]
    )
    assert "Merci Alice Durand" in out[-3]["text"]
    assert out[-2]["text"].endswith("ont changé :\n• 3. Temporalité et modalités de réponse")
    record = export(build_app(changed, VirtualClock(NOW)).engine, "console:alice")
    versions = [s["version"] for s in record["charter"]]
    assert len(versions) == 2 and versions[0] != versions[1]


def test_a_stored_step_that_no_longer_exists_is_reset_with_a_message(
    tmp_path: Path, config: Config
) -> None:
    conversation = Conversation(config)
    conversation.run(
        signing("console:alice", "Alice Durand")
        + [say("2026-11-30T07:10:00+01:00", "console:alice", "Poser une question")]
    )
    flows = copy_flows(tmp_path)
    question = flows / "question.yaml"
    question.write_text(
        question.read_text(encoding="utf-8")
        .replace("  context:\n", "  situation:\n")
        .replace("start: context", "start: situation"),
        encoding="utf-8",
    )
    menu = flows / "menu.yaml"
    menu.write_text(
        menu.read_text(encoding="utf-8").replace("question:context", "question:situation"),
        encoding="utf-8",
    )
    out = Conversation(with_flows(config, flows)).run(
        [say("2026-11-30T07:11:00+01:00", "console:alice", "Une phrase de contexte")]
    )
    assert out[0]["text"].startswith("Cette étape n'existe plus")
    assert out[1]["choices"][0] == "Poser une question"


def test_an_invitation_enrolls_a_new_mentee_once(config: Config) -> None:
    app = build_app(config, VirtualClock(NOW))
    code, link = create_invitation(app.engine, "console:bob", 14)
    assert len(code) == 8 and link is None
    out = app.engine.handle(Inbound("telegram:42", "m1", NOW, text=f"/start {code}"))
    assert out[0].text.startswith("Bienvenue")
    assert app.engine.profile("telegram:42") is not None
    again = app.engine.handle(Inbound("telegram:43", "m2", NOW, text=f"/start {code}"))
    assert "réservé aux personnes inscrites" in again[0].text
    assert app.engine.profile("telegram:43") is None


def test_an_expired_invitation_is_refused(config: Config) -> None:
    clock = VirtualClock(NOW)
    app = build_app(config, clock)
    code, _ = create_invitation(app.engine, "console:bob", 1)
    clock.set(datetime.fromisoformat("2026-12-02T07:00:00+01:00"))
    out = app.engine.handle(Inbound("telegram:42", "m1", clock.now(), text=f"/start {code}"))
    assert "réservé aux personnes inscrites" in out[0].text


def test_export_formats(config: Config) -> None:
    conversation = Conversation(config)
    conversation.run(
        signing("console:bob", "Bob Martin", "2026-11-30T06:00")
        + signing("console:alice", "Alice Durand", "2026-11-30T06:10")
        + asking("console:alice", QUESTION_FR)
        + [say("2026-11-30T09:00:00+01:00", "console:bob", "/repondre Q1 Une piste.")]
    )
    engine = build_app(config, VirtualClock(NOW)).engine
    record = export(engine, "console:alice")
    markdown = render(record, "md", engine)
    assert markdown.startswith("# Trace de travail — Alice Durand")
    assert "### Q1 — 30 novembre 2026 à 07:30" in markdown
    assert "> 30 novembre 2026 à 09:00 — réponse du mentor — Une piste." in markdown
    # the journal says who wrote each line, as the person reading their own trace says it
    assert "· Vous · J'accepte" in markdown
    assert "· Le bot · Charte, 1. Nature de l'outil" in markdown  # not an internal reference
    assert ":article_1" not in markdown
    assert "· Votre mentor · " in markdown and "Une piste." in markdown
    assert "· Le bot · " in markdown
    assert "Bot ou mentor" not in markdown and "Personne ·" not in markdown
    mentor = render(export(engine, "console:bob"), "md", engine)
    assert "· Votre réponse, transmise · Une piste." in mentor
    page = render(record, "html", engine)
    assert page.startswith("<!DOCTYPE html>") and '<html lang="fr">' in page
    assert "J&#39;ai essayé" in page  # escaped
    assert "<link" not in page and "<script" not in page  # self-contained
    english = render(export(engine, "console:emma"), "html", engine)
    assert '<html lang="en">' in english


def test_forget_erases_the_mentee_everywhere(config: Config) -> None:
    conversation = Conversation(config)
    conversation.run(
        signing("console:bob", "Bob Martin", "2026-11-30T06:00")
        + signing("console:alice", "Alice Durand", "2026-11-30T06:10")
        + asking("console:alice", QUESTION_FR)
        + [{"at": "2026-11-30T08:00:00+01:00", "tick": True}]
    )
    engine = build_app(config, VirtualClock(NOW)).engine
    store = StoreView(config.storage.path)
    assert any(e.qid == "Q1" for e in store.read_journal("console:bob"))
    summary = forget(engine, "console:alice")
    assert "1 question(s)" in summary
    assert "console:alice" not in list(store.person_ids())
    assert not any(e.qid == "Q1" for e in store.read_journal("console:bob"))
    assert store.question("Q1") is None
    raw = raw_text(config.storage.path)
    assert QUESTION_FR[1] not in raw


def test_console_plays_both_roles(config: Config) -> None:
    script = "\n".join(
        [
            "Bonjour",
            "1",
            *["1"] * 6,
            "Alice Durand",
            "/as console:bob",
            "Bonjour",
            "/as console:nobody",
            "/attendre 2h",
            "/attendre bientôt",
            "/quitter",
        ]
    )
    buffer = io.StringIO()
    run_console(
        config,
        "console:alice",
        io.StringIO(script + "\n"),
        Console(file=buffer, width=120, force_terminal=False),
        RealClock(),
    )
    text = buffer.getvalue()
    assert "Vous écrivez en tant que console:alice" in text
    assert "Merci Alice Durand" in text
    assert "Vous écrivez maintenant en tant que console:bob" in text
    assert "→ console:bob" in text
    assert "console:nobody n'est pas dans la liste" in text
    assert "Horloge avancée au" in text
    assert "Durée non comprise : bientôt" in text
    assert "1. Lire l'article 1" in text


def test_durations() -> None:
    assert parse_duration("30m") is not None and parse_duration("2h") is not None
    assert parse_duration("1j") == parse_duration("1d")
    assert parse_duration("soon") is None
