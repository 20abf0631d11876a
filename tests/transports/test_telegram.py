"""Telegram over a fake Bot API on loopback: the journey, buttons, attachments, redeliveries,
rate limits and failures, polling and webhook."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.messages import Outbound
from bot.transports.outbox import split_text
from bot.transports.telegram import OFFSET_KEY, RateLimiter, keyboard, render
from tests.transports.conftest import (
    PARIS,
    QUESTION,
    SIGNING,
    TG_MENTEE,
    TG_MENTOR,
    WEBHOOK_SECRET,
    World,
    open_world,
)
from tests.transports.fake_telegram import FakeTelegram

MENTEE = f"telegram:{TG_MENTEE}"
MENTOR = f"telegram:{TG_MENTOR}"


def assert_journal_has_no_duplicates(world: World, pid: str) -> None:
    keys = [e.key for e in world.journal(pid)]
    assert len(keys) == len(set(keys))


async def test_the_whole_journey_over_telegram(world: World) -> None:
    tg = world.tg
    assert tg is not None
    await world.tg_say(TG_MENTOR, "/start", *SIGNING, "Bob Martin")
    await world.tg_say(TG_MENTEE, "/start", *SIGNING, "Alice Durand")
    await world.tg_say(TG_MENTEE, "1", *QUESTION, "1")  # ask a question, then send it
    mentee = tg.texts(TG_MENTEE)
    assert mentee[1].startswith("Charte d'usage de WhatsApp")
    assert any(t.startswith("Merci Alice Durand. La charte est signée") for t in mentee)
    assert any("Q1" in t and "lundi 30 novembre à 08:00" in t for t in mentee)
    assert not any("Synthèse" in t for t in tg.texts(TG_MENTOR))

    world.advance_to(datetime(2026, 11, 30, 8, 0, tzinfo=PARIS))
    assert await world.runtime.tick() > 0
    await world.idle()
    digest = tg.texts(TG_MENTOR)
    assert any(t.startswith("Synthèse du lundi 30 novembre à 08:00") for t in digest)
    assert any(t.startswith("Q1") and QUESTION[0] in t for t in digest)

    await world.tg_say(TG_MENTOR, "/repondre Q1 Associez-la à la préparation de la réunion.")
    answer = [t for t in tg.texts(TG_MENTEE) if "Q1" in t and "Associez-la" in t]
    assert len(answer) == 1
    assert any("Q1" in t for t in tg.texts(TG_MENTOR)[-2:])  # confirmation, then the menu

    # every press was answered, the offset is past the last update, nothing is left to send
    presses = [u for u in tg.updates if "callback_query" in u]
    assert len(tg.of("answerCallbackQuery")) == len(presses)
    assert world.transport_state("telegram", OFFSET_KEY) == tg.updates[-1]["update_id"] + 1
    assert world.transport_state("telegram", "username") == "mentorbot_test_bot"
    assert world.outbox(MENTEE) == [] and world.outbox(MENTOR) == []
    for pid in (MENTEE, MENTOR):
        assert_journal_has_no_duplicates(world, pid)
    journal = world.journal(MENTEE)
    assert [e.text for e in journal if e.direction == "in"].count(QUESTION[0]) == 1


async def test_choices_are_an_inline_keyboard_of_short_callback_data(world: World) -> None:
    tg = world.tg
    assert tg is not None
    await world.tg_say(TG_MENTEE, "/start", "1")
    article = tg.sent(TG_MENTEE)[-1]
    assert str(article["text"]).startswith("Article 1/6\n1. Nature")
    rows = article["reply_markup"]["inline_keyboard"]
    assert [[b["text"] for b in row] for row in rows] == [["J'accepte"], ["Je n'accepte pas"]]
    # each button carries the key of its prompt and the choice's number
    datas = [row[0]["callback_data"] for row in rows]
    key = datas[0].split(":")[1]
    assert datas == [f"c:{key}:1", f"c:{key}:2"] and len(key) == 10 and key.isalnum()
    welcome = tg.sent(TG_MENTEE)[0]
    assert "reply_markup" not in welcome
    # a press of the second button refuses the charter: the press is the choice's number
    await world.tg_say(TG_MENTEE, "2")
    assert tg.texts(TG_MENTEE)[-1].startswith("Sans l'accord")
    assert [e.text for e in world.journal(MENTEE) if e.direction == "in"][-1] == \
        "Je n'accepte pas"


def test_keyboard_labels_are_cut_and_data_stays_short() -> None:
    markup = keyboard(["x" * 300, "Envoyer"])
    assert markup is not None
    rows = markup.inline_keyboard
    assert len(rows) == 2 and all(len(row) == 1 for row in rows)
    assert len(rows[0][0].text) <= 60 and rows[0][0].text.endswith("…")
    assert all(len(str(row[0].callback_data).encode()) <= 64 for row in rows)
    assert keyboard([]) is None


async def test_a_long_text_is_split_and_the_keyboard_goes_last(world: World) -> None:
    tg = world.tg
    assert tg is not None
    paragraph = "Un paragraphe de travail qui décrit une situation. " * 30
    text = "\n\n".join([paragraph.strip()] * 6)
    await world.runtime.dispatcher.submit([Outbound(to=MENTEE, text=text, choices=("A", "B"),
                                                    key="long#1")])
    await world.idle()
    sent = tg.sent(TG_MENTEE)
    assert len(sent) == 3  # two paragraphs (3059 characters) fit in each message
    assert all(len(str(p["text"])) <= 4096 for p in sent)
    assert ["reply_markup" in p for p in sent] == [False, False, True]
    assert "\n\n".join(str(p["text"]) for p in sent) == text
    assert world.outbox(MENTEE) == []


def test_render_measures_utf16_like_telegram() -> None:
    text = "🙂" * 3000  # 6000 UTF-16 code units
    parts = render(text, ())
    assert len(parts) == 2
    assert all(len(p.encode("utf-16-le")) // 2 <= 4096 for p in parts)
    assert "".join(parts) == text


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(["a", "é", " ", "\n", "🙂", "b"]), max_size=400),
       st.integers(min_value=8, max_value=60))
def test_split_text_keeps_every_word_within_the_limit(text: str, limit: int) -> None:
    for utf16 in (False, True):
        parts = split_text(text, limit, utf16=utf16)
        size = (lambda s: len(s.encode("utf-16-le")) // 2) if utf16 else len
        assert all(size(p) <= limit for p in parts)
        assert "".join("".join(parts).split()) == "".join(text.split())
        assert all(p for p in parts) or parts == [""]


def test_split_text_prefers_paragraphs_then_lines_then_spaces() -> None:
    assert split_text("aaaa bbbb\n\ncccc dddd", 15) == ["aaaa bbbb", "cccc dddd"]
    assert split_text("aaaa bbbb\ncccc dddd", 15) == ["aaaa bbbb", "cccc dddd"]
    assert split_text("aaaa bbbb cccc dddd", 15) == ["aaaa bbbb cccc", "dddd"]
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


async def test_a_redelivered_update_is_handled_once(world: World) -> None:
    tg = world.tg
    assert tg is not None
    await world.tg_say(TG_MENTEE, "/start", "1")
    sent, journal = len(tg.sent()), len(world.journal(MENTEE))
    tg.replay()  # the confirmation was lost: Telegram sends the same updates again
    assert await world.poll() == 2
    assert len(tg.sent()) == sent
    assert len(world.journal(MENTEE)) == journal


async def test_attachments_are_refused_and_never_downloaded(world: World) -> None:
    tg = world.tg
    assert tg is not None
    media = {"file_id": "F", "file_unique_id": "U"}
    contents: list[dict[str, Any]] = [
        {"photo": [{**media, "width": 90, "height": 90}], "caption": "legende-4217"},
        {"document": {**media, "file_name": "contrat.pdf"}},
        {"voice": {**media, "duration": 3}},
        {"audio": {**media, "duration": 3}},
        {"video": {**media, "width": 1, "height": 1, "duration": 1}},
        {"video_note": {**media, "length": 1, "duration": 1}},
        {"animation": {**media, "width": 1, "height": 1, "duration": 1},
         "document": {**media}},
        {"sticker": {**media, "type": "regular", "width": 1, "height": 1,
                     "is_animated": False, "is_video": False}},
        {"location": {"latitude": 48.85, "longitude": 2.35}},
        {"contact": {"phone_number": "+33600000000", "first_name": "X"}},
        {"dice": {"emoji": "🎲", "value": 3}},
    ]
    for content in contents:
        tg.push_content(TG_MENTEE, **content)
    await world.poll()
    replies = tg.texts(TG_MENTEE)
    assert len(replies) == len(contents)
    expected = ["une image", "un document", "un message vocal", "un message vocal", "une vidéo",
                "une vidéo", "une vidéo", "un autocollant", "une localisation",
                "une fiche contact", "un contenu autre que du texte"]
    for reply, kind in zip(replies, expected, strict=True):
        assert kind in reply
    assert tg.methods() <= {"getMe", "deleteWebhook", "getUpdates", "sendMessage"}
    refused = [e for e in world.journal(MENTEE) if e.kind == "attachment_refused"]
    assert len(refused) == len(contents)
    assert "legende-4217" not in json.dumps([dataclasses.asdict(e) for e in world.journal(MENTEE)])


async def test_group_and_service_messages_are_skipped_but_confirmed(world: World) -> None:
    tg = world.tg
    assert tg is not None
    tg.push_group_text(-42, "Bonjour")
    last = tg.push_content(TG_MENTEE, pinned_message={"message_id": 1, "date": 0,
                                                      "chat": {"id": TG_MENTEE,
                                                               "type": "private"}})
    assert await world.poll() == 2
    assert tg.sent() == []
    assert world.transport_state("telegram", OFFSET_KEY) == last + 1


async def test_a_stranger_gets_one_answer_and_nothing_is_stored(world: World) -> None:
    tg = world.tg
    assert tg is not None
    await world.tg_say(999, "Bonjour")
    assert len(tg.texts(999)) == 1
    assert world.person("telegram:999") is None


async def test_an_unknown_button_is_answered_and_ignored(world: World) -> None:
    tg = world.tg
    assert tg is not None
    tg.push_press(TG_MENTEE, "something-else")
    await world.poll()
    assert len(tg.of("answerCallbackQuery")) == 1
    assert tg.sent() == []


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_flood_control_is_honoured(world: World) -> None:
    tg = world.tg
    assert tg is not None
    tg.flood(retry_after=1)
    await world.runtime.dispatcher.submit([Outbound(to=MENTEE, text="Bonjour", key="f#1")])
    await world.idle()
    attempts = tg.of("sendMessage", ok=None)
    assert [c.ok for c in attempts] == [False, True]
    assert attempts[1].at - attempts[0].at >= 0.9
    assert world.outbox(MENTEE) == []


async def test_an_unreachable_api_keeps_messages_in_order_until_retried(world: World) -> None:
    tg = world.tg
    assert tg is not None
    tg.fail("sendMessage", 500, times=-1)
    outs = [Outbound(to=MENTEE, text=f"message {i}", key=f"o#{i}") for i in (1, 2, 3)]
    await world.runtime.dispatcher.submit(outs)
    await world.idle()
    assert tg.sent() == []
    assert len(tg.of("sendMessage", ok=False)) == 1  # the first failed; the others waited
    assert [e["key"] for e in world.outbox(MENTEE)] == ["o#1", "o#2", "o#3"]
    assert MENTEE in world.runtime.dispatcher.pending_retry()
    tg.heal()
    world.runtime.dispatcher.retry_now()
    await world.idle()
    assert tg.texts(TG_MENTEE) == ["message 1", "message 2", "message 3"]
    assert world.outbox(MENTEE) == []


async def test_a_blocked_bot_drops_the_message(world: World) -> None:
    tg = world.tg
    assert tg is not None
    tg.fail("sendMessage", 403, times=1, body={"ok": False, "error_code": 403,
                                               "description": "Forbidden: bot was blocked"})
    await world.runtime.dispatcher.submit([Outbound(to=MENTEE, text="a", key="b#1"),
                                           Outbound(to=MENTEE, text="b", key="b#2")])
    await world.idle()
    assert tg.texts(TG_MENTEE) == ["b"]
    assert world.outbox(MENTEE) == []


async def test_pending_messages_are_sent_at_start_up(tmp_path: Path, tg: FakeTelegram) -> None:
    tg.fail("sendMessage", 500, times=-1)
    async with open_world(tmp_path / "data", tg, tg_url=tg.url) as world:
        await world.tg_say(TG_MENTEE, "/start")
        assert len(world.outbox(MENTEE)) == 2
    tg.heal()
    async with open_world(tmp_path / "data", tg, tg_url=tg.url) as world:
        await world.idle()
        assert len(tg.texts(TG_MENTEE)) == 2
        assert world.outbox(MENTEE) == []


async def test_webhook_mode(tmp_path: Path, tg: FakeTelegram) -> None:
    async with open_world(tmp_path / "data", tg, tg_url=tg.url, mode="webhook",
                          public_url="https://bot.example.org/") as world:
        [hook] = tg.of("setWebhook")
        assert hook.params["url"] == "https://bot.example.org/webhooks/telegram"
        assert hook.params["secret_token"] == WEBHOOK_SECRET
        assert "getUpdates" not in tg.methods() and world.runtime.poller is None
        tg.push_text(TG_MENTEE, "/start")
        update = tg.updates[-1]

        async def post(headers: dict[str, str], body: bytes | None = None) -> int:
            response = await world.client.post(
                "/webhooks/telegram", content=body or json.dumps(update).encode(),
                headers={"Content-Type": "application/json", **headers})
            await world.idle()
            return response.status_code

        secret = "X-Telegram-Bot-Api-Secret-Token"
        assert await post({}) == 403
        assert await post({secret: "wrong"}) == 403
        assert await post({secret: WEBHOOK_SECRET[:-1]}) == 403
        assert tg.sent() == [] and world.person(MENTEE) is None
        assert await post({secret: WEBHOOK_SECRET}, b"{not json") == 400
        assert await post({secret: WEBHOOK_SECRET}, b'{"no": "update"}') == 400
        assert await post({secret: WEBHOOK_SECRET}) == 200
        assert len(tg.texts(TG_MENTEE)) == 2
        assert await post({secret: WEBHOOK_SECRET}) == 200  # Telegram retried: handled once
        assert len(tg.texts(TG_MENTEE)) == 2
        assert len([e for e in world.journal(MENTEE) if e.direction == "in"]) == 1


async def test_polling_mode_refuses_the_webhook_route(world: World) -> None:
    response = await world.client.post("/webhooks/telegram", content=b"{}")
    assert response.status_code == 404


async def test_the_rate_limiter_spaces_messages_per_chat_and_overall() -> None:
    now = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(round(seconds, 3))
        now[0] += seconds

    limiter = RateLimiter(per_chat=1.0, per_second=10.0, monotonic=lambda: now[0], sleep=sleep)
    await limiter.acquire(1)
    await limiter.acquire(2)  # another chat: only the global spacing
    await limiter.acquire(1)  # the same chat: one second after its last message
    assert slept == [0.1, 0.9]
    assert now[0] == pytest.approx(1.0)
    limiter.pause(5)
    await limiter.acquire(3)
    assert now[0] == pytest.approx(6.0)


async def test_long_polling_stops_promptly(world: World) -> None:
    assert world.runtime.poller is not None
    stop = asyncio.Event()
    task = asyncio.create_task(world.runtime.poller.run(stop))
    await asyncio.sleep(0.2)
    stop.set()
    await asyncio.wait_for(task, timeout=5)


async def test_a_start_link_with_an_invitation_code_enrolls_a_new_mentee(world: World) -> None:
    from bot.data.invitations import create_invitation

    tg = world.tg
    assert tg is not None
    code, link = create_invitation(world.engine, MENTOR, 14)
    assert link == f"https://t.me/mentorbot_test_bot?start={code}"
    await world.tg_say(777, f"/start {code}")
    profile = world.engine.profile("telegram:777")
    assert profile is not None and profile.mentor == MENTOR
    assert len(tg.texts(777)) >= 1


async def test_an_old_button_is_told_apart_from_the_current_one(world: World) -> None:
    """Issue 14: the callback data names the prompt; an old button says so and re-shows what
    is current, a current one answers it."""
    tg = world.tg
    assert tg is not None
    await world.tg_say(TG_MENTEE, "/start", "1")
    first = tg.sent(TG_MENTEE)[-1]
    old = first["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    tg.push_press(TG_MENTEE, old)  # accepts article 1: article 2 is shown
    await world.poll()
    second = tg.sent(TG_MENTEE)[-1]
    assert str(second["text"]).startswith("Article 2/6\n2. ")
    tg.push_press(TG_MENTEE, old)  # the same button again: article 1 is no longer current
    await world.poll()
    stale = tg.sent(TG_MENTEE)[-1]
    assert str(stale["text"]).startswith("Ce bouton n'est plus d'actualité")
    assert stale["reply_markup"] == second["reply_markup"]  # the same, current prompt
    tg.push_press(TG_MENTEE, stale["reply_markup"]["inline_keyboard"][0][0]["callback_data"])
    await world.poll()
    assert str(tg.sent(TG_MENTEE)[-1]["text"]).startswith("Article 3/6\n3. ")
    tg.push_press(TG_MENTEE, "c:not-a-key:1")  # malformed data: ignored, nothing said
    await world.poll()
    assert str(tg.sent(TG_MENTEE)[-1]["text"]).startswith("Article 3/6\n3. ")
