"""The unit of work over a DB-API connection: the SQL shared by SQLite and PostgreSQL.

A `UnitOfWork` lives for one transaction. It loads what a turn asks for as typed records,
executes every change inside the transaction, and writes back the people it loaded that
changed. The store that opened it commits once at the end, or rolls everything back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol

from bot.domain import (
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
from bot.domain.records import PENDING_STATUSES
from bot.store.errors import DamagedData
from bot.store.schema import PERSON_TABLES
from bot.store.text import clean, clean_json


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ...) -> Any: ...

    def executemany(self, sql: str, params: Iterable[Sequence[Any]]) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Dialect:
    """The few differences between the two SQL dialects."""

    name = "sqlite"
    placeholder = "?"

    def sql(self, text: str) -> str:
        return text if self.placeholder == "?" else text.replace("?", self.placeholder)

    def lock_person(self, cursor: Cursor, pid: str) -> None:
        """Serialise the person's turns (SQLite: the write transaction already does)."""


_PERSON_COLUMNS = (
    "id, role, mentor, name, locale, enrolled_at, state, withdrawn_at, last_inbound_at"
)
_QUESTION_COLUMNS = (
    "number, mentee, mentor, status, context, analysis, ask, submitted_at, read_at, closed_at"
)
_OUTBOX_COLUMNS = (
    "id, key, recipient, text, choices, meta, status, parts, attempts, last_error, queued_at"
)


def question_number(qid: str) -> int | None:
    """`Q12` -> 12; None when `qid` is not a question id."""
    if len(qid) < 2 or qid[0] not in "Qq" or not qid[1:].isdigit() or len(qid) > 12:
        return None
    return int(qid[1:])


class UnitOfWork:
    """Everything one turn (or one job) reads and changes, inside one transaction."""

    def __init__(self, cursor: Cursor, dialect: Dialect) -> None:
        self._cur = cursor
        self._dialect = dialect
        self._people: dict[str, tuple[PersonData, str]] = {}  # loaded, fingerprint when loaded
        self._erased: set[str] = set()
        self._touched: set[str] = set()
        self.locked: set[str] = set()

    # -- plumbing -------------------------------------------------------------------------

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._cur.execute(self._dialect.sql(sql), params)

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        self._exec(sql, params)
        return self._cur.fetchone()

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        self._exec(sql, params)
        return list(self._cur.fetchall())

    def lock(self, pid: str) -> None:
        """Take the person's lock for the rest of the transaction (idempotent)."""
        if pid not in self.locked:
            self._dialect.lock_person(self._cur, pid)
            self.locked.add(pid)

    # -- people ---------------------------------------------------------------------------

    def person(self, pid: str) -> PersonData:
        """The person's data (a new, empty record on first contact); locked for the turn."""
        loaded = self._people.get(pid)
        if loaded is not None:
            return loaded[0]
        self.lock(pid)
        row = self._one(f"SELECT {_PERSON_COLUMNS} FROM people WHERE id = ?", (pid,))
        data = PersonData(id=pid)
        if row is not None:
            data.stored = True
            try:
                state = json.loads(row[6])
            except (TypeError, ValueError):
                raise DamagedData(pid) from None
            if not isinstance(state, dict):
                raise DamagedData(pid)
            data.state = state
            data.withdrawn_at = row[7]
            data.last_inbound_at = row[8]
            data.signatures = [
                Signature(version=r[0], name=r[1], at=r[2], channel=r[3])
                for r in self._all(
                    "SELECT version, name, at, channel FROM signatures WHERE person = ? "
                    "ORDER BY seq",
                    (pid,),
                )
            ]
            data.absences = [
                Absence(r[0], r[1])
                for r in self._all(
                    "SELECT first_day, last_day FROM absences WHERE person = ? "
                    "ORDER BY first_day",
                    (pid,),
                )
            ]
        self._people[pid] = (data, data.fingerprint() if row is not None else "")
        return data

    def peek(self, pid: str) -> PersonData | None:
        """The person's data when stored, without locking (reads for digests and exports)."""
        loaded = self._people.get(pid)
        if loaded is not None:
            return loaded[0]
        row = self._one("SELECT 1 FROM people WHERE id = ?", (pid,))
        if row is None:
            return None
        return self.person(pid)

    def touch(self, pid: str) -> None:
        """Make sure the person has a row at commit (something of theirs is being kept)."""
        if pid not in self._touched:
            self.person(pid)
            self._touched.add(pid)

    def _save_people(self) -> None:
        for pid, (data, loaded) in self._people.items():
            if pid in self._erased:
                continue
            now = data.fingerprint()
            if data.stored and now == loaded:
                continue
            if not data.stored and not self._needed(pid, data):
                continue
            self._exec(
                "INSERT INTO people (id, state, withdrawn_at, last_inbound_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET state = excluded.state, "
                "withdrawn_at = excluded.withdrawn_at, last_inbound_at = excluded.last_inbound_at",
                (pid, clean_json(data.state), data.withdrawn_at, data.last_inbound_at),
            )
            old = _json_loads_list(loaded)
            if not data.stored or old is None or old[1] != [
                [s.version, s.name, s.at, s.channel] for s in data.signatures
            ]:
                self._exec("DELETE FROM signatures WHERE person = ?", (pid,))
                self._cur.executemany(
                    self._dialect.sql(
                        "INSERT INTO signatures (person, seq, version, name, at, channel) "
                        "VALUES (?, ?, ?, ?, ?, ?)"
                    ),
                    [
                        (pid, i, s.version, clean(s.name), s.at, s.channel)
                        for i, s in enumerate(data.signatures)
                    ],
                )
            if not data.stored or old is None or old[4] != [
                [a.start, a.end] for a in data.absences
            ]:
                self._exec("DELETE FROM absences WHERE person = ?", (pid,))
                self._cur.executemany(
                    self._dialect.sql(
                        "INSERT INTO absences (person, first_day, last_day) VALUES (?, ?, ?)"
                    ),
                    [(pid, a.start, a.end) for a in data.absences],
                )
            data.stored = True
            self._people[pid] = (data, now)  # what was just written: no second dump

    def _needed(self, pid: str, data: PersonData) -> bool:
        """A first-contact person gets a row only when the turn keeps something of theirs."""
        return pid in self._touched or bool(
            data.state or data.signatures or data.withdrawn_at or data.absences
        )

    def flush(self) -> None:
        """Write back the people loaded and changed; the store commits right after."""
        self._save_people()

    # -- enrollment -----------------------------------------------------------------------

    def enrollment(self, pid: str) -> Enrollment | None:
        row = self._one(
            "SELECT id, role, mentor, name, locale, enrolled_at FROM people "
            "WHERE id = ? AND enrolled_at IS NOT NULL",
            (pid,),
        )
        return _enrollment(row) if row else None

    def enrollments(self, mentor: str | None = None) -> list[Enrollment]:
        if mentor is None:
            rows = self._all(
                "SELECT id, role, mentor, name, locale, enrolled_at FROM people "
                "WHERE enrolled_at IS NOT NULL ORDER BY id"
            )
        else:
            rows = self._all(
                "SELECT id, role, mentor, name, locale, enrolled_at FROM people "
                "WHERE enrolled_at IS NOT NULL AND mentor = ? ORDER BY id",
                (mentor,),
            )
        return [_enrollment(r) for r in rows]

    def enroll(self, enrollment: Enrollment) -> None:
        self._exec(
            "INSERT INTO people (id, role, mentor, name, locale, enrolled_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET role = excluded.role, "
            "mentor = excluded.mentor, enrolled_at = excluded.enrolled_at",
            (
                enrollment.id,
                enrollment.role,
                enrollment.mentor,
                clean(enrollment.name),
                enrollment.locale,
                enrollment.since,
            ),
        )

    def rename(self, pid: str, name: str) -> None:
        self._exec("UPDATE people SET name = ? WHERE id = ?", (clean(name), pid))

    def person_ids(self) -> list[str]:
        return [r[0] for r in self._all("SELECT id FROM people ORDER BY id")]

    # -- dedupe ---------------------------------------------------------------------------

    def processed(self, message_id: str) -> bool:
        return self._one("SELECT 1 FROM processed WHERE message_id = ?", (message_id,)) is not None

    def mark_processed(self, message_id: str, pid: str | None, at: str) -> bool:
        """Record the message id; False when it was already there (a redelivery)."""
        self._exec(
            "INSERT INTO processed (message_id, person, at) VALUES (?, ?, ?) "
            "ON CONFLICT (message_id) DO NOTHING",
            (message_id, pid, at),
        )
        return bool(getattr(self._cur, "rowcount", 1))

    # -- journal --------------------------------------------------------------------------

    def journal_add(self, pid: str, entries: Sequence[JournalEntry]) -> None:
        if not entries:
            return
        self.touch(pid)
        self._cur.executemany(
            self._dialect.sql(
                "INSERT INTO journal (person, at, direction, kind, text, question, key) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING"
            ),
            [(pid, e.at, e.direction, e.kind, clean(e.text), e.qid, e.key) for e in entries],
        )

    def journal(self, pid: str) -> list[JournalEntry]:
        return [
            JournalEntry(at=r[0], direction=r[1], kind=r[2], text=r[3], qid=r[4], key=r[5])
            for r in self._all(
                "SELECT at, direction, kind, text, question, key FROM journal "
                "WHERE person = ? ORDER BY id",
                (pid,),
            )
        ]

    def journal_purge(self, before: str) -> int:
        self._exec("DELETE FROM journal WHERE at < ?", (before,))
        return int(getattr(self._cur, "rowcount", 0) or 0)

    def journal_forget_questions(self, pid: str, qids: Sequence[str]) -> int:
        removed = 0
        for qid in qids:
            self._exec("DELETE FROM journal WHERE person = ? AND question = ?", (pid, qid))
            removed += int(getattr(self._cur, "rowcount", 0) or 0)
        return removed

    def outbox_forget_questions(self, recipient: str, qids: Sequence[str]) -> int:
        removed = 0
        for qid in qids:
            self._exec("DELETE FROM outbox WHERE recipient = ? AND question = ?", (recipient, qid))
            removed += int(getattr(self._cur, "rowcount", 0) or 0)
        return removed

    def outbox_redact(self, recipient: str, needle: str, replacement: str) -> int:
        if not needle:
            return 0
        rows = self._all(
            "SELECT id, text FROM outbox WHERE recipient = ? AND text LIKE ?",
            (recipient, "%" + needle.replace("%", "").replace("_", "") + "%"),
        )
        for row_id, text in rows:
            self._exec(
                "UPDATE outbox SET text = ? WHERE id = ?",
                (str(text).replace(needle, replacement), row_id),
            )
        return len(rows)

    def journal_redact(self, pid: str, needle: str, replacement: str) -> int:
        """Replace `needle` in the person's journal texts (a departed mentee's name)."""
        if not needle:
            return 0
        rows = self._all(
            "SELECT id, text FROM journal WHERE person = ? AND text LIKE ?",
            (pid, "%" + needle.replace("%", "").replace("_", "") + "%"),
        )
        for row_id, text in rows:
            self._exec(
                "UPDATE journal SET text = ? WHERE id = ?",
                (str(text).replace(needle, replacement), row_id),
            )
        return len(rows)

    # -- questions ------------------------------------------------------------------------

    def next_question_id(self) -> str:
        row = self._one(
            "INSERT INTO counters (name, value) VALUES ('question', 1) "
            "ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value"
        )
        return f"Q{int(row[0])}"

    def question_add(self, question: Question) -> None:
        self.touch(question.mentee)
        self._exec(
            f"INSERT INTO questions ({_QUESTION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                question.number,
                question.mentee,
                question.mentor,
                question.status.value,
                clean(question.context),
                clean(question.analysis),
                clean(question.ask),
                question.submitted_at,
                question.read_at,
                question.closed_at,
            ),
        )

    def question_update(self, question: Question) -> None:
        self._exec(
            "UPDATE questions SET status = ?, read_at = ?, closed_at = ? WHERE number = ?",
            (question.status.value, question.read_at, question.closed_at, question.number),
        )

    def thread_add(self, question: Question, item: ThreadItem) -> None:
        question.thread.append(item)
        self._exec(
            "INSERT INTO thread (question, kind, at, text) VALUES (?, ?, ?, ?)",
            (question.number, item.kind.value, item.at, clean(item.text)),
        )

    def question(self, qid: str) -> Question | None:
        number = question_number(qid)
        if number is None:
            return None
        rows = self._questions(f"SELECT {_QUESTION_COLUMNS} FROM questions WHERE number = ?",
                               (number,))
        return rows[0] if rows else None

    def questions_of(self, mentee: str) -> list[Question]:
        return self._questions(
            f"SELECT {_QUESTION_COLUMNS} FROM questions WHERE mentee = ? ORDER BY number",
            (mentee,),
        )

    def pending_for(self, mentor: str) -> list[Question]:
        """The questions waiting for the mentor (sent or read), oldest first, and those the
        mentee closed with something the mentor has not seen yet (a follow-up): indexed."""
        return self._questions(
            f"SELECT {_QUESTION_COLUMNS} FROM questions WHERE mentor = ? AND (status IN (?, ?) "
            "OR (status = ? AND read_at IS NULL)) ORDER BY submitted_at, number",
            (mentor, *(s.value for s in PENDING_STATUSES), QuestionStatus.CLOSED.value),
        )

    def mentors_with_pending(self) -> set[str]:
        """The mentors with a question pending (see `pending_for`): one indexed query for the
        idle digest round, instead of a transaction per mentor of the roster."""
        rows = self._all(
            "SELECT DISTINCT mentor FROM questions WHERE mentor IS NOT NULL AND (status IN (?, ?) "
            "OR (status = ? AND read_at IS NULL))",
            (*(s.value for s in PENDING_STATUSES), QuestionStatus.CLOSED.value),
        )
        return {str(r[0]) for r in rows}

    def flagged_people(self) -> set[str]:
        """The people with a distress flag not shown to their mentor yet."""
        rows = self._all("SELECT DISTINCT person FROM flags WHERE reported_in IS NULL", ())
        return {str(r[0]) for r in rows}

    def _questions(self, sql: str, params: Sequence[Any]) -> list[Question]:
        questions = [
            Question(
                id=f"Q{r[0]}",
                mentee=r[1],
                mentor=r[2],
                status=QuestionStatus(r[3]),
                context=r[4],
                analysis=r[5],
                ask=r[6],
                submitted_at=r[7],
                read_at=r[8],
                closed_at=r[9],
            )
            for r in self._all(sql, params)
        ]
        if questions:
            by_number = {q.number: q for q in questions}
            marks = ", ".join("?" for _ in by_number)
            for number, kind, at, text in self._all(
                f"SELECT question, kind, at, text FROM thread WHERE question IN ({marks}) "
                "ORDER BY id",
                tuple(by_number),
            ):
                by_number[int(number)].thread.append(ThreadItem(ThreadKind(kind), at, text))
        return questions

    def questions_purge(self, closed_before: str) -> int:
        """Retention: closed or redirected questions whose thread ended before the date."""
        self._exec(
            # Two indexed terms rather than COALESCE, which no index can serve: ended
            # questions carry closed_at; only ones imported from the first release may not.
            "DELETE FROM questions WHERE status IN ('closed', 'redirected') AND "
            "(closed_at < ? OR (closed_at IS NULL AND submitted_at < ?))",
            (closed_before, closed_before),
        )
        return int(getattr(self._cur, "rowcount", 0) or 0)

    # -- flags ----------------------------------------------------------------------------

    def flag_add(self, flag: Flag) -> None:
        self.touch(flag.person)
        self._exec(
            "INSERT INTO flags (person, at, level) VALUES (?, ?, ?)",
            (flag.person, flag.at, flag.level),
        )

    def flags_unreported(self, people: Sequence[str], source: str) -> list[Flag]:
        """Flags of `people` not shown yet, or shown by this very digest (a replay)."""
        out: list[Flag] = []
        for pid in people:
            out.extend(
                Flag(person=r[1], at=r[2], level=r[3], id=int(r[0]), reported_in=r[4])
                for r in self._all(
                    "SELECT id, person, at, level, reported_in FROM flags "
                    "WHERE person = ? AND (reported_in IS NULL OR reported_in = ?) ORDER BY id",
                    (pid, source),
                )
            )
        return out

    def flag_reported(self, flag: Flag, source: str) -> None:
        flag.reported_in = source
        self._exec("UPDATE flags SET reported_in = ? WHERE id = ?", (source, flag.id))

    def flags_of(self, pid: str) -> list[Flag]:
        return [
            Flag(person=pid, at=r[1], level=r[2], id=int(r[0]), reported_in=r[3])
            for r in self._all(
                "SELECT id, at, level, reported_in FROM flags WHERE person = ? ORDER BY id",
                (pid,),
            )
        ]

    # -- outbox ---------------------------------------------------------------------------

    def outbox_add(self, entries: Sequence[OutboxEntry]) -> None:
        for entry in entries:
            self.touch(entry.to)
        self._cur.executemany(
            self._dialect.sql(
                "INSERT INTO outbox (key, recipient, channel, text, choices, meta, status, parts, "
                "attempts, queued_at, question) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, ?, ?) "
                "ON CONFLICT (key) DO NOTHING"
            ),
            [
                (
                    e.key,
                    e.to,
                    e.channel,
                    clean(e.text),
                    clean_json(list(e.choices)),
                    clean_json(e.meta),
                    e.status.value,
                    e.queued_at,
                    e.question,
                )
                for e in entries
            ],
        )

    def outbox_waiting(self, recipient: str) -> list[OutboxEntry]:
        """The recipient's messages still to send (pending or held), in order."""
        return self._outbox(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE recipient = ? AND status IN (?, ?) "
            "ORDER BY id",
            (recipient, OutboxStatus.PENDING.value, OutboxStatus.HELD.value),
        )

    def outbox_pending(self, channels: Sequence[str] | None = None) -> list[OutboxEntry]:
        """Every pending message (of `channels`), in the order they were queued."""
        if channels is None:
            return self._outbox(
                f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE status = ? ORDER BY id",
                (OutboxStatus.PENDING.value,),
            )
        marks = ", ".join("?" for _ in channels)
        return self._outbox(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE status = ? AND channel IN ({marks}) "
            "ORDER BY id",
            (OutboxStatus.PENDING.value, *channels),
        )

    def outbox_recipients(self, channels: Sequence[str]) -> list[str]:
        if not channels:
            return []
        marks = ", ".join("?" for _ in channels)
        return [
            r[0]
            for r in self._all(
                f"SELECT DISTINCT recipient FROM outbox WHERE status = ? AND channel IN ({marks})",
                (OutboxStatus.PENDING.value, *channels),
            )
        ]

    def outbox_entry(self, key: str) -> OutboxEntry | None:
        rows = self._outbox(f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE key = ?", (key,))
        return rows[0] if rows else None

    def outbox_mark(
        self,
        entry_id: int,
        status: OutboxStatus | None = None,
        *,
        parts: int | None = None,
        error: str | None = None,
        attempt: bool = False,
        at: str | None = None,
    ) -> None:
        sets: list[str] = []
        params: list[Any] = []
        if status is not None:
            sets.append("status = ?")
            params.append(status.value)
            if status is OutboxStatus.SENT:
                sets.append("sent_at = ?")
                params.append(at)
        if parts is not None:
            sets.append("parts = ?")
            params.append(parts)
        if error is not None:
            sets.append("last_error = ?")
            params.append(error)
        if attempt:
            sets.append("attempts = attempts + 1")
        if not sets:
            return
        self._exec(f"UPDATE outbox SET {', '.join(sets)} WHERE id = ?", (*params, entry_id))

    def outbox_release(self, recipient: str) -> int:
        """Held messages go back to pending (the person wrote: the window is open again)."""
        self._exec(
            "UPDATE outbox SET status = ? WHERE recipient = ? AND status = ?",
            (OutboxStatus.PENDING.value, recipient, OutboxStatus.HELD.value),
        )
        return int(getattr(self._cur, "rowcount", 0) or 0)

    def outbox_purge(self, sent_before: str) -> int:
        self._exec(
            "DELETE FROM outbox WHERE status IN (?, ?) AND COALESCE(sent_at, queued_at) < ?",
            (OutboxStatus.SENT.value, OutboxStatus.FAILED.value, sent_before),
        )
        return int(getattr(self._cur, "rowcount", 0) or 0)

    def outbox_stats(self) -> tuple[int, str | None]:
        """How many messages wait (pending or held), and when the oldest was queued."""
        row = self._one(
            "SELECT COUNT(*), MIN(queued_at) FROM outbox WHERE status IN (?, ?)",
            (OutboxStatus.PENDING.value, OutboxStatus.HELD.value),
        )
        return int(row[0]), row[1]

    def _outbox(self, sql: str, params: Sequence[Any]) -> list[OutboxEntry]:
        return [
            OutboxEntry(
                id=int(r[0]),
                key=r[1],
                to=r[2],
                text=r[3],
                choices=tuple(str(c) for c in _json_list(r[4])),
                meta={str(k): str(v) for k, v in _json_object(r[5]).items()},
                status=OutboxStatus(r[6]),
                parts=int(r[7]),
                attempts=int(r[8]),
                last_error=r[9],
                queued_at=r[10],
            )
            for r in self._all(sql, params)
        ]

    # -- invitations ----------------------------------------------------------------------

    def invitation_add(self, invitation: Invitation) -> None:
        self._exec(
            "INSERT INTO invitations (code, mentor, created_at, expires_at) VALUES (?, ?, ?, ?)",
            (invitation.code, invitation.mentor, invitation.created_at, invitation.expires_at),
        )

    def invitation_take(self, code: str) -> Invitation | None:
        """Remove and return the invitation (single use); None when unknown."""
        row = self._one(
            "SELECT code, mentor, created_at, expires_at FROM invitations WHERE code = ?", (code,)
        )
        if row is None:
            return None
        self._exec("DELETE FROM invitations WHERE code = ?", (code,))
        return Invitation(code=row[0], mentor=row[1], created_at=row[2], expires_at=row[3])

    def invitations_purge(self, now: str) -> int:
        self._exec("DELETE FROM invitations WHERE expires_at < ?", (now,))
        return int(getattr(self._cur, "rowcount", 0) or 0)

    # -- scheduler and transports ---------------------------------------------------------

    def job_last_run(self, job: str) -> str | None:
        row = self._one("SELECT last_run FROM scheduler WHERE job = ?", (job,))
        return str(row[0]) if row else None

    def job_ran(self, job: str, when: str) -> None:
        self._exec(
            "INSERT INTO scheduler (job, last_run) VALUES (?, ?) "
            "ON CONFLICT (job) DO UPDATE SET last_run = excluded.last_run",
            (job, when),
        )

    def transport_get(self, transport: str, key: str) -> Any:
        row = self._one(
            "SELECT value FROM transport_state WHERE transport = ? AND key = ?", (transport, key)
        )
        return json.loads(row[0]) if row else None

    def transport_put(
        self, transport: str, key: str, value: Any, person: str | None = None
    ) -> None:
        if person is not None:
            self.touch(person)
        self._exec(
            "INSERT INTO transport_state (transport, key, person, value) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (transport, key) DO UPDATE SET value = excluded.value",
            (transport, key, person, clean_json(value)),
        )

    def transport_delete(self, transport: str, key: str) -> None:
        self._exec("DELETE FROM transport_state WHERE transport = ? AND key = ?", (transport, key))

    def transport_keys(self, transport: str, prefix: str) -> list[str]:
        return [
            r[0]
            for r in self._all(
                "SELECT key FROM transport_state WHERE transport = ? AND key LIKE ? ORDER BY key",
                (transport, prefix.replace("%", "").replace("_", "\\_") + "%"),
            )
        ]

    # -- erasure and retention ------------------------------------------------------------

    def erase(self, pid: str) -> bool:
        """Delete every row about the person, in this transaction. True if any existed."""
        existed = self._one("SELECT 1 FROM people WHERE id = ?", (pid,)) is not None
        for table, column in PERSON_TABLES:
            self._exec(f"DELETE FROM {table} WHERE {column} = ?", (pid,))
        self._exec("DELETE FROM people WHERE id = ?", (pid,))
        self._erased.add(pid)
        self._people.pop(pid, None)
        return existed

    def processed_purge(self, before: str) -> int:
        self._exec("DELETE FROM processed WHERE at < ?", (before,))
        return int(getattr(self._cur, "rowcount", 0) or 0)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> Iterator[Any]:
        """Read-only access for `data check` and exports of the whole store."""
        yield from self._all(sql, params)


def _enrollment(row: Any) -> Enrollment:
    return Enrollment(
        id=row[0],
        role=row[1] or "mentee",
        mentor=row[2],
        name=row[3] or "",
        locale=row[4],
        since=row[5] or "",
    )


def _json_object(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw) if raw else {}
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _json_list(raw: Any) -> list[Any]:
    if isinstance(raw, list):
        return raw
    try:
        value = json.loads(raw) if raw else []
    except (TypeError, ValueError):
        return []
    return value if isinstance(value, list) else []


def _json_loads_list(raw: str) -> list[Any] | None:
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, list) else None
