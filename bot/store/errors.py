"""What can go wrong with a store, as the engine and the command line see it."""

from __future__ import annotations

from bot.errors import UserError


class StoreError(UserError):
    """The store cannot be used (a newer schema, another process, a path that is not ours)."""


class StoreUnavailable(Exception):
    """A write could not be made durable now (disk full, I/O error): nothing was kept; the
    caller answers so that the platform retries later."""


class DamagedData(Exception):
    """One person's stored data cannot be read: that person is told, everyone else served."""

    def __init__(self, pid: str) -> None:
        super().__init__(pid)
        self.pid = pid
