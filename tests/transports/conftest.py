"""Shared pieces of the transport tests: the fakes, a config pointing at them, an in-process
runtime on a virtual clock with its ASGI client, and real WhatsApp payloads to post."""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.app import build_app
from bot.clock import VirtualClock
from bot.config import Config, parse_config
from bot.domain import JournalEntry, PersonData
from bot.engine.guard import Guard
from bot.server.app import create_server
from bot.server.runner import Runtime
from bot.transports.whatsapp import sign
from tests.transports.fake_graph import FakeGraph
from tests.transports.fake_telegram import FakeTelegram

PARIS = ZoneInfo("Europe/Paris")
MONDAY = datetime(2026, 11, 30, 7, 0, tzinfo=PARIS)  # an open day, before the 08:00 digest
APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
WEBHOOK_SECRET = "test-webhook-secret"

TG_MENTOR, TG_MENTEE = 100, 200
WA_MENTOR, WA_MENTEE = "33600000001", "33600000002"
WA_SAMPLE = "16505551234"  # the sender of Meta's example payloads

PEOPLE = f"""
people:
  - {{id: "telegram:{TG_MENTOR}", role: mentor, name: "Bob Martin"}}
  - {{id: "telegram:{TG_MENTEE}", role: mentee, name: "Alice Durand",
     mentor: "telegram:{TG_MENTOR}"}}
  - {{id: "whatsapp:{WA_MENTOR}", role: mentor, name: "Marc Leroy"}}
  - {{id: "whatsapp:{WA_MENTEE}", role: mentee, name: "Chloé Petit",
     mentor: "whatsapp:{WA_MENTOR}"}}
  - {{id: "whatsapp:{WA_SAMPLE}", role: mentee, name: "Sheena Nelson",
     mentor: "telegram:{TG_MENTOR}"}}
"""

SIGNING = ["1"] * 7  # "Lire l'article 1", then six "J'accepte"
QUESTION = [
    "Dans mon équipe, une collègue conteste systématiquement les priorités fixées en réunion.",
    "J'ai essayé d'en parler avec elle après la réunion ; je pense qu'elle se sent exclue.",
    "J'hésite entre l'associer à la préparation ou recadrer : quel regard sur ma posture ?",
]


def fixtures_dir() -> Path:
    """Real Graph API webhook payloads, kept in the repository (a fresh clone has them)."""
    return Path(__file__).resolve().parents[1] / "fixtures" / "whatsapp"


def load_fixture(name: str) -> Any:
    return json.loads((fixtures_dir() / name).read_text(encoding="utf-8"))


def config_text(data: Path, *, tg_url: str | None = None, graph_url: str | None = None,
                mode: str = "polling", public_url: str | None = None) -> str:
    server = f"server: {{host: 127.0.0.1, port: 0, public_url: {json.dumps(public_url)}}}"
    telegram = "telegram: {enabled: false}"
    if tg_url:
        telegram = (f"telegram: {{enabled: true, token: \"{FakeTelegram.token}\", mode: {mode}, "
                    f"base_url: \"{tg_url}\", webhook_secret: \"{WEBHOOK_SECRET}\", "
                    f"poll_timeout: 1, chat_interval: 0, global_rate: 1000}}")
    whatsapp = "whatsapp: {enabled: false}"
    if graph_url:
        whatsapp = (f"whatsapp: {{enabled: true, token: \"{FakeGraph.token}\", "
                    f"phone_number_id: \"{FakeGraph.phone_number_id}\", "
                    f"app_secret: \"{APP_SECRET}\", verify_token: \"{VERIFY_TOKEN}\", "
                    f"api_base_url: \"{graph_url}\", api_version: \"{FakeGraph.version}\", "
                    f"retry_delays: [0.01, 0.01]}}")
    return f"""
locale: fr
timezone: Europe/Paris
storage: {{path: {json.dumps(str(data))}}}
confidentiality: {{use_model: false}}
{server}
logging: {{format: text}}
{PEOPLE}
transports:
  {telegram}
  {whatsapp}
"""


def make_config(data: Path, **options: Any) -> Config:
    return parse_config(config_text(data, **options), "test-config.yaml")


class WaPayloads:
    """Webhook bodies built from Meta's example payloads, with fresh ids."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self._ids = itertools.count(1)

    def wamid(self) -> str:
        return f"wamid.TEST{next(self._ids):06d}"

    def _timestamp(self) -> str:
        return str(int(self.clock.now().timestamp()))

    def wrap(self, wa_id: str, *messages: dict[str, Any]) -> dict[str, Any]:
        payload: dict[str, Any] = copy.deepcopy(load_fixture("meta_text_message.json"))
        value = payload["entry"][0]["changes"][0]["value"]
        value["contacts"][0]["wa_id"] = wa_id
        value["messages"] = list(messages)
        return payload

    def text(self, wa_id: str, body: str, wamid: str | None = None) -> dict[str, Any]:
        message: dict[str, Any] = copy.deepcopy(
            load_fixture("meta_text_message.json")["entry"][0]["changes"][0]["value"]
            ["messages"][0])
        message.update({"from": wa_id, "id": wamid or self.wamid(),
                        "timestamp": self._timestamp()})
        message["text"]["body"] = body
        return message

    def press(self, wa_id: str, reply_id: str, title: str = "x",
              kind: str = "button_reply") -> dict[str, Any]:
        name = ("meta_interactive_button_reply.json" if kind == "button_reply"
                else "meta_interactive_list_reply.json")
        message: dict[str, Any] = copy.deepcopy(
            load_fixture(name)["entry"][0]["changes"][0]["value"]["messages"][0])
        message.update({"from": wa_id, "id": self.wamid(), "timestamp": self._timestamp()})
        message["interactive"][kind].update({"id": reply_id, "title": title})
        return message

    def status(self, wa_id: str, wamid: str, status: str,
               codes: tuple[int, ...] = ()) -> dict[str, Any]:
        payload: dict[str, Any] = copy.deepcopy(load_fixture("meta_status_sent_v24_minimal.json"))
        item = payload["entry"][0]["changes"][0]["value"]["statuses"][0]
        item.update({"id": wamid, "status": status, "recipient_id": wa_id,
                     "timestamp": self._timestamp()})
        if codes:
            item["errors"] = [{"code": c, "title": "t", "message": "m"} for c in codes]
        return payload


class World:
    """An in-process `run`: the runtime on a virtual clock, its ASGI app, and the fakes."""

    def __init__(self, config: Config, clock: VirtualClock, tg: FakeTelegram | None,
                 graph: FakeGraph | None) -> None:
        self.config = config
        self.clock = clock
        self.tg = tg
        self.graph = graph
        self.app = build_app(config, clock, guard=Guard(config, safety=False, identifying=False))
        self.runtime = Runtime(self.app, retry_interval=3600)
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(
            app=create_server(self.runtime)), base_url="http://mentorbot.test", timeout=30)
        self.wa = WaPayloads(clock)

    @property
    def engine(self) -> Any:
        return self.app.engine

    async def idle(self) -> None:
        await self.runtime.dispatcher.idle()

    async def poll(self) -> int:
        assert self.runtime.poller is not None
        handled = await self.runtime.poller.poll_once()
        await self.idle()
        return handled

    async def tg_say(self, chat_id: int, *texts: str) -> None:
        """Each text as the person would send it: a press for a bare number, else typed."""
        assert self.tg is not None
        for text in texts:
            if text.isdigit():
                self.tg.push_press(chat_id, f"c:{text}")
            else:
                self.tg.push_text(chat_id, text)
        await self.poll()

    async def post_whatsapp(self, payload: Any, *, signature: str | None = "sign",
                            raw: bytes | None = None) -> httpx.Response:
        body = raw if raw is not None else json.dumps(payload).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        if signature == "sign":
            headers["X-Hub-Signature-256"] = sign(APP_SECRET, body)
        elif signature is not None:
            headers["X-Hub-Signature-256"] = signature
        response = await self.client.post("/webhooks/whatsapp", content=body, headers=headers)
        await self.idle()
        return response

    async def wa_say(self, wa_id: str, *texts: str) -> None:
        """Each text from a WhatsApp person: a button press for a bare number, else typed."""
        for text in texts:
            message = (self.wa.press(wa_id, f"c:{text}") if text.isdigit()
                       else self.wa.text(wa_id, text))
            response = await self.post_whatsapp(self.wa.wrap(wa_id, message))
            assert response.status_code == 200, response.text

    def person(self, pid: str) -> PersonData | None:
        with self.engine.store.read() as uow:
            return uow.peek(pid)

    def journal(self, pid: str) -> list[JournalEntry]:
        with self.engine.store.read() as uow:
            return uow.journal(pid)

    def outbox(self, pid: str) -> list[dict[str, Any]]:
        """The person's messages still to send (pending or held), in order."""
        with self.engine.store.read() as uow:
            return [
                {"key": e.key, "status": e.status.value, "parts": e.parts, "text": e.text,
                 "choices": list(e.choices)}
                for e in uow.outbox_waiting(pid)
            ]

    def transport_state(self, transport: str, key: str) -> Any:
        with self.engine.store.read() as uow:
            return uow.transport_get(transport, key)

    def advance_to(self, when: datetime) -> None:
        self.clock.set(when)


@asynccontextmanager
async def open_world(data: Path, tg: FakeTelegram | None = None, graph: FakeGraph | None = None,
                     tg_url: str | None = None, graph_url: str | None = None,
                     **options: Any) -> AsyncIterator[World]:
    config = make_config(data, tg_url=tg_url, graph_url=graph_url, **options)
    world = World(config, VirtualClock(MONDAY), tg, graph)
    await world.runtime.start()
    try:
        yield world
    finally:
        await world.runtime.stop()
        await world.client.aclose()


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    fake = FakeTelegram()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    fake = FakeGraph()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
async def world(tmp_path: Path, tg: FakeTelegram, graph: FakeGraph) -> AsyncIterator[World]:
    async with open_world(tmp_path / "data", tg, graph, tg_url=tg.url,
                          graph_url=graph.url) as opened:
        yield opened
