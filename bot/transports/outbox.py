"""The durable outbox: nothing is lost between the engine's commit and the platform's acceptance.

The engine writes each outgoing message as an `outbox` row in the same commit as the turn
that produced it. The dispatcher delivers each recipient's rows in order, and marks each one
as soon as the platform has accepted it, so a crash repeats at most the message in flight.
A message the platform refuses for good is parked as failed (a log line and a metric) and
never blocks the ones behind it; a transient failure is retried with a growing delay;
`held` rows wait for the person to write back (WhatsApp's 24-hour window).

Messages that are never stored (to strangers, quoting identifying data, a goodbye after an
erasure) are delivered from memory only.

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
from typing import Protocol

from bot.domain import OutboxEntry, OutboxStatus
from bot.engine.core import Engine
from bot.messages import Inbound, Outbound
from bot.ops import metrics

log = logging.getLogger("mentorbot.outbox")

RETRY_CAP = 600.0  # seconds: the longest wait between two attempts of a transient failure


class Result(StrEnum):
    """What became of one delivery attempt."""

    SENT = "sent"  # the platform accepted every part
    HELD = "held"  # the platform will not take it now (24-hour window): keep it, stop here
    RETRY = "retry"  # a transient failure: keep it, stop here, try again later
    DROP = "drop"  # refused for good (blocked bot, bad recipient): park it, go on


@dataclass
class Entry:
    """One outbound waiting for its platform's acceptance (`id` 0: never stored)."""

    out: Outbound
    status: str = OutboxStatus.PENDING.value
    parts: int = 0
    queued_at: str = ""
    id: int = 0

    @classmethod
    def stored(cls, row: OutboxEntry) -> Entry:
        return cls(
            out=Outbound(to=row.to, text=row.text, choices=row.choices, key=row.key,
                         meta=dict(row.meta)),
            status=row.status.value,
            parts=row.parts,
            queued_at=row.queued_at,
            id=row.id,
        )


Progress = Callable[[int], Awaitable[None]]


class Channel(Protocol):
    """A platform that can deliver an outbox entry."""

    name: str

    async def deliver(self, entry: Entry, progress: Progress) -> Result:
        """Send what is left of `entry` (from part `entry.parts`); call `progress(n)` once
        part n-1 of a multi-part message is accepted."""
        ...


class Outbox:
    """The stored half: blocking calls (run them in a worker thread), each a short
    transaction of its own."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def known(self, pid: str) -> bool:
        """Only people of the roster or enrolled have stored data; a stranger has none."""
        return self.engine.profile(pid) is not None

    def entries(self, pid: str) -> list[Entry]:
        with self.engine.store.read() as uow:
            return [Entry.stored(row) for row in uow.outbox_waiting(pid)]

    def waiting(self, channels: list[str]) -> list[str]:
        """Everyone with a pending message on `channels` (read at start-up)."""
        with self.engine.store.read() as uow:
            return uow.outbox_recipients(channels)

    def mark(self, entry_id: int, status: OutboxStatus | None = None, *, parts: int | None = None,
             error: str | None = None, attempt: bool = False) -> None:
        with self.engine.store.turn() as uow:
            uow.outbox_mark(entry_id, status, parts=parts, error=error, attempt=attempt,
                            at=self.engine.clock.now().isoformat())

    def hold(self, ids: list[int]) -> None:
        with self.engine.store.turn() as uow:
            for entry_id in ids:
                uow.outbox_mark(entry_id, OutboxStatus.HELD)


class Dispatcher:
    """Hands inbound messages to the engine and delivers what it returns, through the outbox.

    One delivery task per recipient at a time keeps each person's messages in order; different
    people are served concurrently. A recipient whose delivery failed is retried after a delay
    that doubles with each failure (from `retry_interval` up to `RETRY_CAP`).
    """

    def __init__(self, engine: Engine, *, retry_interval: float = 30.0) -> None:
        self.engine = engine
        self.outbox = Outbox(engine)
        self.channels: dict[str, Channel] = {}
        self.retry_interval = retry_interval
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()
        self._retry: dict[str, float] = {}  # recipient -> when to try again (monotonic)
        self._failures: dict[str, int] = {}
        # Messages that are never stored wait in memory only.
        self._volatile: dict[str, list[Entry]] = {}
        self._retry_task: asyncio.Task[None] | None = None

    def register(self, channel: Channel) -> None:
        self.channels[channel.name] = channel
        self.engine.outbox_channels = frozenset(self.channels)

    # -- in -------------------------------------------------------------------------------

    async def receive(self, inbound: Inbound) -> list[Outbound]:
        """Handle one inbound durably (its replies are in the outbox when this returns: the
        platform may be told that the message is received), then start delivering."""
        outs = await asyncio.to_thread(self.engine.handle, inbound)
        await self.submit(outs)
        self.kick(inbound.sender)  # someone writing may open a window for held messages
        return outs

    async def submit(self, outs: list[Outbound]) -> None:
        """Start delivering what a turn or a job produced. What the engine committed is in
        the outbox already; anything else for a known person is queued durably first, and
        the volatile messages wait in memory."""
        routed = [o for o in outs if o.channel in self.channels]
        for out in outs:
            if out.channel not in self.channels:
                log.warning("no transport for channel=%s key=%s", out.channel, out.key)
        volatile = await asyncio.to_thread(self._store, routed)
        for out in volatile:
            self._volatile.setdefault(out.to, []).append(Entry(out))
        for pid in dict.fromkeys(o.to for o in routed):
            self.kick(pid)

    def _store(self, outs: list[Outbound]) -> list[Outbound]:
        """Queue the outbounds not yet in the outbox; returns those that are never stored."""
        volatile: list[Outbound] = []
        with self.engine.store.turn() as uow:
            fresh: list[OutboxEntry] = []
            for out in outs:
                if not out.key:  # the outbox is keyed: never let two messages share a key
                    out = replace(out, key=f"auto:{uuid.uuid4().hex}")
                if out.volatile or self.engine.directory.get(out.to, uow) is None:
                    volatile.append(out)
                elif uow.outbox_entry(out.key) is None:
                    fresh.append(OutboxEntry(key=out.key, to=out.to, text=out.text,
                                             choices=out.choices, meta=dict(out.meta),
                                             queued_at=self.engine.clock.now().isoformat(),
                                             question=out.about))
            uow.outbox_add(fresh)
        return volatile

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
                async with self.engine.store.sending(pid):  # one worker at a time
                    await self._flush(pid)
                if pid not in self._again:
                    return
        except Exception:
            log.exception("delivery failed person=%s", pid)
            self._later(pid)

    def _later(self, pid: str) -> None:
        failures = self._failures.get(pid, 0) + 1
        self._failures[pid] = failures
        delay = min(self.retry_interval * (2 ** (failures - 1)), RETRY_CAP)
        self._retry[pid] = self.engine.clock.monotonic() + delay

    async def _flush(self, pid: str) -> None:
        channel = self.channels[pid.split(":", 1)[0]]
        volatile = list(self._volatile.get(pid, []))
        stored = await asyncio.to_thread(self.outbox.entries, pid)
        for index, entry in enumerate([*volatile, *stored]):

            async def progress(parts: int, entry: Entry = entry) -> None:
                entry.parts = parts
                if entry.id:
                    await asyncio.to_thread(self.outbox.mark, entry.id, parts=parts)

            result = await channel.deliver(entry, progress)
            if result is Result.SENT:
                log.info("sent person=%s key=%s", pid, entry.out.key)
                metrics.message_out(channel.name)
                await self._done(pid, entry, OutboxStatus.SENT)
                continue
            if result is Result.DROP:
                log.warning("parked person=%s key=%s", pid, entry.out.key)
                metrics.send_parked(channel.name)
                await self._done(pid, entry, OutboxStatus.FAILED, "refused")
                continue
            if result is Result.HELD:
                rest = [e.id for e in [*volatile, *stored][index:] if e.id]
                if rest:
                    await asyncio.to_thread(self.outbox.hold, rest)
                log.info("held person=%s messages=%d", pid, len(rest))
                self._retry.pop(pid, None)
                return
            log.info("retry later person=%s key=%s", pid, entry.out.key)
            metrics.send_failed(channel.name)
            if entry.id:
                await asyncio.to_thread(self.outbox.mark, entry.id, error="transient",
                                        attempt=True)
            self._later(pid)
            return
        self._retry.pop(pid, None)
        self._failures.pop(pid, None)

    async def _done(self, pid: str, entry: Entry, status: OutboxStatus,
                    error: str | None = None) -> None:
        if entry.id:
            await asyncio.to_thread(self.outbox.mark, entry.id, status, error=error)
            return
        queue = self._volatile.get(pid, [])
        if entry in queue:
            queue.remove(entry)
        if not queue:
            self._volatile.pop(pid, None)

    # -- life cycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Resend what a previous run left in the outbox, then retry failures periodically."""
        for pid in await asyncio.to_thread(self.outbox.waiting, list(self.channels)):
            self.kick(pid)
        if self._retry_task is None:
            self._retry_task = asyncio.create_task(self._retry_loop(), name="outbox retry")

    async def _retry_loop(self) -> None:
        while True:
            await asyncio.sleep(min(self.retry_interval, 5.0))
            now = self.engine.clock.monotonic()
            for pid, when in list(self._retry.items()):
                if when <= now:
                    self._retry.pop(pid, None)
                    self.kick(pid)

    def retry_now(self) -> None:
        pids, self._retry = list(self._retry), {}
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


def choice_data(index: int, prompt: str = "") -> str:
    """The id carried by a button (Telegram callback data, WhatsApp reply id): short, ASCII.
    It names the prompt the button belongs to (`Outbound.prompt`) and the choice's number."""
    if prompt:
        return f"{CHOICE_PREFIX}{prompt}:{index}"
    return f"{CHOICE_PREFIX}{index}"


def parse_button(data: object) -> tuple[int, str | None] | None:
    """(the choice's number, its prompt's key or None for a button of an older release)."""
    if not isinstance(data, str) or not data.startswith(CHOICE_PREFIX):
        return None
    prompt, _, tail = data[len(CHOICE_PREFIX):].rpartition(":")
    if not tail.isdigit() or len(tail) > 3:
        return None
    if prompt and not (len(prompt) <= 32 and prompt.isalnum() and prompt.isascii()):
        return None
    index = int(tail)
    return (index, prompt or None) if index >= 1 else None


def parse_choice(data: object) -> int | None:
    parsed = parse_button(data)
    return parsed[0] if parsed else None


def pressed(sender: str, message_id: str, at: datetime, index: int,
            prompt: str | None = None) -> Inbound:
    """A button press, given to the engine as the choice's number typed by the person, with
    the key of the prompt the button belongs to (the engine tells an old button apart).

    The number (not `Inbound.choice`) also answers the engine's own prompts that are not flow
    steps (the safety and identifying-data questions), which read text only."""
    return Inbound(sender=sender, message_id=message_id, at=at, text=str(index), prompt=prompt)


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
