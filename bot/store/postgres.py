"""The server store: PostgreSQL through a psycopg 3 connection pool, for any number of workers.

The tables, the migration history and the unit of work are the embedded store's
(`bot.store.schema`, `bot.store.sql`): a turn here is the same SQL in one PostgreSQL
transaction (READ COMMITTED), committed once. What several processes add:

- **a person's lock** is a transaction-scoped advisory lock on a 64-bit key derived from the
  person's id (`pg_advisory_xact_lock`), taken before their data is read and released by the
  commit or the rollback, whichever worker holds it. A row lock (`SELECT … FOR UPDATE` on
  `people`) cannot serve: a first contact has no row yet, and two workers receiving someone's
  first two messages would both go ahead. The locks of a turn are taken in key order, so two
  turns that need the same people cannot wait for each other in a cycle; a person locked later
  in a turn (a mentor reached from a mentee) may, rarely, meet PostgreSQL's deadlock detector:
  one turn is then refused (`StoreUnavailable`), the webhook answers 503 and the platform
  delivers the message again.
- **a redelivery** is recognised by the `processed` table's primary key: the id is inserted in
  the turn's own transaction, after the person's lock, so a copy that reached another worker
  waits for the first commit and then finds the id there.
- **migrations** run under a transaction-scoped advisory lock, so workers started together
  migrate once.
- **leases** (`lease`): one worker at a time runs the scheduler and polls Telegram. A lease is
  a session-level advisory lock held by a connection of its own, outside the pool; when the
  holder dies, its connection closes and PostgreSQL releases the lock at once (a machine that
  vanishes is noticed by TCP keepalives within about 15 s), and another worker takes it on its
  next try (every `LEASE_RETRY` seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from bot.store.errors import StoreError, StoreUnavailable
from bot.store.schema import MIGRATIONS, PERSON_TABLES, SCHEMA_VERSION, adapt, statements
from bot.store.sql import Cursor, Dialect, UnitOfWork

log = logging.getLogger("mentorbot.store")

POOL_MAX = 10  # connections per worker for turns (run in at most a handful of threads)
SENDERS_MAX = 6  # connections per worker holding a recipient's sending lock
SEND_CLASS = 0x6F62  # the first half of a recipient's sending-lock key ("ob": outbox)
CONNECT_TIMEOUT = 10  # seconds
MIGRATION_LOCK = 0x6D656E746F72  # "mentor": the advisory key that serialises migrations
LEASE_CLASS = 0x6D62  # the first half of a lease's two-int advisory key ("mb")
LEASE_RETRY = 2.0  # seconds between two tries of a worker without the lease
KEEPALIVES: dict[str, Any] = {"keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2,
              "keepalives_count": 3}


def lock_key(pid: str) -> int:
    """The person's advisory lock key: 64 bits of a hash of their id (signed, as bigint)."""
    digest = hashlib.blake2b(pid.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lease_key(name: str) -> int:
    """32 bits of a hash of `name` (the second half of a two-int advisory key)."""
    digest = hashlib.blake2b(name.encode("utf-8", "surrogatepass"), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


def shown(url: str) -> str:
    """The URL without a password (logs and errors)."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "<invalid url>"
    host, db = info.get("host", "localhost"), info.get("dbname", "")
    user = f"{info['user']}@" if info.get("user") else ""
    port = f":{info['port']}" if info.get("port") else ""
    return f"postgresql://{user}{host}{port}/{db}"


class PostgresDialect(Dialect):
    """psycopg's `%s` placeholders; a person's lock is an advisory transaction lock."""

    name = "postgresql"
    placeholder = "%s"

    def sql(self, text: str) -> str:
        # `%` outside a placeholder must be doubled for psycopg (LIKE patterns are parameters).
        return text.replace("%", "%%").replace("?", "%s")

    def lock_person(self, cursor: Cursor, pid: str) -> None:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(pid),))


class PostgresStore:
    """`Store` on PostgreSQL: any number of processes may share one database."""

    dialect = PostgresDialect()

    def __init__(self, url: str, *, max_size: int = POOL_MAX) -> None:
        self.url = url
        self._shown = shown(url)
        try:
            psycopg.conninfo.conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            raise StoreError(f"storage.url: not a PostgreSQL URL: {exc}") from None
        self._pool = ConnectionPool(
            url, min_size=1, max_size=max_size, open=False, timeout=30.0,
            kwargs={"connect_timeout": CONNECT_TIMEOUT, "application_name": "mentorbot",
                    **KEEPALIVES},
            name="mentorbot")
        try:
            self._pool.open(wait=True, timeout=CONNECT_TIMEOUT + 5)
        except PoolTimeout:
            problem = self._why_unreachable()
            self._pool.close()
            raise StoreError(f"storage.url: cannot connect to {self._shown}: {problem}") from None
        self._leases: list[Lease] = []
        self._lock = threading.Lock()
        self._senders: ConnectionPool | None = None
        self._waiters: ThreadPoolExecutor | None = None
        try:
            self._migrate()
        except BaseException:
            self._pool.close()
            raise

    def _why_unreachable(self) -> str:
        try:
            psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT).close()
        except psycopg.Error as exc:
            return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return "timed out"

    # -- schema ---------------------------------------------------------------------------

    def _migrate(self) -> None:
        with self._pool.connection() as conn, conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            cur.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            version = self._read_version(cur)
            if version is None:
                cur.execute("INSERT INTO schema_version (version) VALUES (0)")
                version = 0
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self._shown}: this store has schema version {version}, written by a "
                    f"newer mentorbot; this release understands up to {SCHEMA_VERSION}: "
                    "upgrade mentorbot")
            for number in range(version, SCHEMA_VERSION):
                for statement in statements(MIGRATIONS[number]):
                    cur.execute(adapt(statement, "postgresql").encode("utf-8"))
                log.info("store migrated url=%s version=%d", self._shown, number + 1)
            cur.execute("UPDATE schema_version SET version = %s", (SCHEMA_VERSION,))

    @staticmethod
    def _read_version(cur: psycopg.Cursor[Any]) -> int | None:
        cur.execute("SELECT version FROM schema_version")
        row = cur.fetchone()
        return int(row[0]) if row else None

    @property
    def schema_version(self) -> int:
        with self._pool.connection() as conn, conn.cursor() as cur:
            return self._read_version(cur) or 0

    # -- units of work --------------------------------------------------------------------

    @contextlib.contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        try:
            with self._pool.connection() as conn:
                yield conn
        except (PoolTimeout, psycopg.OperationalError) as exc:
            raise StoreUnavailable(f"{self._shown}: {type(exc).__name__}") from exc

    @contextlib.contextmanager
    def turn(self, person_ids: Sequence[str] = ()) -> Iterator[UnitOfWork]:
        """One transaction holding the people's locks: committed once, or rolled back."""
        with self._connection() as conn, conn.cursor() as cur:
            uow = UnitOfWork(cur, self.dialect)
            try:
                for pid in sorted(set(person_ids), key=lock_key):
                    uow.lock(pid)
                yield uow
                uow.flush()
                conn.commit()
            except psycopg.errors.DeadlockDetected as exc:
                conn.rollback()
                raise StoreUnavailable("deadlock between two turns; retried by the sender") \
                    from exc
            except BaseException:
                with contextlib.suppress(psycopg.Error):
                    conn.rollback()
                raise

    @contextlib.contextmanager
    def read(self) -> Iterator[UnitOfWork]:
        """A consistent read-only view (one snapshot for the whole block)."""
        with self._connection() as conn, conn.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            try:
                yield UnitOfWork(cur, self.dialect)
            finally:
                with contextlib.suppress(psycopg.Error):
                    conn.rollback()

    def compact_log(self) -> None:
        """After an erasure: reclaim the deleted rows' space (plain VACUUM, no table lock).
        PostgreSQL's WAL and base backups keep them until rotated (docs/postgres.md)."""
        with contextlib.suppress(psycopg.Error, PoolTimeout), \
                self._pool.connection() as conn:
            conn.autocommit = True
            try:
                for table in ("people", *(t for t, _ in PERSON_TABLES)):
                    conn.execute(f"VACUUM {table}".encode())
            finally:
                conn.autocommit = False

    def check(self) -> list[str]:
        """Rows that refer to a missing person (the foreign keys should make it impossible)."""
        problems: list[str] = []
        with self._connection() as conn, conn.cursor() as cur:
            for table, column in PERSON_TABLES:
                cur.execute(
                    f"SELECT COUNT(*) FROM {table} t WHERE t.{column} IS NOT NULL AND NOT "
                    f"EXISTS (SELECT 1 FROM people p WHERE p.id = t.{column})".encode())
                row = cur.fetchone()
                if row and int(row[0]):
                    problems.append(f"{row[0]} orphan row(s) in {table} referring to a missing "
                                    "person")
            conn.rollback()
        return problems

    # -- several workers ------------------------------------------------------------------

    shared = True

    def lease(self, name: str) -> Lease:
        """The lease `name` ("scheduler"): held by one process at a time, see `Lease`."""
        lease = Lease(self.url, name)
        with self._lock:
            self._leases.append(lease)
        return lease

    def reserve(self, bucket: str, spacing: float) -> float:
        """A platform's rate limit held across workers: reserve the next slot of `bucket`
        (one message every `spacing` seconds) and return how long to wait for it. One
        statement on one row (`transport_state`, transport "rate"), timed by the server's
        clock, so workers on several machines share one schedule."""
        now = "extract(epoch from clock_timestamp())"
        query = (
            "INSERT INTO transport_state (transport, key, value) "
            f"VALUES ('rate', %s, ({now})::text) ON CONFLICT (transport, key) DO UPDATE "
            f"SET value = GREATEST(transport_state.value::float8 + %s, {now})::text "
            f"RETURNING value::float8 - {now}"
        )
        with self._connection() as conn:
            conn.execute("SET LOCAL synchronous_commit TO OFF")  # a lost slot is harmless
            row = conn.execute(query.encode(), (bucket, spacing)).fetchone()
            conn.commit()
        return max(0.0, float(row[0])) if row else 0.0

    @contextlib.asynccontextmanager
    async def sending(self, pid: str) -> AsyncIterator[None]:
        """Hold the recipient's sending lock: one worker at a time sends a person's outbox,
        oldest first, so that their messages go out once and in order whichever workers
        queued them. A session-level advisory lock on a connection of a small pool of its
        own (so that waiting for it never takes a connection a turn needs), waited for in
        threads of their own (never the ones the engine's turns run in); a worker that dies
        while sending closes the connection and the lock goes with it."""
        pool, waiters = self._sending_pool()
        key = (SEND_CLASS, lease_key(pid))
        loop = asyncio.get_running_loop()

        def take() -> psycopg.Connection[Any]:
            conn = pool.getconn()
            try:
                conn.execute("SELECT pg_advisory_lock(%s, %s)", key)
            except BaseException:
                pool.putconn(conn)
                raise
            return conn

        def give(conn: psycopg.Connection[Any]) -> None:
            try:
                conn.execute("SELECT pg_advisory_unlock(%s, %s)", key)
            except psycopg.Error:
                conn.close()  # the pool replaces it; the server released the lock with it
            pool.putconn(conn)

        try:
            conn = await loop.run_in_executor(waiters, take)
        except (PoolTimeout, psycopg.OperationalError) as exc:
            raise StoreUnavailable(f"{self._shown}: {type(exc).__name__}") from exc
        try:
            yield
        finally:
            # Not in `waiters`: were all of them waiting for locks held here and elsewhere,
            # a release queued behind them would never run (a deadlock across workers).
            await loop.run_in_executor(None, give, conn)

    def _sending_pool(self) -> tuple[ConnectionPool, ThreadPoolExecutor]:
        with self._lock:
            if self._senders is None or self._waiters is None:
                self._senders = ConnectionPool(
                    self.url, min_size=0, max_size=SENDERS_MAX, open=True, timeout=60.0,
                    kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT,
                            "application_name": "mentorbot sending", **KEEPALIVES},
                    name="mentorbot-sending")
                self._waiters = ThreadPoolExecutor(SENDERS_MAX, "mentorbot-sending")
            return self._senders, self._waiters

    def close(self) -> None:
        with self._lock:
            leases, self._leases = self._leases, []
            senders, self._senders = self._senders, None
            waiters, self._waiters = self._waiters, None
        for lease in leases:
            lease.release()
        if waiters is not None:
            waiters.shutdown(wait=False, cancel_futures=True)
        if senders is not None:
            senders.close()
        self._pool.close()


class Lease:
    """A session-level advisory lock on a dedicated connection: whoever holds the connection
    holds the lease; a dead holder's connection closes and the lock goes with it.

    `held()` is cheap to call often: it tries to take the lease when not held (at most every
    `LEASE_RETRY` seconds) and checks that the connection still lives when held.
    """

    def __init__(self, url: str, name: str, *, retry: float = LEASE_RETRY) -> None:
        self.url = url
        self.name = name
        self.key = lease_key(name)
        self.retry = retry
        self._conn: psycopg.Connection[Any] | None = None
        self._holding = False
        self._next_try = 0.0
        self._lock = threading.Lock()

    def held(self, now: float | None = None) -> bool:
        import time

        moment = time.monotonic() if now is None else now
        with self._lock:
            if self._holding:
                if self._alive():
                    return True
                log.warning("lease lost name=%s", self.name)
                self._drop()
            if moment < self._next_try:
                return False
            self._next_try = moment + self.retry
            return self._try()

    def _alive(self) -> bool:
        assert self._conn is not None
        try:
            self._conn.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    def _try(self) -> bool:
        try:
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(
                    self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT,
                    application_name=f"mentorbot lease {self.name}", **KEEPALIVES)
            row = self._conn.execute("SELECT pg_try_advisory_lock(%s, %s)",
                                     (LEASE_CLASS, self.key)).fetchone()
        except psycopg.Error:
            self._drop()
            return False
        self._holding = bool(row and row[0])
        if self._holding:
            log.info("lease taken name=%s", self.name)
        return self._holding

    def _drop(self) -> None:
        self._holding = False
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
        self._conn = None

    def release(self) -> None:
        with self._lock:
            if self._holding and self._conn is not None:
                with contextlib.suppress(psycopg.Error):
                    self._conn.execute("SELECT pg_advisory_unlock(%s, %s)",
                                       (LEASE_CLASS, self.key))
                log.info("lease released name=%s", self.name)
            self._drop()
