"""Persistence behind a small protocol: SQLite embedded, PostgreSQL for several workers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.store.errors import DamagedData, StoreError, StoreUnavailable
from bot.store.protocol import Store
from bot.store.sql import UnitOfWork
from bot.store.sqlite import SQLiteStore

if TYPE_CHECKING:
    from bot.config import Config

__all__ = [
    "DamagedData",
    "SQLiteStore",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "UnitOfWork",
    "open_store",
]


def open_store(config: Config, *, exclusive: bool = False) -> Store:
    """The store `config.storage` names: PostgreSQL when `url` is set, else the embedded one.
    `exclusive`: this process serves the conversations (one such process per SQLite store)."""
    url = getattr(config.storage, "url", None)
    if url:
        from bot.store.postgres import PostgresStore  # type: ignore[import-not-found,unused-ignore]

        store: Store = PostgresStore(url)
        return store
    return SQLiteStore(config.storage.path, exclusive=exclusive)
