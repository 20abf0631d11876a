"""Several real `python -m bot run` processes on loopback, one config, one port each.

Used by the multi-worker tests and by `benchmarks/bench_http.py`. The config file is shared
(as in a deployment behind a load balancer); each worker's port comes from the environment
(`server.port: ${MENTORBOT_PORT}`). A worker is ready when `/healthz` answers; it can be
killed with SIGKILL and started again on the same port.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
PORT_ENV = "MENTORBOT_PORT"
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Worker:
    """One `run` process."""

    index: int
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Fleet:
    """N workers sharing one config file; `start`, `kill`, `restart`, `stop`."""

    config: Path
    count: int
    logs: Path
    verbose: bool = True
    env: dict[str, str] = field(default_factory=dict)
    workers: list[Worker] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        self.workers = [
            Worker(i, free_port(), self.logs / f"worker-{i}.log") for i in range(self.count)
        ]

    @property
    def urls(self) -> list[str]:
        return [w.url for w in self.workers]

    def _spawn(self, worker: Worker) -> None:
        command = [sys.executable, "-m", "bot", *(["-v"] if self.verbose else []), "run",
                   "--config", str(self.config)]
        env = {**os.environ, **self.env, PORT_ENV: str(worker.port), "PYTHONUNBUFFERED": "1"}
        with open(worker.log, "ab") as err:
            err.write(f"--- start {worker.starts}\n".encode())
            worker.process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL,
                                              stderr=err, env=env)
        worker.starts += 1

    def _wait_ready(self, worker: Worker, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if worker.process is None or worker.process.poll() is not None:
                raise RuntimeError(f"worker {worker.index} exited while starting:\n"
                                   f"{worker.log_text()[-4000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{worker.url}/healthz", timeout=1.0).status_code == 200:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"worker {worker.index} did not answer /healthz within {timeout} s:\n"
                           f"{worker.log_text()[-4000:]}")

    def start(self) -> Fleet:
        for worker in self.workers:
            self._spawn(worker)
        for worker in self.workers:
            self._wait_ready(worker)
        return self

    def kill(self, index: int) -> None:
        """SIGKILL: no clean-up, no goodbye, like a machine that loses power."""
        worker = self.workers[index]
        if worker.process is not None and worker.process.poll() is None:
            worker.process.send_signal(signal.SIGKILL)
            worker.process.wait(timeout=10)

    def restart(self, index: int, wait: bool = True) -> None:
        worker = self.workers[index]
        self.kill(index)
        self._spawn(worker)
        if wait:
            self._wait_ready(worker)

    def stop(self, timeout: float = 20.0) -> list[int | None]:
        """SIGTERM every worker, then SIGKILL what is still there; their exit codes."""
        for worker in self.workers:
            if worker.alive:
                assert worker.process is not None
                worker.process.send_signal(signal.SIGTERM)
        codes: list[int | None] = []
        for worker in self.workers:
            if worker.process is None:
                codes.append(None)
                continue
            try:
                codes.append(worker.process.wait(timeout=timeout))
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait(timeout=10)
                codes.append(None)
        return codes

    def __enter__(self) -> Fleet:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- the config the workers share ---------------------------------------------------------

APP_SECRET = "fleet-app-secret"
GRAPH_TOKEN = "EAAtest-token"  # the fake Graph API's (tests/transports/fake_graph.py)
GRAPH_VERSION = "26.0"
PHONE_NUMBER_ID = "106540352242922"


def _letters(i: int) -> str:
    """A name made of letters only (a full name in the charter has no digits): 0 -> Aa."""
    out = ""
    while True:
        out = "abcdefghijklmnopqrstuvwxyz"[i % 26] + out
        i //= 26
        if not i:
            break
    return ("a" + out).capitalize()


@dataclass(frozen=True)
class Roster:
    """WhatsApp mentors and their mentees, numbered: `mentor_ids`, `mentee_ids`."""

    mentors: int
    mentees: int

    def mentor(self, i: int) -> str:
        return f"3362{i:07d}"

    def mentee(self, i: int) -> str:
        return f"3361{i:07d}"

    def mentor_name(self, i: int) -> str:
        return f"Mentor {_letters(i)}"

    def mentee_name(self, i: int) -> str:
        return f"Camille {_letters(i)}"

    def mentor_of(self, i: int) -> int:
        return i % self.mentors

    def yaml(self) -> str:
        lines = ["people:"]
        for i in range(self.mentors):
            lines.append(f'  - {{id: "whatsapp:{self.mentor(i)}", role: mentor, '
                         f'name: "{self.mentor_name(i)}"}}')
        for i in range(self.mentees):
            lines.append(f'  - {{id: "whatsapp:{self.mentee(i)}", role: mentee, '
                         f'name: "{self.mentee_name(i)}", '
                         f'mentor: "whatsapp:{self.mentor(self.mentor_of(i))}"}}')
        return "\n".join(lines)


def write_config(path: Path, *, roster: Roster, graph_url: str, data: Path | None = None,
                 url: str | None = None, digest_times: Sequence[str] = ("03:00",),
                 use_model: bool = False, telegram_url: str | None = None,
                 telegram_token: str = "") -> Path:
    """One config for every worker: open every day all day (digests at `digest_times`), the
    store in `data` (embedded) or at `url` (PostgreSQL), WhatsApp against `graph_url`."""
    storage = {"path": str(data or path.parent / "data")}
    if url:
        storage["url"] = url
    telegram = "{enabled: false}"
    if telegram_url:
        telegram = (f'{{enabled: true, token: "{telegram_token}", mode: polling, '
                    f'base_url: "{telegram_url}", poll_timeout: 1, chat_interval: 0, '
                    "global_rate: 1000}")
    times = ", ".join(f'"{t}"' for t in digest_times)
    path.write_text(f"""
locale: fr
timezone: Europe/Paris
storage: {json.dumps(storage)}
hours: {{days: [mon, tue, wed, thu, fri, sat, sun], open: "00:00", close: "23:59",
         holidays: null}}
digest: {{times: [{times}]}}
confidentiality: {{use_model: {"true" if use_model else "false"}}}
server: {{host: 127.0.0.1, port: "${{{PORT_ENV}}}"}}
{roster.yaml()}
transports:
  telegram: {telegram}
  whatsapp:
    enabled: true
    token: "{GRAPH_TOKEN}"
    phone_number_id: "{PHONE_NUMBER_ID}"
    app_secret: "{APP_SECRET}"
    verify_token: "fleet-verify-token"
    api_base_url: "{graph_url}"
    api_version: "{GRAPH_VERSION}"
    retry_delays: [0.05, 0.1]
""", encoding="utf-8")
    return path
