"""The embedded store: one SQLite file in `storage.path`, WAL mode, one writer at a time.

`synchronous=FULL` makes each commit durable with one fsync of the write-ahead log (the
database file is fsynced only at checkpoints); `secure_delete` overwrites what erasure and
retention delete, and a checkpoint that truncates the log follows each erasure, so no file
keeps an erased person's text. A turn is `BEGIN IMMEDIATE … COMMIT`: every write of the
turn, or none.

One process serves a data directory: a second `run`, `console`, `simulate` or `studio` on
the same directory is refused (an advisory lock on `mentorbot.sqlite3.lock`); the data
commands (`export`, `forget`, `check`, `backup`) may run beside it, SQLite's own locking
keeps them consistent.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import IO

from bot.store.errors import StoreError, StoreUnavailable
from bot.store.protocol import Always, Lease
from bot.store.schema import MIGRATIONS, SCHEMA_VERSION, statements
from bot.store.sql import Dialect, UnitOfWork

log = logging.getLogger("mentorbot.store")

DB_NAME = "mentorbot.sqlite3"
BUSY_TIMEOUT_MS = 10_000


# Data directories this process serves: several stores of one process may share one (tests,
# the studio's reloads); another process may not.
_HELD: dict[Path, tuple[IO[str], int]] = {}
_HELD_LOCK = threading.Lock()


def database_path(root: Path) -> Path:
    return Path(root) / DB_NAME


class SQLiteStore:
    """`Store` on SQLite."""

    dialect = Dialect()

    def __init__(self, root: Path, *, exclusive: bool = False) -> None:
        self.root = Path(root)
        self.path = database_path(self.root)
        self._lock = threading.RLock()
        self._lock_path: Path | None = None
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{self.root}: cannot use the data directory: {exc}") from None
        if exclusive:
            self._take_directory()
        try:
            self._conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30.0
            )
        except sqlite3.Error as exc:
            self._release_directory()
            raise StoreError(f"{self.path}: cannot open the store: {exc}") from None
        try:
            self._configure()
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self.close()
            raise StoreError(f"{self.path}: not a mentorbot store, or damaged: {exc}") from None
        except BaseException:
            self.close()
            raise

    # -- opening --------------------------------------------------------------------------

    def _take_directory(self) -> None:
        lock_path = self.path.with_name(DB_NAME + ".lock").resolve()
        with _HELD_LOCK:
            held = _HELD.get(lock_path)
            if held is not None:
                _HELD[lock_path] = (held[0], held[1] + 1)
                self._lock_path = lock_path
                return
            handle = self._flock(lock_path)
            _HELD[lock_path] = (handle, 1)
            self._lock_path = lock_path

    def _flock(self, lock_path: Path) -> IO[str]:
        handle = open(lock_path, "a+", encoding="utf-8")  # noqa: SIM115 - held until close()
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            handle.close()
            raise StoreError(
                f"{self.root}: another mentorbot process (pid {holder}) is using this data "
                "directory; stop it first, or use another --data"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        return handle

    def _release_directory(self) -> None:
        lock_path = getattr(self, "_lock_path", None)
        if lock_path is None:
            return
        self._lock_path = None
        with _HELD_LOCK:
            handle, count = _HELD[lock_path]
            if count > 1:
                _HELD[lock_path] = (handle, count - 1)
                return
            del _HELD[lock_path]
            with contextlib.suppress(OSError):
                fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()

    def _configure(self) -> None:
        conn = self._conn
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()
        if mode is None or str(mode[0]).lower() != "wal":
            raise StoreError(f"{self.path}: the file system does not support SQLite's WAL mode")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA secure_delete = ON")

    def _version(self) -> int:
        exists = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
        ).fetchone()
        if not exists:
            return 0
        row = self._conn.execute("SELECT version FROM schema_version").fetchone()
        return int(row[0]) if row else 0

    def _migrate(self) -> None:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                version = self._version()
                if version > SCHEMA_VERSION:
                    raise StoreError(
                        f"{self.path}: this store has schema version {version}, written by a "
                        f"newer mentorbot; this release understands up to {SCHEMA_VERSION}: "
                        "upgrade mentorbot"
                    )
                if version == 0:
                    self._conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
                    self._conn.execute("INSERT INTO schema_version (version) VALUES (0)")
                for number in range(version, SCHEMA_VERSION):
                    for statement in statements(MIGRATIONS[number]):
                        self._conn.execute(statement)
                    log.info("store migrated path=%s version=%d", self.path, number + 1)
                self._conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    @property
    def schema_version(self) -> int:
        with self._lock:
            return self._version()

    # -- units of work --------------------------------------------------------------------

    @contextlib.contextmanager
    def turn(self, person_ids: Sequence[str] = ()) -> Iterator[UnitOfWork]:
        """A write transaction: everything the block does is committed once, or not at all."""
        with self._lock:
            cursor = self._conn.cursor()
            try:
                cursor.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StoreUnavailable(str(exc)) from exc
            uow = UnitOfWork(cursor, self.dialect)
            try:
                for pid in sorted(set(person_ids)):
                    uow.lock(pid)
                yield uow
                uow.flush()
                cursor.execute("COMMIT")
            except BaseException as exc:
                with contextlib.suppress(sqlite3.Error):
                    cursor.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError | sqlite3.IntegrityError) and (
                    "full" in str(exc) or "I/O" in str(exc) or "disk" in str(exc)
                ):
                    raise StoreUnavailable(str(exc)) from exc
                raise
            finally:
                cursor.close()

    @contextlib.contextmanager
    def read(self) -> Iterator[UnitOfWork]:
        """A read transaction (a consistent view; nothing is written)."""
        with self._lock:
            cursor = self._conn.cursor()
            cursor.execute("BEGIN")
            try:
                yield UnitOfWork(cursor, self.dialect)
            finally:
                with contextlib.suppress(sqlite3.Error):
                    cursor.execute("ROLLBACK")
                cursor.close()

    def compact_log(self) -> None:
        """Write the log into the database and truncate it (after an erasure)."""
        with self._lock, contextlib.suppress(sqlite3.Error):
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def check(self) -> list[str]:
        """Problems found by SQLite's integrity and foreign-key checks (empty: none)."""
        with self._lock:
            problems = [
                str(r[0]) for r in self._conn.execute("PRAGMA integrity_check").fetchall()
            ]
            problems = [p for p in problems if p != "ok"]
            problems += [
                f"orphan row in {r[0]} (rowid {r[1]}) referring to a missing {r[2]}"
                for r in self._conn.execute("PRAGMA foreign_key_check").fetchall()
            ]
            return problems


    # -- one process serves this store: nothing to share -----------------------------------

    shared = False

    def lease(self, name: str) -> Lease:
        return Always()

    def reserve(self, bucket: str, spacing: float) -> float:
        return 0.0

    @contextlib.asynccontextmanager
    async def sending(self, pid: str) -> AsyncIterator[None]:
        yield

    def close(self) -> None:
        with self._lock:
            with contextlib.suppress(sqlite3.Error, AttributeError):
                self._conn.close()
            self._release_directory()
