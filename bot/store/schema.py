"""The store's tables and their migrations: one history, applied in order on start.

Tables rather than documents: a turn changes a few rows, never rewrites a whole file, and
everything about a person hangs off `people.id` with `ON DELETE CASCADE`, so erasure is one
`DELETE`. Foreign keys are deferred to the commit, so a turn may write in any order.

The SQL is written for SQLite; `adapt` turns it into PostgreSQL's dialect (identity columns),
so that both stores share one history and one schema version.
"""

from __future__ import annotations

import re

# Version 1: the first SQL schema (the TinyDB file store had no version).
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE people (
        id TEXT PRIMARY KEY,
        role TEXT,
        mentor TEXT,
        name TEXT NOT NULL DEFAULT '',
        locale TEXT,
        enrolled_at TEXT,
        state TEXT NOT NULL DEFAULT '{}',
        withdrawn_at TEXT,
        last_inbound_at TEXT
    );
    CREATE INDEX people_mentor ON people (mentor);
    CREATE TABLE signatures (
        person TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
        seq INTEGER NOT NULL,
        version TEXT NOT NULL,
        name TEXT NOT NULL,
        at TEXT NOT NULL,
        channel TEXT NOT NULL,
        PRIMARY KEY (person, seq)
    );
    CREATE TABLE absences (
        person TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
        first_day TEXT NOT NULL,
        last_day TEXT NOT NULL
    );
    CREATE INDEX absences_person ON absences (person);
    CREATE TABLE counters (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    );
    CREATE TABLE questions (
        number INTEGER PRIMARY KEY,
        mentee TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
        mentor TEXT,
        status TEXT NOT NULL,
        context TEXT NOT NULL,
        analysis TEXT NOT NULL,
        ask TEXT NOT NULL,
        submitted_at TEXT NOT NULL,
        read_at TEXT,
        closed_at TEXT
    );
    CREATE INDEX questions_mentee ON questions (mentee);
    CREATE INDEX questions_mentor_status ON questions (mentor, status);
    CREATE INDEX questions_closed ON questions (closed_at);
    CREATE TABLE thread (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        question INTEGER NOT NULL
            REFERENCES questions (number) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
        kind TEXT NOT NULL,
        at TEXT NOT NULL,
        text TEXT NOT NULL
    );
    CREATE INDEX thread_question ON thread (question, id);
    CREATE TABLE journal (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        person TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
        at TEXT NOT NULL,
        direction TEXT NOT NULL,
        kind TEXT NOT NULL,
        text TEXT NOT NULL,
        question TEXT,
        key TEXT NOT NULL UNIQUE
    );
    CREATE INDEX journal_person ON journal (person, id);
    CREATE INDEX journal_at ON journal (at);
    CREATE TABLE flags (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        person TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
        at TEXT NOT NULL,
        level TEXT NOT NULL,
        reported_in TEXT
    );
    CREATE INDEX flags_person ON flags (person, id);
    CREATE TABLE processed (
        message_id TEXT PRIMARY KEY,
        person TEXT,
        at TEXT NOT NULL
    );
    CREATE INDEX processed_person ON processed (person);
    CREATE INDEX processed_at ON processed (at);
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL UNIQUE,
        recipient TEXT NOT NULL
            REFERENCES people (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
        channel TEXT NOT NULL,
        text TEXT NOT NULL,
        choices TEXT NOT NULL,
        meta TEXT NOT NULL,
        status TEXT NOT NULL,
        parts INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        queued_at TEXT NOT NULL,
        next_attempt_at TEXT,
        sent_at TEXT,
        question TEXT
    );
    CREATE INDEX outbox_recipient ON outbox (recipient, status, id);
    CREATE INDEX outbox_status ON outbox (status, channel);
    CREATE TABLE invitations (
        code TEXT PRIMARY KEY,
        mentor TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    CREATE INDEX invitations_expiry ON invitations (expires_at);
    CREATE TABLE scheduler (
        job TEXT PRIMARY KEY,
        last_run TEXT NOT NULL
    );
    CREATE TABLE transport_state (
        transport TEXT NOT NULL,
        key TEXT NOT NULL,
        person TEXT REFERENCES people (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
        value TEXT NOT NULL,
        PRIMARY KEY (transport, key)
    );
    CREATE INDEX transport_state_person ON transport_state (person);
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)

# The tables that hold a person's data, and the column naming the person (erasure, checks).
PERSON_TABLES: tuple[tuple[str, str], ...] = (
    ("signatures", "person"),
    ("absences", "person"),
    ("questions", "mentee"),
    ("journal", "person"),
    ("flags", "person"),
    ("processed", "person"),
    ("outbox", "recipient"),
    ("transport_state", "person"),
)


def statements(script: str) -> list[str]:
    """The statements of a migration script (no `;` inside our statements)."""
    return [s.strip() for s in script.split(";") if s.strip()]


_AUTO = re.compile(r"INTEGER PRIMARY KEY AUTOINCREMENT")


def adapt(sql: str, dialect: str) -> str:
    """The statement in `dialect` ("sqlite" or "postgresql")."""
    if dialect == "postgresql":
        return _AUTO.sub("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", sql)
    return sql
