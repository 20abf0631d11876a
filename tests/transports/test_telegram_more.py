"""Telegram, the rarer paths: start-up refusals, presses in groups, webhook bodies that are not
updates, every kind of Bot API refusal when sending, flood control that does not stop, an
update that keeps failing, and the polling loop's back-off."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from telegram import Bot, Update
from telegram.error import RetryAfter

from bot.app import build_app
from bot.clock import VirtualClock
from bot.config import TelegramConfig, parse_config
from bot.engine.guard import Guard
from bot.errors import UserError
from bot.messages import Outbound
from bot.server.runner import Runtime
from bot.store import SQLiteStore, StoreUnavailable
from bot.transports.outbox import Dispatcher, Entry, Result
from bot.transports.telegram import (
    OFFSET_KEY,
    RateLimiter,
    TelegramChannel,
    parse_update,
    render,
    retry_after_seconds,
)
from tests.storeview import StoreFault
from tests.transports.conftest import (
    MONDAY,
    PARIS,
    QUESTION,
    SIGNING,
    TG_MENTEE,
    TG_MENTOR,
    WEBHOOK_SECRET,
    World,
    config_text,
    open_world,
)
from tests.transports.fake_telegram import FakeTelegram

MENTEE = f"telegram:{TG_MENTEE}"
MENTOR = f"telegram:{TG_MENTOR}"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


async def wait_for(predicate: Callable[[], object], timeout: float = 10.0,
                   what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what or predicate}")


class Sleeps:
    """A clock for the rate limiter that only moves when it is told to sleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@asynccontextmanager
async def channel_on(tmp_path: Path, tg: FakeTelegram,
                     limiter: RateLimiter | None = None) -> AsyncIterator[TelegramChannel]:
    """A started Telegram channel on its own, to call `deliver` directly."""
    config = parse_config(config_text(tmp_path / "data", tg_url=tg.url), "test-config.yaml")
    app = build_app(config, VirtualClock(MONDAY),
                    guard=Guard(config, safety=False, identifying=False))
    channel = TelegramChannel(config.transports.telegram, Dispatcher(app.engine),
                              app.engine.clock, limiter=limiter)
    await channel.start()
    try:
        yield channel
    finally:
        await channel.stop()


async def no_progress(parts: int) -> None:
    raise AssertionError("a one-part message reports no progress")


def break_store(world: World, pid: str) -> StoreFault:
    """An I/O fault: no journal line can be written (for anyone) until healed."""
    store = world.engine.store
    assert isinstance(store, SQLiteStore)
    return StoreFault(store, "journal", pid)


def heal_store(world: World, pid: str, kept: StoreFault) -> None:
    kept.heal()


# -- start-up ---------------------------------------------------------------------------------


@asynccontextmanager
async def runtime_for(text: str) -> AsyncIterator[Runtime]:
    config = parse_config(text, "test-config.yaml")
    app = build_app(config, VirtualClock(MONDAY),
                    guard=Guard(config, safety=False, identifying=False))
    runtime = Runtime(app)
    try:
        yield runtime
    finally:
        await runtime.stop()


async def test_a_rejected_token_is_a_clear_error(tmp_path: Path, tg: FakeTelegram) -> None:
    text = config_text(tmp_path / "data", tg_url=tg.url).replace(tg.token, "999:wrong-token")
    async with runtime_for(text) as runtime:
        with pytest.raises(UserError) as caught:
            await runtime.start()
    assert str(caught.value) == "transports.telegram.token: rejected by the Bot API"
    assert tg.calls == []  # the fake only records calls made with its own token


async def test_an_api_error_at_start_up_names_the_api(tmp_path: Path, tg: FakeTelegram) -> None:
    tg.fail("getMe", 500, times=-1)
    async with runtime_for(config_text(tmp_path / "data", tg_url=tg.url)) as runtime:
        with pytest.raises(UserError) as caught:
            await runtime.start()
    message = str(caught.value)
    assert message.startswith(f"transports.telegram: the Bot API at {tg.url} answered: ")
    assert "Internal Server Error" in message
    assert tg.token not in message


async def test_webhook_mode_needs_a_public_url(tmp_path: Path, tg: FakeTelegram) -> None:
    text = config_text(tmp_path / "data", tg_url=tg.url, mode="webhook")
    async with runtime_for(text) as runtime:
        with pytest.raises(UserError, match=r"^server\.public_url: required when "
                                            r"transports\.telegram\.mode is webhook$"):
            await runtime.start()
    assert "setWebhook" not in tg.methods()


def test_an_enabled_channel_needs_a_token(tmp_path: Path) -> None:
    config = parse_config(config_text(tmp_path / "data"), "test-config.yaml")
    app = build_app(config, VirtualClock(MONDAY),
                    guard=Guard(config, safety=False, identifying=False))
    with pytest.raises(UserError, match=r"^transports\.telegram\.token: required"):
        TelegramChannel(TelegramConfig(enabled=True), Dispatcher(app.engine), app.engine.clock)


async def test_the_username_is_remembered_once(tmp_path: Path, tg: FakeTelegram) -> None:
    async with open_world(tmp_path / "data", tg, tg_url=tg.url) as world:
        assert world.transport_state("telegram", "username") == "mentorbot_test_bot"
    async with open_world(tmp_path / "data", tg, tg_url=tg.url) as world:
        assert world.transport_state("telegram", "username") == "mentorbot_test_bot"
    assert len(tg.of("getMe")) == 2


# -- receiving --------------------------------------------------------------------------------


async def test_a_press_in_a_group_is_answered_but_not_handled(world: World) -> None:
    tg = world.tg
    assert tg is not None
    last = tg.push_press(-42, "c:1")
    tg.updates[-1]["callback_query"]["message"]["chat"] = {"id": -42, "type": "group",
                                                          "title": "G"}
    assert await world.poll() == 1
    assert len(tg.of("answerCallbackQuery")) == 1  # the spinner stops
    assert tg.sent() == []
    assert world.person("telegram:-42") is None
    assert world.transport_state("telegram", OFFSET_KEY) == last + 1


def test_a_press_on_an_inline_message_comes_from_its_sender() -> None:
    bot = Bot(FakeTelegram.token)
    update = Update.de_json({"update_id": 7, "callback_query": {
        "id": "cq7", "chat_instance": "ci", "data": "c:2", "inline_message_id": "im",
        "from": {"id": TG_MENTEE, "is_bot": False, "first_name": "Test"}}}, bot)
    assert update is not None
    received = parse_update(update, MONDAY)
    assert received is not None and received.callback_id == "cq7"
    assert received.inbound is not None
    assert received.inbound.sender == MENTEE and received.inbound.message_id == "tg:7"


async def test_a_press_is_handled_even_when_its_answer_fails(world: World) -> None:
    tg = world.tg
    assert tg is not None
    tg.fail("answerCallbackQuery", 400, times=-1,
            body={"ok": False, "error_code": 400, "description": "Bad Request: query is too old"})
    await world.tg_say(TG_MENTEE, "/start")
    last = tg.push_press(TG_MENTEE, "c:1")
    assert await world.poll() == 1
    assert tg.of("answerCallbackQuery", ok=False)
    assert tg.texts(TG_MENTEE)[-1].startswith("Article 1/6\n1. Nature")
    assert world.transport_state("telegram", OFFSET_KEY) == last + 1


async def test_webhook_bodies_that_are_not_updates_are_refused(tmp_path: Path,
                                                               tg: FakeTelegram) -> None:
    async with open_world(tmp_path / "data", tg, tg_url=tg.url, mode="webhook",
                          public_url="https://bot.example.org") as world:
        for body in ([1, 2], {"update_id": "7"}, {"update_id": 7, "message": {"text": "x"}},
                     {"update_id": 8, "callback_query": {"id": "1"}},
                     {"update_id": 9, "message": []}):
            response = await world.client.post(
                "/webhooks/telegram", content=json.dumps(body).encode(),
                headers={SECRET_HEADER: WEBHOOK_SECRET})
            assert response.status_code == 400, body
            assert response.json() == {"status": "bad request"}
        assert tg.sent() == [] and world.person(MENTEE) is None


async def test_webhook_updates_with_fields_of_the_wrong_type_never_give_500(
        tmp_path: Path, tg: FakeTelegram) -> None:
    chat = {"id": TG_MENTEE, "type": "private"}
    bodies = [
        {"update_id": 20, "message": {"message_id": "x", "date": "hier", "chat": chat,
                                      "text": "Bonjour"}},
        {"update_id": 21, "message": {"message_id": 1, "date": 1764486000,
                                      "chat": {"id": "not a number", "type": 5}, "text": 7}},
        {"update_id": 22, "message": {"message_id": 1, "date": 1764486000, "chat": chat,
                                      "text": ["a", "list"]}},
        {"update_id": 23, "callback_query": {"id": 5, "from": "me", "data": 9}},
        {"update_id": 24, "message": {"message_id": 1, "date": 1764486000, "chat": [],
                                      "photo": "yes"}},
    ]
    async with open_world(tmp_path / "data", tg, tg_url=tg.url, mode="webhook",
                          public_url="https://bot.example.org") as world:
        for body in bodies:
            response = await world.client.post(
                "/webhooks/telegram", content=json.dumps(body).encode(),
                headers={SECRET_HEADER: WEBHOOK_SECRET})
            assert response.status_code in (200, 400), (body, response.status_code)


async def test_a_webhook_body_nested_300000_deep_is_a_400(tmp_path: Path,
                                                          tg: FakeTelegram) -> None:
    deep = b"[" * 300_000 + b"]" * 300_000
    async with open_world(tmp_path / "data", tg, tg_url=tg.url, mode="webhook",
                          public_url="https://bot.example.org") as world:
        response = await world.client.post("/webhooks/telegram", content=deep,
                                           headers={SECRET_HEADER: WEBHOOK_SECRET})
        assert response.status_code == 400


async def test_a_webhook_message_that_is_not_an_object_is_refused(tmp_path: Path,
                                                                  tg: FakeTelegram) -> None:
    async with open_world(tmp_path / "data", tg, tg_url=tg.url, mode="webhook",
                          public_url="https://bot.example.org") as world:
        response = await world.client.post(
            "/webhooks/telegram", content=b'{"update_id": 7, "message": "x"}',
            headers={SECRET_HEADER: WEBHOOK_SECRET})
        assert response.status_code == 400


async def test_a_webhook_update_that_cannot_be_stored_gets_an_error_to_retry(
        tmp_path: Path, tg: FakeTelegram) -> None:
    async with open_world(tmp_path / "data", tg, tg_url=tg.url, mode="webhook",
                          public_url="https://bot.example.org") as world:
        tg.push_text(TG_MENTEE, "/start")
        body = json.dumps(tg.updates[-1]).encode()
        headers = {SECRET_HEADER: WEBHOOK_SECRET, "Content-Type": "application/json"}
        kept = break_store(world, MENTEE)
        response = await world.client.post("/webhooks/telegram", content=body, headers=headers)
        assert response.status_code == 500 and response.json() == {"status": "error"}
        await world.idle()
        assert tg.sent() == []
        heal_store(world, MENTEE, kept)
        response = await world.client.post("/webhooks/telegram", content=body, headers=headers)
        assert response.status_code == 200
        await world.idle()
        assert len(tg.texts(TG_MENTEE)) == 2


async def test_an_oversized_telegram_webhook_is_refused_unread(tmp_path: Path,
                                                               tg: FakeTelegram) -> None:
    async with open_world(tmp_path / "data", tg, tg_url=tg.url, mode="webhook",
                          public_url="https://bot.example.org") as world:

        async def chunks() -> AsyncIterator[bytes]:  # streamed: no Content-Length to trust
            for _ in range(3):
                yield b" " * (600 << 10)

        response = await world.client.post("/webhooks/telegram", content=chunks(),
                                           headers={SECRET_HEADER: WEBHOOK_SECRET})
        assert response.status_code == 413
        assert world.person(MENTEE) is None


# -- sending ----------------------------------------------------------------------------------


def test_an_empty_text_with_choices_is_sent_as_the_numbered_choices() -> None:
    assert render("  ", ("Oui", "Non")) == ["1. Oui\n2. Non"]
    assert render("Texte", ("Oui",)) == ["Texte"]


async def test_a_recipient_that_is_not_a_chat_id_is_dropped(tmp_path: Path,
                                                            tg: FakeTelegram) -> None:
    async with channel_on(tmp_path, tg) as channel:
        for to in ("telegram:abc", "telegram"):
            entry = Entry(Outbound(to=to, text="x", key=f"k-{to}"))
            assert await channel.deliver(entry, no_progress) is Result.DROP
    assert tg.of("sendMessage", ok=None) == []


@pytest.mark.parametrize(("status", "description", "expected"), [
    (400, "Bad Request: chat not found", Result.DROP),
    (403, "Forbidden: bot was blocked by the user", Result.DROP),
    (409, "Conflict: terminated by other getUpdates request", Result.RETRY),
    (500, "Internal Server Error", Result.RETRY),
    (502, "Bad Gateway", Result.RETRY),
])
async def test_each_api_refusal_drops_or_retries(tmp_path: Path, tg: FakeTelegram, status: int,
                                                 description: str, expected: Result) -> None:
    tg.fail("sendMessage", status, times=1,
            body={"ok": False, "error_code": status, "description": description})
    async with channel_on(tmp_path, tg) as channel:
        entry = Entry(Outbound(to=MENTEE, text="Bonjour", key="r#1"))
        assert await channel.deliver(entry, no_progress) is expected
        assert len(tg.of("sendMessage", ok=False)) == 1  # no second attempt on its own
        assert await channel.deliver(entry, no_progress) is Result.SENT
    assert tg.texts(TG_MENTEE) == ["Bonjour"]


async def test_a_migrated_chat_is_dropped(tmp_path: Path, tg: FakeTelegram) -> None:
    tg.fail("sendMessage", 400, times=1, body={
        "ok": False, "error_code": 400, "description": "Bad Request: group chat was upgraded",
        "parameters": {"migrate_to_chat_id": -1001}})
    async with channel_on(tmp_path, tg) as channel:
        entry = Entry(Outbound(to=MENTEE, text="Bonjour", key="m#1"))
        assert await channel.deliver(entry, no_progress) is Result.DROP


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_flood_control_that_persists_is_retried_later(tmp_path: Path,
                                                            tg: FakeTelegram) -> None:
    body = {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 7",
            "parameters": {"retry_after": 7}}
    tg.fail("sendMessage", 429, times=3, body=body)
    clock = Sleeps()
    limiter = RateLimiter(per_chat=0.0, per_second=1000.0, monotonic=clock.monotonic,
                          sleep=clock.sleep)
    async with channel_on(tmp_path, tg, limiter) as channel:
        entry = Entry(Outbound(to=MENTEE, text="Bonjour", key="f#1"))
        assert await channel.deliver(entry, no_progress) is Result.RETRY
        assert len(tg.of("sendMessage", ok=False)) == 3
        assert clock.slept == [pytest.approx(7.0), pytest.approx(7.0)]  # honoured twice
        assert await channel.deliver(entry, no_progress) is Result.SENT


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
def test_retry_after_in_seconds_or_as_a_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    assert retry_after_seconds(RetryAfter(timedelta(seconds=2.5))) == 2.5
    monkeypatch.setenv("PTB_TIMEDELTA", "false")
    assert retry_after_seconds(RetryAfter(12)) == 12.0


async def test_the_rate_limiter_forgets_chats_it_no_longer_needs() -> None:
    clock = Sleeps()
    limiter = RateLimiter(per_chat=1.0, per_second=1e9, monotonic=clock.monotonic,
                          sleep=clock.sleep)
    for chat in range(1100):
        await limiter.acquire(chat)
    assert sum(clock.slept) < 1e-5  # a different chat each time: only the global spacing
    clock.now += 5.0
    clock.slept.clear()
    await limiter.acquire(5000)
    assert len(limiter._next) <= 1025  # the table does not grow with every chat ever seen
    await limiter.acquire(5000)  # the chat just used still waits its turn
    assert clock.slept == [pytest.approx(1.0)]


# -- polling ----------------------------------------------------------------------------------


async def test_an_update_that_keeps_failing_is_skipped_after_five_attempts(world: World) -> None:
    tg = world.tg
    assert tg is not None
    await world.tg_say(TG_MENTOR, "/start")
    kept = break_store(world, MENTEE)
    poisoned = tg.push_text(TG_MENTEE, "/start")
    tg.push_text(TG_MENTOR, "1")  # behind it, another person waits
    assert world.runtime.poller is not None
    for _ in range(4):
        with pytest.raises(StoreUnavailable):
            await world.poll()
        assert world.transport_state("telegram", OFFSET_KEY) == poisoned  # fetched again
    assert await world.poll() == 1  # skipped, and the next one handled
    assert world.transport_state("telegram", OFFSET_KEY) == tg.updates[-1]["update_id"] + 1
    assert tg.texts(TG_MENTOR)[-1].startswith("Article 1/6\n1. Nature")
    assert tg.texts(TG_MENTEE) == []
    heal_store(world, MENTEE, kept)


async def test_polling_backs_off_after_an_api_error_then_resumes(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    tg = world.tg
    assert tg is not None and world.runtime.poller is not None
    tg.fail("getUpdates", 502, times=1)
    tg.push_text(TG_MENTEE, "/start")
    stop = asyncio.Event()
    with caplog.at_level(logging.WARNING, logger="mentorbot.telegram"):
        task = asyncio.create_task(world.runtime.poller.run(stop))
        try:
            await wait_for(lambda: len(tg.texts(TG_MENTEE)) == 2, what="the replies")
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=10)
    assert "telegram polling error=NetworkError" in caplog.text
    polls = tg.of("getUpdates", ok=None)
    assert polls[0].ok is False and polls[1].at - polls[0].at >= 0.9  # waited before again


async def test_polling_survives_an_update_that_fails_then_handles_it(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    tg = world.tg
    assert tg is not None and world.runtime.poller is not None
    kept = break_store(world, MENTEE)
    tg.push_text(TG_MENTEE, "/start")
    stop = asyncio.Event()
    with caplog.at_level(logging.ERROR, logger="mentorbot.telegram"):
        task = asyncio.create_task(world.runtime.poller.run(stop))
        try:
            await wait_for(lambda: "telegram update failed" in caplog.text, what="the failure")
            assert tg.sent() == []
            heal_store(world, MENTEE, kept)
            await wait_for(lambda: len(tg.texts(TG_MENTEE)) == 2, what="the replies")
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=10)
    assert len([e for e in world.journal(MENTEE) if e.direction == "in"]) == 1


# -- the scheduler, over Telegram -------------------------------------------------------------


async def test_a_failing_scheduled_job_is_retried_until_it_runs(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    tg = world.tg
    assert tg is not None
    await world.tg_say(TG_MENTOR, "/start", *SIGNING, "Bob Martin")
    await world.tg_say(TG_MENTEE, "/start", *SIGNING, "Alice Durand")
    await world.tg_say(TG_MENTEE, "1", *QUESTION, "1")
    world.advance_to(datetime(2026, 11, 30, 8, 0, 30, tzinfo=PARIS))
    kept = break_store(world, MENTOR)
    stop = asyncio.Event()
    with caplog.at_level(logging.ERROR, logger="mentorbot.run"):
        task = asyncio.create_task(world.runtime.scheduler_loop(stop))
        try:
            await wait_for(lambda: "scheduled job failed" in caplog.text, what="the failure")
            assert not any(t.startswith("Synthèse") for t in tg.texts(TG_MENTOR))
            heal_store(world, MENTOR, kept)
            await wait_for(lambda: any(t.startswith("Synthèse du lundi 30 novembre à 08:00")
                                       for t in tg.texts(TG_MENTOR)), what="the digest")
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=10)
    assert len([t for t in tg.texts(TG_MENTOR) if t.startswith("Synthèse")]) == 1
