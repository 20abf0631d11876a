"""The durable outbox: nothing is lost between the engine's commit and the platform's acceptance.

Each outbound is written to its recipient's `PersonData.outbox` (under the person's lock)
before any attempt to send it, and removed only once the platform accepted it, or refused it
for good. On start-up, whatever is still there is sent again (at-least-once). Messages to one
person go out in order: one that cannot be sent yet stops the ones behind it.

An entry, as stored (plain JSON, so that any store keeps it):

    {"key": "tg:42#2", "to": "telegram:1", "text": "...", "choices": ["...", "..."],
     "meta": {}, "status": "pending" | "held", "parts": 0, "queued_at": "<ISO 8601>"}

`parts` counts the pieces of a long text already accepted, so that a restart never repeats
them; `held` marks a message waiting for the person to write back (WhatsApp's 24-hour window).

This module also holds the small helpers both platform channels share: splitting a long text
on clean boundaries, and the button protocol (`c:<index>`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from bot.engine.core import Engine
from bot.messages import Inbound, Outbound
from bot.ops import metrics
from bot.store import PersonData

log = logging.getLogger("mentorbot.outbox")

T = TypeVar("T")

PENDING = "pending"
HELD = "held"


class Result(StrEnum):
    """What became of one delivery attempt."""

    SENT = "sent"  # the platform accepted every part: remove the entry
    HELD = "held"  # the platform will not take it now (24-hour window): keep it, stop here
    RETRY = "retry"  # a transient failure: keep it, stop here, try again later
    DROP = "drop"  # refused for good (blocked bot, bad recipient): remove it, go on


@dataclass
class Entry:
    """One outbound waiting for its platform's acceptance."""

    out: Outbound
    status: str = PENDING
    parts: int = 0
    queued_at: str = ""

    def to_record(self) -> dict[str, Any]:
        return {"key": self.out.key, "to": self.out.to, "text": self.out.text,
                "choices": list(self.out.choices), "meta": dict(self.out.meta),
                "status": self.status, "parts": self.parts, "queued_at": self.queued_at}

    @classmethod
    def from_record(cls, raw: Any) -> Entry | None:
        """A stored entry, or None when it is not one (tolerant: the store is plain JSON)."""
        if not isinstance(raw, dict):
            return None
        key, to, text = raw.get("key"), raw.get("to"), raw.get("text")
        if not isinstance(key, str) or not isinstance(to, str) or not isinstance(text, str):
            return None
        choices, meta, parts = raw.get("choices"), raw.get("meta"), raw.get("parts", 0)
        return cls(
            out=Outbound(to=to, text=text, key=key,
                         choices=tuple(map(str, choices)) if isinstance(choices, list) else (),
                         meta={str(k): str(v) for k, v in meta.items()}
                         if isinstance(meta, dict) else {}),
            status=HELD if raw.get("status") == HELD else PENDING,
            parts=parts if isinstance(parts, int) and parts >= 0 else 0,
            queued_at=str(raw.get("queued_at", "")))


Progress = Callable[[int], Awaitable[None]]


class Channel(Protocol):
    """A platform that can deliver an outbox entry."""

    name: str

    async def deliver(self, entry: Entry, progress: Progress) -> Result:
        """Send what is left of `entry` (from part `entry.parts`); call `progress(n)` once
        part n-1 of a multi-part message is accepted."""
        ...


class Outbox:
    """The stored half: blocking calls (run them in a worker thread), each under the
    recipient's lock, so that they interleave safely with the engine's turns."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def known(self, pid: str) -> bool:
        """Only people of the roster or enrolled have stored data; a stranger has none."""
        return self.engine.directory.get(pid) is not None

    def mutate(self, pid: str, change: Callable[[PersonData], T]) -> T:
        """Load the person, apply `change`, save durably; all under their lock."""
        engine = self.engine
        with engine.locks.hold(pid):
            data = engine.store.load_person(pid) or PersonData(id=pid)
            result = change(data)
            engine.store.save_person(data)
            return result

    def add(self, outs: list[Outbound], now: datetime) -> None:
        """Queue outbounds durably, once per key (adding one twice is harmless)."""
        by_person: dict[str, list[Outbound]] = {}
        for out in outs:
            by_person.setdefault(out.to, []).append(out)
        for pid, items in by_person.items():
            def change(data: PersonData, items: list[Outbound] = items) -> None:
                present = {raw.get("key") for raw in data.outbox if isinstance(raw, dict)}
                for out in items:
                    if out.key not in present:
                        data.outbox.append(Entry(out, queued_at=now.isoformat()).to_record())
                        present.add(out.key)
            self.mutate(pid, change)

    def entries(self, pid: str) -> list[Entry]:
        data = self.engine.store.load_person(pid)
        if data is None:
            return []
        return [e for e in (Entry.from_record(raw) for raw in data.outbox) if e is not None]

    def update(self, pid: str, key: str, *, parts: int | None = None,
               status: str | None = None) -> None:
        def change(data: PersonData) -> None:
            for raw in data.outbox:
                if isinstance(raw, dict) and raw.get("key") == key:
                    if parts is not None:
                        raw["parts"] = parts
                    if status is not None:
                        raw["status"] = status
        self.mutate(pid, change)

    def hold(self, pid: str, keys: list[str]) -> None:
        wanted = set(keys)

        def change(data: PersonData) -> None:
            for raw in data.outbox:
                if isinstance(raw, dict) and raw.get("key") in wanted:
                    raw["status"] = HELD
        self.mutate(pid, change)

    def remove(self, pid: str, key: str) -> None:
        def change(data: PersonData) -> None:
            data.outbox[:] = [raw for raw in data.outbox
                              if not (isinstance(raw, dict) and raw.get("key") == key)]
        self.mutate(pid, change)

    def waiting(self) -> list[str]:
        """Everyone with something in their outbox (read once, at start-up)."""
        out: list[str] = []
        for pid in self.engine.store.person_ids():
            data = self.engine.store.load_person(pid)
            if data is not None and data.outbox:
                out.append(pid)
        return out


class Dispatcher:
    """Hands inbound messages to the engine and delivers what it returns, through the outbox.

    One delivery task per recipient at a time keeps each person's messages in order; different
    people are served concurrently. A recipient whose delivery failed is retried every
    `retry_interval` seconds.
    """

    def __init__(self, engine: Engine, *, retry_interval: float = 30.0) -> None:
        self.engine = engine
        self.outbox = Outbox(engine)
        self.channels: dict[str, Channel] = {}
        self.retry_interval = retry_interval
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()
        self._retry: set[str] = set()
        # Messages to strangers: nothing of theirs is stored, so they wait in memory only.
        self._volatile: dict[str, list[Entry]] = {}
        self._retry_task: asyncio.Task[None] | None = None

    def register(self, channel: Channel) -> None:
        self.channels[channel.name] = channel

    # -- in -------------------------------------------------------------------------------

    async def receive(self, inbound: Inbound) -> list[Outbound]:
        """Handle one inbound durably, queue what it produced durably, start delivering.

        When this returns, the message and the replies survive a crash: the platform may be
        told that the message is received."""
        outs = await asyncio.to_thread(self.engine.handle, inbound)
        await self.submit(outs)
        self.kick(inbound.sender)  # someone writing may open a window for held messages
        return outs

    async def submit(self, outs: list[Outbound]) -> None:
        """Queue outbounds durably, then start delivering them."""
        routed: list[Outbound] = []
        for out in outs:
            if not out.key:  # the outbox is keyed: never let two messages share a key
                out = replace(out, key=f"auto:{uuid.uuid4().hex}")
            if out.channel not in self.channels:
                log.warning("no transport for channel=%s to=%s key=%s", out.channel, out.to,
                            out.key)
                continue
            routed.append(out)
        stored = [o for o in routed if self.outbox.known(o.to)]
        if stored:
            await asyncio.to_thread(self.outbox.add, stored, self.engine.clock.now())
        for out in routed:
            if not self.outbox.known(out.to):
                self._volatile.setdefault(out.to, []).append(Entry(out))
        for pid in dict.fromkeys(o.to for o in routed):
            self.kick(pid)

    # -- out ------------------------------------------------------------------------------

    def kick(self, pid: str) -> None:
        """Make sure a delivery task runs for `pid` (and looks again if one is running)."""
        if pid.split(":", 1)[0] not in self.channels:
            return
        task = self._tasks.get(pid)
        if task is not None and not task.done():
            self._again.add(pid)
            return
        self._tasks[pid] = asyncio.create_task(self._run(pid), name=f"deliver {pid}")

    async def _run(self, pid: str) -> None:
        try:
            while True:
                self._again.discard(pid)
                await self._flush(pid)
                if pid not in self._again:
                    return
        except Exception:
            log.exception("delivery failed person=%s", pid)
            self._retry.add(pid)

    async def _flush(self, pid: str) -> None:
        channel = self.channels[pid.split(":", 1)[0]]
        stored = self.outbox.known(pid)
        if stored:
            entries = await asyncio.to_thread(self.outbox.entries, pid)
        else:
            entries = list(self._volatile.get(pid, []))
        for index, entry in enumerate(entries):
            key = entry.out.key

            async def progress(parts: int, entry: Entry = entry) -> None:
                entry.parts = parts
                if stored:
                    await asyncio.to_thread(self.outbox.update, pid, entry.out.key, parts=parts)

            result = await channel.deliver(entry, progress)
            if result in (Result.SENT, Result.DROP):
                if result is Result.DROP:
                    log.warning("dropped person=%s key=%s", pid, key)
                    metrics.send_parked(channel.name)
                else:
                    log.info("sent person=%s key=%s", pid, key)
                    metrics.message_out(channel.name)
                await self._forget(pid, entry, stored)
                continue
            if result is Result.HELD:
                rest = [e.out.key for e in entries[index:] if e.status != HELD]
                if rest and stored:
                    await asyncio.to_thread(self.outbox.hold, pid, rest)
                log.info("held person=%s messages=%d", pid, len(entries) - index)
                self._retry.discard(pid)
                return
            log.info("retry later person=%s key=%s", pid, key)
            metrics.send_failed(channel.name)
            self._retry.add(pid)
            return
        self._retry.discard(pid)

    async def _forget(self, pid: str, entry: Entry, stored: bool) -> None:
        if stored:
            await asyncio.to_thread(self.outbox.remove, pid, entry.out.key)
            return
        queue = self._volatile.get(pid, [])
        if entry in queue:
            queue.remove(entry)
        if not queue:
            self._volatile.pop(pid, None)

    # -- life cycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Resend what a previous run left in the outboxes, then retry failures periodically."""
        for pid in await asyncio.to_thread(self.outbox.waiting):
            self.kick(pid)
        if self._retry_task is None:
            self._retry_task = asyncio.create_task(self._retry_loop(), name="outbox retry")

    async def _retry_loop(self) -> None:
        while True:
            await asyncio.sleep(self.retry_interval)
            self.retry_now()

    def retry_now(self) -> None:
        pids, self._retry = self._retry, set()
        for pid in pids:
            self.kick(pid)

    def pending_retry(self) -> set[str]:
        return set(self._retry)

    async def idle(self) -> None:
        """Wait until no delivery is running (tests, and a clean stop)."""
        while True:
            tasks = [t for t in self._tasks.values() if not t.done()]
            if not tasks:
                return
            await asyncio.gather(*tasks, return_exceptions=True)

    async def close(self, timeout: float = 10.0) -> None:
        """Let running deliveries finish (bounded); what is left stays in the outbox."""
        if self._retry_task is not None:
            self._retry_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retry_task
            self._retry_task = None
        tasks = [t for t in self._tasks.values() if not t.done()]
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=timeout)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)


# -- helpers shared by the platform channels ----------------------------------------------

CHOICE_PREFIX = "c:"


def choice_data(index: int) -> str:
    """The id carried by a button (Telegram callback data, WhatsApp reply id): short, ASCII."""
    return f"{CHOICE_PREFIX}{index}"


def parse_choice(data: object) -> int | None:
    if not isinstance(data, str) or not data.startswith(CHOICE_PREFIX):
        return None
    tail = data[len(CHOICE_PREFIX):]
    if not tail.isdigit() or len(tail) > 3:
        return None
    index = int(tail)
    return index if index >= 1 else None


def pressed(sender: str, message_id: str, at: datetime, index: int) -> Inbound:
    """A button press, given to the engine as the choice's number typed by the person.

    The number (not `Inbound.choice`) also answers the engine's own prompts that are not flow
    steps (the safety and identifying-data questions), which read text only."""
    return Inbound(sender=sender, message_id=message_id, at=at, text=str(index))


def numbered(choices: tuple[str, ...]) -> str:
    return "\n".join(f"{i}. {label}" for i, label in enumerate(choices, 1))


def truncate(label: str, limit: int) -> str:
    label = " ".join(label.split())
    if len(label) <= limit:
        return label
    return label[: limit - 1].rstrip() + "\u2026"


def _utf16_units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def _fit(text: str, limit: int, utf16: bool) -> int:
    """The length of the longest prefix of `text` within `limit`."""
    if not utf16:
        return min(len(text), limit)
    used = 0
    for index, char in enumerate(text):
        used += _utf16_units(char)
        if used > limit:
            return index
    return len(text)


def _size(text: str, utf16: bool) -> int:
    return sum(_utf16_units(c) for c in text) if utf16 else len(text)


def split_text(text: str, limit: int, *, utf16: bool = False) -> list[str]:
    """Split a text into parts within `limit`, cutting at a paragraph, else a line, else a
    space, in the second half of the window when possible; a word longer than the limit is cut.
    `utf16` measures as Telegram does (UTF-16 code units)."""
    if limit < 2:
        raise ValueError("limit too small")
    parts: list[str] = []
    rest = text.strip()
    while _size(rest, utf16) > limit:
        window = _fit(rest, limit, utf16)
        cut = 0
        for floor in (window // 2, 1):
            for separator in ("\n\n", "\n", " "):
                found = rest.rfind(separator, 0, window)
                if found >= floor:
                    cut = found
                    break
            if cut:
                break
        if not cut:
            cut = window
        head, rest = rest[:cut].rstrip(), rest[cut:].lstrip()
        if head:
            parts.append(head)
    if rest or not parts:
        parts.append(rest)
    return parts
