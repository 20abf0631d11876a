"""Every read (and the few writes) the studio makes of the engine and its store, in one place.

The studio shows what the engine holds: a person's flow and step, saved answers, pending
decision, consent, signatures and questions. When the store or the engine's state changes
shape, this module is the only one of the studio to adapt.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.app import App
from bot.domain import Question
from bot.engine.charter import charter_version, signed
from bot.engine.consent import withdrawn
from bot.engine.core import Engine
from bot.engine.people import Directory
from bot.engine.scheduler import JOBS
from bot.engine.texts import REQUIRED_TEXTS
from bot.errors import FlowError
from bot.flows.loader import CONTRACT, load_flows
from bot.flows.machine import build_machines, mermaid
from bot.i18n import format_when, gettext
from bot.store import Store

log = logging.getLogger(__name__)

STUDIO_TEXTS = ("studio_", "kind_")  # the page's own texts, and the kinds of identifying data


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    role: str
    name: str
    locale: str


@dataclass(frozen=True, slots=True)
class QuestionView:
    id: str
    status: str
    mentee: str
    ask: str


@dataclass(frozen=True, slots=True)
class PersonView:
    """What the inspector shows of one person."""

    person: Person
    flow: str = ""
    step: str = ""
    answers: dict[str, str] = field(default_factory=dict)
    pending: str = ""
    signed: bool = False
    withdrawn: bool = False
    signatures: tuple[dict[str, str], ...] = ()
    questions: tuple[QuestionView, ...] = ()
    waiting: int = 0  # messages still in the person's outbox

    def to_json(self) -> dict[str, Any]:
        p = self.person
        return {"id": p.id, "role": p.role, "name": p.name, "locale": p.locale,
                "flow": self.flow, "step": self.step, "answers": self.answers,
                "pending": self.pending, "signed": self.signed, "withdrawn": self.withdrawn,
                "signatures": list(self.signatures), "waiting": self.waiting,
                "questions": [{"id": q.id, "status": q.status, "mentee": q.mentee,
                               "ask": q.ask} for q in self.questions]}


# -- reads ---------------------------------------------------------------------------------


def people(engine: Engine) -> list[Person]:
    with engine.store.read() as uow:
        profiles = engine.directory.all(uow)
    return [Person(p.id, p.role, p.name, engine.catalogs.resolve(p.locale)) for p in profiles]


def _questions(questions: list[Question]) -> list[QuestionView]:
    return [QuestionView(q.id, q.status.value, q.mentee, q.ask) for q in questions]


def view(engine: Engine, pid: str) -> PersonView | None:
    with engine.store.read() as uow:
        profile = engine.directory.get(pid, uow)
        if profile is None:
            return None
        person = Person(profile.id, profile.role, profile.name,
                        engine.catalogs.resolve(profile.locale))
        data = uow.peek(pid)
        if data is None:
            return PersonView(person)
        questions = _questions(uow.questions_of(pid))
        if profile.role == "mentor":
            for mentee in engine.directory.mentees_of(pid, uow):
                questions += _questions(uow.questions_of(mentee.id))
        waiting = len(uow.outbox_waiting(pid))
    state = data.state
    return PersonView(
        person=person,
        flow=str(state.get("flow", "")),
        step=str(state.get("step", "")),
        answers={str(k): str(v) for k, v in dict(state.get("answers", {})).items()},
        pending=str(state.get("pending", "") or ""),
        signed=signed(data, engine.charter_version),
        withdrawn=withdrawn(data),
        signatures=tuple({"version": s.version, "name": s.name, "at": s.at}
                         for s in data.signatures),
        questions=tuple(questions),
        waiting=waiting,
    )


def texts(engine: Engine, locale: str) -> dict[str, str]:
    """The page's texts (`studio_*` and `kind_*` in the flows), in `locale`."""
    with engine.catalogs.use(locale):
        return {key: gettext(text) for key, text in engine.flows.texts.items()
                if key.startswith(STUDIO_TEXTS)}


def locales(engine: Engine) -> list[str]:
    return engine.catalogs.locales


def when(engine: Engine, moment: datetime, locale: str) -> str:
    with engine.catalogs.use(locale):
        return format_when(moment, gettext(engine.flows.texts["date_pattern"]),
                           engine.config.timezone)


def is_open(engine: Engine, now: datetime) -> bool:
    return engine.calendar.is_open(now)


def next_opening(engine: Engine, now: datetime) -> datetime:
    """The next time the hours open, strictly after `now` when they are open now."""
    calendar = engine.calendar
    if calendar.is_open(now):
        return calendar.next_opening(calendar.closes_at(now))
    return calendar.next_opening(now)


def next_digest(app: App, now: datetime) -> datetime | None:
    for at, job in app.scheduler.due(now + timedelta(days=15)):
        if job == "digest" and at > now:
            return at
    return None


def last_run(store: Store) -> datetime | None:
    """The latest instant the store's scheduler reached: the clock never resumes before it."""
    with store.read() as uow:
        runs = [uow.job_last_run(job) for job in JOBS]
    return max((datetime.fromisoformat(r) for r in runs if r), default=None)


# The studio's virtual clock is kept with the demo's data, as the web channel's own state,
# so that a restart resumes at the same virtual time and the journal stays in order.
CLOCK_OWNER, CLOCK_KEY = "studio", "clock"


def saved_clock(store: Store) -> datetime | None:
    """The virtual time the studio had reached on this data, if it ever ran on it."""
    with store.read() as uow:
        value = uow.transport_get(CLOCK_OWNER, CLOCK_KEY)
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        log.warning("studio clock unreadable in the store; ignored")
        return None
    return when if when.tzinfo is not None else None


def save_clock(store: Store, now: datetime) -> None:
    with store.turn() as uow:
        uow.transport_put(CLOCK_OWNER, CLOCK_KEY, now.isoformat())


def flow_names(engine: Engine) -> list[str]:
    return sorted(engine.flows.flows)


_ACTIVE = re.compile(r"^(\s*Class \S+ )s_active$", re.MULTILINE)


def diagram(engine: Engine, flow: str, here: dict[str, list[str]]) -> str:
    """The flow's Mermaid diagram; the steps in `here` (step -> names) are highlighted."""
    text = mermaid(engine.flows.flows[flow]).replace("direction LR", "direction TB", 1)
    text = _ACTIVE.sub(r"\1s_default", text)  # the flow's start is not where anyone is
    lines = [text]
    for step, names in here.items():
        if step in engine.flows.flows[flow].steps:
            label = ", ".join(names).replace(":", " ").replace(";", " ")
            lines.append(f"  Class {step} s_active")
            lines.append(f"  note right of {step} : {label}")
    return "\n".join(lines)


# -- writes --------------------------------------------------------------------------------


def reload_flows(engine: Engine) -> list[str]:
    """Load the flows again; on success the engine uses them at once. The problems, if any
    (`path:line:col: message`), and then the engine keeps the flows it had."""
    try:
        flows = load_flows(engine.config.paths.flows, REQUIRED_TEXTS, CONTRACT)
    except FlowError as exc:
        return list(exc.problems)
    engine.flows = flows
    engine.machines = build_machines(flows)
    engine.charter_version = charter_version(flows)
    return []


def set_locale(engine: Engine, pid: str, locale: str) -> None:
    """Speak `locale` with a person of the roster (the studio's copy of the roster only)."""
    config = engine.config
    people_ = tuple(p.model_copy(update={"locale": locale}) if p.id == pid else p
                    for p in config.people)
    engine.config = config.model_copy(update={"people": people_})
    engine.directory = Directory(engine.config)
