"""Why the bot said that: the policies' verdicts, offered to whoever watches an engine.

The engine calls `safety`, `identifying` or `hours` in one line where a policy decides; an
observer (the studio's inspector) receives a typed `Verdict`. With no observer, nothing is
kept: verdicts quote spans of a person's text, so they never reach a log or the store.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.engine.core import Engine
    from bot.engine.turn import Turn
    from bot.policies.identifying import Span


@dataclass(frozen=True, slots=True)
class Mark:
    """One flagged span of a message: `text[start:end]` is identifying data of `kind`."""

    start: int
    end: int
    kind: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """One policy's decision about one inbound message (`source` is its message id).

    `outcome`: the safety level ("none", "distress"...), "flagged"/"clear" for identifying
    data, "open"/"closed" for opening hours (then `until` is the next opening, ISO 8601)."""

    person: str
    source: str
    policy: str
    outcome: str
    marks: tuple[Mark, ...] = ()
    until: str = ""


Observer = Callable[[Verdict], None]

_observers: weakref.WeakKeyDictionary[Engine, list[Observer]] = weakref.WeakKeyDictionary()


def observe(engine: Engine, observer: Observer) -> None:
    """Receive every verdict `engine` reaches from now on."""
    _observers.setdefault(engine, []).append(observer)


def _note(turn: Turn, verdict: Verdict) -> None:
    for observer in _observers.get(turn.engine, ()):
        observer(verdict)


def safety(turn: Turn, level: str) -> None:
    if turn.engine in _observers:
        _note(turn, Verdict(turn.profile.id, turn.source, "safety", level.lower()))


def identifying(turn: Turn, spans: Sequence[Span]) -> None:
    if turn.engine in _observers:
        marks = tuple(Mark(s.start, s.end, s.kind.value) for s in spans)
        _note(turn, Verdict(turn.profile.id, turn.source, "identifying",
                            "flagged" if marks else "clear", marks))


def hours(turn: Turn, today: bool, until: datetime) -> None:
    """The acknowledgement's promise: the mentor reads it today, or on a later day, `until`."""
    if turn.engine in _observers:
        _note(turn, Verdict(turn.profile.id, turn.source, "hours",
                            "today" if today else "later", until=until.isoformat()))
