"""The only place that reads the time.

Everything else receives a `Clock`: the real one in `run` and `console`, a virtual one in
`simulate`, tests and flow stories, so that hours, holidays and digests are testable.
"""

from __future__ import annotations

import time as _time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """A source of aware datetimes (UTC) and monotonic seconds."""

    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...


class RealClock:
    """Wall-clock time; `offset` lets the console demo step into the future."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def monotonic(self) -> float:
        return _time.monotonic()

    def advance(self, delta: timedelta) -> None:
        if delta < timedelta(0):
            raise ValueError("time only moves forward")
        self.offset += delta


def _aware(when: datetime) -> datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"a virtual clock needs an aware datetime, got naive {when!r}")
    return when.astimezone(UTC)


class VirtualClock:
    """A clock that moves only when told to: deterministic tests and simulations."""

    def __init__(self, start: datetime) -> None:
        self._now = _aware(start)
        self._mono = 0.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def set(self, when: datetime) -> None:
        when = _aware(when)
        if when < self._now:
            raise ValueError(f"time only moves forward: {when.isoformat()} is before "
                             f"{self._now.isoformat()}")
        self._mono += (when - self._now).total_seconds()
        self._now = when

    def advance(self, delta: timedelta) -> None:
        self.set(self._now + delta)
