"""`mentorbot data backup` / `data restore` on an SQLite store made here with the contract's
shape: `<storage.path>/mentorbot.sqlite3`, WAL mode, a one-row `schema_version` table."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.ops.backup import PREVIOUS_SUFFIX, STORE_FILE, BackupError, backup, in_use, restore


def make_store(directory: Path, rows: list[str], version: int = 1) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / STORE_FILE
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER)")
        connection.execute("DELETE FROM schema_version")
        connection.execute("INSERT INTO schema_version VALUES (?)", (version,))
        connection.execute("CREATE TABLE IF NOT EXISTS people (id TEXT PRIMARY KEY)")
        connection.executemany("INSERT OR IGNORE INTO people VALUES (?)", [(r,) for r in rows])
    connection.close()
    return path


def people(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        found = [r[0] for r in connection.execute("SELECT id FROM people ORDER BY id")]
    connection.close()
    return found


def test_backup_while_a_writer_keeps_the_store_open(tmp_path: Path) -> None:
    store = make_store(tmp_path / "data", ["console:alice"])
    writer = sqlite3.connect(store)  # the running bot: open, with committed rows in its WAL
    writer.execute("INSERT INTO people VALUES ('console:bob')")
    writer.commit()
    writer.execute("BEGIN")
    writer.execute("INSERT INTO people VALUES ('console:uncommitted')")
    try:
        line = backup(tmp_path / "data", tmp_path / "copy.sqlite3")
    finally:
        writer.rollback()
        writer.close()
    assert "schema 1" in line
    assert people(tmp_path / "copy.sqlite3") == ["console:alice", "console:bob"]
    assert not Path(f"{tmp_path / 'copy.sqlite3'}-wal").exists()  # one self-contained file
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_backup_refuses_clearly(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="no embedded store here"):
        backup(tmp_path / "nothing", tmp_path / "copy.sqlite3")
    make_store(tmp_path / "data", ["a:1"])
    (tmp_path / "taken").write_text("x")
    with pytest.raises(BackupError, match="already exists"):
        backup(tmp_path / "data", tmp_path / "taken")
    with pytest.raises(BackupError, match="no such directory"):
        backup(tmp_path / "data", tmp_path / "missing" / "copy.sqlite3")


def test_restore_replaces_the_store_and_keeps_the_old_one(tmp_path: Path) -> None:
    make_store(tmp_path / "old", ["console:alice"])
    backup(tmp_path / "old", tmp_path / "copy.sqlite3")
    current = make_store(tmp_path / "data", ["console:zoe"])
    line = restore(tmp_path / "copy.sqlite3", tmp_path / "data")
    assert "restored" in line and PREVIOUS_SUFFIX in line
    assert people(current) == ["console:alice"]
    assert people(Path(f"{current}{PREVIOUS_SUFFIX}")) == ["console:zoe"]
    with sqlite3.connect(current) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    connection.close()


def test_restore_into_an_empty_data_directory(tmp_path: Path) -> None:
    make_store(tmp_path / "old", ["console:alice"])
    backup(tmp_path / "old", tmp_path / "copy.sqlite3")
    restore(tmp_path / "copy.sqlite3", tmp_path / "new")
    assert people(tmp_path / "new" / STORE_FILE) == ["console:alice"]


def test_restore_refuses_what_is_not_a_mentorbot_store(tmp_path: Path) -> None:
    (tmp_path / "text.sqlite3").write_text("hello")
    with pytest.raises(BackupError, match="not an SQLite database"):
        restore(tmp_path / "text.sqlite3", tmp_path / "data")
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE things (x)")
    connection.close()
    with pytest.raises(BackupError, match="not a mentorbot store"):
        restore(other, tmp_path / "data")
    with pytest.raises(BackupError, match="no such file"):
        restore(tmp_path / "absent.sqlite3", tmp_path / "data")
    assert not (tmp_path / "data" / STORE_FILE).exists()


def test_restore_refuses_a_store_in_use_by_another_process(tmp_path: Path) -> None:
    store = make_store(tmp_path / "data", ["console:zoe"])
    make_store(tmp_path / "old", ["console:alice"])
    backup(tmp_path / "old", tmp_path / "copy.sqlite3")
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sqlite3, sys
            connection = sqlite3.connect({str(store)!r})
            connection.execute("SELECT count(*) FROM people").fetchone()
            print("open", flush=True)
            sys.stdin.readline()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        assert in_use(store)
        with pytest.raises(BackupError, match="in use by a running mentorbot"):
            restore(tmp_path / "copy.sqlite3", tmp_path / "data")
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=30)
    assert not in_use(store)
    assert people(store) == ["console:zoe"]


def test_the_cli_backs_up_and_restores_with_one_line_errors(tmp_path: Path) -> None:
    make_store(tmp_path / "data", ["console:alice"])
    runner = CliRunner()
    copy = tmp_path / "copy.sqlite3"
    result = runner.invoke(main, ["data", "backup", str(copy), "--data", str(tmp_path / "data")])
    assert result.exit_code == 0, result.output
    assert "backed up" in result.output
    result = runner.invoke(main, ["data", "restore", str(copy), "--data", str(tmp_path / "new")])
    assert result.exit_code == 0, result.output
    assert people(tmp_path / "new" / STORE_FILE) == ["console:alice"]
    result = runner.invoke(main, ["data", "backup", str(copy), "--data", str(tmp_path / "data")])
    assert result.exit_code == 1
    assert "already exists" in result.output and "Traceback" not in result.output


def test_a_postgresql_deployment_is_pointed_at_pg_dump(tmp_path: Path) -> None:
    from dataclasses import dataclass

    from bot.ops.backup import embedded_store

    @dataclass
    class Storage:
        path: Path
        url: str | None

    assert embedded_store(Storage(tmp_path, None)) == tmp_path
    with pytest.raises(BackupError, match="pg_dump"):
        embedded_store(Storage(tmp_path, "postgresql://db/mentorbot"))


def test_the_real_store_backs_up_while_served_and_refuses_a_restore_then(tmp_path: Path) -> None:
    from bot.store import SQLiteStore

    served = SQLiteStore(tmp_path / "data", exclusive=True)  # as `mentorbot run` opens it
    try:
        line = backup(tmp_path / "data", tmp_path / "copy.sqlite3")
        assert f"schema {served.schema_version}" in line
        assert in_use(tmp_path / "data" / STORE_FILE)
        with pytest.raises(BackupError, match="in use by a running mentorbot"):
            restore(tmp_path / "copy.sqlite3", tmp_path / "data")
    finally:
        served.close()
    restore(tmp_path / "copy.sqlite3", tmp_path / "data")
    reopened = SQLiteStore(tmp_path / "data", exclusive=True)
    try:
        assert reopened.check() == []
    finally:
        reopened.close()


def test_restore_refuses_a_store_from_a_newer_release(tmp_path: Path) -> None:
    from bot.store.schema import SCHEMA_VERSION

    make_store(tmp_path / "future", ["console:alice"], version=SCHEMA_VERSION + 1)
    with pytest.raises(BackupError, match="newer mentorbot"):
        restore(tmp_path / "future" / STORE_FILE, tmp_path / "data")
