"""Implementations of the actions a flow may name (see `bot.flows.vocabulary.ACTIONS`).

An action receives the turn and may return a target to go to instead of the step's own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.domain import Question, Signature
from bot.engine import charter, digest, questions
from bot.engine.checks import normal_qid
from bot.engine.turn import Turn
from bot.flows.contract import QUESTION_PARTS, SIGNATURE
from bot.flows.model import Target

ActionFn = Callable[[Turn], Target | None]



def sign_charter(turn: Turn) -> Target | None:
    """Record the acceptance: typed name, date, channel, charter version (article "Signatures")."""
    name = " ".join(str(turn.answers.pop(SIGNATURE, "")).split())
    flows = turn.engine.flows
    before = turn.state.get(charter.SIGNED_ARTICLES)
    renewed = bool(turn.person.signatures) and all(
        s.version != turn.engine.charter_version for s in turn.person.signatures)
    if renewed and isinstance(before, dict):
        changed = [step.id for step in charter.changed_since(flows, before)]
        if changed:
            turn.state[charter.CHANGED] = changed
    turn.state[charter.SIGNED_ARTICLES] = charter.article_digests(flows)
    turn.state.pop(charter.READING, None)
    turn.person.signatures.append(
        Signature(
            version=turn.engine.charter_version,
            name=name,
            at=turn.now.isoformat(),
            channel=turn.profile.channel,
        )
    )
    turn.extra.update(date=turn.when(turn.now), version=turn.engine.charter_version)
    if not turn.profile.name:
        turn.extra["name"] = name
        if turn.profile.enrolled:
            turn.uow.rename(turn.profile.id, name)
    turn.journal(turn.party, "in", name, kind="signature")
    return None


def resume_charter(turn: Turn) -> Target | None:
    """Back to the article the person was reading (the one refused); None: the choice's own
    next step (the start of the charter)."""
    at = turn.state.get(charter.READING)
    entry = turn.engine.flows.entry["charter"]
    if not isinstance(at, str) or entry.flow is None:
        return None
    target = Target(entry.flow, at)
    step = turn.engine.flows.step(target)
    return target if step is not None and step.article else None


def new_question(turn: Turn) -> Target | None:
    for part in QUESTION_PARTS:
        turn.answers.pop(part, None)
    return None


def submit_question(turn: Turn) -> Target | None:
    """Store the structured question and say when the mentor will read it (article 3)."""
    qid = turn.uow.next_question_id()
    parts = {part: str(turn.answers.get(part, "")) for part in QUESTION_PARTS}
    turn.uow.question_add(
        Question(
            id=qid,
            mentee=turn.profile.id,
            mentor=turn.profile.mentor,
            context=parts["context"],
            analysis=parts["analysis"],
            ask=parts["ask"],
            submitted_at=turn.now.isoformat(),
        )
    )
    new_question(turn)
    turn.journal(
        turn.party, "in", "\n\n".join(parts[p] for p in QUESTION_PARTS), kind="question", qid=qid
    )
    questions.acknowledge(turn, qid, "question_sent")
    return None


def discard_question(turn: Turn) -> Target | None:
    new_question(turn)
    turn.say("question_discarded")
    return None


def show_charter(turn: Turn) -> Target | None:
    with turn.engine.catalogs.use(turn.profile.locale):
        from bot.i18n import gettext

        steps = turn.engine.flows.charter_articles()
        articles = "\n\n".join(gettext(s.say) for s in steps if s.say)
    turn.send(turn.party, turn.text("charter_reread") + "\n\n" + articles)
    return None


def show_journal(turn: Turn) -> Target | None:
    asked = turn.uow.questions_of(turn.profile.id)
    if not asked:
        turn.say("journal_empty")
        return None
    lines = [turn.text("journal_header", count=len(asked))]
    for q in asked:
        lines.append(
            turn.text(
                "journal_item",
                qid=q.id,
                ask=q.ask,
                date=turn.when(datetime.fromisoformat(q.submitted_at), short=True),
                status=turn.text(f"status_{q.status.value}"),
            )
        )
    turn.send(turn.party, "\n\n".join(lines))
    return None


def show_help(turn: Turn) -> Target | None:
    key = "help_mentor" if turn.profile.role == "mentor" else "help"
    turn.say(key, commands=turn.text(f"commands_{turn.profile.role}"), hours=turn.opening_hours())
    return None


def show_digest(turn: Turn) -> Target | None:
    digest.on_demand(turn)
    return None


def _qid(turn: Turn) -> str:
    return normal_qid(str(turn.answers.get("qid", "")))


def select_question(turn: Turn) -> Target | None:
    """The mentor named a question: it must be one of their mentees'; else ask again."""
    qid = turn.answers["qid"] = _qid(turn)
    if questions.for_mentor(turn, qid) is None:
        turn.say("reply_unknown", qid=qid)
        step = turn.current()
        return Target(step.flow, step.id) if step else None
    return None


def select_own_question(turn: Turn) -> Target | None:
    qid = turn.answers["qid"] = _qid(turn)
    if questions.own(turn, qid) is None:
        return turn.home()
    return None


def answer_question(turn: Turn) -> Target | None:
    questions.answer(turn, _qid(turn), str(turn.answers.pop("answer", "")))
    turn.answers.pop("qid", None)
    return None


def redirect_to_session(turn: Turn) -> Target | None:
    questions.redirect(turn, _qid(turn), "session", str(turn.answers.pop("proposal", "")))
    turn.answers.pop("qid", None)
    return None


def redirect_to_professional(turn: Turn) -> Target | None:
    questions.redirect(turn, _qid(turn), "other", str(turn.answers.pop("proposal", "")))
    turn.answers.pop("qid", None)
    return None


def add_followup(turn: Turn) -> Target | None:
    questions.followup(turn, _qid(turn), str(turn.answers.pop("followup", "")))
    turn.answers.pop("qid", None)
    return None


ACTIONS: dict[str, ActionFn] = {
    "sign_charter": sign_charter,
    "resume_charter": resume_charter,
    "new_question": new_question,
    "submit_question": submit_question,
    "discard_question": discard_question,
    "show_charter": show_charter,
    "show_journal": show_journal,
    "show_help": show_help,
    "show_digest": show_digest,
    "select_question": select_question,
    "select_own_question": select_own_question,
    "answer_question": answer_question,
    "redirect_to_session": redirect_to_session,
    "redirect_to_professional": redirect_to_professional,
    "add_followup": add_followup,
}


class Actions:
    """Runs an allowlisted action by name."""

    def run(self, name: str, turn: Turn) -> Target | None:
        return ACTIONS[name](turn)
