"""Scrape-time readings of the store for `/metrics` (wired by `Runtime`).

The outbox of the per-person file store is read person by person: fine at scrape time for a
small deployment; the SQL store answers the same question with one query.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from bot.ops.metrics import OutboxStats

if TYPE_CHECKING:
    from bot.transports.outbox import Outbox


def outbox_stats(outbox: Outbox, now: datetime) -> OutboxStats:
    """How many messages wait in the outboxes, and how long the oldest has waited."""
    depth = 0
    oldest: datetime | None = None
    for pid in outbox.waiting():
        for entry in outbox.entries(pid):
            depth += 1
            try:
                queued = datetime.fromisoformat(entry.queued_at)
            except ValueError:
                continue
            oldest = queued if oldest is None or queued < oldest else oldest
    age = max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
    return OutboxStats(depth=depth, oldest_age_seconds=age)
