"""The store: one unit of work per turn on SQL, typed records, erasure, damage and faults.

Every test here takes `store_factory`, so that a second backend (PostgreSQL) runs the same
suite by adding itself to the fixture's parameters.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.config import Config
from bot.domain import (
    Flag,
    Invitation,
    JournalEntry,
    OutboxEntry,
    OutboxStatus,
    Question,
    QuestionStatus,
    Signature,
    ThreadItem,
    ThreadKind,
)
from bot.store import SQLiteStore, Store, StoreError, open_store
from bot.store.postgres import PostgresStore
from bot.store.schema import SCHEMA_VERSION
from tests.conftest import QUESTION_FR, Conversation, asking, make_config, say, signing
from tests.storeview import StoreView, raw_text

AT = "2026-11-30T08:00:00+00:00"

StoreFactory = Callable[[], Store]


@pytest.fixture(params=["sqlite", "postgresql"])
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """Stores on one backend: the embedded file, or a fresh PostgreSQL database (skipped with
    the reason when no server is reachable)."""
    opened: list[Store] = []
    url: str | None = request.getfixturevalue("pg_url") if request.param == "postgresql" else None

    def make() -> Store:
        store: Store = PostgresStore(url) if url else SQLiteStore(tmp_path / "data")
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


def test_a_turn_commits_everything_or_nothing(store_factory: StoreFactory) -> None:
    store = store_factory()
    with pytest.raises(RuntimeError), store.turn(["console:alice"]) as uow:
        person = uow.person("console:alice")
        person.state = {"flow": "menu", "step": "mentee"}
        uow.journal_add("console:alice", [JournalEntry(AT, "in", "Bonjour", key="m1#1")])
        uow.mark_processed("m1", "console:alice", AT)
        raise RuntimeError("crash in the middle of the turn")
    with store.read() as uow:
        assert uow.peek("console:alice") is None
        assert uow.journal("console:alice") == []
        assert not uow.processed("m1")
    with store.turn(["console:alice"]) as uow:
        uow.person("console:alice").state = {"flow": "menu", "step": "mentee"}
        uow.journal_add("console:alice", [JournalEntry(AT, "in", "Bonjour", key="m1#1")])
        assert uow.mark_processed("m1", "console:alice", AT)
    with store.read() as uow:
        person = uow.peek("console:alice")
        assert person is not None and person.state["step"] == "mentee"
        assert [e.text for e in uow.journal("console:alice")] == ["Bonjour"]
        assert uow.processed("m1")
    with store.turn() as uow:
        assert not uow.mark_processed("m1", "console:alice", AT)  # a redelivery


def test_records_round_trip(store_factory: StoreFactory) -> None:
    store = store_factory()
    with store.turn(["console:alice"]) as uow:
        person = uow.person("console:alice")
        person.signatures.append(Signature("v1", "Alice Durand", AT, "console"))
        qid = uow.next_question_id()
        question = Question(qid, "console:alice", "console:bob", "c", "a", "q", AT)
        uow.question_add(question)
        uow.thread_add(question, ThreadItem(ThreadKind.ANSWER, AT, "Une piste."))
        uow.thread_add(question, ThreadItem(ThreadKind.FOLLOWUP, AT, "Merci, et…"))
        uow.flag_add(Flag("console:alice", AT, "distress"))
    with store.read() as uow:
        [stored] = uow.questions_of("console:alice")
        assert stored.id == qid == "Q1" and stored.status is QuestionStatus.SENT
        assert [t.kind for t in stored.thread] == [ThreadKind.ANSWER, ThreadKind.FOLLOWUP]
        assert [q.id for q in uow.pending_for("console:bob")] == ["Q1"]
        assert uow.pending_for("console:nina") == []
        person = uow.peek("console:alice")
        assert person is not None and person.signatures[0].name == "Alice Durand"
        [flag] = uow.flags_unreported(["console:alice"], "digest:x")
        assert flag.level == "distress"
    with store.turn() as uow:
        assert uow.next_question_id() == "Q2"  # ids are never reused


def test_lone_surrogates_and_nul_never_reach_the_store(store_factory: StoreFactory) -> None:
    store = store_factory()
    with store.turn(["console:alice"]) as uow:
        uow.journal_add("console:alice", [JournalEntry(AT, "in", "a\ud800b\x00c", key="k#1")])
        uow.outbox_add([OutboxEntry(key="o#1", to="console:alice", text="x\udfffy",
                                    choices=("\ud83d",), queued_at=AT)])
    with store.read() as uow:
        assert uow.journal("console:alice")[0].text == "a\ufffdbc"
        [entry] = uow.outbox_waiting("console:alice")
        assert entry.text == "x\ufffdy" and entry.choices == ("\ufffd",)
        entry.text.encode("utf-8")  # what the HTTP client will send


def test_the_outbox_keeps_order_and_parks_what_can_never_be_sent(
    store_factory: StoreFactory,
) -> None:
    store = store_factory()
    with store.turn() as uow:
        uow.outbox_add([OutboxEntry(key=f"o#{i}", to="telegram:1", text=f"m{i}", queued_at=AT)
                        for i in range(3)])
    with store.turn() as uow:
        first, second, _third = uow.outbox_waiting("telegram:1")
        uow.outbox_mark(first.id, OutboxStatus.SENT, at=AT)
        uow.outbox_mark(second.id, OutboxStatus.FAILED, error="refused")
    with store.read() as uow:
        assert [e.key for e in uow.outbox_waiting("telegram:1")] == ["o#2"]
        assert uow.outbox_recipients(["telegram"]) == ["telegram:1"]
        assert uow.outbox_stats() == (1, AT)


def test_invitations_are_single_use(store_factory: StoreFactory) -> None:
    store = store_factory()
    with store.turn() as uow:
        uow.invitation_add(Invitation("ABCD2345", "console:bob", AT, "2026-12-30T00:00:00Z"))
    with store.turn() as uow:
        assert uow.invitation_take("ABCD2345") is not None
        assert uow.invitation_take("ABCD2345") is None


def test_a_newer_schema_is_refused_clearly(tmp_path: Path) -> None:
    SQLiteStore(tmp_path / "data").close()
    with sqlite3.connect(tmp_path / "data" / "mentorbot.sqlite3") as conn:
        conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    with pytest.raises(StoreError, match="newer mentorbot"):
        SQLiteStore(tmp_path / "data")


def test_a_file_that_is_not_a_store_is_refused_clearly(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "mentorbot.sqlite3").write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match="not a mentorbot store"):
        SQLiteStore(tmp_path / "data")


def test_a_second_process_on_the_same_store_is_refused(tmp_path: Path) -> None:
    import subprocess
    import sys

    store = SQLiteStore(tmp_path / "data", exclusive=True)
    try:
        done = subprocess.run(
            [sys.executable, "-c",
             "import sys; from bot.store import SQLiteStore\n"
             "try:\n    SQLiteStore(sys.argv[1], exclusive=True)\n"
             "except Exception as exc:\n    print(exc); sys.exit(3)",
             str(tmp_path / "data")],
            capture_output=True, text=True, timeout=60,
        )
    finally:
        store.close()
    assert done.returncode == 3
    assert "another mentorbot process" in done.stdout


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Config:
    """A config on one backend: `storage.path` only, or also `storage.url` (PostgreSQL)."""
    config = make_config(tmp_path)
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
        config = config.model_copy(
            update={"storage": config.storage.model_copy(update={"url": url})})
    return config


def _dump(config: Config) -> str:
    """What a search of the store would find: every file, or every row of every table."""
    if not config.storage.url:
        return raw_text(config.storage.path)
    import psycopg

    with psycopg.connect(config.storage.url) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "current_schema()").fetchall()]
        return "\n".join(str(row) for table in tables
                         for row in conn.execute(f"SELECT * FROM {table}".encode()).fetchall())


def _execute(config: Config, statement: str) -> None:
    if not config.storage.url:
        with sqlite3.connect(config.storage.path / "mentorbot.sqlite3") as conn:
            conn.execute(statement)
        return
    import psycopg

    with psycopg.connect(config.storage.url) as conn:
        conn.execute(statement.encode())


def test_erasure_leaves_no_row_and_no_byte_of_the_person(backend: Config) -> None:
    config = backend
    conversation = Conversation(config)
    conversation.run(
        signing("console:bob", "Bob Martin", "2026-11-30T06:00")
        + signing("console:alice", "Alice Durand", "2026-11-30T06:10")
        + asking("console:alice", QUESTION_FR, "2026-11-30T07:30")
        + [{"at": "2026-11-30T08:00:00+01:00", "tick": True},
           say("2026-11-30T09:00:00+01:00", "console:bob", "/repondre Q1 Une piste."),
           say("2026-11-30T09:05:00+01:00", "console:alice", "/oublier"),
           say("2026-11-30T09:05:01+01:00", "console:alice", "1")]
    )
    raw = _dump(config)
    for needle in ("console:alice", "Alice Durand", QUESTION_FR[1], QUESTION_FR[2], "Une piste"):
        assert needle not in raw, needle
    if not config.storage.url:
        view = StoreView(config.storage.path)
        assert "console:alice" not in view.person_ids()
        assert view.question("Q1") is None


def test_one_persons_unreadable_data_does_not_stop_the_others(backend: Config) -> None:
    config = backend
    conversation = Conversation(config)
    conversation.run(signing("console:bob", "Bob Martin", "2026-11-30T06:00")
                     + signing("console:alice", "Alice Durand", "2026-11-30T06:10"))
    _execute(config, "UPDATE people SET state = '{torn' WHERE id = 'console:alice'")
    out = conversation.run([
        say("2026-11-30T07:00:00+01:00", "console:alice", "Bonjour"),
        say("2026-11-30T07:01:00+01:00", "console:emma", "Hello"),
    ])
    to_alice = [line["text"] for line in out if line["to"] == "console:alice"]
    to_bob = [line["text"] for line in out if line["to"] == "console:bob"]
    assert to_alice and to_alice[0].startswith("Nous ne parvenons pas à lire vos données")
    assert to_bob and "Alice Durand" in to_bob[0]
    assert any(line["to"] == "console:emma" for line in out)  # everyone else is served
    store = open_store(config)
    try:
        assert store.check() == []
    finally:
        store.close()
