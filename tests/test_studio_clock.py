"""The studio's virtual clock is kept with the demo's data (issue 14, item 11): a restart of
`mentorbot studio --data DIR` resumes at the same virtual time, so the journal stays in order."""

from __future__ import annotations

import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.config import Config
from bot.studio.server import Options, build
from tests.storeview import StoreView

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

START = datetime.fromisoformat("2026-11-30T07:00:00+01:00")  # Monday, before opening
LOCAL = "http://127.0.0.1:8765"


def run(config: Config, tmp_path: Path, start: datetime | None, *acts: tuple[str, Any]) -> str:
    """Start the studio on the data directory, act, stop it; the virtual time it ended at."""
    options = Options(config=config, start=start, stories=tmp_path / "stories")
    with TestClient(build(options), base_url=LOCAL) as client:
        for kind, body in acts:
            assert client.post(f"/api/{kind}", json=body).status_code == 200
        now: str = client.get("/api/state").json()["now"]
    return now


def test_a_restart_resumes_at_the_same_virtual_time(config: Config, tmp_path: Path) -> None:
    ended = run(config, tmp_path, START,
                ("clock", {"action": "digest"}),  # Monday 08:00
                ("clock", {"action": "hour"}),
                ("clock", {"action": "hour"}),  # Monday 10:00: no job ran at that time
                ("say", {"person": "console:alice", "text": "Bonjour"}))
    assert ended == "2026-11-30T10:00:00+01:00"
    # `make demo` starts the studio without --start: it goes on from the time kept with the
    # data (not from the machine's clock, not from the last digest).
    assert run(config, tmp_path, None) == ended
    later = run(config, tmp_path, None, ("clock", {"action": "hour"}),
                ("say", {"person": "console:alice", "index": 1}))  # read the charter
    assert later == "2026-11-30T11:00:00+01:00"
    assert run(config, tmp_path, None) == later
    journal = StoreView(config.storage.path).read_journal("console:alice")
    times = [datetime.fromisoformat(e.at) for e in journal]
    assert times and times == sorted(times)


def test_an_earlier_start_does_not_take_the_clock_back(config: Config, tmp_path: Path) -> None:
    ended = run(config, tmp_path, START, ("clock", {"action": "date", "at": "2026-12-02T09:30"}))
    assert ended == "2026-12-02T09:30:00+01:00"
    assert run(config, tmp_path, START) == ended  # --start before the kept time
    assert run(config, tmp_path, datetime.fromisoformat("2026-12-03T09:00:00+01:00")) == (
        "2026-12-03T09:00:00+01:00")  # --start after it: moves forward
    assert run(config, tmp_path, None) == "2026-12-03T09:00:00+01:00"
