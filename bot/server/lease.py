"""One worker at a time runs the scheduler and polls Telegram: a lease around those loops.

The embedded store is served by one process, which always holds the lease. A store shared by
several processes (PostgreSQL) hands out a lease (`store.lease(name)`) that one process holds
at a time and that passes to another within seconds when its holder dies; `run_leased` starts
a loop when the lease is taken and stops it when the lease is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import (
    Any,
    Protocol,
)

log = logging.getLogger("mentorbot.lease")

CHECK_EVERY = 1.0  # seconds: how often a holder checks that it still holds the lease


class Lease(Protocol):
    retry: float

    def held(self) -> bool:
        """True when this process holds the lease (tries to take it when not)."""
        ...

    def release(self) -> None: ...


class Always:
    """The lease of a store that only one process serves."""

    retry = 1.0

    def held(self) -> bool:
        return True

    def release(self) -> None:
        pass


def lease_for(store: object, name: str) -> Lease:
    """`store.lease(name)` when the store is shared by several processes, else `Always`."""
    factory = getattr(store, "lease", None)
    if callable(factory):
        lease: Lease = factory(name)
        return lease
    return Always()


async def _wait(event: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(event.wait(), timeout=seconds)


async def run_leased(lease: Lease, name: str, stop: asyncio.Event,
                     body: Callable[[asyncio.Event], Coroutine[Any, Any, None]]) -> None:
    """Run `body(until)` while the lease is held; `until` is set when it is lost or on stop."""
    while not stop.is_set():
        if not await asyncio.to_thread(lease.held):
            await _wait(stop, lease.retry)
            continue
        log.info("leader of %s", name)
        until = asyncio.Event()
        task = asyncio.create_task(body(until), name=name)
        try:
            while not stop.is_set() and not task.done():
                await _wait(stop, CHECK_EVERY)
                if not task.done() and not stop.is_set() and \
                        not await asyncio.to_thread(lease.held):
                    log.warning("lease lost, %s stops", name)
                    break
        finally:
            until.set()
            await task
