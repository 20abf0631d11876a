"""The `Store` protocol: what the engine needs from persistence, nothing more."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Protocol

from bot.store.model import JournalEntry, PersonData, SharedData


class Store(Protocol):
    """Durable storage. `save_*` returns only once the data would survive a crash."""

    def load_person(self, pid: str) -> PersonData | None:
        """The person's data, or None when nothing is stored about them."""

    def save_person(self, person: PersonData) -> None:
        """Persist the person's data and append `person.journal_new` to their journal."""

    def read_journal(self, pid: str) -> list[JournalEntry]:
        """The person's journal, in order (a replayed entry appears once)."""

    def rewrite_journal(self, pid: str, entries: list[JournalEntry]) -> None:
        """Replace the journal (retention purge, erasure of a mentee's lines)."""

    def person_ids(self) -> Iterator[str]:
        """Every person with stored data."""

    def forget_person(self, pid: str) -> bool:
        """Erase everything stored about the person; True when something existed."""

    def load_shared(self) -> SharedData:
        """The shared state (empty on a new store)."""

    def save_shared(self, shared: SharedData, parts: Collection[str] | None = None) -> None:
        """Persist the shared state: only the named fields when `parts` is given."""
