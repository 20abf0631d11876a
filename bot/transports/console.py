"""`mentorbot console`: chat in the terminal as any person of the roster.

`/as ID` switches the person typing, so that one can play mentee and mentor; `/attendre 2h`
moves the clock forward so that digest times can be reached without waiting.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import IO

from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from bot.app import build_app
from bot.clock import RealClock
from bot.config import Config
from bot.engine.texts import render
from bot.i18n import format_when
from bot.messages import Inbound, Outbound

_DURATION = re.compile(r"^\s*(\d+)\s*(m|min|h|j|d)\s*$", re.IGNORECASE)
QUIT = {"/quit", "/quitter", "/exit"}
WAIT = {"/attendre", "/wait"}


def parse_duration(text: str) -> timedelta | None:
    match = _DURATION.match(text)
    if not match:
        return None
    amount, unit = int(match.group(1)), match.group(2).lower()
    if unit in ("m", "min"):
        return timedelta(minutes=amount)
    if unit == "h":
        return timedelta(hours=amount)
    return timedelta(days=amount)


def show(console: Console, message: Outbound, current: str) -> None:
    body = Text(message.text)
    for i, label in enumerate(message.choices, 1):
        body.append(f"\n  {i}. {label}", style="bold cyan")
    style = "green" if message.to == current else "yellow"
    console.print(Panel(body, title=f"→ {message.to}", title_align="left", border_style=style))


def run_console(
    config: Config,
    as_id: str | None,
    stdin: IO[str],
    console: Console,
    clock: RealClock | None = None,
) -> None:
    clock = clock or RealClock()
    app = build_app(config, clock)
    engine = app.engine
    with engine.store.read() as uow:
        people = [p.id for p in engine.directory.all(uow)]
    current = as_id or next(
        (p for p in people if p.startswith("console:")), people[0] if people else "console:me"
    )

    def say(key: str, **params: str) -> None:
        with engine.catalogs.use(config.locale):
            console.print(Text(render(engine.flows.texts[key], params), style="dim"))

    def deliver(also: list[Outbound]) -> None:
        """What the bot said goes through the outbox, as on any channel: shown, then marked
        sent (a reply committed before a crash is shown at the next start)."""
        from bot.domain import OutboxStatus

        with engine.store.read() as uow:
            entries = uow.outbox_pending()
        stored = {e.key for e in entries}
        for entry in entries:
            show(console, Outbound(to=entry.to, text=entry.text, choices=entry.choices), current)
        for message in also:
            if message.key not in stored:
                show(console, message, current)
        if entries:
            with engine.store.turn() as uow:
                for entry in entries:
                    uow.outbox_mark(entry.id, OutboxStatus.SENT, at=clock.now().isoformat())

    def jobs() -> None:
        deliver([])
        for _, messages in app.scheduler.run_due(clock.now()):
            deliver(messages)

    try:
        say("console_welcome", id=current, who=", ".join(people))
        read: Callable[[], str] = stdin.readline
        while True:
            jobs()
            console.print(Text(f"{current}> ", style="bold"), end="")
            line = read()
            if not line:
                console.print()
                return
            line = line.rstrip("\n")
            head, _, rest = line.strip().partition(" ")
            if head.lower() in QUIT:
                return
            if head.lower() == "/as":
                wanted = rest.strip()
                if wanted in people:
                    current = wanted
                    say("console_switched", id=current)
                else:
                    say("console_unknown_person", id=wanted, who=", ".join(people))
                continue
            if head.lower() in WAIT:
                delta = parse_duration(rest)
                if delta is None:
                    say("console_bad_duration", text=rest)
                    continue
                clock.advance(delta)
                with engine.catalogs.use(config.locale):
                    pattern = engine.flows.texts["date_pattern"]
                    when = format_when(clock.now(), pattern, config.timezone)
                say("console_waited", when=when)
                continue
            inbound = Inbound(
                sender=current, message_id=f"console-{uuid.uuid4().hex}", at=clock.now(), text=line
            )
            deliver(engine.handle(inbound))
    finally:
        app.close()
