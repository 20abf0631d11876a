"""The HTTP server and `mentorbot run`: health, routes, limits, and nothing lost across a crash
(a real `python -m bot run` process, killed with SIGKILL between receipt and reply)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bot.transports.whatsapp import sign
from tests.storeview import StoreView, transport_state, waiting
from tests.transports.conftest import (
    APP_SECRET,
    TG_MENTEE,
    WA_MENTEE,
    World,
    config_text,
    load_fixture,
    open_world,
)
from tests.transports.fake_graph import FakeGraph
from tests.transports.fake_telegram import FakeTelegram
from tests.transports.quiet_server import wait_until

REPO = Path(__file__).resolve().parents[2]
RUNNING = re.compile(r"running host=\S+ port=(\d+)")


async def test_healthz(world: World) -> None:
    response = await world.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_webhooks_of_disabled_transports_are_not_found(tmp_path: Path) -> None:
    async with open_world(tmp_path / "data") as world:
        assert (await world.client.get("/healthz")).status_code == 200
        assert (await world.client.post("/webhooks/telegram", content=b"{}")).status_code == 404
        assert (await world.client.post("/webhooks/whatsapp", content=b"{}")).status_code == 404
        assert (await world.client.get("/webhooks/whatsapp")).status_code == 404


async def test_an_oversized_webhook_is_refused_unread(world: World) -> None:
    body = b"{" + b" " * (2 << 20) + b"}"
    response = await world.client.post("/webhooks/whatsapp", content=body,
                                       headers={"X-Hub-Signature-256": sign(APP_SECRET, body)})
    assert response.status_code == 413
    assert world.graph is not None and world.graph.attempts() == []


async def test_the_scheduler_loop_stops_promptly(world: World) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(world.runtime.scheduler_loop(stop))
    await asyncio.sleep(0.1)
    stop.set()
    await asyncio.wait_for(task, timeout=5)


# -- a real process ---------------------------------------------------------------------------


@contextmanager
def running(config: Path, log: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """`python -m bot run` in a subprocess; yields it and the port it listens on."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(log, "ab") as err:
        process = subprocess.Popen([sys.executable, "-m", "bot", "-v", "run", "--config",
                                    str(config)], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                   stderr=err)
    try:
        port: list[int] = []

        def started() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"run exited early:\n{log.read_text()}")
            found = RUNNING.findall(log.read_text(errors="replace"))
            if found:
                port.append(int(found[-1]))
            return bool(found) and len(found) > started.seen  # type: ignore[attr-defined]

        started.seen = len(RUNNING.findall(log.read_text(errors="replace")))  # type: ignore[attr-defined]
        wait_until(started, what="the server to start")
        yield process, port[-1]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_nothing_is_lost_when_run_is_killed_between_receipt_and_reply(
        tmp_path: Path, tg: FakeTelegram, graph: FakeGraph) -> None:
    data = tmp_path / "data"
    config = tmp_path / "config.yaml"
    config.write_text(config_text(data, tg_url=tg.url, graph_url=graph.url), encoding="utf-8")
    log = tmp_path / "run.log"
    # The platforms accept nothing yet: the replies stay in the outbox.
    tg.fail("sendMessage", 500, times=-1)
    graph.fail(1, times=-1, status=500)
    tg.push_text(TG_MENTEE, "/start")
    last = tg.push_press(TG_MENTEE, "c:1")
    payload = load_fixture("meta_text_message.json")
    value = payload["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["wa_id"] = WA_MENTEE
    value["messages"][0].update({"from": WA_MENTEE, "id": "wamid.CRASH1",
                                 "text": {"body": "/start"}})
    body = json.dumps(payload).encode()
    headers = {"X-Hub-Signature-256": sign(APP_SECRET, body),
               "Content-Type": "application/json"}

    with running(config, log) as (process, port):
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/healthz", timeout=5).json() == {"status": "ok"}
        assert httpx.post(f"{base}/webhooks/whatsapp", content=body, headers=headers,
                          timeout=10).status_code == 200
        wait_until(lambda: tg.last_offset() == last + 1, what="the offset to move")
        wait_until(lambda: tg.of("sendMessage", ok=False) and graph.attempts(),
                   what="the first delivery attempts")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    tg_person, wa_person = f"telegram:{TG_MENTEE}", f"whatsapp:{WA_MENTEE}"
    assert len(waiting(data, tg_person)) == 3
    assert len(waiting(data, wa_person)) == 2

    # Restart with the platforms back; Telegram redelivers the updates, Meta the webhook.
    tg.heal()
    graph.heal()
    tg.replay()
    with running(config, log) as (process, port):
        base = f"http://127.0.0.1:{port}"
        assert httpx.post(f"{base}/webhooks/whatsapp", content=body, headers=headers,
                          timeout=10).status_code == 200
        wait_until(lambda: tg.polls_after_replay() >= 1, what="the replayed updates")
        wait_until(lambda: len(tg.sent()) >= 3 and len(graph.accepted()) >= 2,
                   what="the pending replies")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0

    texts = tg.texts(TG_MENTEE)
    assert len(texts) == 3 and len(set(texts)) == 3
    assert len(graph.accepted(WA_MENTEE)) == 2
    store = StoreView(data)
    tg_journal = store.read_journal(tg_person)
    assert [e.text for e in tg_journal if e.direction == "in"] == ["/start", "Lire l'article 1"]
    assert len([e for e in tg_journal if e.direction == "out"]) == 3
    wa_journal = store.read_journal(wa_person)
    assert [e.text for e in wa_journal if e.direction == "in"] == ["/start"]
    assert waiting(data, tg_person) == []
    assert waiting(data, wa_person) == []
    assert transport_state(data, "telegram", "offset") == last + 1
    assert "stopped" in log.read_text()


def test_run_says_so_when_the_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        config = tmp_path / "config.yaml"
        config.write_text(config_text(tmp_path / "data").replace("port: 0", f"port: {port}"),
                          encoding="utf-8")
        done = subprocess.run([sys.executable, "-m", "bot", "run", "--config", str(config)],
                              cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot listen on 127.0.0.1" in lines[0]
