"""`mentorbot data migrate --to`: copy the whole store from SQLite to PostgreSQL, or back.

Both stores have the same tables (one migration history), so a copy is every row of every
table, in one transaction on the target: either the target holds everything, or nothing.
The foreign keys are deferred to the commit, so tables are copied in any order. Ids are kept
(question numbers, outbox and journal order), and PostgreSQL's identity sequences are moved
past them. The target must be empty: a copy never merges two stores.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from bot.config import Config
from bot.store.errors import StoreError
from bot.store.postgres import PostgresStore, shown
from bot.store.sqlite import SQLiteStore, database_path

BATCH = 1000


@dataclass(frozen=True)
class Copied:
    """How many rows of each table were copied."""

    tables: dict[str, int]

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def _sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name != 'schema_version' ORDER BY name")]


def _sqlite_columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]


def _pg_tables(conn: psycopg.Connection[Any]) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = "
        "current_schema() AND table_type = 'BASE TABLE' AND table_name != 'schema_version' "
        "ORDER BY table_name").fetchall()]


def _pg_columns(conn: psycopg.Connection[Any], table: str) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = "
        "current_schema() AND table_name = %s ORDER BY ordinal_position", (table,)).fetchall()]


def _batches(cursor: Any) -> Iterator[list[tuple[Any, ...]]]:
    while True:
        rows = cursor.fetchmany(BATCH)
        if not rows:
            return
        yield [tuple(r) for r in rows]


def to_postgres(root: Path, url: str) -> Copied:
    """Copy the embedded store in `root` into the (empty) PostgreSQL database at `url`."""
    SQLiteStore(root).close()  # creates or migrates the source to the current schema
    PostgresStore(url).close()  # the same on the target
    counts: dict[str, int] = {}
    source = sqlite3.connect(database_path(root))
    try:
        with psycopg.connect(url) as target:
            tables = _sqlite_tables(source)
            if set(tables) != set(_pg_tables(target)):
                raise StoreError(f"{shown(url)}: the tables differ from the embedded store's")
            _refuse_non_empty_pg(target, url)
            for table in tables:
                columns = _sqlite_columns(source, table)
                insert = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                    sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)),
                    sql.SQL(", ").join(sql.Placeholder() * len(columns)))
                cursor = source.execute(f"SELECT {', '.join(columns)} FROM {table}")
                counts[table] = 0
                with target.cursor() as cur:
                    for rows in _batches(cursor):
                        cur.executemany(insert, rows)
                        counts[table] += len(rows)
                    if "id" in columns:
                        _move_sequence(cur, table)
            target.commit()
    finally:
        source.close()
    return Copied(counts)


def to_sqlite(url: str, root: Path) -> Copied:
    """Copy the PostgreSQL store at `url` into a new embedded store in `root`."""
    PostgresStore(url).close()
    SQLiteStore(root).close()
    counts: dict[str, int] = {}
    target = sqlite3.connect(database_path(root), isolation_level=None)
    try:
        target.execute("PRAGMA foreign_keys = ON")
        tables = _sqlite_tables(target)
        with psycopg.connect(url) as source:
            source.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            if set(tables) != set(_pg_tables(source)):
                raise StoreError(f"{shown(url)}: the tables differ from the embedded store's")
            target.execute("BEGIN IMMEDIATE")
            try:
                for table in tables:
                    if target.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone():
                        raise StoreError(f"{database_path(root)}: the target store is not "
                                         f"empty (table {table}); copy into a new directory")
                for table in tables:
                    columns = _pg_columns(source, table)
                    query = sql.SQL("SELECT {} FROM {}").format(
                        sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(table))
                    marks = ", ".join("?" for _ in columns)
                    counts[table] = 0
                    with source.cursor(name=f"copy_{table}") as cur:
                        cur.execute(query)
                        for rows in _batches(cur):
                            target.executemany(
                                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                                rows)
                            counts[table] += len(rows)
                target.execute("COMMIT")
            except BaseException:
                target.execute("ROLLBACK")
                raise
    finally:
        target.close()
    return Copied(counts)


def _refuse_non_empty_pg(conn: psycopg.Connection[Any], url: str) -> None:
    for table in _pg_tables(conn):
        row = conn.execute(
            sql.SQL("SELECT 1 FROM {} LIMIT 1").format(sql.Identifier(table))).fetchone()
        if row:
            raise StoreError(f"{shown(url)}: the target database is not empty (table {table}); "
                             "copy into a new database")


def _move_sequence(cur: psycopg.Cursor[Any], table: str) -> None:
    """An identity column's next value comes after the ids copied."""
    cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", (table,))
    row = cur.fetchone()
    if row is None or row[0] is None:
        return
    cur.execute(sql.SQL("SELECT setval({s}, COALESCE((SELECT MAX(id) FROM {t}), 0) + 1, false)")
                .format(s=sql.Literal(row[0]), t=sql.Identifier(table)))


def _summary(copied: Copied, target: str) -> str:
    tables = ", ".join(f"{name} {count}" for name, count in sorted(copied.tables.items()) if count)
    return f"copied {copied.rows} rows to {target}" + (f" ({tables})" if tables else "")


def copy_to(config: Config, url: str) -> str:
    """`data migrate --to URL`: the embedded store of `config` into PostgreSQL."""
    if not url.startswith(("postgresql://", "postgres://")):
        raise StoreError(f"--to {url}: expected a URL like postgresql://user@host/db")
    return _summary(to_postgres(config.storage.path, url), shown(url))


def copy_from(config: Config, url: str) -> str:
    """`data migrate --from URL`: a PostgreSQL store back into the embedded store of
    `config` (which must be empty)."""
    return _summary(to_sqlite(url, config.storage.path), str(database_path(config.storage.path)))
