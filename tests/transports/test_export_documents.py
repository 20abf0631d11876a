"""`/export` in the chat over the fake Telegram and WhatsApp APIs (real HTTP on loopback): a short
summary, then the whole trace as an HTML document (Telegram `sendDocument`, a WhatsApp media
upload then a document message). Exports are never journalled nor queued in the outbox."""

from __future__ import annotations

from datetime import datetime

from tests.transports.conftest import (
    PARIS,
    QUESTION,
    SIGNING,
    TG_MENTEE,
    TG_MENTOR,
    WA_MENTEE,
    WA_MENTOR,
    World,
)
from tests.transports.multipart import Upload

TG = f"telegram:{TG_MENTEE}"
WA = f"whatsapp:{WA_MENTEE}"
FOLLOWUP = "Je vais l'associer à la préparation de la prochaine réunion."


async def tg_thread(world: World) -> None:
    """Alice asks, Bob answers, Alice follows up then closes the question."""
    await world.tg_say(TG_MENTOR, "/start", *SIGNING, "Bob Martin")
    await world.tg_say(TG_MENTEE, "/start", *SIGNING, "Alice Durand")
    await world.tg_say(TG_MENTEE, "1", *QUESTION, "1")
    world.advance_to(datetime(2026, 11, 30, 8, 0, tzinfo=PARIS))
    await world.runtime.tick()
    await world.idle()
    await world.tg_say(TG_MENTOR, "/repondre Q1 Associez-la à la préparation.")
    await world.tg_say(TG_MENTEE, "Poursuivre Q1", FOLLOWUP, "Clore Q1")


async def test_export_over_telegram_is_a_summary_then_an_html_document(world: World) -> None:
    tg = world.tg
    assert tg is not None
    await tg_thread(world)
    journal_before = len(world.journal(TG))
    await world.tg_say(TG_MENTEE, "/export")

    summary = tg.texts(TG_MENTEE)[-1]
    assert summary.startswith("Résumé de votre trace de travail")
    assert "Q1" in summary and "close" in summary
    assert "Associez-la à la préparation." in summary and FOLLOWUP in summary
    assert len(summary) < 2000  # readable in a chat, not a dump of the journal
    [sent] = tg.documents(TG_MENTEE)
    upload = sent["document"]
    assert isinstance(upload, Upload)
    assert upload.filename == "trace-de-travail-2026-11-30.html"
    page = upload.content.decode("utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Trace de travail — Alice Durand" in page
    assert "Associez-la à la préparation." in page and "la prochaine réunion" in page
    assert str(sent["caption"]).startswith("Votre trace complète")

    # Never journalled (only the command), never left in the outbox.
    journal = world.journal(TG)
    assert [(e.direction, e.text) for e in journal[journal_before:]] == [("in", "/export")]
    assert world.outbox(TG) == []

    # The next export does not contain the previous one.
    await world.tg_say(TG_MENTEE, "/export")
    first, second = (d["document"].content for d in tg.documents(TG_MENTEE))
    assert second.count(b"Votre trace compl") == first.count(b"Votre trace compl") == 0
    assert second.count("Résumé de votre trace".encode()) == 0
    assert abs(len(second) - len(first)) < 500  # one more "/export" line in the journal


async def test_a_refused_document_does_not_block_what_follows(world: World) -> None:
    tg = world.tg
    assert tg is not None
    await tg_thread(world)
    tg.fail("sendDocument", status=400, times=1, body={
        "ok": False, "error_code": 400, "description": "Bad Request: file is too big"})
    await world.tg_say(TG_MENTEE, "/export", "/aide")
    texts = tg.texts(TG_MENTEE)
    index = max(i for i, t in enumerate(texts) if t.startswith("Résumé de votre trace"))
    assert any("Commandes :" in t for t in texts[index + 1:])  # the help, after the refusal
    assert tg.documents(TG_MENTEE) == []
    assert world.outbox(TG) == []


async def wa_question(world: World) -> None:
    await world.wa_say(WA_MENTOR, "Bonjour", *SIGNING, "Marc Leroy")
    await world.wa_say(WA_MENTEE, "Bonjour", *SIGNING, "Chloé Petit")
    await world.wa_say(WA_MENTEE, "1", *QUESTION, "1")


async def test_export_over_whatsapp_uploads_the_page_then_sends_a_document(world: World) -> None:
    graph = world.graph
    assert graph is not None
    await wa_question(world)
    journal_before = len(world.journal(WA))
    await world.wa_say(WA_MENTEE, "/export")

    [upload] = graph.uploads()
    assert upload["messaging_product"] == "whatsapp" and upload["type"] == "text/plain"
    file = upload["file"]
    assert isinstance(file, Upload) and file.filename == "trace-de-travail-2026-11-30.html"
    page = file.content.decode("utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Trace de travail — Chloé Petit" in page
    sent = graph.accepted(WA_MENTEE)
    summary, document = sent[-2], sent[-1]
    assert summary["type"] == "text"
    assert summary["text"]["body"].startswith("Résumé de votre trace de travail")
    assert QUESTION[2] in summary["text"]["body"]
    assert document["type"] == "document"
    assert document["document"]["id"] in graph.media
    assert document["document"]["filename"] == file.filename
    assert document["document"]["caption"].startswith("Votre trace complète")
    journal = world.journal(WA)
    assert [(e.direction, e.text) for e in journal[journal_before:]] == [("in", "/export")]
    assert world.outbox(WA) == []


async def test_a_failed_upload_sends_no_document_message_and_is_tried_again(world: World) -> None:
    graph = world.graph
    assert graph is not None
    await wa_question(world)
    graph.upload_failures = 1
    await world.wa_say(WA_MENTEE, "/export")
    assert graph.uploads() == []
    assert not any(m["type"] == "document" for m in graph.accepted(WA_MENTEE))
    world.runtime.dispatcher.retry_now()  # the volatile document waits in memory
    await world.idle()
    assert len(graph.uploads()) == 1
    assert graph.accepted(WA_MENTEE)[-1]["type"] == "document"
