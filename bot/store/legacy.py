"""Import a data directory written by the first release (TinyDB JSON files) into a store.

Layout read (no TinyDB needed: each file is `{table: {doc id: document}}`):

    shared.json        counters, invitations, scheduler, transports
    enrolled.json      people enrolled by invitation
    people/<quoted id>/person.json    state, signatures, questions, outbox, applied, meta,
                                      pending (journal entries not yet in journal.jsonl)
    people/<quoted id>/journal.jsonl  the work trace, one JSON object a line

Everything is written in one transaction: an import that fails leaves the store unchanged.
A person's file that cannot be read is reported and skipped, never guessed at.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from bot.domain import (
    Absence,
    Enrollment,
    Flag,
    Invitation,
    JournalEntry,
    OutboxEntry,
    OutboxStatus,
    Question,
    QuestionStatus,
    Signature,
    ThreadItem,
    ThreadKind,
)
from bot.store.errors import StoreError
from bot.store.protocol import Store
from bot.store.sql import UnitOfWork, question_number

log = logging.getLogger("mentorbot.store")


@dataclass
class ImportReport:
    people: int = 0
    questions: int = 0
    journal: int = 0
    outbox: int = 0
    invitations: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"imported {self.people} people, {self.questions} questions, "
            f"{self.journal} journal lines, {self.outbox} unsent messages, "
            f"{self.invitations} invitations"
        )
        if self.problems:
            text += f"; {len(self.problems)} problem(s):\n" + "\n".join(self.problems)
        return text


def _tables(path: Path) -> dict[str, list[dict[str, Any]]]:
    raw = json.loads(path.read_bytes())
    if not isinstance(raw, dict):
        raise ValueError("not a JSON object of tables")
    out: dict[str, list[dict[str, Any]]] = {}
    for name, table in raw.items():
        if not isinstance(table, dict):
            raise ValueError(f"table {name!r} is not an object")
        docs = [table[k] for k in sorted(table, key=lambda k: int(k) if k.isdigit() else 0)]
        out[name] = [d for d in docs if isinstance(d, dict)]
    return out


def _first(tables: dict[str, list[dict[str, Any]]], name: str) -> dict[str, Any]:
    docs = tables.get(name, [])
    return docs[0] if docs else {}


def _journal_lines(path: Path) -> Iterator[dict[str, Any]]:
    if not path.exists():
        return
    for line in path.read_bytes().splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue  # a torn last line left by a crash
        if isinstance(value, dict):
            yield value


def _entry(raw: dict[str, Any], fallback_key: str) -> JournalEntry | None:
    try:
        return JournalEntry(
            at=str(raw["at"]),
            direction=str(raw["direction"]),
            text=str(raw.get("text", "")),
            kind=str(raw.get("kind", "message")),
            qid=raw.get("qid") if isinstance(raw.get("qid"), str) else None,
            key=str(raw.get("key") or fallback_key),
        )
    except KeyError:
        return None


def import_directory(source: Path, store: Store) -> ImportReport:
    """Copy the first release's data directory `source` into `store` (one transaction)."""
    source = Path(source)
    if not (source / "people").is_dir() and not (source / "shared.json").exists():
        raise StoreError(f"{source}: not a data directory of the first release "
                         "(no shared.json, no people/)")
    report = ImportReport()
    with store.turn() as uow:
        _shared(source, uow, report)
        people = source / "people"
        for directory in sorted(people.iterdir()) if people.is_dir() else []:
            if directory.name.startswith(".") or not (directory / "person.json").exists():
                continue
            pid = unquote(directory.name)
            try:
                tables = _tables(directory / "person.json")
            except (OSError, ValueError) as exc:
                report.problems.append(f"{directory / 'person.json'}: skipped: {exc}")
                continue
            _person(pid, directory, tables, uow, report)
    return report


def _shared(source: Path, uow: UnitOfWork, report: ImportReport) -> None:
    shared: dict[str, list[dict[str, Any]]] = {}
    for name in ("shared.json", "enrolled.json", "questions.json"):
        path = source / name
        if path.exists():
            try:
                shared.update(_tables(path))
            except (OSError, ValueError) as exc:
                raise StoreError(f"{path}: unreadable: {exc}") from None
    for pid, raw in sorted(_first(shared, "enrolled").items()):
        if isinstance(raw, dict):
            uow.enroll(Enrollment(id=pid, role=str(raw.get("role", "mentee")),
                                  mentor=raw.get("mentor"), name=str(raw.get("name", "")),
                                  locale=raw.get("locale"), since=str(raw.get("since", ""))))
    for code, raw in sorted(_first(shared, "invitations").items()):
        if isinstance(raw, dict) and not raw.get("used_by"):
            uow.invitation_add(Invitation(code=code, mentor=str(raw["mentor"]),
                                          created_at=str(raw.get("created_at", "")),
                                          expires_at=str(raw.get("expires_at", ""))))
            report.invitations += 1
    for job, when in _first(shared, "scheduler").items():
        uow.job_ran(job, str(when))
    transports = _first(shared, "transports")
    if isinstance(transports.get("telegram_offset"), int):
        uow.transport_put("telegram", "offset", transports["telegram_offset"])
    if isinstance(transports.get("telegram_username"), str):
        uow.transport_put("telegram", "username", transports["telegram_username"])
    counter = _first(shared, "counters").get("question")
    if isinstance(counter, int) and counter > 0:
        for _ in range(counter):
            uow.next_question_id()


def _person(pid: str, directory: Path, tables: dict[str, list[dict[str, Any]]],
            uow: UnitOfWork, report: ImportReport) -> None:
    meta = _first(tables, "meta")
    person = uow.person(pid)
    person.state = _first(tables, "state")
    person.state.pop("pending", None) if person.state.get("pending") == "identifying" else None
    person.withdrawn_at = meta.get("withdrawn_at")
    person.last_inbound_at = meta.get("last_inbound_at")
    person.signatures = [
        Signature(version=str(s.get("version", "")), name=str(s.get("name", "")),
                  at=str(s.get("at", "")), channel=str(s.get("channel", "")))
        for s in tables.get("signatures", [])
    ]
    person.absences = [Absence(str(a), str(b)) for a, b in meta.get("absences", [])]
    uow.touch(pid)
    report.people += 1
    for raw in tables.get("questions", []):
        number = question_number(str(raw.get("id", "")))
        if number is None:
            report.problems.append(f"{directory}: a question without an id was skipped")
            continue
        question = Question(
            id=f"Q{number}", mentee=pid, mentor=raw.get("mentor"),
            context=str(raw.get("context", "")), analysis=str(raw.get("analysis", "")),
            ask=str(raw.get("ask", "")), submitted_at=str(raw.get("submitted_at", "")),
            status=QuestionStatus(raw.get("status", "sent")), read_at=raw.get("read_at"),
            closed_at=raw.get("closed_at"),
        )
        uow.question_add(question)
        items = [ThreadItem(ThreadKind.ANSWER, str(a["at"]), str(a["text"]))
                 for a in raw.get("answers", [])]
        items += [ThreadItem(ThreadKind.FOLLOWUP, str(f["at"]), str(f["text"]))
                  for f in raw.get("followups", [])]
        items += [ThreadItem(ThreadKind.REDIRECT_SESSION if r.get("to") == "session"
                             else ThreadKind.REDIRECT_OTHER, str(r["at"]), str(r["text"]))
                  for r in raw.get("redirections", [])]
        for item in sorted(items, key=lambda i: i.at):
            uow.thread_add(question, item)
        report.questions += 1
    for flag in meta.get("flags", []):
        if isinstance(flag, dict) and flag.get("level"):
            uow.flag_add(Flag(person=pid, at=str(flag.get("at", "")), level=str(flag["level"])))
    entries: dict[str, JournalEntry] = {}
    lines = list(_journal_lines(directory / "journal.jsonl"))
    lines += _first(tables, "pending").get("entries", [])
    for n, raw in enumerate(lines):
        entry = _entry(raw, f"legacy:{pid}:{n}")
        if entry is not None:
            entries[entry.key] = entry  # a replayed line is read once
    uow.journal_add(pid, list(entries.values()))
    report.journal += len(entries)
    outbox = [
        OutboxEntry(key=str(e["key"]), to=str(e.get("to", pid)), text=str(e.get("text", "")),
                    choices=tuple(map(str, e.get("choices", []))),
                    meta={str(k): str(v) for k, v in (e.get("meta") or {}).items()},
                    status=OutboxStatus.HELD if e.get("status") == "held"
                    else OutboxStatus.PENDING,
                    queued_at=str(e.get("queued_at", "")))
        for e in tables.get("outbox", []) if isinstance(e.get("key"), str)
    ]
    uow.outbox_add(outbox)
    report.outbox += len(outbox)
    for message_id in _first(tables, "applied").get("ids", []):
        uow.mark_processed(str(message_id), pid, person.last_inbound_at or "")
    window = {k: meta[k] for k in ("wa_window_closed_at", "wa_template_at") if k in meta}
    if window:
        uow.transport_put("whatsapp", f"window:{pid}", window, person=pid)
