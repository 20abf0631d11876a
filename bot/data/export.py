"""`mentorbot data export`: everything stored about one person (DESIGN.md, "Data export")."""

from __future__ import annotations

import json
from typing import Any

from bot.engine.core import Engine
from bot.errors import UnknownPersonError


def collect(engine: Engine, pid: str) -> dict[str, Any]:
    profile = engine.directory.get(pid)
    data = engine.store.load_person(pid)
    if profile is None and data is None:
        raise UnknownPersonError(f"unknown person {pid!r}: not in the roster and nothing stored")
    role = profile.role if profile else "unknown"
    name = profile.name if profile else ""
    signatures = data.signatures if data else []
    if not name and signatures:
        name = str(signatures[-1].get("name", ""))
    questions = []
    for q in data.questions if data else []:
        questions.append(
            {
                "id": q["id"],
                "context": q.get("context", ""),
                "analysis": q.get("analysis", ""),
                "ask": q.get("ask", ""),
                "status": q.get("status", ""),
                "submitted_at": q.get("submitted_at", ""),
                "answers": [{"at": a["at"], "text": a["text"]} for a in q.get("answers", [])],
            }
        )
    journal = [
        {
            "at": e.at,
            "direction": e.direction,
            "text": e.text,
            "kind": e.kind,
            **({"question": e.qid} if e.qid else {}),
        }
        for e in engine.store.read_journal(pid)
    ]
    return {
        "person": {"id": pid, "role": role, "name": name},
        "charter": [
            {
                "version": s.get("version", ""),
                "name": s.get("name", ""),
                "at": s.get("at", ""),
                "channel": s.get("channel", ""),
            }
            for s in signatures
        ],
        "questions": questions,
        "journal": journal,
    }


def to_json(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, indent=2)


def render(record: dict[str, Any], fmt: str, engine: Engine) -> str:
    if fmt == "json":
        return to_json(record)
    from bot.data.documents import render_document

    return render_document(record, fmt, engine)
