"""Benchmark of the whole engine on the SQL store: throughput, fsyncs, growth, start-up, memory.

    .venv/bin/python benchmarks/bench_engine.py [--quick]

Every figure is printed next to a baseline measured in the same run, on the same machine
(issue 10, "Performance"):

- throughput: `simulate` end to end (parse the JSON event, the engine's turn committed in the
  SQLite store, the reply printed through the outbox and marked sent) against the floor of a
  durable per-message bot (parse, one dict-based state machine step, one fsynced append,
  print), interleaved in chunks of the same script, after a warm-up, with the identifying
  model loaded and texts that make it run;
- fsyncs per turn: `mentorbot simulate` in a child under `strace -f -c` (when strace exists),
  counted for a short and a long script, the difference divided by the extra messages;
- growth: a small journey, the 08:00 digest round and the nightly purge in stores that already
  hold 10 to 100,000 people (written directly into the SQLite file with `executemany`, no
  fsync), interleaved across the stores; the store of 10 is the baseline;
- start-up: time to the first answer of `python -m bot simulate -` with one event, against a
  one-event floor bot; whether spaCy is imported for a "Bonjour";
- memory: resident memory of a fresh process whose engine serves some of 10,000 stored
  people; the baseline is the same process before the engine was built.

Nothing is asserted: the figures depend on the machine, its load, its disk and its fsync.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere: the checkout comes first
    sys.path.insert(0, str(ROOT))

from bot.config import Config  # noqa: E402
from bot.engine.charter import charter_version  # noqa: E402
from bot.engine.texts import REQUIRED_TEXTS  # noqa: E402
from bot.flows.loader import load_flows  # noqa: E402
from bot.policies.identifying import model as identifying_model  # noqa: E402
from bot.store.sqlite import SQLiteStore, database_path  # noqa: E402
from bot.transports.simulate import Simulator, parse_script  # noqa: E402

START = datetime.fromisoformat("2026-11-30T05:00:00+01:00")  # a Monday, before opening
DIGEST_AT = datetime.fromisoformat("2026-11-30T08:00:00+01:00")
ARTICLES = 6
# The context runs the identifying model ("Kickoff" is a capitalised word inside a sentence:
# only the model can tell it is not a name) and is accepted; the other parts pass on the rules.
QUESTION = {
    "fr": [
        "Poser une question",
        "Dans mon équipe, une collègue conteste systématiquement les priorités fixées au "
        "Kickoff.",
        "J'ai essayé d'en parler avec elle après la réunion ; je pense qu'elle se sent exclue.",
        "J'hésite entre l'associer à la préparation ou recadrer : quel regard sur ma posture ?",
        "Envoyer",
    ],
    "en": [
        "Ask a question",
        "Dans mon équipe, une collègue conteste systématiquement les priorités fixées au "
        "Kickoff.",
        "I tried to talk with her after the meeting and I think she feels left out of decisions.",
        "I hesitate between involving her earlier or reframing: how do you see my stance?",
        "Send",
    ],
}
# The same journey with a context the rules accept alone (the model stays idle).
PLAIN_CONTEXT = ("Dans mon équipe, une collègue conteste systématiquement les priorités fixées "
                 "en réunion.")
SUBMIT = {QUESTION["fr"][-1], QUESTION["en"][-1]}
NAMES = ["Camille Martin", "Louis Bernard", "Chloé Petit", "Hugo Durand", "Léa Moreau"]
CHUNK = 40  # messages per chunk when the engine and the floor are interleaved


# -- small helpers ------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def rss_kib() -> int:
    """Resident memory now (VmRSS), or the peak when /proc is not there."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


@contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=f"mentorbot-bench-{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@dataclass
class Row:
    section: str
    measure: str
    engine: str
    baseline: str
    ratio: str = ""
    aim: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)

    def add(self, *cells: str) -> None:
        self.rows.append(Row(*cells))

    def print(self) -> None:
        headers = ("section", "measure", "mentorbot", "baseline", "ratio", "aim")
        table = [headers] + [
            (r.section, r.measure, r.engine, r.baseline, r.ratio, r.aim) for r in self.rows
        ]
        widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
        rule = "-+-".join("-" * w for w in widths)
        print()
        for n, row in enumerate(table):
            print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
            if n == 0:
                print(rule)


# -- configs, people and scripts ---------------------------------------------------------------


def person(pid: str, role: str, name: str, mentor: str | None = None,
           locale: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": pid, "role": role, "name": name}
    if mentor:
        out["mentor"] = mentor
    if locale:
        out["locale"] = locale
    return out


def config_dict(data: Path, people: list[dict[str, Any]]) -> dict[str, Any]:
    return {"locale": "fr", "timezone": "Europe/Paris", "storage": {"path": str(data)},
            "people": people}


def make_config(data: Path, people: list[dict[str, Any]]) -> Config:
    return Config.model_validate(config_dict(data, people))


@dataclass
class Cast:
    mentors: list[str]
    mentees: list[tuple[str, str]]  # (id, locale)
    people: list[dict[str, Any]]


def cast(prefix: str, mentors: int, mentees: int) -> Cast:
    mentor_ids = [f"console:{prefix}-mentor-{m:03d}" for m in range(mentors)]
    out = Cast(mentor_ids, [], [])
    for m, pid in enumerate(mentor_ids):
        out.people.append(person(pid, "mentor", NAMES[m % len(NAMES)]))
    for e in range(mentees):
        pid = f"console:{prefix}-mentee-{e:04d}"
        locale = "en" if e % 2 else "fr"
        out.mentees.append((pid, locale))
        out.people.append(person(pid, "mentee", NAMES[e % len(NAMES)],
                                 mentor=mentor_ids[e % mentors], locale=locale))
    return out


def journey_lines(c: Cast, start: datetime = START, plain: bool = False) -> list[str]:
    """Everyone signs (round robin, a second apart), then every mentee asks a question."""
    lines: list[str] = []
    clock = start
    number = 0

    def say(pid: str, text: str) -> None:
        nonlocal clock, number
        number += 1
        lines.append(json.dumps({"at": clock.isoformat(), "from": pid, "text": text,
                                 "id": f"{pid}-{number}"}, ensure_ascii=False))
        clock += timedelta(seconds=1)

    names = {p["id"]: p["name"] for p in c.people}
    signers = c.mentors + [pid for pid, _ in c.mentees]
    sign = ["Bonjour", "1"] + ["1"] * ARTICLES
    for index in range(len(sign) + 1):
        for pid in signers:
            say(pid, sign[index] if index < len(sign) else names[pid])
    for index in range(len(QUESTION["fr"])):
        for pid, locale in c.mentees:
            text = QUESTION[locale][index]
            say(pid, PLAIN_CONTEXT if plain and index == 1 else text)
    assert clock < DIGEST_AT, "the journey must end before the 08:00 digest"
    return lines


def chunks(lines: list[str], size: int) -> list[list[str]]:
    return [lines[i:i + size] for i in range(0, len(lines), size)]


# -- the floor: the least a durable per-message bot must do --------------------------------------

FLOOR_STEPS = ["welcome", *(f"article_{n}" for n in range(1, ARTICLES + 1)), "name", "home",
               "context", "analysis", "ask", "review", "sent"]
FLOOR_MACHINE = {step: FLOOR_STEPS[(i + 1) % len(FLOOR_STEPS)]
                 for i, step in enumerate(FLOOR_STEPS)}
FLOOR_MACHINE["start"] = FLOOR_STEPS[0]


class FloorBot:
    """Parse a JSON event, one dict-based state machine step, one fsynced append, print."""

    def __init__(self, root: Path, output: IO[str]) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.output = output
        self.state: dict[str, str] = {}

    def handle(self, line: str) -> None:
        event = json.loads(line)
        sender = event["from"]
        step = FLOOR_MACHINE[self.state.get(sender, "start")]
        self.state[sender] = step
        record = json.dumps({"at": event["at"], "id": event.get("id"), "in": event.get("text"),
                             "step": step}, ensure_ascii=False)
        with open(self.root / f"{quote(sender, safe='')}.jsonl", "ab") as handle:
            handle.write(record.encode("utf-8") + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        self.output.write(json.dumps({"at": event["at"], "to": sender, "text": f"step {step}"},
                                     ensure_ascii=False) + "\n")
        self.output.flush()


FLOOR_SCRIPT = """
import json, os, sys
from urllib.parse import quote
line = sys.stdin.readline()
event = json.loads(line)
record = json.dumps({"at": event["at"], "in": event["text"], "step": "welcome"})
with open(os.path.join(sys.argv[1], quote(event["from"], safe="") + ".jsonl"), "ab") as f:
    f.write(record.encode() + b"\\n"); f.flush(); os.fsync(f.fileno())
print(json.dumps({"to": event["from"], "text": "welcome"}), flush=True)
"""


# -- the engine as `simulate` runs it ------------------------------------------------------------


class ModelMeter:
    """Wraps the loaded spaCy pipeline: how often the identifying model runs, and its time."""

    def __init__(self) -> None:
        self.calls = 0
        self.seconds = 0.0
        self._model: Any = None

    def install(self) -> None:
        name = identifying_model.MODEL_NAME
        self._model = identifying_model.load_model(name)
        identifying_model._models[name] = self  # the detector calls load_model(name)(text)

    def __call__(self, text: str) -> Any:
        t0 = time.perf_counter()
        try:
            return self._model(text)
        finally:
            self.calls += 1
            self.seconds += time.perf_counter() - t0


class SimulateRun:
    """`simulate`'s loop (bot.transports.simulate.simulate), fed line by line: parse the
    event, run what is due and the turn, print the outbox's lines, mark them sent."""

    def __init__(self, config: Config, output: IO[str]) -> None:
        self.simulator = Simulator(config, START)
        self.output = output
        self.sent = 0
        self.latencies: list[float] = []

    def feed(self, lines: list[str]) -> float:
        began = time.perf_counter()
        for raw in lines:
            t0 = time.perf_counter()
            [event] = parse_script([raw])
            out = self.simulator.feed(event, confirm=False)
            for line in out:
                self.output.write(line + "\n")
            self.output.flush()
            self.simulator.confirm()
            self.sent += len(out)
            self.latencies.append(time.perf_counter() - t0)
        return time.perf_counter() - began

    def close(self) -> None:
        self.simulator.close()


def interleave(engine: SimulateRun, floor: FloorBot, lines: list[str]) -> tuple[float, float]:
    """The same chunks through the engine and the floor, alternating which goes first."""
    engine_s = floor_s = 0.0
    for n, chunk in enumerate(chunks(lines, CHUNK)):
        def run_floor(chunk: list[str] = chunk) -> float:
            t0 = time.perf_counter()
            for line in chunk:
                floor.handle(line)
            return time.perf_counter() - t0

        if n % 2:
            floor_s += run_floor()
            engine_s += engine.feed(chunk)
        else:
            engine_s += engine.feed(chunk)
            floor_s += run_floor()
    return engine_s, floor_s


def bench_throughput(report: Report, mentees: int) -> None:
    mentors = max(1, mentees // 10)
    print(f"\n== throughput: `simulate` end to end, {mentees} mentees and {mentors} mentors "
          f"(charter, then a question), interleaved with the floor in chunks of {CHUNK}")
    warm = cast("w", 2, 6)
    c = cast("t", mentors, mentees)
    meter = ModelMeter()
    meter.install()  # loaded before anything is measured: "with the model loaded"
    results: dict[str, tuple[float, float, int, int, float]] = {}
    with scratch("throughput") as tmp, open(os.devnull, "w", encoding="utf-8") as sink:
        for plain in (False, True):
            label = "plain" if plain else "model"
            config = make_config(tmp / f"data-{label}", warm.people + c.people)
            engine = SimulateRun(config, sink)
            floor = FloorBot(tmp / f"floor-{label}", sink)
            try:
                interleave(engine, floor, journey_lines(warm, plain=plain))  # warm-up
                lines = journey_lines(c, START + timedelta(minutes=10), plain=plain)
                calls0, model0 = meter.calls, meter.seconds
                engine.latencies.clear()
                engine_s, floor_s = interleave(engine, floor, lines)
                results[label] = (engine_s, floor_s, len(lines), meter.calls - calls0,
                                  meter.seconds - model0)
                if not plain:
                    latencies = list(engine.latencies)
                with engine.simulator.app.engine.store.read() as uow:
                    asked = sum(len(uow.questions_of(pid)) for pid, _ in c.mentees)
                print(f"   {label}: {len(lines)} messages, {asked} questions stored (expected "
                      f"{mentees}); engine {engine_s:.2f} s, floor {floor_s:.2f} s; identifying "
                      f"model ran {meter.calls - calls0} times, "
                      f"{(meter.seconds - model0):.2f} s")
            finally:
                engine.close()
    engine_s, floor_s, count, calls, model_s = results["model"]
    rate, floor_rate = count / engine_s, count / floor_s
    report.add("throughput", "simulate messages/s (texts that run the model)", f"{rate:,.0f}",
               f"{floor_rate:,.0f} (floor)", f"{rate / floor_rate:.2f}", ">= 0.5")
    report.add("throughput", "identifying model runs per message", f"{calls / count:.2f}",
               "-", "", "")
    report.add("throughput", "engine time per message, of which the model",
               ms(engine_s / count), ms(model_s / count) + " (model)",
               f"{model_s / engine_s:.0%}", "")
    without = engine_s - model_s
    report.add("throughput", "simulate messages/s, the model's own time left out",
               f"{count / without:,.0f}", f"{floor_rate:,.0f} (floor)",
               f"{floor_s / without:.2f}", "")
    p_engine, p_floor, p_count, _, _ = results["plain"]
    report.add("throughput", "simulate messages/s (texts the rules accept alone)",
               f"{p_count / p_engine:,.0f}", f"{p_count / p_floor:,.0f} (floor)",
               f"{p_floor / p_engine:.2f}", "")
    for q in (50, 99):
        report.add("throughput", f"latency p{q} per message (texts that run the model)",
                   ms(pct(latencies, q)), ms(floor_s / count) + " (floor mean)", "", "")


# -- fsyncs per turn, counted by strace -----------------------------------------------------------


def bench_fsyncs(report: Report, mentees: int) -> None:
    print("\n== fsyncs per turn: `mentorbot simulate` under strace -f -c")
    strace = shutil.which("strace")
    if strace is None:
        print("   strace is not installed (apt-get install -y strace): figure skipped")
        report.add("fsyncs", "fsync + fdatasync per message", "skipped (no strace)", "-", "",
                   "<= 2")
        return
    c = cast("f", max(1, mentees // 10), mentees)
    lines = journey_lines(c, plain=True)
    counts: dict[int, int] = {}
    with scratch("fsync") as tmp:
        config = tmp / "config.yaml"
        config.write_text(json.dumps(config_dict(tmp / "unused", c.people)), encoding="utf-8")
        for size in (1, len(lines)):
            script = tmp / f"script-{size}.jsonl"
            script.write_text("\n".join(lines[:size]) + "\n", encoding="utf-8")
            trace = tmp / f"strace-{size}.txt"
            done = subprocess.run(
                [strace, "-f", "-c", "-o", str(trace), "-e", "trace=fsync,fdatasync",
                 sys.executable, "-m", "bot", "simulate", str(script), "--config", str(config),
                 "--data", str(tmp / f"data-{size}")],
                capture_output=True, text=True, timeout=600, cwd=tmp, check=False,
                env={**os.environ, "PYTHONPATH": str(ROOT)})
            if done.returncode != 0:
                detail = (done.stderr.strip() or "?").splitlines()[-1]
                print(f"   strace run failed ({detail}): figure skipped")
                report.add("fsyncs", "fsync + fdatasync per message", "skipped (strace failed)",
                           "-", "", "<= 2")
                return
            counts[size] = _syscalls(trace.read_text(encoding="utf-8"))
            answers = len(done.stdout.splitlines())
            print(f"   {size} message(s): {counts[size]} fsync/fdatasync calls, {answers} lines "
                  "printed")
    per = (counts[len(lines)] - counts[1]) / (len(lines) - 1)
    report.add("fsyncs", "fsync + fdatasync per message (simulate)", f"{per:.2f}",
               "1 (floor)", f"{per:.2f}x", "<= 2")
    report.add("fsyncs", "fsyncs to open a new store and answer one message", f"{counts[1]}",
               "-", "", "")


def _syscalls(summary: str) -> int:
    """The calls counted by `strace -c` for fsync and fdatasync."""
    total = 0
    for line in summary.splitlines():
        cells = line.split()
        if cells and cells[-1] in ("fsync", "fdatasync") and len(cells) >= 4:
            total += int(cells[3])
    return total


# -- populations written straight into the SQLite file ------------------------------------------

OLD = "2024-06-01T09:00:00+02:00"  # older than the retention (730 days): the purge removes it
RECENT = "2026-11-20T09:00:00+01:00"
EXPIRED_JOURNAL, EXPIRED_QUESTIONS, EXPIRED_IDS, EXPIRED_SENT = 1000, 100, 1000, 1000


def populate(root: Path, size: int) -> list[dict[str, Any]]:
    """`size` people stored (a mentor for every 19 mentees), signed, with open conversations,
    a short recent journal, an answered question each, remembered message ids and sent
    messages; plus a fixed amount of data past its retention, the same whatever the size,
    for the purge. Mentors are on the roster (returned, for the config); mentees were enrolled
    by invitation (stored). Written with `executemany` and no fsync: set-up only."""
    flows = load_flows(ROOT / "flows", REQUIRED_TEXTS)
    version = charter_version(flows)
    mentor_home = flows.homes["mentor"]
    SQLiteStore(root).close()  # the schema, as the engine creates it
    mentors = [f"console:pop-mentor-{m:05d}" for m in range(max(1, size // 20))]
    mentees = [f"console:pop-mentee-{e:06d}" for e in range(size - len(mentors))]
    open_state = json.dumps({"flow": "question", "step": "analysis",
                             "answers": {"context": QUESTION["fr"][1]}}, ensure_ascii=False)
    mentor_state = json.dumps({"flow": mentor_home.flow, "step": mentor_home.step})
    people = [(pid, None, None, "Marc Lefort", None, None, mentor_state, RECENT)
              for pid in mentors]
    people += [(pid, "mentee", mentors[n % len(mentors)], "Camille Martin", "fr",
                "2026-09-01T09:00:00+02:00", open_state, RECENT)
               for n, pid in enumerate(mentees)]
    everyone = mentors + mentees
    conn = sqlite3.connect(database_path(root), isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO people (id, role, mentor, name, locale, enrolled_at, state, "
            "last_inbound_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", people)
        conn.executemany(
            "INSERT INTO signatures (person, seq, version, name, at, channel) "
            "VALUES (?, 0, ?, 'Camille Martin', '2026-09-01T09:00:00+02:00', 'console')",
            [(pid, version) for pid in everyone])
        conn.executemany(
            "INSERT INTO journal (person, at, direction, kind, text, key) "
            "VALUES (?, ?, ?, 'message', ?, ?)",
            [(pid, RECENT, direction, text, f"pop-{n}-{pid}")
             for pid in everyone
             for n, (direction, text) in enumerate([("in", QUESTION["fr"][2]),
                                                    ("out", "Merci, c'est noté.")])]
            + [(everyone[n % len(everyone)], OLD, "in", QUESTION["fr"][2], f"old-{n}")
               for n in range(EXPIRED_JOURNAL)])
        questions = [(n + 1, pid, mentors[n % len(mentors)], "answered", RECENT, None)
                     for n, pid in enumerate(mentees)]
        questions += [(len(mentees) + n + 1, mentees[n % len(mentees)], mentors[0], "closed",
                       OLD, OLD) for n in range(EXPIRED_QUESTIONS if mentees else 0)]
        conn.executemany(
            "INSERT INTO questions (number, mentee, mentor, status, context, analysis, ask, "
            "submitted_at, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(n, pid, m, status, QUESTION["fr"][1], QUESTION["fr"][2], QUESTION["fr"][3], at,
              closed) for n, pid, m, status, at, closed in questions])
        conn.executemany(
            "INSERT INTO thread (question, kind, at, text) VALUES (?, 'answer', ?, ?)",
            [(q[0], q[4], "Proposez-lui de co-construire l'ordre du jour.") for q in questions])
        conn.execute("INSERT INTO counters (name, value) VALUES ('question', ?)",
                     (len(questions),))
        conn.executemany(
            "INSERT INTO processed (message_id, person, at) VALUES (?, ?, ?)",
            [(f"pop-{n}-{pid}", pid, RECENT) for pid in everyone for n in range(2)]
            + [(f"old-{n}", everyone[n % len(everyone)], "2026-10-01T09:00:00+02:00")
               for n in range(EXPIRED_IDS)])
        conn.executemany(
            "INSERT INTO outbox (key, recipient, channel, text, choices, meta, status, "
            "queued_at, sent_at) VALUES (?, ?, 'console', 'Merci, c''est noté.', '[]', '{}', "
            "'sent', ?, ?)",
            [(f"pop-{pid}", pid, "2026-11-29T09:00:00+01:00", "2026-11-29T09:00:00+01:00")
             for pid in everyone]
            + [(f"old-{n}", everyone[n % len(everyone)], "2026-11-01T09:00:00+01:00",
                "2026-11-01T09:00:00+01:00") for n in range(EXPIRED_SENT)])
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return [person(pid, "mentor", "Marc Lefort") for pid in mentors]


@dataclass
class Case:
    size: int
    tmp: Path
    setup: float = 0.0
    run: SimulateRun | None = None
    digest: float = 0.0
    digest_sent: int = 0
    mentors: int = 0
    purge: float = 0.0

    @property
    def name(self) -> str:
        return f"{self.size:,} people stored"


def bench_growth(report: Report, sizes: list[int]) -> None:
    print(f"\n== growth: 2 mentors and 18 mentees ask a question in stores of "
          f"{', '.join(f'{s:,}' for s in sizes)} people (interleaved in chunks of {CHUNK}); "
          "then the 08:00 digest round and the nightly purge")
    journey = cast("g", 2, 18)
    lines = journey_lines(journey)
    cases: list[Case] = []
    sink = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - closed below
    try:
        for size in sizes:
            case = Case(size, Path(tempfile.mkdtemp(prefix="mentorbot-bench-growth-")))
            cases.append(case)
            t0 = time.perf_counter()
            roster = populate(case.tmp / "data", size)
            case.setup = time.perf_counter() - t0
            case.mentors = len(roster) + len(journey.mentors)
            case.run = SimulateRun(make_config(case.tmp / "data", roster + journey.people), sink)
        for n, chunk in enumerate(chunks(lines, CHUNK)):  # every store in turn, rotating
            for k in range(len(cases)):
                case = cases[(n + k) % len(cases)]
                assert case.run is not None
                case.run.feed(chunk)
        for case in cases:  # the digest round, then the purge, each store in turn
            assert case.run is not None
            simulator = case.run.simulator
            simulator.clock.set(DIGEST_AT)
            t0 = time.perf_counter()
            case.digest_sent = len(simulator.app.engine.run_digests(DIGEST_AT))
            case.digest = time.perf_counter() - t0
        purge_at = datetime.fromisoformat("2026-12-01T03:00:00+01:00")
        for case in cases:
            assert case.run is not None
            case.run.simulator.clock.set(purge_at)
            t0 = time.perf_counter()
            case.run.simulator.app.engine.purge(purge_at)
            case.purge = time.perf_counter() - t0
        base = cases[0]
        base_stats = _growth_stats(base)
        for case in cases:
            stats = _growth_stats(case)
            print(f"   {case.name}: set-up {case.setup:.1f} s; {len(stats['all'])} messages, "
                  f"median {ms(stats['median'])}, mean {ms(stats['mean'])}, submission median "
                  f"{ms(stats['submit'])}; digest round {case.digest * 1000:,.0f} ms "
                  f"({case.mentors:,} mentors on the roster, {case.digest_sent} messages sent); "
                  f"purge {case.purge * 1000:,.0f} ms")
            if case is base:
                continue
            for label, key in (("per message, median", "median"), ("per message, mean", "mean"),
                               ("question submission, median", "submit")):
                report.add("growth", f"{label} ({case.name})", ms(stats[key]),
                           ms(base_stats[key]) + f" ({base.size})",
                           f"{stats[key] / base_stats[key]:.2f}", "<= 1.1")
            per_sent = case.digest / max(1, case.digest_sent)
            base_per_sent = base.digest / max(1, base.digest_sent)
            report.add("growth", f"digest round per message sent ({case.name})", ms(per_sent),
                       ms(base_per_sent) + f" ({base.size})", f"{per_sent / base_per_sent:.2f}",
                       "<= 1.1")
            per_mentor = case.digest / case.mentors
            base_per_mentor = base.digest / base.mentors
            report.add("growth", f"digest round per roster mentor ({case.name})",
                       ms(per_mentor), ms(base_per_mentor) + f" ({base.size})",
                       f"{per_mentor / base_per_mentor:.2f}", "")
            report.add("growth", f"nightly purge, same rows expired ({case.name})",
                       f"{case.purge * 1000:,.1f} ms", f"{base.purge * 1000:,.1f} ms ({base.size})",
                       f"{case.purge / base.purge:.2f}", "<= 1.1")
    finally:
        for case in cases:
            if case.run is not None:
                case.run.close()
            shutil.rmtree(case.tmp, ignore_errors=True)
        sink.close()


def _growth_stats(case: Case) -> dict[str, Any]:
    assert case.run is not None
    latencies = case.run.latencies
    lines = journey_lines(cast("g", 2, 18))
    submits = [t for t, line in zip(latencies, lines, strict=True)
               if json.loads(line)["text"] in SUBMIT]
    return {"all": latencies, "median": statistics.median(latencies),
            "mean": statistics.fmean(latencies), "submit": statistics.median(submits)}


def bench_startup(report: Report, repeat: int) -> None:
    print(f"\n== start-up: `python -m bot simulate -` with one event, median of {repeat}")
    event = json.dumps({"at": "2026-11-30T09:00:00+01:00", "from": "console:alice",
                        "text": "Bonjour", "id": "m1"})
    engine_times: list[float] = []
    floor_times: list[float] = []
    with scratch("startup") as tmp:
        for n in range(repeat):
            data = tmp / f"data-{n}"
            engine_times.append(_first_answer(
                [sys.executable, "-m", "bot", "simulate", "-", "--data", str(data)], event, tmp))
            floor_dir = tmp / f"floor-{n}"
            floor_dir.mkdir()
            floor_times.append(_first_answer(
                [sys.executable, "-c", FLOOR_SCRIPT, str(floor_dir)], event, tmp))
        probe = _spacy_probe(tmp / "probe")
    e, f = statistics.median(engine_times), statistics.median(floor_times)
    print(f"   engine runs: {', '.join(f'{t:.2f}' for t in engine_times)} s; "
          f"floor runs: {', '.join(f'{t:.3f}' for t in floor_times)} s")
    report.add("start-up", "first answer of `simulate -` (median)", f"{e:.2f} s", f"{f:.3f} s",
               f"{e / f:.0f}x", "")
    report.add("start-up", "spaCy imported after 'Bonjour'", str(probe["bonjour_spacy"]),
               "-", "", "False")
    report.add("start-up", "first answer of a fresh engine (in process)",
               ms(probe["bonjour_s"]), "-", "", "")
    report.add("start-up", "first text checked for identifying data",
               ms(probe["first_check_s"]), ms(probe["plain_s"]) + " (the next one)",
               f"{probe['first_check_s'] / probe['plain_s']:.0f}x", "")
    report.add("start-up", "first text that needs the model (loads it)",
               ms(probe["model_s"]), ms(probe["plain_s"]) + " (a text that does not)",
               f"{probe['model_s'] / probe['plain_s']:.0f}x", "")


def _first_answer(command: list[str], stdin: str, cwd: Path) -> float:
    t0 = time.perf_counter()
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, cwd=cwd, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(stdin + "\n")
    process.stdin.close()
    first = process.stdout.readline()
    elapsed = time.perf_counter() - t0
    process.stdout.read()
    assert process.stderr is not None
    err = process.stderr.read()
    process.wait(timeout=120)
    if not first.startswith("{"):
        raise RuntimeError(f"no answer from {command[:4]}: {err.strip()[-400:]}")
    return elapsed


SPACY_PROBE = """
import json, sys, time
from datetime import datetime, timedelta
from pathlib import Path
t0 = time.perf_counter()
from bot.app import build_app
from bot.clock import VirtualClock
from bot.config import Config
from bot.messages import Inbound
from bot.policies.identifying.model import is_loaded
config = Config.model_validate({"storage": {"path": sys.argv[1]}})
at = datetime.fromisoformat("2026-11-30T09:00:00+01:00")
clock = VirtualClock(at)
engine = build_app(config, clock).engine
n = 0
def send(text):
    global n, at
    n += 1
    at += timedelta(seconds=1)
    clock.set(at)
    t = time.perf_counter()
    out = engine.handle(Inbound("console:alice", f"p{n}", at, text=text))
    assert out and all(o.text for o in out)
    return time.perf_counter() - t
result = {"bonjour_s": send("Bonjour")}
result["bonjour_spacy"] = "spacy" in sys.modules or is_loaded()
for text in ["1"] * 7 + ["Alice Durand", "Poser une question"]:
    send(text)
result["menu_spacy"] = "spacy" in sys.modules
result["first_check_s"] = send("Dans mon équipe, une collègue conteste systématiquement "
                               "les priorités fixées en réunion.")
result["plain_s"] = send("J'ai essayé d'en parler avec elle après la réunion ; je pense "
                         "qu'elle se sent exclue.")
result["plain_spacy"] = "spacy" in sys.modules
# A text with names: the model runs (and loads) only now.
result["model_s"] = send("Hier, Clémence Vautrin m'a reproché de ne pas avoir prévenu "
                         "Orvalis à temps.")
result["model_loaded"] = is_loaded()
print(json.dumps(result))
"""


def _spacy_probe(data: Path) -> dict[str, Any]:
    """A fresh interpreter: is spaCy imported by a 'Bonjour'? What does loading it cost?"""
    done = subprocess.run([sys.executable, "-c", SPACY_PROBE, str(data)], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"spaCy probe failed: {done.stderr.strip()[-600:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"   spaCy imported: after 'Bonjour' {result['bonjour_spacy']}, in the menu "
          f"{result['menu_spacy']}, after a context without names {result['plain_spacy']}, "
          f"after a context with names {result['model_loaded']}")
    return result


MEMORY_CHILD = "--memory-child"


def bench_memory(report: Report, population: int, sample: int) -> None:
    print(f"\n== memory: {population:,} people with open conversations, {sample} of them write")
    with scratch("memory") as tmp:
        done = subprocess.run(
            [sys.executable, __file__, MEMORY_CHILD, str(tmp), str(population), str(sample)],
            capture_output=True, text=True, timeout=600, check=False,
            env={**os.environ, "PYTHONPATH": str(ROOT)})
    if done.returncode != 0:
        raise RuntimeError(f"memory child failed: {done.stderr.strip()[-800:]}")
    r: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"   RSS: imports {r['imports']:,} KiB, engine built {r['built']:,} KiB, after "
          f"{r['warm']} warm-up messages {r['warmed']:,} KiB, after {sample} people "
          f"{r['after']:,} KiB ({ms(r['per_message'])} per message; spaCy loaded: {r['spacy']}); "
          f"a person's state is {r['state_bytes']:,} bytes; the database file "
          f"{r['db_bytes'] / 2**20:.1f} MiB")
    growth = (r["after"] - r["warmed"]) * 1024 / sample
    report.add("memory", "RSS before the engine (imports)", f"{r['imports'] / 1024:.0f} MiB",
               "", "", "")
    report.add("memory", f"RSS, engine over {population:,} people", f"{r['built'] / 1024:.0f} MiB",
               f"{r['imports'] / 1024:.0f} MiB", f"+{(r['built'] - r['imports']) / 1024:.0f} MiB",
               "")
    report.add("memory", f"RSS after {sample} people wrote", f"{r['after'] / 1024:.0f} MiB",
               f"{r['warmed'] / 1024:.0f} MiB", f"+{(r['after'] - r['warmed']) / 1024:.1f} MiB",
               "bounded")
    report.add("memory", "RSS growth per person who wrote", f"{growth:,.0f} B",
               f"{r['state_bytes']:,} B (their state)", "", "")
    report.add("memory", "Python objects kept per person (tracemalloc)",
               f"{r['traced']:,.0f} B", f"{r['state_bytes']:,} B (their state)", "", "")


def memory_child(root: Path, population: int, sample: int) -> None:
    """Runs in a fresh interpreter so that earlier benchmarks do not blur its memory."""
    from bot.app import build_app
    from bot.clock import VirtualClock
    from bot.messages import Inbound

    data = root / "data"
    roster = populate(data, population)
    gc.collect()
    imports = rss_kib()
    at = datetime.fromisoformat("2026-12-01T09:00:00+01:00")
    clock = VirtualClock(at)
    engine = build_app(make_config(data, roster), clock).engine
    gc.collect()
    built = rss_kib()
    with engine.store.read() as uow:
        mentees = [e.id for e in uow.enrollments()]
    rng = random.Random(11)
    chosen = rng.sample(mentees, sample + 20)
    warm, measured = chosen[:20], chosen[20:]

    def write(pids: list[str], tag: str) -> None:
        nonlocal at
        for n, pid in enumerate(pids):
            at += timedelta(seconds=1)
            clock.set(at)
            out = engine.handle(Inbound(pid, f"{tag}-{n}", at, text=QUESTION["fr"][2]))
            assert out and out[-1].text, pid

    write(warm, "warm")
    gc.collect()
    warmed = rss_kib()
    t0 = time.perf_counter()
    write(measured[: sample // 2], "mem")
    seconds = time.perf_counter() - t0
    gc.collect()
    # The second half under tracemalloc: what stays allocated per person, to the byte.
    tracemalloc.start()
    write(measured[sample // 2:], "traced")
    gc.collect()
    traced = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    gc.collect()
    after = rss_kib()
    with engine.store.read() as uow:
        state = uow.person(measured[0]).state
    assert state.get("step") == "ask", state  # the analysis was accepted: they moved on
    print(json.dumps({"imports": imports, "built": built, "warm": len(warm), "warmed": warmed,
                      "after": after, "per_message": seconds / (sample // 2),
                      "traced": traced / (sample - sample // 2), "spacy": "spacy" in sys.modules,
                      "state_bytes": len(json.dumps(state, ensure_ascii=False).encode()),
                      "db_bytes": database_path(data).stat().st_size}))


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == [MEMORY_CHILD]:
        memory_child(Path(args[1]), int(args[2]), int(args[3]))
        return 0
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--only", choices=["throughput", "fsyncs", "growth", "startup", "memory"],
                        action="append", help="run only these parts (repeatable)")
    options = parser.parse_args(args)
    mentees, fsync_mentees, sizes, population, sample, repeat = (
        100, 20, [10, 1_000, 100_000], 10_000, 500, 5)
    if options.quick:
        mentees, fsync_mentees, sizes, population, sample, repeat = (
            20, 10, [10, 1_000, 10_000], 1_000, 50, 2)
    print(f"mentorbot engine benchmark — Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}, data in {tempfile.gettempdir()}")
    report = Report()
    began = time.perf_counter()
    steps: dict[str, Callable[[], None]] = {
        "throughput": lambda: bench_throughput(report, mentees),
        "fsyncs": lambda: bench_fsyncs(report, fsync_mentees),
        "growth": lambda: bench_growth(report, sizes),
        "startup": lambda: bench_startup(report, repeat),
        "memory": lambda: bench_memory(report, population, sample),
    }
    for name, step in steps.items():
        if not options.only or name in options.only:
            step()
    report.print()
    print(f"\n(total {time.perf_counter() - began:.0f} s; figures depend on the machine, its load "
          "and its fsync; nothing is asserted)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
