"""Implementations of the actions a flow may name (see `bot.flows.vocabulary.ACTIONS`).

An action receives the turn and may return a target to go to instead of the step's own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.engine import digest
from bot.engine.turn import Turn
from bot.flows.model import Target

ActionFn = Callable[[Turn], Target | None]

QUESTION_PARTS = ("context", "analysis", "ask")


def sign_charter(turn: Turn) -> Target | None:
    """Record the acceptance: typed name, date, channel, charter version (article "Signatures")."""
    name = " ".join(str(turn.answers.pop("signature_name", "")).split())
    turn.person.signatures.append(
        {
            "version": turn.engine.charter_version,
            "name": name,
            "at": turn.now.isoformat(),
            "channel": turn.profile.channel,
        }
    )
    turn.extra.update(date=turn.when(turn.now), version=turn.engine.charter_version)
    if not turn.profile.name:
        turn.extra["name"] = name
        pid = turn.profile.id

        def rename(shared: object) -> None:
            if pid in turn.engine.shared.enrolled:
                turn.engine.shared.enrolled[pid]["name"] = name

        turn.engine.update_shared(rename)
    turn.journal(turn.party, "in", name, kind="signature")
    return None


def new_question(turn: Turn) -> Target | None:
    for part in QUESTION_PARTS:
        turn.answers.pop(part, None)
    return None


def submit_question(turn: Turn) -> Target | None:
    """Store the structured question and say when the mentor will read it (article 3)."""
    engine = turn.engine
    qid = engine.next_question_id(turn.profile.id)
    parts = {part: str(turn.answers.get(part, "")) for part in QUESTION_PARTS}
    question: dict[str, Any] = {
        "id": qid,
        "status": "sent",
        "submitted_at": turn.now.isoformat(),
        "mentor": turn.profile.mentor,
        "answers": [],
        **parts,
    }
    turn.person.questions.append(question)
    new_question(turn)
    turn.journal(
        turn.party, "in", "\n\n".join(parts[p] for p in QUESTION_PARTS), kind="question", qid=qid
    )
    mentor = engine.directory.get(turn.profile.mentor or "")
    absences = engine.absences(mentor) if mentor else ()
    if engine.calendar.is_open(turn.now, absences):
        turn.say("question_sent_open", qid=qid)
    else:
        opening = engine.calendar.next_opening(turn.now, absences)
        turn.say("question_sent_closed", qid=qid, when=turn.when(opening))
    return None


def discard_question(turn: Turn) -> Target | None:
    new_question(turn)
    turn.say("question_discarded")
    return None


def show_charter(turn: Turn) -> Target | None:
    with turn.engine.catalogs.use(turn.profile.locale):
        from bot.i18n import gettext

        articles = "\n\n".join(gettext(s.say or "") for s in turn.engine.flows.charter_articles())
    turn.send(turn.party, turn.text("charter_reread") + "\n\n" + articles)
    return None


def show_journal(turn: Turn) -> Target | None:
    questions = turn.person.questions
    if not questions:
        turn.say("journal_empty")
        return None
    lines = [turn.text("journal_header", count=len(questions))]
    for q in questions:
        from datetime import datetime

        lines.append(
            turn.text(
                "journal_item",
                qid=q["id"],
                ask=q.get("ask", ""),
                date=turn.when(datetime.fromisoformat(q["submitted_at"]), short=True),
                status=turn.text(f"status_{q.get('status', 'sent')}"),
            )
        )
    turn.send(turn.party, "\n\n".join(lines))
    return None


def show_help(turn: Turn) -> Target | None:
    turn.say("help", commands=turn.text(f"commands_{turn.profile.role}"))
    return None


def show_digest(turn: Turn) -> Target | None:
    digest.on_demand(turn)
    return None


ACTIONS: dict[str, ActionFn] = {
    "sign_charter": sign_charter,
    "new_question": new_question,
    "submit_question": submit_question,
    "discard_question": discard_question,
    "show_charter": show_charter,
    "show_journal": show_journal,
    "show_help": show_help,
    "show_digest": show_digest,
}


class Actions:
    """Runs an allowlisted action by name."""

    def run(self, name: str, turn: Turn) -> Target | None:
        return ACTIONS[name](turn)
