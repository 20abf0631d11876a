"""`mentorbot data check`: what an operator needs to know about the store's health.

SQLite's (or PostgreSQL's) own integrity checks first, then the rows only we can judge:
people whose state cannot be read, people who are neither in the roster nor enrolled, and
messages parked as failed or waiting for long.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from bot.config import Config
from bot.domain import OutboxStatus
from bot.store.protocol import Store


@dataclass
class CheckReport:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_store(store: Store, config: Config) -> CheckReport:
    report = CheckReport()
    report.problems.extend(f"integrity: {p}" for p in store.check())
    roster = {p.id for p in config.people}
    with store.read() as uow:
        people = list(uow.rows("SELECT id, state, enrolled_at FROM people ORDER BY id"))
        for pid, state, enrolled_at in people:
            try:
                value = json.loads(state)
                if not isinstance(value, dict):
                    raise ValueError("not an object")
            except (TypeError, ValueError):
                report.problems.append(f"person {pid}: unreadable state (the person is told, "
                                       "their mentor warned; erase or repair it)")
            if pid not in roster and not enrolled_at:
                report.problems.append(f"person {pid}: neither in the roster nor enrolled "
                                       "(left the roster? export or forget them)")
        counts = dict(uow.rows("SELECT status, COUNT(*) FROM outbox GROUP BY status"))
        rows = {name: int(n) for name, (n,) in
                (("journal", next(iter(uow.rows("SELECT COUNT(*) FROM journal")))),
                 ("questions", next(iter(uow.rows("SELECT COUNT(*) FROM questions")))))}
    failed = int(counts.get(OutboxStatus.FAILED.value, 0))
    if failed:
        report.notes.append(f"{failed} message(s) parked as failed (refused by the platform)")
    report.notes.append(
        f"{len(people)} people, {rows['questions']} questions, {rows['journal']} journal lines, "
        f"{int(counts.get(OutboxStatus.PENDING.value, 0))} message(s) to send, "
        f"{int(counts.get(OutboxStatus.HELD.value, 0))} held"
    )
    return report
