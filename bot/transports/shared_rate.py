"""A platform's overall rate limit held across workers, not per process.

Telegram takes about 30 messages a second from a bot, WhatsApp 80 a second from a number:
limits of the platform account, whichever worker sends. A store shared by several workers
(PostgreSQL) hands out slots (`store.reserve(bucket, spacing)`: the next free instant of the
bucket, reserved atomically) and each send waits for its slot. The embedded store has one
process: its in-process limiter is enough and `shared_rate` returns None.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bot.store import Store
from bot.transports.telegram import RateLimiter

Reserve = Callable[[str, float], float]
WHATSAPP_RATE = 80.0  # messages per second from one business number (Cloud API default)


class SharedRate:
    """One message every `1 / per_second` seconds in `bucket`, across every worker."""

    def __init__(self, reserve: Reserve, bucket: str, per_second: float,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.reserve = reserve
        self.bucket = bucket
        self.spacing = 1.0 / per_second
        self._sleep = sleep

    async def acquire(self) -> None:
        wait = await asyncio.to_thread(self.reserve, self.bucket, self.spacing)
        if wait > 0:
            await self._sleep(wait)


def shared_rate(store: Store, bucket: str, per_second: float) -> SharedRate | None:
    """The shared limiter when the store is shared by several workers, else None."""
    if not store.shared:
        return None
    return SharedRate(store.reserve, bucket, per_second)


def telegram_limiter(store: Store, per_chat: float, per_second: float) -> RateLimiter | None:
    """Telegram's limiter for a shared store: per chat in this process (a person's messages
    are sent by one worker at a time, under their lock), overall across the workers."""
    shared = shared_rate(store, "telegram:all", per_second)
    if shared is None:
        return None

    class SharedTelegramLimiter(RateLimiter):
        async def acquire(self, chat_id: int) -> None:
            await super().acquire(chat_id)
            assert shared is not None
            await shared.acquire()

    return SharedTelegramLimiter(per_chat, 1e9)
