"""`mentorbot simulate`: replay a JSON Lines script on a virtual clock.

Before each event the clock moves to its `at`, and every job due until then runs first, in time
order. Each message the bot sends is one JSON line on the output.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

from bot.app import build_app
from bot.clock import VirtualClock
from bot.config import Config
from bot.errors import UserError
from bot.messages import AttachmentKind, Inbound, Outbound
from bot.ops import metrics

EVENT_KEYS = {"at", "from", "text", "attachment", "caption", "tick", "id", "prompt"}
SIM_ATTACHMENTS = {"image", "document", "audio", "video", "sticker"}
MAX_LINE = 1_000_000
MIN_YEAR, MAX_YEAR = 1971, 9998


class ScriptError(UserError):
    """A malformed line of a simulate script: `name:line: message`."""


@dataclass(frozen=True, slots=True)
class Event:
    line: int
    at: datetime
    sender: str | None = None
    text: str | None = None
    attachment: AttachmentKind | None = None
    tick: bool = False
    id: str | None = None
    prompt: str | None = None  # a pressed button: the key of its prompt (`text` is its number)


def parse_script(lines: Iterable[str], name: str = "<script>") -> list[Event]:
    """Validate every line before anything runs; raise `ScriptError` naming the line."""
    events: list[Event] = []
    last: datetime | None = None
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue

        def fail(message: str, number: int = number) -> ScriptError:
            return ScriptError(f"{name}:{number}: {message}")

        if len(raw) > MAX_LINE:
            raise fail(f"line too long ({len(raw)} characters, at most {MAX_LINE})")
        try:
            data = json.loads(raw)
        except RecursionError:
            raise fail("not valid JSON (nested too deeply)") from None
        except json.JSONDecodeError as exc:
            raise fail(f"not valid JSON ({exc.msg}, column {exc.colno})") from None
        if not isinstance(data, dict):
            raise fail("each line must be a JSON object")
        unknown = sorted(set(data) - EVENT_KEYS)
        if unknown:
            raise fail(f"unknown key {unknown[0]!r}")
        at_raw = data.get("at")
        if not isinstance(at_raw, str):
            raise fail("'at' is required (an ISO 8601 time with its offset)")
        try:
            at = datetime.fromisoformat(at_raw)
        except ValueError:
            raise fail(f"'at' is not an ISO 8601 time: {at_raw!r}") from None
        if at.tzinfo is None or at.utcoffset() is None:
            raise fail("'at' needs a UTC offset, e.g. 2026-11-30T09:00:00+01:00")
        if not MIN_YEAR <= at.year <= MAX_YEAR:
            raise fail(f"'at' must be between the years {MIN_YEAR} and {MAX_YEAR}")
        if last is not None and at < last:
            raise fail("events must be in non-decreasing time")
        last = at
        if data.get("tick") is not None:
            if data.get("tick") is not True or set(data) - {"at", "tick"}:
                raise fail('a tick event is {"at": ..., "tick": true} and nothing else')
            events.append(Event(line=number, at=at, tick=True))
            continue
        sender = data.get("from")
        if not isinstance(sender, str) or ":" not in sender:
            raise fail("'from' must be a person id like 'console:alice'")
        text, attachment = data.get("text"), data.get("attachment")
        if (text is None) == (attachment is None):
            raise fail("an event has either 'text' or 'attachment'")
        if text is not None and not isinstance(text, str):
            raise fail("'text' must be a string")
        if attachment is not None and (
            not isinstance(attachment, str) or attachment not in SIM_ATTACHMENTS
        ):
            raise fail(f"'attachment' must be one of {', '.join(sorted(SIM_ATTACHMENTS))}")
        if "caption" in data and attachment is None:
            raise fail("'caption' goes with an 'attachment'")
        if "caption" in data and not isinstance(data["caption"], str):
            raise fail("'caption' must be a string")
        msg_id = data.get("id")
        if msg_id is not None and not isinstance(msg_id, str):
            raise fail("'id' must be a string")
        prompt = data.get("prompt")  # a button pressed: its prompt's key, `text` its number
        if prompt is not None and not (
            isinstance(prompt, str) and prompt.isascii() and prompt.isalnum()
            and isinstance(text, str) and text.isdecimal()
        ):
            raise fail("'prompt' is the key of a prompt (letters and digits), with the "
                       "number of the choice pressed as 'text'")
        events.append(
            Event(
                line=number,
                at=at,
                sender=sender,
                text=text,
                id=msg_id,
                attachment=AttachmentKind(attachment) if attachment else None,
                prompt=prompt,
            )
        )
    return events


def render_line(out: Outbound, at: datetime, tz: ZoneInfo) -> str:
    metrics.message_out(out.channel)  # every message a simulation shows is "sent"
    record: dict[str, Any] = {"at": at.astimezone(tz).isoformat(), "to": out.to, "text": out.text}
    if out.choices:
        record["choices"] = list(out.choices)
        if out.prompt:
            record["prompt"] = out.prompt  # what its buttons carry (stories press them)
    if out.document is not None:  # the file itself is not printed: its name, type and size
        record["document"] = {"filename": out.document.filename,
                              "media_type": out.document.media_type,
                              "size": len(out.document.content)}
    return json.dumps(record, ensure_ascii=False)


class Simulator:
    """One engine on a virtual clock, fed event by event (simulate, stories, tests).

    What the bot says goes through the outbox like on any channel: after each event the
    pending messages are printed, then marked sent. A reply committed but not printed when a
    previous run died is printed first by the next one."""

    def __init__(self, config: Config, start: datetime) -> None:
        from bot.engine.scheduler import JOBS
        from bot.store import open_store

        store = open_store(config, exclusive=True)
        try:
            # Start the clock where the store left off when that is earlier than the first
            # event, so that the jobs due in between run (and print) at their own time.
            with store.read() as uow:
                for job in JOBS:
                    last = uow.job_last_run(job)
                    if last is not None:
                        start = min(start, datetime.fromisoformat(last))
            self.clock = VirtualClock(start)
            self.app = build_app(config, self.clock, store=store)
        except BaseException:
            store.close()
            raise
        self.tz = ZoneInfo(config.timezone)
        self._printed: list[int] = []
        self._recovered = False

    def close(self) -> None:
        self.app.close()

    def _move(self, when: datetime) -> None:
        if when > self.clock.now():
            self.clock.set(when)

    def _drain(self, also: list[Outbound]) -> list[str]:
        """The outbox's pending messages as lines, then `also` (never stored: strangers, a
        goodbye after erasure); marked sent by `confirm`."""
        with self.app.engine.store.read() as uow:
            entries = uow.outbox_pending()
        stored = {e.key for e in entries}
        entries = [e for e in entries if e.id not in self._printed]
        lines = [
            render_line(
                Outbound(to=e.to, text=e.text, choices=e.choices, key=e.key, meta=dict(e.meta)),
                datetime.fromisoformat(e.queued_at) if e.queued_at else self.clock.now(),
                self.tz,
            )
            for e in entries
        ]
        self._printed.extend(e.id for e in entries)
        lines.extend(
            render_line(m, self.clock.now(), self.tz) for m in also if m.key not in stored
        )
        return lines

    def confirm(self) -> None:
        """The lines returned so far are out: mark their messages sent."""
        if not self._printed:
            return
        from bot.domain import OutboxStatus

        ids, self._printed = self._printed, []
        at = self.clock.now().isoformat()
        with self.app.engine.store.turn() as uow:
            for entry_id in ids:
                uow.outbox_mark(entry_id, OutboxStatus.SENT, at=at)

    def feed(self, event: Event, confirm: bool = True) -> list[str]:
        """Run the jobs due before the event, then the event; the JSON lines sent."""
        lines: list[str] = []
        if not self._recovered:  # left unprinted by a run that died: read once, first
            lines = self._drain([])
            self._recovered = True
        for _, messages in self.app.scheduler.run_due(event.at, self._move):
            lines.extend(self._drain(messages))
        self._move(event.at)
        if not (event.tick or event.sender is None):
            inbound = Inbound(
                sender=event.sender,
                message_id=event.id or f"sim-{uuid.uuid4().hex}",
                at=event.at,
                text=event.text,
                attachment=event.attachment,
                prompt=event.prompt,
            )
            lines.extend(self._drain(self.app.engine.handle(inbound)))
        if confirm:
            self.confirm()
        return lines


def simulate(config: Config, events: list[Event], output: IO[str]) -> int:
    """Run the events; write one JSON line per message sent. Returns how many were sent."""
    if not events:
        return 0
    simulator = Simulator(config, events[0].at)
    sent = 0
    try:
        for event in events:
            lines = simulator.feed(event, confirm=False)
            for line in lines:
                output.write(line + "\n")
            output.flush()
            simulator.confirm()
            sent += len(lines)
    finally:
        simulator.close()
    return sent
