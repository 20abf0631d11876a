"""`mentorbot data export`: everything stored about one person (DESIGN.md, "Data export").

A question's thread is whole: answers, follow-ups and redirections, in order. The JSON keeps
DESIGN.md's shape and extends it: `answers` holds everything the mentor replied, a redirection
included (each with its `kind`), and `followups`, `redirections` and `thread` are added.
Earlier exports sent in the chat are not part of the journal (an export never contains the
previous one).
"""

from __future__ import annotations

import json
from typing import Any

from bot.domain import Question, ThreadKind
from bot.engine.core import Engine
from bot.errors import UnknownPersonError
from bot.store.sql import UnitOfWork

EXPORT_KIND = "export"
_REDIRECTIONS = {ThreadKind.REDIRECT_SESSION: "session", ThreadKind.REDIRECT_OTHER: "other"}


def _question(q: Question) -> dict[str, Any]:
    return {
        "id": q.id,
        "context": q.context,
        "analysis": q.analysis,
        "ask": q.ask,
        "status": q.status.value,
        "submitted_at": q.submitted_at,
        "answers": [
            {"at": t.at, "kind": t.kind.value, "text": t.text}
            for t in q.thread
            if t.kind is ThreadKind.ANSWER or t.kind in _REDIRECTIONS
        ],
        "followups": [{"at": t.at, "text": t.text} for t in q.items(ThreadKind.FOLLOWUP)],
        "redirections": [
            {"at": t.at, "to": _REDIRECTIONS[t.kind], "text": t.text}
            for t in q.thread
            if t.kind in _REDIRECTIONS
        ],
        "thread": [{"at": t.at, "kind": t.kind.value, "text": t.text} for t in q.thread],
    }


def collect(engine: Engine, uow: UnitOfWork, pid: str) -> dict[str, Any]:
    profile = engine.directory.get(pid, uow)
    data = uow.peek(pid)
    if profile is None and data is None:
        raise UnknownPersonError(f"unknown person {pid!r}: not in the roster and nothing stored")
    role = profile.role if profile else "unknown"
    name = profile.name if profile else ""
    signatures = data.signatures if data else []
    if not name and signatures:
        name = signatures[-1].name
    journal = [
        {
            "at": e.at,
            "direction": e.direction,
            "text": e.text,
            "kind": e.kind,
            **({"question": e.qid} if e.qid else {}),
        }
        for e in uow.journal(pid)
        if e.kind != EXPORT_KIND  # older versions journalled the exports sent in the chat
    ]
    return {
        "person": {"id": pid, "role": role, "name": name},
        "charter": [
            {"version": s.version, "name": s.name, "at": s.at, "channel": s.channel}
            for s in signatures
        ],
        "questions": [_question(q) for q in uow.questions_of(pid)],
        "journal": journal,
    }


def export(engine: Engine, pid: str) -> dict[str, Any]:
    """The record of `pid`, read in one consistent view."""
    with engine.store.read() as uow:
        return collect(engine, uow, pid)


def to_json(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, indent=2)


def render(record: dict[str, Any], fmt: str, engine: Engine, locale: str | None = None) -> str:
    if fmt == "json":
        return to_json(record)
    from bot.data.documents import render_document

    return render_document(record, fmt, engine, locale)
