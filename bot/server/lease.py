"""One worker at a time runs the scheduler and polls Telegram: a lease around those loops.

Every store hands out leases (`store.lease(name)`): the embedded one, served by one process,
always holds them; one shared by several processes (PostgreSQL) lets one process hold a lease
at a time and passes it to another within seconds when its holder dies. `run_leased` starts a
loop when the lease is taken and stops it when the lease is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from bot.store.protocol import Lease

log = logging.getLogger("mentorbot.lease")

CHECK_EVERY = 1.0  # seconds: how often a holder checks that it still holds the lease


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
