"""`mentorbot run` as a real process: it serves `/healthz` on 127.0.0.1, stops cleanly on SIGTERM
and SIGINT (exit 0), polls Telegram until stopped, and refuses to start with one clear line when
a platform refuses it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.storeview import jobs, transport_state
from tests.transports.conftest import TG_MENTEE, config_text
from tests.transports.fake_telegram import FakeTelegram
from tests.transports.quiet_server import wait_until

REPO = Path(__file__).resolve().parent.parent.parent  # the repository root
RUNNING = re.compile(r"running host=(\S+) port=(\d+) telegram=(\w+) whatsapp=(\w+)")
TIMEOUT = 30.0


def write_config(tmp_path: Path, **options: object) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(config_text(tmp_path / "data", **options), encoding="utf-8")  # type: ignore[arg-type]
    return path


def command(config: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "bot", "-v", "run", "--config", str(config), *extra]


@contextmanager
def running(config: Path, log: Path, *extra: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`python -m bot -v run` in a subprocess; yields it and its base URL once it listens."""
    with open(log, "wb") as err:
        process = subprocess.Popen(command(config, *extra), cwd=REPO, stdout=subprocess.DEVNULL,
                                   stderr=err, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        found: list[re.Match[str]] = []

        def started() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"run exited early:\n{log.read_text(errors='replace')}")
            match = RUNNING.search(log.read_text(errors="replace"))
            if match:
                found.append(match)
            return match is not None

        wait_until(started, what="the server to start")
        host, port = found[-1].group(1), found[-1].group(2)
        yield process, f"http://{host}:{port}"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_run_serves_health_and_stops_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    config = write_config(tmp_path)
    log = tmp_path / "run.log"
    with running(config, log) as (process, base):
        assert base.startswith("http://127.0.0.1:")
        response = httpx.get(f"{base}/healthz", timeout=5)
        assert response.status_code == 200 and response.json() == {"status": "ok"}
        assert httpx.post(f"{base}/webhooks/telegram", content=b"{}", timeout=5).status_code \
            == 404
        process.send_signal(sig)
        assert process.wait(timeout=TIMEOUT) == 0
    text = log.read_text()
    assert "telegram=False whatsapp=False" in text
    assert "mentorbot.run stopping" in text and "mentorbot.run stopped" in text
    assert "Traceback" not in text
    # the scheduler anchored its jobs in the store
    assert jobs(tmp_path / "data") == {"digest", "purge"}


def test_run_with_the_data_option_uses_that_directory(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    other = tmp_path / "elsewhere"
    log = tmp_path / "run.log"
    with running(config, log, "--data", str(other)) as (process, base):
        assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=TIMEOUT) == 0
    assert (other / "mentorbot.sqlite3").exists()
    assert not (tmp_path / "data").exists()


def test_run_polls_telegram_and_stops_during_a_long_poll(tmp_path: Path,
                                                        tg: FakeTelegram) -> None:
    config = write_config(tmp_path, tg_url=tg.url)
    log = tmp_path / "run.log"
    tg.push_text(TG_MENTEE, "/start")
    with running(config, log) as (process, _):
        wait_until(lambda: len(tg.texts(TG_MENTEE)) == 2, what="the replies")
        # now it waits in a long poll (1 s in this config); a stop does not wait for it
        wait_until(lambda: len(tg.of("getUpdates")) >= 2, what="the next poll")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=TIMEOUT) == 0
    assert "telegram=True whatsapp=False" in log.read_text()
    assert transport_state(tmp_path / "data", "telegram", "offset") == \
        tg.updates[-1]["update_id"] + 1
    assert tg.token not in log.read_text()  # URLs with the token are never logged


@pytest.mark.parametrize(("options", "token", "message"), [
    ({}, "999:wrong-token", "transports.telegram.token: rejected by the Bot API"),
    ({"mode": "webhook"}, None,
     "server.public_url: required when transports.telegram.mode is webhook"),
], ids=["rejected token", "webhook without public url"])
def test_run_refuses_to_start_with_one_clear_line(tmp_path: Path, tg: FakeTelegram,
                                                  options: dict[str, str], token: str | None,
                                                  message: str) -> None:
    config = write_config(tmp_path, tg_url=tg.url, **options)
    if token is not None:
        config.write_text(config.read_text(encoding="utf-8").replace(tg.token, token),
                          encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "bot", "run", "--config", str(config)],
                          cwd=REPO, capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [f"mentorbot: {message}"]
    assert "setWebhook" not in tg.methods()
