"""Several real `mentorbot run` workers on one PostgreSQL database, behind no load balancer but
a load driver that spreads signed WhatsApp webhooks over them at random (and redelivers some
to another worker), with a fake Graph API on loopback.

What must hold: every message handled exactly once, each person's replies in the order of
their messages, whichever worker received them; after SIGKILLs of workers at random instants,
nothing lost and nothing handled twice (at most the reply in flight sent again); the scheduler
lease moves to another worker; a digest time passing gives each mentor one digest.

The number of webhooks is `MENTORBOT_FLEET_MESSAGES` (default 1,000 over 50 senders, as in the
issue; `benchmarks/bench_http.py` measures the same load). Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest

from tests.fleet import APP_SECRET, Fleet, Roster, write_config
from tests.load import (
    LoadDriver,
    LoadResult,
    Sender,
    mentee_script,
    repeated_at_most,
    replies,
    shape,
    signing,
)
from tests.transports.fake_graph import FakeGraph
from tests.transports.quiet_server import wait_until

MESSAGES = int(os.environ.get("MENTORBOT_FLEET_MESSAGES", "1000"))
SENDERS = 50
MENTORS = 3
WORKERS = 3
PARIS = ZoneInfo("Europe/Paris")
LEADER = re.compile(r"leader of scheduler")
DIGEST = "Synthèse du"


@dataclass
class Setup:
    fleet: Fleet
    graph: FakeGraph
    roster: Roster
    url: str
    expected: list[str]  # the reference sender's replies, shaped
    reference_in: int  # how many of the reference sender's messages the journal kept
    digest_at: datetime | None = None

    @property
    def per_sender(self) -> int:
        return max(1, MESSAGES // SENDERS)

    def senders(self) -> list[Sender]:
        return [Sender(self.roster.mentee(i), self.roster.mentee_name(i),
                       tuple(mentee_script(self.roster.mentee_name(i), self.per_sender)))
                for i in range(SENDERS)]

    def sql(self, query: str, *params: object) -> list[tuple[object, ...]]:
        with psycopg.connect(self.url) as conn:
            return list(conn.execute(query, params).fetchall())  # type: ignore[arg-type]


def _digest_minute(after: timedelta) -> tuple[str, datetime]:
    """The next whole local minute at least `after` from now, as "HH:MM" and as an instant."""
    at = (datetime.now(PARIS) + after).replace(second=0, microsecond=0) + timedelta(minutes=1)
    return at.strftime("%H:%M"), at


def _drained(graph: FakeGraph, quiet: float = 2.0, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    seen, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        now = len(graph.accepted())
        if now != seen:
            seen, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(0.1)
    raise AssertionError("the workers kept sending")


@pytest.fixture
def setup(tmp_path: Path, pg_url: str, request: pytest.FixtureRequest) -> Iterator[Setup]:
    lead = getattr(request, "param", None)  # a digest this long from now, or none today
    digest, digest_at = _digest_minute(lead) if lead is not None else ("03:00", None)
    graph = FakeGraph()
    graph.start()
    # after the senders, one more mentee per mentor: they ask a question before the load
    # (so that every mentor has a digest to get); the first is the reference
    roster = Roster(mentors=MENTORS, mentees=SENDERS + MENTORS)
    config = write_config(tmp_path / "config.yaml", roster=roster, graph_url=graph.url,
                          url=pg_url, digest_times=(digest,))
    fleet = Fleet(config, WORKERS, tmp_path / "logs")
    try:
        fleet.start()
        mentors = [Sender(roster.mentor(i), roster.mentor_name(i),
                          tuple(signing(roster.mentor_name(i)))) for i in range(MENTORS)]
        result = asyncio.run(LoadDriver(fleet.urls, mentors, APP_SECRET, seed=1).run())
        assert result.delivered == sum(len(m.script) for m in mentors), result.errors
        # the reference mentees, one per mentor, each alone on its worker
        per_sender = max(1, MESSAGES // SENDERS)
        refs = [Sender(roster.mentee(i), roster.mentee_name(i),
                       tuple(mentee_script(roster.mentee_name(i), per_sender)))
                for i in range(SENDERS, SENDERS + MENTORS)]
        result = asyncio.run(LoadDriver(fleet.urls[:1], refs, APP_SECRET).run())
        assert result.delivered == per_sender * MENTORS, result.errors
        ref, name = SENDERS, roster.mentee_name(SENDERS)
        _drained(graph)
        expected = [shape(t, name) for t in replies(graph.accepted())[roster.mentee(ref)]]
        assert expected
        with psycopg.connect(pg_url) as conn:
            row = conn.execute("SELECT COUNT(*) FROM journal WHERE person = %s AND "
                               "direction = 'in'", (f"whatsapp:{roster.mentee(ref)}",)).fetchone()
        assert row is not None
        yield Setup(fleet, graph, roster, pg_url, expected, int(row[0]), digest_at)
    finally:
        codes = fleet.stop()
        graph.stop()
        logs = "".join(w.log_text() for w in fleet.workers)
        assert "Traceback" not in logs or codes is None, logs[-6000:]


def _digests(setup: Setup) -> dict[str, int]:
    """How many digests each mentor received."""
    got = replies(setup.graph.accepted())
    return {setup.roster.mentor(i): sum(1 for t in got.get(setup.roster.mentor(i), [])
                                        if t.startswith(DIGEST))
            for i in range(MENTORS)}


def _check_each_message_once(setup: Setup, result: LoadResult, repeats: int) -> None:
    senders = setup.senders()
    assert result.delivered == len(senders) * setup.per_sender, result.errors[:10]
    got = replies(setup.graph.accepted())
    for sender in senders:
        shaped = [shape(t, sender.name) for t in got.get(sender.wa_id, [])]
        assert repeated_at_most(shaped, setup.expected, repeats), (sender.wa_id, shaped)
    # the store: each message id recorded once, each person's messages journalled once
    ids = setup.sql("SELECT COUNT(*), COUNT(DISTINCT message_id) FROM processed "
                    "WHERE message_id LIKE %s", "wa:wamid.LOAD.%")
    loaded = sum(1 for s in result.sent if s.ok and ".LOAD." in s.wamid)
    assert ids[0][0] == ids[0][1] >= loaded
    counts = dict(setup.sql("SELECT person, COUNT(*) FROM journal WHERE direction = 'in' "
                            "GROUP BY person"))
    for sender in senders:
        assert counts.get(f"whatsapp:{sender.wa_id}") == setup.reference_in, sender.wa_id


def _leader(fleet: Fleet) -> int | None:
    """The worker whose current run last logged taking the scheduler lease."""
    for worker in fleet.workers:
        current = worker.log_text().rsplit("--- start", 1)[-1]
        if worker.alive and LEADER.search(current):
            return worker.index
    return None


@pytest.mark.parametrize("setup", [timedelta(seconds=30)], indirect=True, ids=["digest"])
def test_three_workers_handle_each_message_once_and_in_order(setup: Setup) -> None:
    """...and a digest time passing while all three run gives each mentor one digest."""
    assert setup.digest_at is not None
    assert _digests(setup) == dict.fromkeys(_digests(setup), 0)
    driver = LoadDriver(setup.fleet.urls, setup.senders(), APP_SECRET, seed=11,
                        redeliver=0.1, deadline=150)
    result = asyncio.run(driver.run())
    _drained(setup.graph)
    assert result.redeliveries > 0
    _check_each_message_once(setup, result, repeats=0)
    # every worker served webhooks; one of them (only) holds the scheduler lease
    assert len({s.workers[-1] for s in result.sent}) == WORKERS
    holders = [w.index for w in setup.fleet.workers if LEADER.search(w.log_text())]
    assert len(holders) == 1
    wait = (setup.digest_at - datetime.now(PARIS)).total_seconds()
    time.sleep(max(0.0, wait))
    wait_until(lambda: all(_digests(setup).values()), timeout=30, what="the digests")
    _drained(setup.graph)
    assert set(_digests(setup).values()) == {1}


def test_sigkill_at_random_instants_loses_nothing_and_moves_the_lease(setup: Setup) -> None:
    rng = random.Random(5)
    kills: list[int] = []
    stop = threading.Event()

    def chaos() -> None:
        """Kill a worker (the lease holder first) at random instants, restart it."""
        first = True
        while not stop.wait(rng.uniform(1.0, 3.0)) and len(kills) < 4:
            leader = _leader(setup.fleet)
            victim = leader if first and leader is not None else rng.randrange(WORKERS)
            first = False
            kills.append(victim)
            setup.fleet.kill(victim)
            if victim == leader:  # another worker takes the lease within seconds
                wait_until(lambda v=victim: _leader(setup.fleet) not in (None, v), timeout=15,
                           what="the lease to move")
            setup.fleet.restart(victim)

    killer = threading.Thread(target=chaos)
    killer.start()
    try:
        driver = LoadDriver(setup.fleet.urls, setup.senders(), APP_SECRET, seed=12,
                            redeliver=0.05, deadline=150)
        result = asyncio.run(driver.run())
    finally:
        stop.set()
        killer.join(timeout=60)
    _drained(setup.graph)
    assert kills, "no worker was killed"
    _check_each_message_once(setup, result, repeats=len(kills))
    assert _leader(setup.fleet) is not None
