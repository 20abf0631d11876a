"""What the PostgreSQL store adds for several workers, on a real server (skipped without one):
two stores on one database stand for two worker processes."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psycopg
import pytest

from bot.domain import JournalEntry
from bot.store.copy import to_postgres, to_sqlite
from bot.store.errors import StoreError
from bot.store.postgres import PostgresStore
from bot.store.schema import SCHEMA_VERSION
from bot.store.sqlite import SQLiteStore

PID = "whatsapp:33600000001"


def entry(text: str, key: str) -> JournalEntry:
    return JournalEntry(at="2026-11-30T08:00:00+00:00", direction="in", kind="text", text=text,
                        key=key)


def test_workers_started_together_migrate_once(pg_url: str) -> None:
    stores: list[PostgresStore] = []
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            stores.append(PostgresStore(pg_url))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert {s.schema_version for s in stores} == {SCHEMA_VERSION}
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT COUNT(*) FROM schema_version").fetchone() == (1,)
    for s in stores:
        s.close()


def test_a_newer_schema_is_refused_clearly(pg_url: str) -> None:
    PostgresStore(pg_url).close()
    with psycopg.connect(pg_url) as conn:
        conn.execute("UPDATE schema_version SET version = %s", (SCHEMA_VERSION + 1,))
    with pytest.raises(StoreError, match="newer mentorbot"):
        PostgresStore(pg_url)


def test_an_unreachable_server_is_one_clear_error() -> None:
    with pytest.raises(StoreError, match=r"cannot connect to postgresql://nobody@127\.0\.0\.1:1/"):
        PostgresStore("postgresql://nobody@127.0.0.1:1/none")


def test_a_redelivery_to_another_worker_is_recognised(pg_url: str) -> None:
    one, two = PostgresStore(pg_url), PostgresStore(pg_url)
    try:
        with one.turn([PID]) as uow:
            assert uow.mark_processed("wa:wamid.1", PID, "2026-11-30T08:00:00+00:00")
            uow.journal_add(PID, [entry("Bonjour", "wa:wamid.1")])
        with two.turn([PID]) as uow:
            assert not uow.mark_processed("wa:wamid.1", PID, "2026-11-30T08:00:01+00:00")
        with two.read() as uow:
            assert [e.text for e in uow.journal(PID)] == ["Bonjour"]
    finally:
        one.close()
        two.close()


def test_a_person_is_served_by_one_worker_at_a_time(pg_url: str) -> None:
    """Two workers get the same person's messages at once: the second waits for the first to
    commit and then sees its effects (nothing lost, in order), even on a first contact."""
    one, two = PostgresStore(pg_url), PostgresStore(pg_url)
    order: list[str] = []
    first_in = threading.Event()

    def worker(store: PostgresStore, name: str, hold: float) -> None:
        with store.turn([PID]) as uow:
            first_in.set()
            data = uow.person(PID)
            seen = list(data.state.get("seen", []))
            order.append(f"{name} saw {seen}")
            time.sleep(hold)
            data.state["seen"] = [*seen, name]
            uow.touch(PID)

    try:
        a = threading.Thread(target=worker, args=(one, "a", 0.5))
        a.start()
        assert first_in.wait(10)
        b = threading.Thread(target=worker, args=(two, "b", 0.0))
        b.start()
        a.join()
        b.join()
        assert order == ["a saw []", "b saw ['a']"]
        with one.read() as uow:
            person = uow.peek(PID)
            assert person is not None and person.state["seen"] == ["a", "b"]
    finally:
        one.close()
        two.close()


def test_other_people_are_not_held_up(pg_url: str) -> None:
    one, two = PostgresStore(pg_url), PostgresStore(pg_url)
    try:
        with one.turn([PID]):
            began = time.monotonic()
            with two.turn(["whatsapp:33600000002"]) as uow:
                uow.touch("whatsapp:33600000002")
            assert time.monotonic() - began < 5  # not blocked by the other person's lock
    finally:
        one.close()
        two.close()


def test_the_lease_is_held_by_one_worker_and_passes_on(pg_url: str) -> None:
    one, two = PostgresStore(pg_url), PostgresStore(pg_url)
    try:
        a, b = one.lease("scheduler"), two.lease("scheduler")
        b.retry = 0.0
        assert a.held()
        assert not b.held()
        assert a.held()  # still, and checked alive
        one.close()  # the holder goes away: its session ends, the lock with it
        assert b.held()
    finally:
        two.close()


def test_a_killed_holder_loses_the_lease_at_once(pg_url: str) -> None:
    """The holder's connection is cut (as by SIGKILL): the server releases the lock."""
    one, two = PostgresStore(pg_url), PostgresStore(pg_url)
    try:
        a, b = one.lease("scheduler"), two.lease("scheduler")
        b.retry = 0.0
        assert a.held() and not b.held()
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE application_name = 'mentorbot lease scheduler' AND pid <> "
                          "pg_backend_pid() AND backend_type = 'client backend'")
        b_holds = False
        for _ in range(50):
            b_holds = b.held()
            if b_holds:
                break
            time.sleep(0.1)
        assert b_holds
        a.retry = 0.0
        assert not a.held()  # the old holder notices it lost the lease
    finally:
        one.close()
        two.close()


def test_a_rate_limit_is_shared_by_the_workers(pg_url: str) -> None:
    one, two = PostgresStore(pg_url), PostgresStore(pg_url)
    try:
        waits = [store.reserve("whatsapp:all", 0.5) for store in (one, two, one, two)]
        # four slots half a second apart, whichever worker asked
        assert waits[0] < 0.2
        assert [round(w * 2) for w in waits[1:]] == [1, 2, 3]
    finally:
        one.close()
        two.close()


def test_migrate_to_postgres_and_back_keeps_everything(tmp_path: Path, pg_url: str) -> None:
    embedded = SQLiteStore(tmp_path / "a")
    with embedded.turn([PID]) as uow:
        uow.person(PID).state["flow"] = "menu"
        uow.journal_add(PID, [entry("un", "k1"), entry("deux", "k2")])
        assert uow.next_question_id() == "Q1"
    embedded.close()

    copied = to_postgres(tmp_path / "a", pg_url)
    assert copied.tables["journal"] == 2 and copied.tables["people"] == 1
    server = PostgresStore(pg_url)
    with server.turn([PID]) as uow:
        assert uow.person(PID).state == {"flow": "menu"}
        uow.journal_add(PID, [entry("trois", "k3")])  # the journal's ids go on after the copy
        assert uow.next_question_id() == "Q2"
    server.close()
    with pytest.raises(StoreError, match="not empty"):
        to_postgres(tmp_path / "a", pg_url)

    to_sqlite(pg_url, tmp_path / "b")
    back = SQLiteStore(tmp_path / "b")
    with back.read() as uow:
        assert [e.text for e in uow.journal(PID)] == ["un", "deux", "trois"]
    back.close()
    with pytest.raises(StoreError, match="not empty"):
        to_sqlite(pg_url, tmp_path / "b")


async def test_one_worker_at_a_time_sends_a_persons_outbox(pg_url: str) -> None:
    import asyncio

    one, two = PostgresStore(pg_url), PostgresStore(pg_url)
    events: list[str] = []

    async def send(store: PostgresStore, name: str, pid: str, hold: float) -> None:
        async with store.sending(pid):
            events.append(f"{name} in")
            await asyncio.sleep(hold)
            events.append(f"{name} out")

    try:
        first = asyncio.create_task(send(one, "a", PID, 0.3))
        await asyncio.sleep(0.1)
        await asyncio.gather(first, send(two, "b", PID, 0.0))
        assert events == ["a in", "a out", "b in", "b out"]
        events.clear()
        first = asyncio.create_task(send(one, "a", PID, 0.3))
        await asyncio.sleep(0.1)
        await asyncio.gather(first, send(two, "c", "whatsapp:33600000002", 0.0))
        assert events == ["a in", "c in", "c out", "a out"]  # someone else is not held up
    finally:
        one.close()
        two.close()
