"""A fresh PostgreSQL database per test, on the server that `MENTORBOT_TEST_PG` names.

`MENTORBOT_TEST_PG` is a URL of a database on that server that the test user may connect to
(default `postgresql://postgres@127.0.0.1:5432/postgres`); each test gets its own database,
created from it and dropped afterwards (`WITH (FORCE)`: a worker process killed by a test may
still hold a connection). Without a reachable server the test is skipped with the reason,
never silently passed.

Databases are named `mentorbot_test_<pid>_<random>`; one left behind by a run that was itself
killed is dropped by the next run once its process is gone.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

PG_ENV = "MENTORBOT_TEST_PG"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PREFIX = "mentorbot_test_"
_NAME = re.compile(rf"^{PREFIX}(\d+)_[0-9a-f]+$")
CONNECT_TIMEOUT = 3


def server_url() -> str:
    return os.environ.get(PG_ENV) or DEFAULT_URL


def shown(url: str) -> str:
    """The URL without its password (it is printed in skip reasons)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def with_database(url: str, name: str) -> str:
    """`url` pointing at database `name` on the same server."""
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def unreachable(url: str | None = None) -> str | None:
    """Why the server cannot be used (None: it can)."""
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - psycopg is a dependency
        return f"psycopg is not installed ({exc})"
    try:
        with psycopg.connect(url or server_url(), connect_timeout=CONNECT_TIMEOUT) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _drop(conn: object, name: str) -> None:
    from psycopg import Connection, sql

    assert isinstance(conn, Connection)
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _drop_leftovers(conn: object) -> None:
    """Databases of test runs whose process is gone (a killed pytest never dropped them)."""
    from psycopg import Connection

    assert isinstance(conn, Connection)
    rows = conn.execute(
        "SELECT datname FROM pg_database WHERE datname LIKE %s", (PREFIX + "%",)
    ).fetchall()
    for (name,) in rows:
        match = _NAME.match(name)
        if match and not _alive(int(match.group(1))):
            with contextlib.suppress(Exception):
                _drop(conn, name)


_cleaned = False


@contextlib.contextmanager
def fresh_database(url: str | None = None) -> Iterator[str]:
    """Create an empty database on the server of `url`; yield its URL; drop it afterwards."""
    import psycopg
    from psycopg import sql

    global _cleaned
    admin = url or server_url()
    name = f"{PREFIX}{os.getpid()}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True, connect_timeout=CONNECT_TIMEOUT) as conn:
        if not _cleaned:
            _cleaned = True
            _drop_leftovers(conn)
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_database(admin, name)
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=CONNECT_TIMEOUT) as conn:
            _drop(conn, name)


_verdicts: dict[str, str | None] = {}


def require_server() -> str:
    """The server URL, or skip the test saying why it cannot run (asked once per run)."""
    url = server_url()
    if url not in _verdicts:
        _verdicts[url] = unreachable(url)
    problem = _verdicts[url]
    if problem is not None:
        pytest.skip(f"PostgreSQL not reachable at {shown(url)} (set {PG_ENV}): {problem}")
    return url


@pytest.fixture
def pg_url() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped after the test."""
    with fresh_database(require_server()) as url:
        yield url
