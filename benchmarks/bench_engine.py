"""Benchmark of the whole engine: throughput, cost as the organisation grows, start-up, memory.

    .venv/bin/python benchmarks/bench_engine.py [--quick] [--seed 7]

Every figure is printed next to a baseline measured in the same run, on the same machine:

- throughput: 200 mentees and their 20 mentors through the whole journey (charter signature,
  structured question, 08:00 digest) in one `Simulator` run on a virtual clock, against the
  floor of a durable per-message bot (parse a JSON event, one dict-based state machine step,
  one fsynced append to a per-person file);
- growth: the same small journey (2 mentors, 18 mentees) in a store that already holds 10
  people, 10,000 people (on the roster, or 1,000 mentors on the roster and 9,000 mentees
  enrolled by invitation), or one long-time mentee with 2,000 journal entries; the small store
  is the baseline. The 08:00 digest job of each case runs in a forked child with a time limit;
- start-up: time to the first answer of `python -m bot simulate -` with one event (median of a
  few runs) against a one-event floor bot; and whether spaCy is imported for a "Bonjour";
- memory: resident memory of a fresh process whose engine serves 500 of 10,000 people with open
  conversations; the baseline is the same process before the engine was built.

Populations are written directly in the store's own file format (one `TinyStore.save_person`
gives the bytes of a template), without fsync, to keep the set-up short. Nothing is asserted:
the figures depend on the machine, its disk and its fsync.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import shutil
import signal
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
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere: the checkout comes first
    sys.path.insert(0, str(ROOT))

from bot.config import Config  # noqa: E402
from bot.engine.charter import charter_version  # noqa: E402
from bot.engine.texts import REQUIRED_TEXTS  # noqa: E402
from bot.flows.loader import load_flows  # noqa: E402
from bot.store import JournalEntry, PersonData, SharedData, TinyStore  # noqa: E402
from bot.store.durable import json_bytes, json_line  # noqa: E402
from bot.store.tinystore import person_dir_name  # noqa: E402
from bot.transports.simulate import Simulator, parse_script  # noqa: E402

START = datetime.fromisoformat("2026-11-30T05:00:00+01:00")  # a Monday, before opening
DIGEST_AT = datetime.fromisoformat("2026-11-30T08:00:00+01:00")
ARTICLES = 6
QUESTION = {
    "fr": [
        "Poser une question",
        "Dans mon équipe, une collègue conteste systématiquement les priorités fixées en "
        "réunion.",
        "J'ai essayé d'en parler avec elle après la réunion ; je pense qu'elle se sent exclue.",
        "J'hésite entre l'associer à la préparation ou recadrer : quel regard sur ma posture ?",
        "Envoyer",
    ],
    "en": [
        "Ask a question",
        "In my team, a colleague keeps questioning the priorities I set in our weekly meeting.",
        "I tried to talk with her after the meeting and I think she feels left out of decisions.",
        "I hesitate between involving her earlier or reframing: how do you see my stance?",
        "Send",
    ],
}
SUBMIT = {QUESTION["fr"][-1], QUESTION["en"][-1]}
NAMES = ["Camille Martin", "Louis Bernard", "Chloé Petit", "Hugo Durand", "Léa Moreau"]
DIGEST_LIMIT = 15.0  # seconds: a digest job slower than this is reported as "> limit"


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


def make_config(data: Path, people: list[dict[str, Any]]) -> Config:
    return Config.model_validate(
        {"locale": "fr", "timezone": "Europe/Paris", "storage": {"path": str(data)},
         "people": people}
    )


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


def journey_lines(c: Cast, start: datetime = START, digest: bool = True) -> list[str]:
    """Everyone signs (round robin, a second apart), every mentee asks, then the digest."""
    lines: list[str] = []
    clock = start
    number = 0

    def say(pid: str, text: str) -> None:
        nonlocal clock, number
        number += 1
        lines.append(json.dumps({"at": clock.isoformat(), "from": pid, "text": text,
                                 "id": f"msg-{number}"}, ensure_ascii=False))
        clock += timedelta(seconds=1)

    names = {p["id"]: p["name"] for p in c.people}
    signers = c.mentors + [pid for pid, _ in c.mentees]
    sign = ["Bonjour", "1"] + ["1"] * ARTICLES
    for index in range(len(sign) + 1):
        for pid in signers:
            say(pid, sign[index] if index < len(sign) else names[pid])
    for index in range(len(QUESTION["fr"])):
        for pid, locale in c.mentees:
            say(pid, QUESTION[locale][index])
    if digest:
        assert clock < DIGEST_AT, "the journey must end before the 08:00 digest"
        lines.append(json.dumps({"at": DIGEST_AT.isoformat(), "tick": True}))
    return lines


# -- the floor: the least a durable per-message bot must do --------------------------------------

FLOOR_STEPS = ["welcome", *(f"article_{n}" for n in range(1, ARTICLES + 1)), "name", "home",
               "context", "analysis", "ask", "review", "sent"]
FLOOR_MACHINE = {step: FLOOR_STEPS[(i + 1) % len(FLOOR_STEPS)]
                 for i, step in enumerate(FLOOR_STEPS)}
FLOOR_MACHINE["start"] = FLOOR_STEPS[0]


class FloorBot:
    """Parse a JSON event, one dict-based state machine step, one fsynced append per message.

    With `atomic_state`, the state is also written the way the store writes a person file
    (temp file, fsync, rename, directory fsync): the floor of the store's own durability."""

    def __init__(self, root: Path, atomic_state: bool = False) -> None:
        self.root = root
        self.atomic_state = atomic_state
        self.state: dict[str, str] = {}

    def handle(self, line: str) -> str | None:
        event = json.loads(line)
        sender = event.get("from")
        if sender is None:
            return None
        step = FLOOR_MACHINE[self.state.get(sender, "start")]
        self.state[sender] = step
        record = json.dumps({"at": event["at"], "id": event.get("id"), "in": event.get("text"),
                             "step": step}, ensure_ascii=False)
        with open(self.root / f"{quote(sender, safe='')}.jsonl", "ab") as handle:
            handle.write(record.encode("utf-8") + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        if self.atomic_state:
            path = self.root / f"{quote(sender, safe='')}.json"
            tmp = path.with_name(f".{path.name}.tmp")
            with open(tmp, "wb") as handle:
                handle.write(json.dumps({"step": step}).encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
            fd = os.open(self.root, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        return json.dumps({"to": sender, "text": f"step {step}"})


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


# -- running the engine --------------------------------------------------------------------------


@dataclass
class Run:
    latencies: list[float]  # per message, seconds
    ticks: list[float]  # per scheduled tick (digest jobs), seconds
    wall: float
    sent: int

    @property
    def messages(self) -> int:
        return len(self.latencies)


def run_engine(config: Config, lines: list[str]) -> Run:
    first = parse_script(lines[:1])[0]
    simulator = Simulator(config, first.at)
    latencies: list[float] = []
    ticks: list[float] = []
    sent = 0
    began = time.perf_counter()
    for line in lines:
        t0 = time.perf_counter()
        [event] = parse_script([line])
        sent += len(simulator.feed(event))
        elapsed = time.perf_counter() - t0
        (ticks if event.tick else latencies).append(elapsed)
    return Run(latencies, ticks, time.perf_counter() - began, sent)


def run_floor(root: Path, lines: list[str], atomic_state: bool = False) -> Run:
    root.mkdir()
    bot = FloorBot(root, atomic_state)
    latencies: list[float] = []
    sent = 0
    began = time.perf_counter()
    for line in lines:
        t0 = time.perf_counter()
        answer = bot.handle(line)
        if answer is not None:
            sent += 1
            latencies.append(time.perf_counter() - t0)
    return Run(latencies, [], time.perf_counter() - began, sent)


# -- populations written in the store's own format -----------------------------------------------


class Population:
    """Writes people directly as `TinyStore` files (templates made by `save_person`), no fsync."""

    def __init__(self, root: Path) -> None:
        flows = load_flows(ROOT / "flows", REQUIRED_TEXTS)
        self.version = charter_version(flows)
        self.homes = flows.homes
        self.root = root
        self.people = root / "people"
        self.people.mkdir(parents=True, exist_ok=True)
        self._templates: dict[str, tuple[bytes, bytes]] = {}

    def _signature(self) -> dict[str, Any]:
        return {"version": self.version, "name": "Camille Martin",
                "at": "2026-09-01T09:00:00+02:00", "channel": "console"}

    def _template(self, key: str, data: PersonData, journal: list[JournalEntry]) -> tuple[
            bytes, bytes]:
        if key not in self._templates:
            with scratch("template") as tmp:
                store = TinyStore(tmp)
                store.save_person(data)
                person_bytes = (tmp / "people" / person_dir_name(data.id) / "person.json")
                self._templates[key] = (
                    person_bytes.read_bytes(),
                    "".join(json_line(e.to_dict()) + "\n" for e in journal).encode("utf-8"),
                )
        return self._templates[key]

    def _write(self, pid: str, files: tuple[bytes, bytes]) -> None:
        directory = self.people / person_dir_name(pid)
        directory.mkdir()
        (directory / "person.json").write_bytes(files[0])
        (directory / "journal.jsonl").write_bytes(files[1])

    @staticmethod
    def _journal(count: int, at: str = "2026-10-05T10:00:00+02:00") -> list[JournalEntry]:
        entries = []
        for n in range(count):
            source = f"old-{n // 2}"
            if n % 2 == 0:
                entries.append(JournalEntry(at, "in", "Voici où j'en suis de ma réflexion.",
                                            key=f"{source}#1"))
            else:
                entries.append(JournalEntry(at, "out", "Merci, c'est noté. Et ensuite ?",
                                            key=f"{source}#2"))
        return entries

    def mentee(self, pid: str) -> None:
        """Signed, halfway through a question: an open conversation."""
        data = PersonData(
            id="console:template",
            state={"flow": "question", "step": "analysis",
                   "answers": {"context": QUESTION["fr"][1]}},
            signatures=[self._signature()],
            applied=[f"old-{n}" for n in range(10)],
            meta={"last_inbound_at": "2026-10-05T10:00:00+02:00"},
        )
        self._write(pid, self._template("mentee", data, self._journal(20)))

    def mentor(self, pid: str) -> None:
        home = self.homes["mentor"]
        data = PersonData(
            id="console:template",
            state={"flow": home.flow, "step": home.step},
            signatures=[self._signature()],
            applied=[f"old-{n}" for n in range(10)],
        )
        self._write(pid, self._template("mentor", data, self._journal(20)))

    def long_timer(self, pid: str, journal: int, applied: int, questions: int) -> None:
        """Years of use: a long journal, many remembered ids, past questions all answered.
        Their charter signature is of an older version, so they sign again like newcomers."""
        past = [
            {"id": f"Q{90000 + n}", "status": "closed", "submitted_at": "2026-01-05T09:00:00+01:00",
             "mentor": None, "context": QUESTION["fr"][1], "analysis": QUESTION["fr"][2],
             "ask": QUESTION["fr"][3],
             "answers": [{"at": "2026-01-06T09:00:00+01:00", "text": QUESTION["fr"][2]}]}
            for n in range(questions)
        ]
        data = PersonData(
            id=pid, questions=past, applied=[f"old-{n}" for n in range(applied)],
            signatures=[{**self._signature(), "version": "older-charter"}],
        )
        self._write(pid, self._template(f"long-{pid}", data, self._journal(journal)))

    def save_shared(self, shared: SharedData) -> None:
        """The store's layout: enrollments and the question index in files of their own."""
        files = {"shared.json": ("counters", "invitations", "scheduler", "transports"),
                 "enrolled.json": ("enrolled",), "questions.json": ("questions",)}
        for filename, names in files.items():
            (self.root / filename).write_bytes(json_bytes(
                {name: {"1": dict(getattr(shared, name))} for name in names}))


def populate(root: Path, size: int, via: str) -> list[dict[str, Any]]:
    """`size` people (a mentor for every 9 mentees) with open conversations; returns the roster
    entries to add to the config (everyone, or only the mentors when mentees were invited)."""
    pop = Population(root)
    mentors = max(1, size // 10)
    roster: list[dict[str, Any]] = []
    enrolled: dict[str, dict[str, Any]] = {}
    mentor_ids = [f"console:pop-mentor-{m:05d}" for m in range(mentors)]
    for pid in mentor_ids:
        pop.mentor(pid)
        roster.append(person(pid, "mentor", "Marc Lefort"))
    for e in range(size - mentors):
        pid = f"console:pop-mentee-{e:05d}"
        mentor = mentor_ids[e % mentors]
        pop.mentee(pid)
        if via == "invited":
            enrolled[pid] = {"role": "mentee", "mentor": mentor, "name": "Camille Martin",
                             "since": "2026-09-01T09:00:00+02:00"}
        else:
            roster.append(person(pid, "mentee", "Camille Martin", mentor=mentor))
    if enrolled:
        pop.save_shared(SharedData(enrolled=enrolled))
    return roster


# -- the benchmarks ------------------------------------------------------------------------------


def bench_throughput(report: Report, mentees: int) -> None:
    print(f"\n== throughput: {mentees} mentees and {mentees // 10} mentors, whole journey")
    c = cast("t", max(1, mentees // 10), mentees)
    lines = journey_lines(c)
    with scratch("throughput") as tmp:
        config = make_config(tmp / "data", c.people)
        engine = run_engine(config, lines)
        store = TinyStore(tmp / "data")
        asked = sum(len((store.load_person(pid) or PersonData(pid)).questions)
                    for pid, _ in c.mentees)
        floor = run_floor(tmp / "floor", lines)
        atomic = run_floor(tmp / "floor-atomic", lines, atomic_state=True)
    print(f"   {engine.messages} messages, {len(engine.ticks)} digest tick, {engine.sent} lines "
          f"sent; {asked} questions stored (expected {mentees})")
    rate = engine.messages / engine.wall
    floor_rate = floor.messages / floor.wall
    atomic_rate = atomic.messages / atomic.wall
    print(f"   engine: {engine.wall:.2f} s wall ({sum(engine.ticks):.2f} s in the digest job); "
          f"floor: {floor.wall:.2f} s; floor with the store's atomic state file: "
          f"{atomic.wall:.2f} s")
    report.add("throughput", "messages per second", f"{rate:,.0f}", f"{floor_rate:,.0f}",
               f"{rate / floor_rate:.2f}", ">= 0.25")
    for q in (50, 95, 99):
        e, f = pct(engine.latencies, q), pct(floor.latencies, q)
        report.add("throughput", f"latency p{q} per message", ms(e), ms(f), f"{e / f:.1f}x", "")
    report.add("throughput", "messages per second vs a floor with atomic state",
               f"{rate:,.0f}", f"{atomic_rate:,.0f}", f"{rate / atomic_rate:.2f}", "")
    report.add("throughput", "latency p50 vs a floor with atomic state",
               ms(pct(engine.latencies, 50)), ms(pct(atomic.latencies, 50)),
               f"{pct(engine.latencies, 50) / pct(atomic.latencies, 50):.1f}x", "")
    report.add("throughput", f"digest job ({mentees // 10} mentors)", ms(sum(engine.ticks)),
               "-", "", "")


def _digest_in_child(simulator: Simulator, limit: float) -> tuple[float | None, int]:
    """Run the 08:00 tick in a forked child, killed after `limit` seconds. (elapsed, lines)"""
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child
        os.close(read_end)
        code = 0
        try:
            [tick] = parse_script([json.dumps({"at": DIGEST_AT.isoformat(), "tick": True})])
            t0 = time.perf_counter()
            out = simulator.feed(tick)
            os.write(write_end, json.dumps([time.perf_counter() - t0, len(out)]).encode())
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        pid, _ = os.waitpid(child, os.WNOHANG)
        if pid:
            break
        time.sleep(0.02)
    else:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        os.close(read_end)
        return None, 0
    raw = os.read(read_end, 1024)
    os.close(read_end)
    if not raw:
        return None, 0
    elapsed, count = json.loads(raw)
    return float(elapsed), int(count)


@dataclass
class GrowthCase:
    name: str
    size: int
    via: str = "roster"
    journal: int = 0  # each journey mentee already holds this many journal entries...
    applied: int = 0  # ...remembers this many message ids...
    questions: int = 0  # ...and has asked this many questions before
    latencies: list[float] = field(default_factory=list)
    submits: list[float] = field(default_factory=list)  # the "Send" that submits a question
    setup: float = 0.0
    simulator: Simulator | None = None
    tmp: Path | None = None


GROWTH_ROUNDS = 2


def bench_growth(report: Report, population: int) -> None:
    print(f"\n== growth: 2 mentors and 18 mentees through the journey ({GROWTH_ROUNDS} rounds, "
          f"interleaved), in stores of 10 and {population:,} people")
    cases = [
        GrowthCase("store of 10", 10),
        GrowthCase(f"{population:,} on the roster", population),
        GrowthCase(f"{population:,}, mentees invited", population, via="invited"),
        GrowthCase("mentees with 2,000 journal entries", 10, journal=2000),
        GrowthCase("mentees with 2,000 entries, 2,000 ids, 40 questions", 10, journal=2000,
                   applied=2000, questions=40),
    ]
    casts = [cast(f"g{r}", 2, 18) for r in range(GROWTH_ROUNDS)]
    scripts = [journey_lines(c, START + timedelta(hours=r), digest=False)
               for r, c in enumerate(casts)]
    journey_people = [p for c in casts for p in c.people]
    try:
        for case in cases:
            case.tmp = Path(tempfile.mkdtemp(prefix="mentorbot-bench-growth-"))
            data = case.tmp / "data"
            t0 = time.perf_counter()
            roster = populate(data, case.size, case.via)
            if case.journal or case.applied or case.questions:
                pop = Population(data)
                for c in casts:
                    for pid, _ in c.mentees:
                        pop.long_timer(pid, case.journal, case.applied, case.questions)
            case.setup = time.perf_counter() - t0
            config = make_config(data, roster + journey_people)
            case.simulator = Simulator(config, START)
        for script in scripts:  # round after round, each case in turn: drifts hit all alike
            for case in cases:
                assert case.simulator is not None
                for line in script:
                    t1 = time.perf_counter()
                    [event] = parse_script([line])
                    case.simulator.feed(event)
                    elapsed = time.perf_counter() - t1
                    case.latencies.append(elapsed)
                    if event.text in SUBMIT:
                        case.submits.append(elapsed)
        base = cases[0]
        base_median = statistics.median(base.latencies)
        base_mean = statistics.fmean(base.latencies)
        base_digest = base_submit = float("nan")
        for case in cases:
            assert case.simulator is not None
            mentees_of = _time_mentees_of(case.simulator)
            mentors = len(case.simulator.app.engine.directory.mentors())
            digest, sent = _digest_in_child(case.simulator, DIGEST_LIMIT)
            median = statistics.median(case.latencies)
            mean = statistics.fmean(case.latencies)
            submit = statistics.median(case.submits)
            print(f"   {case.name}: set-up {case.setup:.1f} s; {len(case.latencies)} messages, "
                  f"median {ms(median)}, mean {ms(mean)}, p99 {ms(pct(case.latencies, 99))}, "
                  f"question submission median {ms(submit)}; digest job "
                  + (f"{digest:.2f} s ({sent} lines)" if digest is not None
                     else f"> {DIGEST_LIMIT:.0f} s (stopped)")
                  + f"; one Directory.mentees_of {ms(mentees_of)}, made twice per signed "
                  f"mentor ({mentors} mentors)")
            if case is base:
                base_digest = digest or float("nan")
                report.add("growth", f"per message, median ({case.name})", ms(median), "-",
                           "1.00", "")
                report.add("growth", f"per message, mean ({case.name})", ms(mean), "-", "1.00",
                           "")
                report.add("growth", f"question submission, median ({case.name})", ms(submit),
                           "-", "1.00", "")
                base_submit = submit
                report.add("growth", f"digest job at 08:00 ({case.name})",
                           f"{(digest or 0) * 1000:.0f} ms", "-", "1.00", "")
                continue
            report.add("growth", f"per message, median ({case.name})", ms(median),
                       ms(base_median), f"{median / base_median:.2f}", "<= 1.10")
            report.add("growth", f"per message, mean ({case.name})", ms(mean),
                       ms(base_mean), f"{mean / base_mean:.2f}", "<= 1.10")
            if case.size == base.size:
                continue
            report.add("growth", f"question submission, median ({case.name})", ms(submit),
                       ms(base_submit), f"{submit / base_submit:.2f}", "")
            if digest is None:
                estimate = 2 * mentors * mentees_of
                report.add("growth", f"digest job ({case.name})",
                           f"> {DIGEST_LIMIT:.0f} s (est. {estimate:,.0f} s)",
                           f"{base_digest * 1000:.0f} ms", "-", "")
            else:
                report.add("growth", f"digest job ({case.name})", f"{digest * 1000:,.0f} ms",
                           f"{base_digest * 1000:.0f} ms", f"{digest / base_digest:.0f}", "")
    finally:
        for case in cases:
            if case.tmp is not None:
                shutil.rmtree(case.tmp, ignore_errors=True)


def _time_mentees_of(simulator: Simulator) -> float:
    """The cost of one `Directory.mentees_of` call, which a digest makes twice per mentor."""
    directory = simulator.app.engine.directory
    mentor = directory.mentors()[0].id
    t0 = time.perf_counter()
    directory.mentees_of(mentor)
    return time.perf_counter() - t0


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
          f"a person.json is {r['person_bytes']:,} bytes")
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
               f"{r['person_bytes']:,} B (their person.json)",
               f"{growth / r['person_bytes']:.2f}", "")
    report.add("memory", "Python objects kept per person (tracemalloc)",
               f"{r['traced']:,.0f} B", f"{r['person_bytes']:,} B (their person.json)",
               f"{r['traced'] / r['person_bytes']:.2f}", "")


def memory_child(root: Path, population: int, sample: int) -> None:
    """Runs in a fresh interpreter so that earlier benchmarks do not blur its memory."""
    from bot.app import build_app
    from bot.clock import VirtualClock
    from bot.messages import Inbound

    data = root / "data"
    roster = populate(data, population, "roster")
    gc.collect()
    imports = rss_kib()
    at = datetime.fromisoformat("2026-12-01T09:00:00+01:00")
    clock = VirtualClock(at)
    engine = build_app(make_config(data, roster), clock).engine
    gc.collect()
    built = rss_kib()
    mentees = [p["id"] for p in roster if p["role"] == "mentee"]
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
    state = engine.state_of(measured[0])
    assert state.get("step") == "ask", state  # the analysis was accepted: they moved on
    person_bytes = (data / "people" / person_dir_name(measured[0]) / "person.json").stat().st_size
    print(json.dumps({"imports": imports, "built": built, "warm": len(warm), "warmed": warmed,
                      "after": after, "per_message": seconds / (sample // 2),
                      "traced": traced / (sample - sample // 2), "spacy": "spacy" in sys.modules,
                      "person_bytes": person_bytes}))


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == [MEMORY_CHILD]:
        memory_child(Path(args[1]), int(args[2]), int(args[3]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    options = parser.parse_args(args)
    mentees, population, sample, repeat = (200, 10_000, 500, 5)
    if options.quick:
        mentees, population, sample, repeat = (20, 500, 50, 2)
    print(f"mentorbot engine benchmark — Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"data in {tempfile.gettempdir()}")
    report = Report()
    began = time.perf_counter()
    steps: list[Callable[[], None]] = [
        lambda: bench_throughput(report, mentees),
        lambda: bench_growth(report, population),
        lambda: bench_startup(report, repeat),
        lambda: bench_memory(report, population, sample),
    ]
    for step in steps:
        step()
    report.print()
    print(f"\n(total {time.perf_counter() - began:.0f} s; figures depend on the machine and its "
          "fsync; nothing is asserted)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
