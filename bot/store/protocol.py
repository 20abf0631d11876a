"""The `Store` protocol: what the engine needs from persistence, nothing more.

Both stores (SQLite embedded, PostgreSQL for several workers) hand out the same
`UnitOfWork` (`bot.store.sql`) over their own connection: a turn is written once, against
one interface, whatever keeps it.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Protocol

from bot.store.sql import UnitOfWork


class Lease(Protocol):
    """Who runs the scheduler and polls Telegram: one process at a time."""

    retry: float  # seconds between two attempts to take it

    def held(self) -> bool:
        """True when this process holds the lease (tries to take it when not)."""
        ...

    def release(self) -> None: ...


class Always:
    """The lease of a store that only one process serves: always held."""

    retry = 1.0

    def held(self) -> bool:
        return True

    def release(self) -> None:
        pass


class Store(Protocol):
    """Durable storage. A `turn` commits only once its block ends without an exception."""

    @property
    def schema_version(self) -> int:
        """The schema version of the store (shown by `--version` and `/readyz`)."""
        ...

    def turn(self, person_ids: Sequence[str] = ()) -> AbstractContextManager[UnitOfWork]:
        """A write transaction holding the locks of `person_ids` (more with `uow.lock`)."""
        ...

    def read(self) -> AbstractContextManager[UnitOfWork]:
        """A read-only, consistent view."""
        ...

    def compact_log(self) -> None:
        """After an erasure: no log or free page keeps what was deleted."""

    def check(self) -> list[str]:
        """Integrity problems found by the database itself (empty: none)."""
        ...

    def close(self) -> None: ...

    # -- several workers: a store served by one process answers trivially -----------------

    @property
    def shared(self) -> bool:
        """True when several processes serve this store (their limits and leases are shared)."""
        ...

    def lease(self, name: str) -> Lease:
        """The lease `name` ("scheduler"), held by one process at a time."""
        ...

    def reserve(self, bucket: str, spacing: float) -> float:
        """A platform's rate limit across workers: reserve the next slot of `bucket` (one
        message every `spacing` seconds); how long to wait for it."""
        ...

    def sending(self, pid: str) -> AbstractAsyncContextManager[None]:
        """Held while a person's outbox is sent: one worker at a time sends it, in order."""
        ...
