"""The `Store` protocol: what the engine needs from persistence, nothing more.

Both stores (SQLite embedded, PostgreSQL for several workers) hand out the same
`UnitOfWork` (`bot.store.sql`) over their own connection: a turn is written once, against
one interface, whatever keeps it.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from bot.store.sql import UnitOfWork


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
