"""One studio session: an engine on a virtual clock, its dispatcher with the web channel, and
the transcript the page draws.

Every change (a message, a move of the clock, a flow reloaded) goes through one lock, in
order, and ends with everything delivered, so the page and the tests see a settled state.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.app import build_app
from bot.clock import VirtualClock
from bot.config import Config
from bot.engine import trace
from bot.messages import Inbound, Outbound
from bot.store import open_store
from bot.studio import inspect
from bot.studio.render import Rendered, render
from bot.studio.story import Step
from bot.transports.outbox import Dispatcher, pressed
from bot.transports.web import WebChannel

HOUR = timedelta(hours=1)


@dataclass
class Bubble:
    """One message of a pane: from the person (`in`) or to them (`out`)."""

    id: int
    person: str
    direction: str
    at: datetime
    text: str
    rendered: Rendered | None = None
    verdicts: list[trace.Verdict] = field(default_factory=list)
    document: tuple[str, int] | None = None  # a file sent with the message: its name and size

    def to_json(self, tz: ZoneInfo, when: Callable[[datetime], str]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "person": self.person, "direction": self.direction,
            "at": self.at.astimezone(tz).strftime("%H:%M"), "text": self.text,
            "verdicts": [{"policy": v.policy, "outcome": v.outcome,
                          "until": when(datetime.fromisoformat(v.until)) if v.until else "",
                          "marks": [{"start": m.start, "end": m.end, "kind": m.kind}
                                    for m in v.marks]} for v in self.verdicts]}
        if self.rendered is not None:
            out["telegram"] = self.rendered.telegram.to_json()
            out["whatsapp"] = self.rendered.whatsapp.to_json()
        if self.document is not None:
            out["document"] = {"filename": self.document[0], "size": self.document[1]}
        return out


class Session:
    def __init__(self, config: Config, start: datetime, changed: Callable[[], None],
                 resume: bool = False) -> None:
        """`resume`: continue at the virtual time kept with the data, if any (not `start`).

        Without `resume`, `start` is used, but never before the time kept with the data nor
        before the scheduler's last run: time only moves forward, so the journal stays in order.
        """
        self.config = config
        store = open_store(config, exclusive=True)
        try:
            saved = inspect.saved_clock(store)
            if resume and saved is not None:
                start = saved
            start = max([start, *(t for t in (saved, inspect.last_run(store)) if t)])
            self.clock = VirtualClock(start)
            self.app = build_app(config, self.clock, store=store)
        except BaseException:
            store.close()
            raise
        self.engine = self.app.engine
        inspect.save_clock(store, self.clock.now())
        self.tz = ZoneInfo(config.timezone)
        self._changed = changed
        self._ids = itertools.count(1)
        self._lock = asyncio.Lock()
        self.bubbles: list[Bubble] = []
        self.steps: list[Step] = []
        self._by_source: dict[str, Bubble] = {}
        prefixes = frozenset(p.id.split(":", 1)[0] for p in inspect.people(self.engine))
        self.dispatcher = Dispatcher(self.engine, retry_interval=3600.0)
        for prefix in sorted(prefixes):
            self.dispatcher.register(WebChannel(prefix, self._show))
        trace.observe(self.engine, self._verdict)
        self.list_button = config.transports.whatsapp.list_button

    async def start(self) -> None:
        await self.dispatcher.start()
        await self.dispatcher.idle()

    async def close(self) -> None:
        await self.dispatcher.close()
        self.app.close()

    # -- what the channel and the policies report ---------------------------------------

    def _show(self, out: Outbound) -> None:
        document = None
        if out.document is not None:
            document = (out.document.filename, len(out.document.content))
        self.bubbles.append(Bubble(next(self._ids), out.to, "out", self.clock.now(), out.text,
                                   render(out, self.list_button), document=document))

    def _verdict(self, verdict: trace.Verdict) -> None:
        bubble = self._by_source.get(verdict.source)
        if bubble is not None:
            bubble.verdicts.append(verdict)

    # -- what the page does -----------------------------------------------------------

    async def say(self, pid: str, text: str) -> list[Outbound]:
        async with self._lock:
            return await self._say(pid, text, None)

    async def press(self, pid: str, index: int, prompt: str | None = None) -> list[Outbound]:
        """A button pressed: given to the engine as the channels do (the choice's number and
        the key of the prompt of the message it is under)."""
        async with self._lock:
            label = self._label(pid, index, prompt)
            return await self._say(pid, str(index), label, prompt)

    def _label(self, pid: str, index: int, prompt: str | None) -> str:
        for bubble in reversed(self.bubbles):
            if bubble.person == pid and bubble.direction == "out" and bubble.rendered:
                if prompt and bubble.rendered.prompt != prompt:
                    continue
                choices = bubble.rendered.choices
                if 1 <= index <= len(choices):
                    return choices[index - 1]
                break
        return str(index)

    async def _say(self, pid: str, text: str, shown: str | None,
                   prompt: str | None = None) -> list[Outbound]:
        now = self.clock.now()
        number = next(self._ids)
        source = f"studio-{number}"
        bubble = Bubble(number, pid, "in", now, shown if shown is not None else text)
        self.bubbles.append(bubble)
        self._by_source[source] = bubble
        if shown is None:
            inbound = Inbound(sender=pid, message_id=source, at=now, text=text)
        else:
            inbound = pressed(pid, source, now, int(text), prompt)
        outs = await self.dispatcher.receive(inbound)
        await self.dispatcher.idle()
        self.steps.append(Step(now.isoformat(), pid, text, list(outs)))
        self._changed()
        return outs

    async def advance_to(self, when: datetime) -> list[Outbound]:
        async with self._lock:
            return await self._advance(when)

    async def _advance(self, when: datetime) -> list[Outbound]:
        """Move the clock to `when`: the jobs due on the way run at their own time."""
        sent: list[Outbound] = []
        if when <= self.clock.now():
            return sent

        def run() -> None:
            for _, outs in self.app.scheduler.run_due(when, self.clock.set):
                sent.extend(outs)

        await asyncio.to_thread(run)
        if when > self.clock.now():
            self.clock.set(when)
        await asyncio.to_thread(inspect.save_clock, self.engine.store, self.clock.now())
        await self.dispatcher.submit(sent)
        self.dispatcher.retry_now()  # held messages (none on the web) go out when due
        await self.dispatcher.idle()
        if sent:
            self.steps.append(Step(when.isoformat(), None, None, sent))
        self._changed()
        return sent

    async def plus_hour(self) -> None:
        await self.advance_to(self.clock.now() + HOUR)

    async def next_opening(self) -> None:
        await self.advance_to(inspect.next_opening(self.engine, self.clock.now()))

    async def next_digest(self) -> None:
        when = inspect.next_digest(self.app, self.clock.now())
        if when is not None:
            await self.advance_to(when)

    async def set_locale(self, pid: str, locale: str) -> None:
        async with self._lock:
            inspect.set_locale(self.engine, pid, locale)
            self._changed()

    async def reload_flows(self) -> list[str]:
        async with self._lock:
            problems = await asyncio.to_thread(inspect.reload_flows, self.engine)
            self._changed()
            return problems
