"""Clock-driven jobs: digests at opening times, the daily retention purge.

The scheduler only computes which jobs are due up to an instant and runs them in time order;
who moves the clock (a real sleep, a virtual clock in `simulate`) is the caller's business.
The last run of each job is stored, so a restart neither repeats nor forgets a digest; each
mentor's digest is also recorded in its own unit of work, so a job interrupted half-way sends
the rest, never twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, time, timedelta

from bot.engine.core import Engine
from bot.messages import Outbound

PURGE_AT = time(3, 0)
JOBS = ("digest", "purge")


class Scheduler:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._calm_until: datetime | None = None  # nothing is due before this instant
        self._last_runs: dict[str, datetime] = {}
        self.reload()

    def reload(self) -> None:
        """Read the last runs from the store (anchored at now for a new store)."""
        now = self.engine.clock.now()
        with self.engine.store.turn() as uow:
            for job in JOBS:
                last = uow.job_last_run(job)
                if last is None:
                    uow.job_ran(job, now.isoformat())
                    last = now.isoformat()
                self._last_runs[job] = datetime.fromisoformat(last)
        self._calm_until = None

    def earliest_last_run(self) -> datetime:
        return min(self._last_runs.values())

    def _last(self, job: str) -> datetime:
        return self._last_runs[job]

    def due(self, until: datetime) -> list[tuple[datetime, str]]:
        """Jobs due in (last run, until], in time order."""
        engine = self.engine
        jobs = [
            (when, "digest")
            for when in engine.calendar.digest_instants(
                self._last("digest"), until, engine.config.digest.times
            )
        ]
        day = self._last("purge").astimezone(engine.calendar.tz).date()
        while True:
            when = datetime.combine(day, PURGE_AT, tzinfo=engine.calendar.tz)
            if when > until:
                break
            if when > self._last("purge"):
                jobs.append((when, "purge"))
            day += timedelta(days=1)
        return sorted(jobs)

    def next_due(self, after: datetime, horizon: timedelta = timedelta(days=8)) -> datetime | None:
        jobs = self.due(after + horizon)
        return jobs[0][0] if jobs else None

    def run_due(
        self, until: datetime, move_clock: Callable[[datetime], None] | None = None
    ) -> Iterator[tuple[datetime, list[Outbound]]]:
        """Run every job due up to `until`, in order, yielding what each sends.

        Called before every message, so the next due instant is remembered: until then,
        nothing is computed."""
        if self._calm_until is not None and until < self._calm_until:
            return
        for when, job in self.due(until):
            if move_clock is not None:
                move_clock(when)
            out: list[Outbound] = []
            if job == "digest":
                out = self.engine.run_digests(when)
            else:
                self.engine.purge(when)

            with self.engine.store.turn() as uow:
                uow.job_ran(job, when.isoformat())
            self._last_runs[job] = when
            yield when, out
        self._calm_until = self.next_due(until)
