"""One worker at a time sends a person's outbox: the dispatcher's one line for several workers.

With the embedded store, one process sends everything and its dispatcher already runs one
delivery task per recipient. With a store shared by several workers (PostgreSQL), two workers
may both have queued replies to one person; `sending(store, pid)` holds the store's
per-recipient sending lock around a drain, so the second drains after the first, reads the
outbox afresh and sends only what is still pending, in order.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any


@contextlib.asynccontextmanager
async def sending(store: object, pid: str) -> AsyncIterator[None]:
    hold: Any = getattr(store, "sending", None)
    if hold is None:
        yield
        return
    async with hold(pid):
        yield
