"""A load driver for real workers: signed WhatsApp webhooks from many senders at once.

Each sender plays a script (sign the charter, ask a question, reread the journal...) one
message at a time, in order, as a phone does; the senders run concurrently over a bounded pool
of connections. Every message goes to a worker picked at random (seeded); a refused or broken
delivery (a killed worker) is delivered again to another worker, as Meta retries; and a share
of the messages accepted are delivered a second time to another worker (a redelivery), while
the sender goes on. Payloads have the shape of Meta's example payloads
(`tests/fixtures/whatsapp/meta_text_message.json`, `meta_interactive_*.json`) and carry the
`X-Hub-Signature-256` of `bot.transports.whatsapp.sign`.

Everything is bounded: the number of messages, and a deadline after which the driver stops
and reports what did not get through.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.transports.whatsapp import sign

PHONE_NUMBER_ID = "106540352242922"  # the one of Meta's example payloads (fake Graph API too)
DISPLAY_NUMBER = "15550783881"

SIGNING = ("/start", *["1"] * 7)  # the charter: "Lire l'article 1", then six "J'accepte"
QUESTION = (
    "Dans mon équipe, une collègue conteste systématiquement les priorités fixées en réunion.",
    "J'ai essayé d'en parler avec elle après la réunion ; je pense qu'elle se sent exclue.",
    "J'hésite entre l'associer à la préparation ou recadrer : quel regard sur ma posture ?",
)


@dataclass(frozen=True)
class Step:
    """One message of a script: typed text, or a press on a reply button or list row."""

    text: str = ""
    press: str | None = None  # the reply id (`c:1`)
    kind: str = "button_reply"  # or list_reply


def typed(text: str) -> Step:
    return Step(text=text)


def pressed(index: int, kind: str = "button_reply") -> Step:
    return Step(press=f"c:{index}", kind=kind)


def signing(name: str) -> list[Step]:
    """`/start`, read and accept the six articles, type one's full name."""
    return [typed(SIGNING[0]), *[pressed(1) for _ in SIGNING[1:]], typed(name)]


def asking() -> list[Step]:
    """The menu's first entry (ask a question), context, analysis, ask, then send it."""
    return [pressed(1, "list_reply"), *[typed(t) for t in QUESTION], pressed(1)]


def mentee_script(name: str, length: int) -> list[Step]:
    """A mentee's `length` messages: sign, ask, then reread the journal (`/journal`)."""
    steps = [*signing(name), *asking()]
    while len(steps) < length:
        steps.append(typed("/journal"))
    return steps[:length]


# -- payloads -----------------------------------------------------------------------------


def message(wa_id: str, wamid: str, step: Step, at: int) -> dict[str, Any]:
    item: dict[str, Any] = {"from": wa_id, "id": wamid, "timestamp": str(at)}
    if step.press is None:
        item.update({"type": "text", "text": {"body": step.text}})
    else:
        item.update({
            "context": {"from": DISPLAY_NUMBER, "id": "wamid.CONTEXT"},
            "type": "interactive",
            "interactive": {"type": step.kind, step.kind: {"id": step.press, "title": "x"}},
        })
    return item


def payload(wa_id: str, name: str, messages: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A webhook body as Meta sends it (one entry, one change, `contacts` and `messages`)."""
    return {
        "object": "whatsapp_business_account",
        "entry": [{
            "id": "102290129340398",
            "changes": [{
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": DISPLAY_NUMBER,
                                 "phone_number_id": PHONE_NUMBER_ID},
                    "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
                    "messages": list(messages),
                },
                "field": "messages",
            }],
        }],
    }


# -- the driver ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Sender:
    wa_id: str
    name: str
    script: tuple[Step, ...]


@dataclass
class Sent:
    """One message of one sender, as delivered."""

    sender: str
    index: int
    wamid: str
    latency: float = 0.0  # seconds, of the delivery that was answered 200
    attempts: int = 0
    workers: list[int] = field(default_factory=list)
    redelivered_to: int | None = None
    ok: bool = False


@dataclass
class LoadResult:
    sent: list[Sent]
    elapsed: float
    redeliveries: int
    retried: int
    errors: list[str]

    @property
    def delivered(self) -> int:
        return sum(1 for s in self.sent if s.ok)

    @property
    def throughput(self) -> float:
        return self.delivered / self.elapsed if self.elapsed > 0 else 0.0

    def latencies(self) -> list[float]:
        return sorted(s.latency for s in self.sent if s.ok)


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[rank]


class LoadDriver:
    """Posts every sender's script to `urls`, concurrently, bounded in count and time."""

    def __init__(self, urls: Sequence[str], senders: Sequence[Sender], app_secret: str, *,
                 seed: int = 7, connections: int = 50, redeliver: float = 0.0,
                 deadline: float = 120.0, request_timeout: float = 30.0,
                 pause: Callable[[], float] | None = None) -> None:
        self.urls = list(urls)
        self.senders = list(senders)
        self.app_secret = app_secret
        self.seed = seed
        self.connections = connections
        self.redeliver = redeliver
        self.deadline = deadline
        self.request_timeout = request_timeout
        self.pause = pause
        self.run_id = uuid.uuid4().hex[:8]
        self._extra: set[asyncio.Task[None]] = set()
        self.redeliveries = 0
        self.retried = 0
        self.errors: list[str] = []

    async def run(self) -> LoadResult:
        limits = httpx.Limits(max_connections=self.connections,
                              max_keepalive_connections=self.connections)
        timeout = httpx.Timeout(self.request_timeout, connect=5.0)
        sent: list[Sent] = []
        started = time.monotonic()
        self._stop_at = started + self.deadline
        async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
            results = await asyncio.gather(*(
                self._play(client, number, sender) for number, sender in enumerate(self.senders)
            ))
            elapsed = time.monotonic() - started
            if self._extra:
                await asyncio.wait(self._extra, timeout=max(1.0, self._stop_at - time.monotonic()))
        for items in results:
            sent.extend(items)
        return LoadResult(sent, elapsed, self.redeliveries, self.retried, self.errors)

    async def _play(self, client: httpx.AsyncClient, number: int, sender: Sender) -> list[Sent]:
        rng = random.Random(self.seed * 100_003 + number)
        out: list[Sent] = []
        for index, step in enumerate(sender.script):
            wamid = f"wamid.LOAD.{self.run_id}.{sender.wa_id}.{index:05d}"
            record = Sent(sender.wa_id, index, wamid)
            out.append(record)
            body = json.dumps(payload(sender.wa_id, sender.name, [
                message(sender.wa_id, wamid, step, int(time.time()))])).encode("utf-8")
            if not await self._deliver(client, rng, record, body):
                break  # the deadline passed: the rest of this script is not sent
            if self.redeliver and rng.random() < self.redeliver and len(self.urls) > 1:
                other = rng.choice([i for i in range(len(self.urls)) if i != record.workers[-1]])
                record.redelivered_to = other
                self.redeliveries += 1
                task = asyncio.create_task(self._again(client, other, body))
                self._extra.add(task)
                task.add_done_callback(self._extra.discard)
            if self.pause is not None:
                await asyncio.sleep(self.pause())
        return out

    async def _post(self, client: httpx.AsyncClient, worker: int, body: bytes) -> int:
        response = await client.post(
            f"{self.urls[worker]}/webhooks/whatsapp", content=body,
            headers={"Content-Type": "application/json",
                     "X-Hub-Signature-256": sign(self.app_secret, body)})
        return response.status_code

    async def _deliver(self, client: httpx.AsyncClient, rng: random.Random, record: Sent,
                       body: bytes) -> bool:
        """Until a worker answers 200 (another worker after a failure), or the deadline."""
        worker = rng.randrange(len(self.urls))
        while time.monotonic() < self._stop_at:
            record.attempts += 1
            record.workers.append(worker)
            began = time.monotonic()
            try:
                status = await self._post(client, worker, body)
            except httpx.HTTPError as exc:
                status, why = 0, type(exc).__name__
            else:
                why = f"HTTP {status}"
            if status == 200:
                record.latency = time.monotonic() - began
                record.ok = True
                return True
            self.retried += 1
            if len(self.errors) < 50:
                self.errors.append(f"{record.wamid} worker {worker}: {why}")
            if len(self.urls) > 1:
                worker = rng.choice([i for i in range(len(self.urls)) if i != worker])
            await asyncio.sleep(0.05)
        return False

    async def _again(self, client: httpx.AsyncClient, worker: int, body: bytes) -> None:
        """A redelivery: the platform did not see our 200 and sends the message again."""
        for _ in range(20):
            if time.monotonic() >= self._stop_at:
                return
            try:
                if await self._post(client, worker, body) == 200:
                    return
            except httpx.HTTPError:
                pass
            worker = (worker + 1) % len(self.urls)
            await asyncio.sleep(0.05)


# -- reading what the fake Graph API received ---------------------------------------------


def body_text(payload: dict[str, Any]) -> str:
    kind = payload.get("type")
    if kind == "text":
        return str(payload["text"]["body"])
    if kind == "interactive":
        return str(payload["interactive"]["body"]["text"])
    return f"<{kind}>"


def replies(accepted: Sequence[dict[str, Any]]) -> dict[str, list[str]]:
    """The texts each recipient received, in the order the fake Graph API accepted them."""
    out: dict[str, list[str]] = {}
    for item in accepted:
        out.setdefault(str(item.get("to")), []).append(body_text(item))
    return out


_PROMISE = re.compile(r"^(Votre question Q#|Votre suite pour Q#) est (?:envoyée|enregistrée|"
                      r"transmise)\b.*", re.S)
_DIGITS = re.compile(r"\d+")


def shape(text: str, name: str = "") -> str:
    """A reply without what differs between senders (their name, numbers, dates, Q ids, and
    the promise of an acknowledgement: "today at 13:00" before the day's digest, the next
    digest's date after it)."""
    if name:
        text = text.replace(name, "<name>")
    return _PROMISE.sub(r"\1 <acknowledged>", _DIGITS.sub("#", text))


def repeated_at_most(got: Sequence[str], expected: Sequence[str], repeats: int) -> bool:
    """`got` is `expected` in order, with at most `repeats` elements sent twice in a row (a
    reply in flight when its worker was killed)."""
    i = j = extra = 0
    while i < len(got):
        if j < len(expected) and got[i] == expected[j]:
            i += 1
            j += 1
        elif j > 0 and got[i] == expected[j - 1]:
            extra += 1
            i += 1
        else:
            return False
    return j == len(expected) and extra <= repeats
