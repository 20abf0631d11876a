"""The embedded store: TinyDB documents written through `DurableStorage`.

Layout under the data directory:
    shared.json                         counters, question index, invitations, scheduler
    people/<quoted id>/person.json      state, signatures, questions, outbox, applied ids
    people/<quoted id>/journal.jsonl    the work trace, appended and fsynced

One small file per person keeps the cost of a message flat as the organisation grows, and
erasure is the removal of one directory. Writes go through one lock (TinyDB is not
thread-safe), each one atomic.

A person id becomes a directory name by percent-encoding every character but letters, digits
and `_.-~` (so `/`, `:`, spaces and `..` can never leave `people/`), and a leading dot too:
names starting with a dot are the store's own (temporary files, erasures in progress).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Collection, Iterator
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
    json_line,
    read_json_lines,
)
from bot.store.model import JournalEntry, PersonData, SharedData

_LIST_TABLES = ("signatures", "questions", "outbox")
_DOC_TABLES = ("state", "meta")
_SHARED_FILE = {
    "counters": "shared.json",
    "invitations": "shared.json",
    "scheduler": "shared.json",
    "transports": "shared.json",
    "enrolled": "enrolled.json",
    "questions": "questions.json",
}
# Written in this order: what a counter or an invitation refers to is on disk before it.
_SHARED_FILES = ("questions.json", "enrolled.json", "shared.json")
_SHARED_TABLES = ("counters", "questions", "invitations", "enrolled", "scheduler", "transports")
_FORGET_PREFIX = ".forget-"
MAX_NAME = 200  # bytes of an encoded person id; file systems allow 255


JOURNAL_SYNC_EVERY = 32  # journal entries carried in person.json before the journal is fsynced


def _pending(db: TinyDB) -> list[dict[str, Any]]:
    """Journal entries committed in person.json and not yet fsynced in journal.jsonl."""
    docs = db.table("pending").all()
    entries = docs[0].get("entries", []) if docs else []
    return [dict(e) for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


class StoreError(UserError):
    """A store file that cannot be read (edited by hand, disk trouble): names the file."""


def person_dir_name(pid: str) -> str:
    """The directory name of a person id: reversible (`unquote`), safe, never hidden."""
    if not pid:
        raise StoreError("a person id cannot be empty")
    name = quote(pid, safe="")
    if name.startswith("."):
        name = "%2E" + name[1:]
    if len(name.encode("ascii")) > MAX_NAME:
        raise StoreError(f"person id too long for the store ({len(pid)} characters): {pid[:40]!r}…")
    return name


def _open(path: Path) -> tuple[TinyDB, DurableStorage]:
    db = TinyDB(path, storage=DurableStorage)
    storage = db.storage
    assert isinstance(storage, DurableStorage)
    return db, storage


def _read_db(path: Path) -> TinyDB:
    try:
        db, _ = _open(path)
        db.tables()  # forces the read
    except ValueError as exc:  # also json.JSONDecodeError and UnicodeDecodeError
        raise StoreError(f"{path}: unreadable store file: {exc}") from None
    except OSError as exc:
        raise StoreError(f"{path}: cannot read the store file: {exc.strerror or exc}") from None
    return db


def _first_doc(db: TinyDB, name: str, path: Path) -> dict[str, Any]:
    docs = db.table(name).all()
    if len(docs) > 1:
        raise StoreError(
            f"{path}: unreadable store file: table {name!r} holds {len(docs)} "
            "documents, expected one"
        )
    return dict(docs[0]) if docs else {}


class TinyStore:
    """`Store` implementation on TinyDB files."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.people_dir = self.root / "people"
        self._lock = threading.RLock()
        try:
            self.people_dir.mkdir(parents=True, exist_ok=True)
            self._finish_erasures()
        except OSError as exc:
            raise StoreError(f"{self.root}: cannot use the data directory: {exc}") from None

    def _finish_erasures(self) -> None:
        """An erasure interrupted by a crash is completed: nothing of that person remains."""
        for child in self.people_dir.iterdir():
            if child.name.startswith(_FORGET_PREFIX) and child.is_dir():
                shutil.rmtree(child)

    # -- people ---------------------------------------------------------------------------

    def _dir(self, pid: str) -> Path:
        return self.people_dir / person_dir_name(pid)

    def load_person(self, pid: str) -> PersonData | None:
        path = self._dir(pid) / "person.json"
        if not path.exists():
            return None
        db = _read_db(path)
        person = PersonData(id=pid)
        for name in _LIST_TABLES:
            setattr(person, name, [dict(doc) for doc in db.table(name).all()])
        for name in _DOC_TABLES:
            setattr(person, name, _first_doc(db, name, path))
        ids = _first_doc(db, "applied", path).get("ids", [])
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise StoreError(
                f"{path}: unreadable store file: 'applied' ids are not a list of texts"
            )
        person.applied = list(ids)
        return person

    def save_person(self, person: PersonData) -> None:
        directory = self._dir(person.id)
        with self._lock:
            created = not directory.exists()
            directory.mkdir(parents=True, exist_ok=True)
            if created:
                fsync_dir(self.people_dir)
            db, storage = _open(directory / "person.json")
            pending = _pending(db)
            if person.journal_new:
                # Journal first: a crash before the person file is written leaves the message
                # unapplied, so it is redelivered and replayed; the replayed lines carry the same
                # keys and are read once. The append is fsynced only every JOURNAL_SYNC_EVERY
                # entries: until then the entries also travel in person.json ("pending"), whose
                # atomic write is the commit, so one fsync per message is saved.
                new = [e.to_dict() for e in person.journal_new]
                pending.extend(new)
                sync = len(pending) >= JOURNAL_SYNC_EVERY or created
                journal = directory / "journal.jsonl"
                durable_append(journal, [json_line(e) for e in new], sync=sync)
                if sync:
                    pending = []
                person.journal_new = []
            table = db.table("pending")
            table.truncate()
            table.insert({"entries": pending})
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
        directory = self._dir(pid)
        person = directory / "person.json"
        pending = _pending(_read_db(person)) if person.exists() else []
        # The pending entries are the latest ones: those that reached journal.jsonl are replaced
        # in place by their committed copy, those lost in a crash come back at the end.
        seen: dict[str, int] = {}
        entries: list[JournalEntry] = []
        written = read_json_lines(directory / "journal.jsonl")
        keyless = {json_line(r) for r in written if not r.get("key")}
        raws = written + [r for r in pending if r.get("key") or json_line(r) not in keyless]
        for raw in raws:
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
        payload = "".join(json_line(e.to_dict()) + "\n" for e in entries)
        kept = {e.key: e.to_dict() for e in entries if e.key}
        with self._lock:
            person = directory / "person.json"
            if person.exists():
                # Removed entries leave the committed pending copy first, so that a crash before
                # the journal is rewritten can never bring them back (erasure, retention).
                db, storage = _open(person)
                table = db.table("pending")
                # Kept entries take their new text too (erasure anonymises some).
                entries_left = [kept[e["key"]] for e in _pending(db) if e.get("key") in kept]
                table.truncate()
                table.insert({"entries": entries_left})
                storage.flush()
            atomic_write(directory / "journal.jsonl", payload.encode("utf-8"))

    def person_ids(self) -> Iterator[str]:
        for child in sorted(self.people_dir.iterdir()):
            if child.name.startswith("."):
                continue  # an erasure in progress, or a temporary file
            if child.is_dir() and (child / "person.json").exists():
                yield unquote(child.name)

    def forget_person(self, pid: str) -> bool:
        directory = self._dir(pid)
        with self._lock:
            if not directory.exists():
                return False
            # Rename first so that a crash mid-removal never leaves a half person that loads.
            doomed = directory.with_name(f"{_FORGET_PREFIX}{directory.name}")
            if doomed.exists():  # left by an earlier erasure that crashed
                shutil.rmtree(doomed)
            directory.rename(doomed)
            fsync_dir(self.people_dir)
            shutil.rmtree(doomed)
            return True

    # -- shared ---------------------------------------------------------------------------

    def load_shared(self) -> SharedData:
        shared = SharedData()
        for filename in _SHARED_FILES:
            path = self.root / filename
            if not path.exists():
                continue
            db = _read_db(path)
            present = set(db.tables())
            for name in _SHARED_TABLES:
                # A table lives in its own file; an older shared.json may still hold it.
                if name in present and (
                    _SHARED_FILE[name] == filename or filename == "shared.json"
                ):
                    setattr(shared, name, _first_doc(db, name, path))
        return shared

    def save_shared(self, shared: SharedData, parts: Collection[str] | None = None) -> None:
        """Write the files holding `parts` (all when None): what grows with the organisation
        (enrollments, the question index) sits in files of its own, written only when it
        changes."""
        files = {_SHARED_FILE[p] for p in (parts if parts is not None else _SHARED_TABLES)}
        with self._lock:
            for filename in _SHARED_FILES:
                if filename not in files:
                    continue
                db, storage = _open(self.root / filename)
                for name in _SHARED_TABLES:
                    if _SHARED_FILE[name] != filename:
                        continue
                    table = db.table(name)
                    table.truncate()
                    table.insert(dict(getattr(shared, name)))
                storage.flush()
