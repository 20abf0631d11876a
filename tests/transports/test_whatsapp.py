"""WhatsApp: real webhook payloads (signed) posted to our server, replies sent to a fake Graph
API on loopback; the journey, batches, redeliveries, the 24-hour window, rate limits."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.messages import AttachmentKind, Outbound
from bot.transports.whatsapp import parse_webhook, render, signature_valid
from tests.transports.conftest import (
    PARIS,
    QUESTION,
    SIGNING,
    VERIFY_TOKEN,
    WA_MENTEE,
    WA_MENTOR,
    WA_SAMPLE,
    World,
    fixtures_dir,
    load_fixture,
)
from tests.transports.fake_graph import PHONE_NUMBER_ID

MENTEE = f"whatsapp:{WA_MENTEE}"
MENTOR = f"whatsapp:{WA_MENTOR}"
SAMPLE = f"whatsapp:{WA_SAMPLE}"


def bodies(world: World, wa_id: str) -> list[str]:
    """The text of each message accepted for `wa_id` (the body of interactive ones)."""
    assert world.graph is not None
    out = []
    for payload in world.graph.accepted(wa_id):
        if payload["type"] == "text":
            out.append(payload["text"]["body"])
        elif payload["type"] == "interactive":
            out.append(payload["interactive"]["body"]["text"])
        else:
            out.append(f"<{payload['type']}>")
    return out


def templates(world: World, wa_id: str) -> list[dict[str, Any]]:
    assert world.graph is not None
    return [p["template"] for p in world.graph.accepted(wa_id) if p["type"] == "template"]


async def sign_up(world: World, wa_id: str, name: str) -> None:
    await world.wa_say(wa_id, "/start", *SIGNING, name)


async def ask(world: World, wa_id: str) -> None:
    menu = world.wa.press(wa_id, "c:1", "Poser une question", kind="list_reply")
    assert (await world.post_whatsapp(world.wa.wrap(wa_id, menu))).status_code == 200
    await world.wa_say(wa_id, *QUESTION, "1")


# -- the journey ----------------------------------------------------------------------------


async def test_the_whole_journey_over_whatsapp(world: World) -> None:
    await sign_up(world, WA_MENTOR, "Marc Leroy")
    await sign_up(world, WA_MENTEE, "Chloé Petit")
    await ask(world, WA_MENTEE)
    mentee = bodies(world, WA_MENTEE)
    assert mentee[1].startswith("Charte d'usage de WhatsApp")
    assert any(t.startswith("Merci Chloé Petit. La charte est signée") for t in mentee)
    assert any("Q1" in t and "lundi 30 novembre à 08:00" in t for t in mentee)

    world.advance_to(datetime(2026, 11, 30, 8, 0, tzinfo=PARIS))
    await world.runtime.tick()
    await world.idle()
    mentor = bodies(world, WA_MENTOR)
    assert any(t.startswith("Synthèse du lundi 30 novembre à 08:00") for t in mentor)
    assert any(t.startswith("Q1") and QUESTION[1] in t for t in mentor)

    await world.wa_say(WA_MENTOR, "/repondre Q1 Associez-la à la préparation de la réunion.")
    assert len([t for t in bodies(world, WA_MENTEE) if "Associez-la" in t]) == 1
    assert world.outbox(MENTEE) == [] and world.outbox(MENTOR) == []
    for pid in (MENTEE, MENTOR):
        keys = [e.key for e in world.journal(pid)]
        assert len(keys) == len(set(keys))
    # every send is tracked until its final status (none came: the fake sends no statuses)
    for wamid in world.graph.wamids(WA_MENTEE):
        assert world.transport_state("whatsapp", f"delivery:{wamid}") is not None


async def test_choices_become_reply_buttons_or_a_list(world: World) -> None:
    assert world.graph is not None
    await sign_up(world, WA_MENTEE, "Chloé Petit")
    payloads = world.graph.accepted(WA_MENTEE)
    article = next(p for p in payloads if p["type"] == "interactive"
                   and p["interactive"]["body"]["text"].startswith("Article 1/6\n1. Nature"))
    assert article["interactive"]["type"] == "button"
    buttons = article["interactive"]["action"]["buttons"]
    key = buttons[0]["reply"]["id"].split(":")[1]  # the key of the prompt, on every button
    assert buttons == [
        {"type": "reply", "reply": {"id": f"c:{key}:1", "title": "J'accepte"}},
        {"type": "reply", "reply": {"id": f"c:{key}:2", "title": "Je n'accepte pas"}}]
    menu = payloads[-1]["interactive"]
    assert menu["type"] == "list"
    assert menu["action"]["button"] == "Options"
    rows = menu["action"]["sections"][0]["rows"]
    assert 3 < len(rows) <= 10
    menu_key = rows[0]["id"].split(":")[1]
    assert menu_key != key
    assert [r["id"] for r in rows] == [f"c:{menu_key}:{i}" for i in range(1, len(rows) + 1)]
    assert rows[0]["title"] == "Poser une question"
    assert all(len(r["title"]) <= 24 for r in rows)


def test_render_respects_the_platform_limits() -> None:
    three = render(Outbound(to="w:1", text="Texte", choices=("Oui", "Non", "Peut-être")), "1",
                   "Options")
    assert [p["type"] for p in three] == ["interactive"]
    assert three[0]["interactive"]["type"] == "button"

    long_label = "Je suis en sécurité, reprendre la conversation"
    listed = render(Outbound(to="w:1", text="Texte", choices=("Oui", long_label)), "1", "Voir")
    interactive = listed[0]["interactive"]
    assert interactive["type"] == "list" and interactive["action"]["button"] == "Voir"
    row = interactive["action"]["sections"][0]["rows"][1]
    assert len(row["title"]) <= 24 and row["title"].endswith("…")
    assert row["description"] == long_label

    same = render(Outbound(to="w:1", text="Texte", choices=("Oui", "Oui")), "1", "Voir")
    assert same[0]["interactive"]["type"] == "list"

    many = tuple(f"Option {i}" for i in range(1, 12))
    numbered = render(Outbound(to="w:1", text="Texte", choices=many), "1", "Voir")
    assert [p["type"] for p in numbered] == ["text"]
    assert "1. Option 1" in numbered[0]["text"]["body"]
    assert "11. Option 11" in numbered[0]["text"]["body"]

    text = "\n\n".join(["Une phrase assez longue pour remplir le message. " * 10] * 8)
    parts = render(Outbound(to="w:1", text=text, choices=("Oui", "Non")), "1", "Voir")
    assert parts[-1]["type"] == "interactive"
    assert len(parts[-1]["interactive"]["body"]["text"]) <= 1024
    assert all(len(p["text"]["body"]) <= 4096 for p in parts[:-1])
    joined = [p["text"]["body"] for p in parts[:-1]] + [parts[-1]["interactive"]["body"]["text"]]
    assert "".join("".join(joined).split()) == "".join(text.split())

    plain = render(Outbound(to="w:1", text="x " * 5000), "1", "Voir")
    assert len(plain) == 3 and all(len(p["text"]["body"]) <= 4096 for p in plain)


# -- webhook security -----------------------------------------------------------------------


async def test_the_subscription_check(world: World) -> None:
    async def get(params: dict[str, str]) -> tuple[int, str]:
        response = await world.client.get("/webhooks/whatsapp", params=params)
        return response.status_code, response.text

    good = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN,
            "hub.challenge": "1158201444"}
    assert await get(good) == (200, "1158201444")
    assert (await get({**good, "hub.verify_token": "wrong"}))[0] == 403
    assert (await get({**good, "hub.mode": "unsubscribe"}))[0] == 403
    assert (await get({"hub.challenge": "1"}))[0] == 403


async def test_missing_or_wrong_signatures_process_nothing(world: World) -> None:
    assert world.graph is not None
    payload = world.wa.wrap(WA_MENTEE, world.wa.text(WA_MENTEE, "/start"))
    body = json.dumps(payload).encode()
    assert (await world.post_whatsapp(payload, signature=None)).status_code == 401
    assert (await world.post_whatsapp(payload, signature="sha256=" + "0" * 64)).status_code == 403
    assert (await world.post_whatsapp(payload, signature="sha1=abc")).status_code == 403
    tampered = body.replace(b"/start", b"/aide")
    from bot.transports.whatsapp import sign

    forged = sign("another-secret", tampered)
    assert (await world.post_whatsapp(None, raw=tampered, signature=forged)).status_code == 403
    assert (await world.post_whatsapp(None, raw=tampered,
                                      signature=sign("test-app-secret", body))).status_code == 403
    assert world.graph.attempts() == []
    assert world.person(MENTEE) is None
    assert (await world.post_whatsapp(None, raw=b"{not json")).status_code == 400
    assert (await world.post_whatsapp(payload)).status_code == 200
    assert len(bodies(world, WA_MENTEE)) == 2


def test_signature_check_is_over_the_raw_bytes() -> None:
    body = b'{"a": 1}'
    from bot.transports.whatsapp import sign

    assert signature_valid("k", body, sign("k", body))
    assert signature_valid("k", body, sign("k", body).upper().replace("SHA256", "sha256"))
    assert not signature_valid("k", b'{"a":1}', sign("k", body))
    assert not signature_valid("k", body, "sha256=")
    assert not signature_valid("k", body, "sha256=é")


# -- parsing ------------------------------------------------------------------------------------


def test_every_fixture_parses() -> None:
    directory = fixtures_dir()
    seen = 0
    for path in sorted(directory.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        cases = data.values() if path.name.startswith("pywa_") else [data]
        for case in cases:
            parse_webhook(case)
            seen += 1
    assert seen > 40


def test_meta_examples_map_to_inbound_messages() -> None:
    text = parse_webhook(load_fixture("meta_text_message.json"))
    [message] = text.messages
    assert (message.wa_id, message.text) == (WA_SAMPLE, "Does it come in another color?")
    assert message.inbound(datetime.now(PARIS)).message_id.startswith("wa:wamid.")
    assert message.phone_number_id == PHONE_NUMBER_ID
    kinds = {name: parse_webhook(load_fixture(name)).messages[0].attachment
             for name in ("meta_image_message.json", "meta_document_message.json",
                          "meta_unsupported_message_131051.json")}
    assert kinds == {"meta_image_message.json": AttachmentKind.IMAGE,
                     "meta_document_message.json": AttachmentKind.DOCUMENT,
                     "meta_unsupported_message_131051.json": AttachmentKind.OTHER}
    button = parse_webhook(load_fixture("meta_interactive_button_reply.json")).messages[0]
    assert (button.text, button.choice) == ("Cancel", None)  # not one of ours: its title
    listed = parse_webhook(load_fixture("meta_interactive_list_reply.json")).messages[0]
    assert listed.text == "Priority Mail Express"
    failed = parse_webhook(load_fixture("meta_status_failed_131049.json")).statuses[0]
    assert (failed.status, failed.codes, failed.wa_id) == ("failed", (131049,), WA_SAMPLE)
    minimal = parse_webhook(load_fixture("meta_status_sent_v24_minimal.json")).statuses[0]
    assert minimal.status == "sent"
    assert parse_webhook(load_fixture("meta_error_value_level_130429.json")).errors == [130429]


def test_pywa_examples_map_to_inbound_messages() -> None:
    messages = load_fixture("pywa_fixtures_message.json")

    def first(case: str) -> Any:
        batch = parse_webhook(messages[case])
        return batch.messages[0] if batch.messages else None

    assert first("text").text
    expected = {"image": AttachmentKind.IMAGE, "video": AttachmentKind.VIDEO,
                "document": AttachmentKind.DOCUMENT, "audio": AttachmentKind.AUDIO,
                "voice": AttachmentKind.AUDIO, "static_sticker": AttachmentKind.STICKER,
                "animated_sticker": AttachmentKind.STICKER,
                "current_location": AttachmentKind.LOCATION,
                "chosen_location": AttachmentKind.LOCATION, "contacts": AttachmentKind.CONTACT,
                "order": AttachmentKind.OTHER, "unsupported": AttachmentKind.OTHER,
                "interactive_message_with_err": AttachmentKind.OTHER}
    for case, kind in expected.items():
        assert first(case).attachment is kind, case
    for case in ("reaction", "unreaction_empty", "unreaction_no_emoji"):
        assert first(case) is None, case
    buttons = load_fixture("pywa_fixtures_callback_button.json")
    quick = parse_webhook(buttons["quick_reply_without_context"]).messages[0]
    assert quick.text == "title"
    statuses = load_fixture("pywa_fixtures_message_status.json")
    assert [parse_webhook(statuses[c]).statuses[0].status
            for c in ("sent", "delivered", "read", "failed")] == \
        ["sent", "delivered", "read", "failed"]
    assert parse_webhook(statuses["group"]).statuses == []


def test_missing_contacts_and_wa_id_are_tolerated() -> None:
    payload = copy.deepcopy(load_fixture("meta_text_message.json"))
    value = payload["entry"][0]["changes"][0]["value"]
    del value["contacts"]
    assert parse_webhook(payload).messages[0].wa_id == WA_SAMPLE
    payload = copy.deepcopy(load_fixture("meta_text_message.json"))
    value = payload["entry"][0]["changes"][0]["value"]
    del value["messages"][0]["from"]
    assert parse_webhook(payload).messages[0].wa_id == WA_SAMPLE
    del value["contacts"]
    batch = parse_webhook(payload)
    assert batch.messages == [] and batch.skipped == 1
    junks: list[Any] = [None, [], {"entry": "x"}, {"entry": [{"changes": [{"value": []}]}]}]
    for junk in junks:
        assert parse_webhook(junk).messages == []


# -- batches, redeliveries, attachments ------------------------------------------------------


async def test_a_batch_is_handled_whole_and_in_order(world: World) -> None:
    wa = world.wa
    first = wa.wrap(WA_MENTEE, wa.text(WA_MENTEE, "/start"), wa.press(WA_MENTEE, "c:1"))
    second = wa.wrap(WA_MENTOR, wa.text(WA_MENTOR, "/start"))
    other = wa.wrap(WA_MENTOR, wa.text(WA_MENTOR, "/aide"))
    other["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999"
    statuses = load_fixture("meta_status_delivered.json")
    payload = {"object": "whatsapp_business_account",
               "entry": [first["entry"][0],
                         {"id": "2", "changes": [second["entry"][0]["changes"][0],
                                                 other["entry"][0]["changes"][0],
                                                 statuses["entry"][0]["changes"][0]]}]}
    response = await world.post_whatsapp(payload)
    assert response.status_code == 200
    mentee = bodies(world, WA_MENTEE)
    assert mentee[0].startswith("Bienvenue") and mentee[-1].startswith("Article 1/6\n1. Nature")
    assert len(mentee) == 3
    assert len(bodies(world, WA_MENTOR)) == 2  # its /aide came for another number
    assert [e.text for e in world.journal(MENTEE) if e.direction == "in"] == \
        ["/start", "Lire l'article 1"]


async def test_a_redelivered_webhook_changes_nothing(world: World) -> None:
    assert world.graph is not None
    payload = world.wa.wrap(WA_MENTEE, world.wa.text(WA_MENTEE, "/start"))
    assert (await world.post_whatsapp(payload)).status_code == 200
    requests, journal = len(world.graph.attempts()), len(world.journal(MENTEE))
    for _ in range(2):
        assert (await world.post_whatsapp(payload)).status_code == 200
    assert len(world.graph.attempts()) == requests
    assert len(world.journal(MENTEE)) == journal


async def test_attachments_are_refused_and_no_media_is_fetched(world: World) -> None:
    assert world.graph is not None
    image = load_fixture("meta_image_message.json")
    assert (await world.post_whatsapp(image)).status_code == 200
    messages = load_fixture("pywa_fixtures_message.json")
    cases = ["document", "audio", "video", "static_sticker", "current_location", "contacts",
             "unsupported"]
    for n, case in enumerate(cases):
        payload = copy.deepcopy(messages[case])
        value = payload["entry"][0]["changes"][0]["value"]
        value["metadata"]["phone_number_id"] = PHONE_NUMBER_ID
        value["contacts"][0]["wa_id"] = WA_SAMPLE
        value["messages"][0].update({"from": WA_SAMPLE, "id": f"wamid.case{n}"})
        assert (await world.post_whatsapp(payload)).status_code == 200
    replies = bodies(world, WA_SAMPLE)
    expected = ["une image", "un document", "un message vocal", "une vidéo", "un autocollant",
                "une localisation", "une fiche contact", "un contenu autre que du texte"]
    assert len(replies) == len(expected)
    for reply, kind in zip(replies, expected, strict=True):
        assert kind in reply
    attempts = world.graph.attempts()
    assert all(r.method == "POST" and r.path.endswith("/messages") for r in attempts)
    assert "lookaside" not in json.dumps([r.body for r in attempts])
    refused = [e for e in world.journal(SAMPLE) if e.kind == "attachment_refused"]
    assert len(refused) == len(expected)


async def test_a_stranger_gets_one_answer_and_nothing_is_stored(world: World) -> None:
    await world.wa_say("33699999999", "Bonjour")
    assert len(bodies(world, "33699999999")) == 1
    assert world.person("whatsapp:33699999999") is None


async def test_value_level_errors_and_unknown_statuses_are_acknowledged(world: World) -> None:
    assert world.graph is not None
    for name in ("meta_error_value_level_130429.json", "meta_status_sent.json",
                 "meta_status_failed_131049.json"):
        assert (await world.post_whatsapp(load_fixture(name))).status_code == 200
    assert world.graph.attempts() == []


# -- delivery statuses, the 24-hour window, rate limits ---------------------------------------


async def test_delivery_statuses_are_recorded_once_and_never_go_back(world: World) -> None:
    assert world.graph is not None
    await world.wa_say(WA_MENTEE, "/start")
    wamid = world.graph.wamids(WA_MENTEE)[-1]
    for status in ("sent", "delivered", "read", "delivered", "sent", "read"):
        response = await world.post_whatsapp(world.wa.status(WA_MENTEE, wamid, status))
        assert response.status_code == 200
    # the first final status ("delivered") ends the record; later or older news changes nothing
    assert world.transport_state("whatsapp", f"delivery:{wamid}") is None
    assert world.outbox(MENTEE) == []


async def test_the_24_hour_window_holds_messages_behind_a_template(world: World) -> None:
    await sign_up(world, WA_MENTOR, "Marc Leroy")
    await sign_up(world, WA_MENTEE, "Chloé Petit")
    await ask(world, WA_MENTEE)
    world.advance_to(datetime(2026, 11, 30, 8, 0, tzinfo=PARIS))
    await world.runtime.tick()
    await world.idle()

    # Tuesday 09:00: more than 24 h after Chloé's last message, Marc answers
    world.advance_to(datetime(2026, 12, 1, 9, 0, tzinfo=PARIS))
    await world.wa_say(WA_MENTOR, "/repondre Q1 Associez-la à la préparation de la réunion.")
    assert any("Q1" in t for t in bodies(world, WA_MENTOR)[-2:])  # Marc just wrote: open
    assert templates(world, WA_MENTEE) == [{"name": "mentorbot_waiting",
                                            "language": {"code": "fr"}}]
    assert not any("Associez-la" in t for t in bodies(world, WA_MENTEE))
    [held] = world.outbox(MENTEE)
    assert held["status"] == "held" and "Associez-la" in held["text"]

    # another message while the window is closed: held too, no second template
    await world.runtime.dispatcher.submit([Outbound(to=MENTEE, text="Complément", key="x#1")])
    await world.idle()
    assert len(world.outbox(MENTEE)) == 2 and len(templates(world, WA_MENTEE)) == 1

    # Chloé writes back: the held messages go first, in order, then the reply to her message
    world.advance_to(datetime(2026, 12, 1, 10, 0, tzinfo=PARIS))
    await world.wa_say(WA_MENTEE, "/aide")
    after = bodies(world, WA_MENTEE)
    start = next(i for i, t in enumerate(after) if "Associez-la" in t)
    assert after[start + 1] == "Complément"
    assert len(after) > start + 2
    assert world.outbox(MENTEE) == []
    assert len(templates(world, WA_MENTEE)) == 1


async def test_the_template_is_sent_again_only_after_a_new_silence(world: World) -> None:
    await world.wa_say(WA_MENTEE, "/start")
    world.advance_to(world.clock.now() + timedelta(hours=25))
    await world.runtime.dispatcher.submit([Outbound(to=MENTEE, text="Un", key="t#1")])
    await world.idle()
    world.advance_to(world.clock.now() + timedelta(minutes=30))
    await world.wa_say(WA_MENTEE, "/aide")  # window open again: "Un" is delivered
    assert "Un" in bodies(world, WA_MENTEE)
    world.advance_to(world.clock.now() + timedelta(hours=25))
    await world.runtime.dispatcher.submit([Outbound(to=MENTEE, text="Deux", key="t#2")])
    await world.idle()
    assert len(templates(world, WA_MENTEE)) == 2


async def test_error_131047_at_once_holds_the_message(world: World) -> None:
    assert world.graph is not None
    await world.wa_say(WA_MENTEE, "/start")
    world.graph.fail(131047)
    await world.runtime.dispatcher.submit([Outbound(to=MENTEE, text="Réponse", key="r#1")])
    await world.idle()
    assert len(templates(world, WA_MENTEE)) == 1
    assert [e["status"] for e in world.outbox(MENTEE)] == ["held"]
    window = world.transport_state("whatsapp", f"window:{MENTEE}")
    assert isinstance(window, dict) and "wa_window_closed_at" in window
    world.advance_to(world.clock.now() + timedelta(minutes=5))
    await world.wa_say(WA_MENTEE, "/aide")
    assert "Réponse" in bodies(world, WA_MENTEE)
    assert world.outbox(MENTEE) == []


async def test_error_131047_in_a_failed_status_holds_the_message_again(world: World) -> None:
    assert world.graph is not None
    await world.wa_say(WA_MENTEE, "/start")
    await world.runtime.dispatcher.submit([Outbound(to=MENTEE, text="Réponse", key="r#1",
                                                    choices=("Oui", "Non"))])
    await world.idle()
    wamid = world.graph.wamids(WA_MENTEE)[-1]
    assert bodies(world, WA_MENTEE).count("Réponse") == 1
    failed = world.wa.status(WA_MENTEE, wamid, "failed", codes=(131047,))
    assert (await world.post_whatsapp(failed)).status_code == 200
    assert (await world.post_whatsapp(failed)).status_code == 200  # a duplicate: no effect
    assert len(templates(world, WA_MENTEE)) == 1
    [held] = world.outbox(MENTEE)
    assert held["status"] == "held" and held["choices"] == ["Oui", "Non"]
    world.advance_to(world.clock.now() + timedelta(minutes=5))
    await world.wa_say(WA_MENTEE, "/aide")
    assert bodies(world, WA_MENTEE).count("Réponse") == 2
    assert world.outbox(MENTEE) == []


async def test_rate_limits_are_retried_with_back_off(world: World) -> None:
    assert world.graph is not None
    await world.wa_say(WA_MENTEE, "/start")
    before = len(world.graph.attempts())
    world.graph.fail(130429, times=2)
    await world.runtime.dispatcher.submit([Outbound(to=MENTEE, text="Un", key="l#1")])
    await world.idle()
    assert len(world.graph.attempts()) - before == 3
    assert bodies(world, WA_MENTEE).count("Un") == 1

    world.graph.fail(131056, times=3)  # more than the configured retries
    await world.runtime.dispatcher.submit([Outbound(to=MENTEE, text="Deux", key="l#2")])
    await world.idle()
    assert "Deux" not in bodies(world, WA_MENTEE)
    assert [e["key"] for e in world.outbox(MENTEE)] == ["l#2"]
    world.runtime.dispatcher.retry_now()
    await world.idle()
    assert bodies(world, WA_MENTEE).count("Deux") == 1
    assert world.outbox(MENTEE) == []


async def test_a_refused_message_is_dropped_and_the_next_goes_on(world: World) -> None:
    assert world.graph is not None
    await world.wa_say(WA_MENTEE, "/start")
    world.graph.fail(131026)  # undeliverable
    await world.runtime.dispatcher.submit([Outbound(to=MENTEE, text="Un", key="d#1"),
                                           Outbound(to=MENTEE, text="Deux", key="d#2")])
    await world.idle()
    assert "Un" not in bodies(world, WA_MENTEE) and "Deux" in bodies(world, WA_MENTEE)
    assert world.outbox(MENTEE) == []


def test_fixtures_directory_is_beside_the_repository() -> None:
    directory = fixtures_dir()
    assert directory.name == "whatsapp" and isinstance(directory, Path)
    assert (directory / "README.md").is_file()


@pytest.mark.parametrize("name", ["meta_text_message.json", "meta_image_message.json"])
async def test_fixtures_are_accepted_verbatim(world: World, name: str) -> None:
    assert (await world.post_whatsapp(load_fixture(name))).status_code == 200
    assert bodies(world, WA_SAMPLE)


async def test_a_webhook_body_nested_300000_deep_is_a_400(world: World) -> None:
    deep = b"[" * 300_000 + b"]" * 300_000
    response = await world.post_whatsapp(None, raw=deep)
    assert response.status_code == 400 and response.json() == {"status": "bad request"}


async def test_a_lone_surrogate_never_blocks_an_outbox(world: World) -> None:
    """A broken client's lone surrogate: replaced before anything is stored or sent; the
    person's replies and the mentor's digest go out (the block spread to the mentor once)."""
    raw = (json.dumps(world.wa.wrap(WA_MENTEE, world.wa.text(WA_MENTEE, "/start")))
           .replace("/start", "/start \\ud83d"))
    response = await world.post_whatsapp(None, raw=raw.encode())
    assert response.status_code == 200
    await world.idle()
    assert world.outbox(MENTEE) == []
    assert bodies(world, WA_MENTEE)
    for text in bodies(world, WA_MENTEE):
        text.encode("utf-8")


async def test_a_reply_id_names_its_prompt_and_an_old_one_is_told_so(world: World) -> None:
    """Issue 14: the interactive reply id carries the prompt's key; an old button is answered
    "no longer current" with the current choices, a current one works."""
    assert world.graph is not None
    await sign_up(world, WA_MENTEE, "Chloé Petit")
    payloads = world.graph.accepted(WA_MENTEE)
    article = next(p for p in payloads if p["type"] == "interactive"
                   and p["interactive"]["body"]["text"].startswith("Article 1/6\n1. Nature"))
    old = article["interactive"]["action"]["buttons"][0]["reply"]["id"]
    press = world.wa.press(WA_MENTEE, old, "J'accepte")
    assert (await world.post_whatsapp(world.wa.wrap(WA_MENTEE, press))).status_code == 200
    stale = world.graph.accepted(WA_MENTEE)[-1]["interactive"]
    assert stale["body"]["text"].startswith("Ce bouton n'est plus d'actualité")
    rows = stale["action"]["sections"][0]["rows"]
    assert rows[0]["title"] == "Poser une question"
    press = world.wa.press(WA_MENTEE, rows[4]["id"], rows[4]["title"], kind="list_reply")
    assert (await world.post_whatsapp(world.wa.wrap(WA_MENTEE, press))).status_code == 200
    assert "3114" in bodies(world, WA_MENTEE)[-2]  # Aide: the help, then the menu again
