"""Read a data directory's store from tests: one short read transaction per call."""

from __future__ import annotations

from pathlib import Path

from bot.domain import Flag, JournalEntry, PersonData, Question
from bot.store import SQLiteStore


class StoreView:
    """What a test reads of the embedded store (opened and closed at each call)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def read_journal(self, pid: str) -> list[JournalEntry]:
        store = SQLiteStore(self.root)
        try:
            with store.read() as uow:
                return uow.journal(pid)
        finally:
            store.close()

    def load_person(self, pid: str) -> PersonData | None:
        store = SQLiteStore(self.root)
        try:
            with store.read() as uow:
                return uow.peek(pid)
        finally:
            store.close()

    def questions(self, pid: str) -> list[Question]:
        store = SQLiteStore(self.root)
        try:
            with store.read() as uow:
                return uow.questions_of(pid)
        finally:
            store.close()

    def question(self, qid: str) -> Question | None:
        store = SQLiteStore(self.root)
        try:
            with store.read() as uow:
                return uow.question(qid)
        finally:
            store.close()

    def flags(self, pid: str) -> list[Flag]:
        store = SQLiteStore(self.root)
        try:
            with store.read() as uow:
                return uow.flags_of(pid)
        finally:
            store.close()

    def person_ids(self) -> list[str]:
        store = SQLiteStore(self.root)
        try:
            with store.read() as uow:
                return uow.person_ids()
        finally:
            store.close()


def raw_text(root: Path) -> str:
    """Every byte of every file under `root` (database, log, lock), as text: what a search
    of the disk would find."""
    return "".join(
        p.read_bytes().decode("utf-8", errors="ignore") for p in Path(root).rglob("*") if p.is_file()
    )


def transport_state(root: Path, transport: str, key: str) -> object:
    store = SQLiteStore(root)
    try:
        with store.read() as uow:
            return uow.transport_get(transport, key)
    finally:
        store.close()


def waiting(root: Path, pid: str) -> list[str]:
    """The keys of the person's messages still to send (pending or held)."""
    store = SQLiteStore(root)
    try:
        with store.read() as uow:
            return [e.key for e in uow.outbox_waiting(pid)]
    finally:
        store.close()


def jobs(root: Path) -> set[str]:
    store = SQLiteStore(root)
    try:
        with store.read() as uow:
            return {str(r[0]) for r in uow.rows("SELECT job FROM scheduler")}
    finally:
        store.close()


class StoreFault:
    """An I/O fault of the store: every journal line written (for `person`, or anyone) fails
    until healed.

    Done inside the database (a temporary trigger on the store's own connection that aborts
    the write, as a failing disk would), not by replacing any of the project's code."""

    def __init__(self, store: SQLiteStore, table: str = "journal", person: str | None = None) -> None:
        self._conn = store._conn  # the connection the store writes through
        condition = "1" if person is None else "NEW.person = " + _quote(person)
        self._name = f"fault_{table}"
        with store.turn():
            pass  # no transaction open on the connection from here
        self._conn.execute(
            f"CREATE TEMP TRIGGER {self._name} BEFORE INSERT ON {table} WHEN {condition} "
            "BEGIN SELECT RAISE(ABORT, 'disk I/O error (test fault)'); END"
        )

    def heal(self) -> None:
        self._conn.execute(f"DROP TRIGGER IF EXISTS {self._name}")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
