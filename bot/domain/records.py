"""The records a turn reads and writes. Plain dataclasses: no store, no transport in here.

Times are ISO 8601 strings with an offset (UTC as written by the clock): they sort as text,
travel unchanged through JSON exports, and mean the same in SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class QuestionStatus(StrEnum):
    SENT = "sent"  # waiting for the mentor's next digest
    READ = "read"  # shown in a digest
    ANSWERED = "answered"
    REDIRECTED = "redirected"  # to a formal session or another professional
    CLOSED = "closed"  # closed by the mentee


PENDING_STATUSES = (QuestionStatus.SENT, QuestionStatus.READ)
OPEN_STATUSES = (QuestionStatus.SENT, QuestionStatus.READ, QuestionStatus.ANSWERED)


class ThreadKind(StrEnum):
    ANSWER = "answer"  # the mentor's answer
    FOLLOWUP = "followup"  # the mentee's follow-up
    REDIRECT_SESSION = "redirect_session"  # redirected to a formal session
    REDIRECT_OTHER = "redirect_other"  # redirected to another professional


@dataclass(slots=True)
class ThreadItem:
    """One message of a question's thread after the question itself."""

    kind: ThreadKind
    at: str
    text: str


@dataclass(slots=True)
class Question:
    """A structured question (charter, article 4) and its thread."""

    id: str  # "Q<n>", shown wherever the question is shown
    mentee: str
    mentor: str | None
    context: str
    analysis: str
    ask: str
    submitted_at: str
    status: QuestionStatus = QuestionStatus.SENT
    read_at: str | None = None  # first shown in a digest
    closed_at: str | None = None
    thread: list[ThreadItem] = field(default_factory=list)

    @property
    def number(self) -> int:
        return int(self.id[1:])

    def items(self, kind: ThreadKind) -> list[ThreadItem]:
        return [t for t in self.thread if t.kind is kind]


@dataclass(slots=True)
class Signature:
    """An acceptance of the charter: the typed name, when, on which channel, which version."""

    version: str
    name: str
    at: str
    channel: str


@dataclass(slots=True)
class Flag:
    """Article 6: a safety answer was given; the mentor sees the fact, never the words."""

    person: str
    at: str
    level: str  # "urgent" | "distress" | "check_in"
    id: int = 0
    reported_in: str | None = None  # the digest that showed it


@dataclass(slots=True)
class JournalEntry:
    """One line of the work trace (article 5). `kind` says what it is: a message, a refusal..."""

    at: str
    direction: str  # "in" from the person, "out" from the bot or the mentor
    text: str
    kind: str = "message"
    qid: str | None = None
    key: str = ""  # unique: "<source id>#<n>", so a replayed turn never doubles a line


@dataclass(slots=True)
class Enrollment:
    """A person enrolled by invitation (the roster of config.yaml is not stored)."""

    id: str
    role: str
    mentor: str | None
    name: str = ""
    locale: str | None = None
    since: str = ""


@dataclass(slots=True)
class Invitation:
    code: str
    mentor: str
    created_at: str
    expires_at: str


@dataclass(frozen=True, slots=True)
class Absence:
    """A mentor's closed dates, set with `/absence` (ISO dates, both included)."""

    start: str
    end: str


class OutboxStatus(StrEnum):
    PENDING = "pending"  # to send, in order, per recipient
    HELD = "held"  # waits for the person to write back (WhatsApp's 24-hour window)
    SENT = "sent"  # accepted by the platform (kept a short while for delivery statuses)
    FAILED = "failed"  # refused for good: parked, never blocks the messages behind it


@dataclass(slots=True)
class OutboxEntry:
    """One outgoing message, written in the same commit as the turn that produced it."""

    key: str
    to: str
    text: str
    choices: tuple[str, ...] = ()
    meta: dict[str, str] = field(default_factory=dict)
    status: OutboxStatus = OutboxStatus.PENDING
    parts: int = 0  # parts of a long text already accepted: a restart never repeats them
    attempts: int = 0
    last_error: str | None = None
    queued_at: str = ""
    id: int = 0
    question: str | None = None  # the question it is about (erasure removes it with it)

    @property
    def channel(self) -> str:
        return self.to.split(":", 1)[0]


@dataclass(slots=True)
class PersonData:
    """The person's own row: where they are in the flows, their signatures and consent.

    `state` holds the flow position (`flow`, `step`), the saved `answers`, and the pending
    decision (`pending`, with what it needs: never an identifying text). Questions, journal,
    flags and outbox live in tables of their own and are reached through the unit of work.
    """

    id: str
    state: dict[str, Any] = field(default_factory=dict)
    signatures: list[Signature] = field(default_factory=list)
    withdrawn_at: str | None = None
    last_inbound_at: str | None = None
    absences: list[Absence] = field(default_factory=list)
    stored: bool = False  # a row exists (False: first contact, nothing kept yet)

    def fingerprint(self) -> str:
        """What a save would write, as one comparable string (unchanged people are not
        rewritten)."""
        return json.dumps(
            [
                self.state,
                [(s.version, s.name, s.at, s.channel) for s in self.signatures],
                self.withdrawn_at,
                self.last_inbound_at,
                [(a.start, a.end) for a in self.absences],
            ],
            sort_keys=True,
            default=str,
        )
