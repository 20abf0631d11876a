"""`mentorbot data backup FILE` / `data restore FILE`: one-file copies of the embedded store.

The embedded store is one SQLite file, `<storage.path>/mentorbot.sqlite3` (WAL mode), with a
`schema_version` table holding one row (`version`). A backup goes through SQLite's online
backup API, so it is a consistent snapshot even while `mentorbot run` writes; it is written
beside FILE and renamed into place, so a crash never leaves half a backup under FILE's name.

A restore refuses a file that is not a mentorbot store, a store written by a newer release,
and a store that a running process serves (`mentorbot.sqlite3.lock` is locked) or has open
(its WAL shared-memory lock is held). The store
it replaces is kept as `mentorbot.sqlite3.before-restore`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

from bot.errors import UserError
from bot.ops.version import schema_version

STORE_FILE = "mentorbot.sqlite3"
PREVIOUS_SUFFIX = ".before-restore"
SQLITE_HEADER = b"SQLite format 3\x00"
# SQLite's unix VFS: every open connection holds a shared lock on this byte of the `-shm` file
# (the "DMS" slot: 120 + 8), which no other process can then lock exclusively.
_SHM_DMS_BYTE = 128


class BackupError(UserError):
    """A backup or restore that cannot be done: one clear line."""


def embedded_store(storage: object) -> Path:
    """`storage.path`, unless the deployment uses PostgreSQL (`storage.url`): then refuse."""
    if getattr(storage, "url", None):
        raise BackupError("storage.url is set: back up PostgreSQL with pg_dump / pg_restore "
                          "(docs/deploy.md, \"Backups and restore\")")
    return Path(getattr(storage, "path"))  # noqa: B009 - any config's storage section


def store_file(storage_path: Path) -> Path:
    return Path(storage_path) / STORE_FILE


@contextlib.contextmanager
def _connect(path: Path, *, readonly: bool) -> Iterator[sqlite3.Connection]:
    uri = f"{path.resolve().as_uri()}?mode={'ro' if readonly else 'rwc'}"
    connection = sqlite3.connect(uri, uri=True, timeout=10.0)
    try:
        yield connection
    finally:
        connection.close()


def store_version(path: Path) -> int:
    """The schema version of a mentorbot store; `BackupError` when `path` is not one."""
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        raise BackupError(f"{path}: no such file") from None
    except OSError as exc:
        raise BackupError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if header != SQLITE_HEADER:
        raise BackupError(f"{path}: not a mentorbot store (not an SQLite database)")
    try:
        with _connect(path, readonly=True) as connection:
            rows = connection.execute("SELECT version FROM schema_version").fetchall()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path}: not a mentorbot store ({exc})") from None
    if len(rows) != 1 or not isinstance(rows[0][0], int):
        raise BackupError(f"{path}: not a mentorbot store (schema_version must be one number)")
    return int(rows[0][0])


def _copy(source: Path, target: Path, journal_mode: str) -> None:
    """Online backup of `source` into a fresh `target`, then its journal mode set."""
    with _connect(source, readonly=True) as src, _connect(target, readonly=False) as dst:
        src.backup(dst)
        dst.execute(f"PRAGMA journal_mode={journal_mode}")
        problems = dst.execute("PRAGMA quick_check").fetchone()
        if problems is None or problems[0] != "ok":
            raise BackupError(f"{target}: the copy failed its integrity check")


def _partial(path: Path) -> Path:
    return path.with_name(f".{path.name}.partial-{os.getpid()}")


def _unlink_all(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{suffix}").unlink()


def backup(storage_path: Path, file: Path) -> str:
    """Copy the store to `file` (one self-contained SQLite file). Returns a summary line."""
    source = store_file(storage_path)
    if not source.exists():
        raise BackupError(f"{source}: no embedded store here (check storage.path or --data)")
    version = store_version(source)
    if file.exists():
        raise BackupError(f"{file}: already exists; choose another name or remove it")
    if not file.parent.is_dir():
        raise BackupError(f"{file.parent}: no such directory")
    partial = _partial(file)
    _unlink_all(partial)
    try:
        _copy(source, partial, "DELETE")
        os.replace(partial, file)
    except sqlite3.Error as exc:
        raise BackupError(f"{source}: backup failed: {exc}") from None
    except OSError as exc:
        raise BackupError(f"{file}: cannot write: {exc.strerror or exc}") from None
    finally:
        _unlink_all(partial)
    return f"backed up {source} to {file} (schema {version}, {file.stat().st_size} bytes)"


def _held(path: Path, lock: Callable[[int], None]) -> bool:
    """True when `lock(fd)` on `path` fails because another holder has it."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        lock(fd)
    except OSError:
        return True
    else:
        return False
    finally:
        os.close(fd)  # closing releases what `lock` took


def in_use(store: Path) -> bool:
    """True when a mentorbot process serves the store (its `.lock` file is locked), or another
    process has it open (the WAL shared-memory lock is held). Call it from a process that
    does not have the store open itself (POSIX locks are per process)."""
    exclusive = fcntl.LOCK_EX | fcntl.LOCK_NB
    serving = _held(Path(f"{store}.lock"), lambda fd: fcntl.flock(fd, exclusive))
    return serving or _held(
        Path(f"{store}-shm"),
        lambda fd: fcntl.lockf(fd, exclusive, 1, _SHM_DMS_BYTE),
    )


def restore(file: Path, storage_path: Path) -> str:
    """Replace the store by the backup `file` (the bot must be stopped). Returns a summary."""
    version = store_version(file)
    current = schema_version()
    if current is not None and version > current:
        raise BackupError(
            f"{file}: schema {version} was written by a newer mentorbot (this one reads up to "
            f"{current}); install that release to restore it"
        )
    target = store_file(storage_path)
    if in_use(target):
        raise BackupError(f"{target}: in use by a running mentorbot; stop it, then restore")
    storage_path.mkdir(parents=True, exist_ok=True)
    partial = _partial(target)
    _unlink_all(partial)
    kept = ""
    try:
        _copy(file, partial, "WAL")
        if target.exists():
            previous = target.with_name(target.name + PREVIOUS_SUFFIX)
            _unlink_all(previous)
            # Fold the old store's WAL into it, so that the kept copy is whole and no stale
            # `-wal` is left beside the restored file.
            _copy(target, previous, "DELETE")
            kept = f"; the replaced store is kept as {previous}"
        _unlink_all(target)
        os.replace(partial, target)
    except sqlite3.Error as exc:
        raise BackupError(f"{file}: restore failed: {exc}") from None
    except OSError as exc:
        raise BackupError(f"{target}: cannot write: {exc.strerror or exc}") from None
    finally:
        _unlink_all(partial)
    return f"restored {file} to {target} (schema {version}){kept}"
