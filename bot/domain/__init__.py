"""Typed records of what mentorbot keeps: the engine, the stores and the exports share them."""

from bot.domain.records import (
    Absence,
    Enrollment,
    Flag,
    Invitation,
    JournalEntry,
    OutboxEntry,
    OutboxStatus,
    PersonData,
    Question,
    QuestionStatus,
    Signature,
    ThreadItem,
    ThreadKind,
)

__all__ = [
    "Absence",
    "Enrollment",
    "Flag",
    "Invitation",
    "JournalEntry",
    "OutboxEntry",
    "OutboxStatus",
    "PersonData",
    "Question",
    "QuestionStatus",
    "Signature",
    "ThreadItem",
    "ThreadKind",
]
