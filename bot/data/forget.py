"""Erasure: every trace of a person removed everywhere, the mentor's side included, in one
transaction (a crash leaves all of it or none of it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.errors import UnknownPersonError
from bot.store.sql import UnitOfWork

if TYPE_CHECKING:
    from bot.engine.core import Engine


def erase(engine: Engine, pid: str, uow: UnitOfWork) -> str:
    """Erase `pid` inside `uow`; returns a short summary of what was removed."""
    profile = engine.directory.get(pid, uow)
    qids = [q.id for q in uow.questions_of(pid)]
    mentor = profile.mentor if profile else None
    cleaned = 0
    if mentor:
        # The mentor's side: digests and answers about these questions leave their journal,
        # and digest headers that named the mentee lose the name.
        uow.lock(mentor)
        cleaned = uow.journal_forget_questions(mentor, qids)
        uow.outbox_forget_questions(mentor, qids)
        name = profile.name if profile else ""
        if name:
            cleaned += uow.journal_redact(mentor, name, "[…]")
            uow.outbox_redact(mentor, name, "[…]")
    existed = uow.erase(pid)
    return (
        f"{'person data removed' if existed else 'nothing stored'}, "
        f"{len(qids)} question(s), {cleaned} line(s) of the mentor's journal"
    )


def forget(engine: Engine, pid: str) -> str:
    """`mentorbot data forget`: erase `pid` now."""
    with engine.store.turn([pid]) as uow:
        if engine.directory.get(pid, uow) is None and uow.peek(pid) is None:
            raise UnknownPersonError(
                f"unknown person {pid!r}: not in the roster and nothing stored"
            )
        summary = erase(engine, pid, uow)
    engine.store.compact_log()
    return summary
