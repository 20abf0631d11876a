"""The embedded store: TinyDB documents written through `DurableStorage`.

Layout under the data directory:
    shared.json                         counters, question index, invitations, scheduler
    people/<quoted id>/person.json      state, signatures, questions, outbox, applied ids
    people/<quoted id>/journal.jsonl    the work trace, appended and fsynced

One small file per person keeps the cost of a message flat as the organisation grows, and
erasure is the removal of one directory. Writes go through one lock (TinyDB is not
thread-safe), each one atomic.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from tinydb import TinyDB

from bot.errors import UserError
from bot.store.durable import (
    DurableStorage,
    atomic_write,
    durable_append,
    fsync_dir,
    read_json_lines,
)
from bot.store.model import JournalEntry, PersonData, SharedData

_LIST_TABLES = ("signatures", "questions", "outbox")
_DOC_TABLES = ("state", "meta")


class StoreError(UserError):
    """A store file that cannot be read (edited by hand, disk trouble): names the file."""


def _open(path: Path) -> tuple[TinyDB, DurableStorage]:
    db = TinyDB(path, storage=DurableStorage)
    storage = db.storage
    assert isinstance(storage, DurableStorage)
    return db, storage


def _read_db(path: Path) -> TinyDB:
    try:
        db, _ = _open(path)
        db.tables()  # forces the read
    except ValueError as exc:
        raise StoreError(f"{path}: unreadable store file: {exc}") from None
    return db


class TinyStore:
    """`Store` implementation on TinyDB files."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.people_dir = self.root / "people"
        self._lock = threading.RLock()
        try:
            self.people_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{self.root}: cannot create the data directory: {exc}") from None

    # -- people ---------------------------------------------------------------------------

    def _dir(self, pid: str) -> Path:
        return self.people_dir / quote(pid, safe="")

    def load_person(self, pid: str) -> PersonData | None:
        path = self._dir(pid) / "person.json"
        if not path.exists():
            return None
        db = _read_db(path)
        person = PersonData(id=pid)
        for name in _LIST_TABLES:
            setattr(person, name, [dict(doc) for doc in db.table(name).all()])
        for name in _DOC_TABLES:
            docs = db.table(name).all()
            setattr(person, name, dict(docs[0]) if docs else {})
        applied = db.table("applied").all()
        person.applied = list(applied[0].get("ids", [])) if applied else []
        return person

    def save_person(self, person: PersonData) -> None:
        directory = self._dir(person.id)
        with self._lock:
            created = not directory.exists()
            directory.mkdir(parents=True, exist_ok=True)
            if created:
                fsync_dir(self.people_dir)
            if person.journal_new:
                # Journal first: a crash before the person file is written leaves the message
                # unapplied, so it is redelivered and replayed; the replayed lines carry the same
                # keys and are read once.
                lines = [json.dumps(e.to_dict(), ensure_ascii=False) for e in person.journal_new]
                durable_append(directory / "journal.jsonl", lines)
                person.journal_new = []
            db, storage = _open(directory / "person.json")
            for name in _LIST_TABLES:
                table = db.table(name)
                table.truncate()
                rows: list[dict[str, Any]] = getattr(person, name)
                if rows:
                    table.insert_multiple(rows)
            for name in _DOC_TABLES:
                table = db.table(name)
                table.truncate()
                table.insert(getattr(person, name))
            applied = db.table("applied")
            applied.truncate()
            applied.insert({"ids": person.applied})
            storage.flush()

    def read_journal(self, pid: str) -> list[JournalEntry]:
        seen: dict[str, int] = {}
        entries: list[JournalEntry] = []
        for raw in read_json_lines(self._dir(pid) / "journal.jsonl"):
            try:
                entry = JournalEntry.from_dict(raw)
            except (KeyError, TypeError):
                continue
            if entry.key and entry.key in seen:
                entries[seen[entry.key]] = entry
                continue
            if entry.key:
                seen[entry.key] = len(entries)
            entries.append(entry)
        return entries

    def rewrite_journal(self, pid: str, entries: list[JournalEntry]) -> None:
        directory = self._dir(pid)
        if not directory.exists():
            return
        payload = "".join(json.dumps(e.to_dict(), ensure_ascii=False) + "\n" for e in entries)
        with self._lock:
            atomic_write(directory / "journal.jsonl", payload.encode("utf-8"))

    def person_ids(self) -> Iterator[str]:
        for child in sorted(self.people_dir.iterdir()):
            if child.is_dir() and (child / "person.json").exists():
                yield unquote(child.name)

    def forget_person(self, pid: str) -> bool:
        directory = self._dir(pid)
        with self._lock:
            if not directory.exists():
                return False
            # Rename first so that a crash mid-removal never leaves a half person that loads.
            doomed = directory.with_name(f".forget-{directory.name}")
            directory.rename(doomed)
            fsync_dir(self.people_dir)
            shutil.rmtree(doomed)
            return True

    # -- shared ---------------------------------------------------------------------------

    def load_shared(self) -> SharedData:
        path = self.root / "shared.json"
        if not path.exists():
            return SharedData()
        db = _read_db(path)
        shared = SharedData()
        for name in ("counters", "questions", "invitations", "enrolled", "scheduler", "transports"):
            docs = db.table(name).all()
            if docs:
                setattr(shared, name, dict(docs[0]))
        return shared

    def save_shared(self, shared: SharedData) -> None:
        with self._lock:
            db, storage = _open(self.root / "shared.json")
            for name in ("counters", "questions", "invitations", "enrolled", "scheduler", "transports"):
                table = db.table(name)
                table.truncate()
                table.insert(dict(getattr(shared, name)))
            storage.flush()
