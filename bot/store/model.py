"""What is stored, as plain data: one `PersonData` per person, one `SharedData` for all.

Everything is JSON-friendly (str, int, list, dict) so that any store can keep it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Source message ids remembered per person, to recognise redeliveries: far more than one person
# writes within a platform's retry window (WhatsApp: 7 days, Telegram: 24 hours).
APPLIED_KEEP = 500


@dataclass(slots=True)
class JournalEntry:
    """One line of the work trace (article 5). `kind` says what it is: a message, a refusal..."""

    at: str
    direction: str  # "in" from the person, "out" from the bot or the mentor
    text: str
    kind: str = "message"
    qid: str | None = None
    key: str = ""  # unique per entry: "<source id>#<n>", so a replay never doubles a line

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "at": self.at,
            "direction": self.direction,
            "text": self.text,
            "kind": self.kind,
            "key": self.key,
        }
        if self.qid:
            out["qid"] = self.qid
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> JournalEntry:
        return cls(
            at=str(raw["at"]),
            direction=str(raw["direction"]),
            text=str(raw["text"]),
            kind=str(raw.get("kind", "message")),
            qid=raw.get("qid"),
            key=str(raw.get("key", "")),
        )


@dataclass(slots=True)
class PersonData:
    """Everything about one person, but their journal, which is appended separately."""

    id: str
    state: dict[str, Any] = field(default_factory=dict)
    signatures: list[dict[str, Any]] = field(default_factory=list)
    questions: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    journal_new: list[JournalEntry] = field(default_factory=list)

    def has_applied(self, source: str) -> bool:
        return source in self.applied

    def mark_applied(self, source: str) -> None:
        if source and source not in self.applied:
            self.applied.append(source)
            del self.applied[:-APPLIED_KEEP]

    def question(self, qid: str) -> dict[str, Any] | None:
        for question in self.questions:
            if question["id"] == qid:
                return question
        return None


@dataclass(slots=True)
class SharedData:
    """The small state shared by everyone: counters, question index, invitations, scheduler."""

    counters: dict[str, int] = field(default_factory=dict)
    questions: dict[str, str] = field(default_factory=dict)  # question id -> mentee id
    invitations: dict[str, dict[str, Any]] = field(default_factory=dict)
    enrolled: dict[str, dict[str, Any]] = field(default_factory=dict)  # invited people
    scheduler: dict[str, str] = field(default_factory=dict)  # job name -> last run (ISO)
    transports: dict[str, Any] = field(default_factory=dict)  # polling offsets and such
