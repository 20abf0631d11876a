"""Scrape-time readings of the store for `/metrics` (wired by `Runtime`): one query."""

from __future__ import annotations

from datetime import datetime

from bot.ops.metrics import OutboxStats
from bot.store import Store


def outbox_stats(store: Store, now: datetime) -> OutboxStats:
    """How many messages wait in the outbox (pending or held), and the oldest one's age."""
    with store.read() as uow:
        depth, oldest = uow.outbox_stats()
    if oldest is None:
        return OutboxStats(depth=depth, oldest_age_seconds=0.0)
    age = (now - datetime.fromisoformat(oldest)).total_seconds()
    return OutboxStats(depth=depth, oldest_age_seconds=max(age, 0.0))
