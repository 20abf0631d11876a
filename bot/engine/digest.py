"""The mentor's digest: the pending questions of their mentees, at opening times only.

A question appears in every digest until it is answered; from its second appearance on it is
marked as waiting since it was first shown. Pending questions are read by mentor through an
index, so a digest costs what the mentor has pending, not what the organisation stores.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain import Flag, Question, QuestionStatus, ThreadKind
from bot.engine.consent import withdrawn
from bot.engine.texts import fill
from bot.engine.turn import Party, Turn
from bot.i18n import gettext

_THREAD_TEXT = {
    ThreadKind.ANSWER: "digest_answer",
    ThreadKind.FOLLOWUP: "digest_followup",
}


def pending(turn: Turn, mentor: Party) -> list[tuple[Party, Question]]:
    out: list[tuple[Party, Question]] = []
    for question in turn.uow.pending_for(mentor.profile.id):
        mentee = turn.other(question.mentee)
        if mentee is None or mentee.profile.mentor != mentor.profile.id or withdrawn(mentee.data):
            continue
        out.append((mentee, question))
    return out


def unreported_flags(turn: Turn, mentor: Party) -> list[tuple[Party, Flag]]:
    """Distress flags of the mentor's mentees not yet shown to the mentor (no message text)."""
    mentees = turn.engine.directory.mentees_of(mentor.profile.id, turn.uow)
    out: list[tuple[Party, Flag]] = []
    for flag in turn.uow.flags_unreported([m.id for m in mentees], turn.source):
        mentee = turn.other(flag.person)
        if mentee is not None:
            out.append((mentee, flag))
    return out


def deliver(turn: Turn, mentor: Party, *, empty_notice: bool) -> int:
    """Send the digest to `mentor`: a header (questions, distress flags, mentees), the flags
    first (article 6), then one message per question so each can be answered on its own.

    Returns how many messages were sent."""
    flagged = unreported_flags(turn, mentor)
    items = pending(turn, mentor)
    if not items and not flagged:
        if empty_notice:
            turn.say("digest_none", party=mentor)
        return 0
    names = sorted({m.profile.name or m.profile.id for m, _ in [*items, *flagged]})
    turn.say(
        "digest_header",
        party=mentor,
        count=len(items),
        flags=len(flagged),
        mentees=", ".join(names),
        date=turn.when(turn.now, party=mentor),
    )
    for mentee, flag in flagged:
        turn.uow.flag_reported(flag, turn.source)
        turn.say(
            "digest_flag",
            party=mentor,
            kind=turn.text(f"flag_{flag.level}", party=mentor),
            mentee=mentee.profile.name or mentee.profile.id,
            date=turn.when(datetime.fromisoformat(flag.at), party=mentor),
        )
    for mentee, question in items:
        text = turn.text(
            "digest_question",
            party=mentor,
            qid=question.id,
            mentee=mentee.profile.name or mentee.profile.id,
            date=turn.when(datetime.fromisoformat(question.submitted_at), party=mentor),
            context=question.context,
            analysis=question.analysis,
            ask=question.ask,
        )
        text += thread(turn, mentor, question)
        if question.read_at and question.status is QuestionStatus.READ:
            since = turn.when(datetime.fromisoformat(question.read_at), party=mentor, short=True)
            text += "\n\n" + turn.text("digest_waiting", party=mentor, since=since)
        else:
            question.status = QuestionStatus.READ
            question.read_at = turn.now.isoformat()
            turn.uow.question_update(question)
        texts = turn.engine.flows.texts
        with turn.engine.catalogs.use(mentor.profile.locale):
            choices = tuple(
                fill(gettext(texts[k]), {"qid": question.id})
                for k in ("digest_choice_reply", "digest_choice_redirect")
            )
        turn.send(mentor, text, choices, kind="digest", qid=question.id)
    return 1 + len(flagged) + len(items)


def thread(turn: Turn, mentor: Party, question: Question) -> str:
    """Earlier answers and the mentee's follow-ups, in time order, under the question."""
    lines = [
        turn.text(
            _THREAD_TEXT[item.kind],
            party=mentor,
            text=item.text,
            date=turn.when(datetime.fromisoformat(item.at), party=mentor, short=True),
        )
        for item in question.thread
        if item.kind in _THREAD_TEXT
    ]
    return "".join("\n\n" + line for line in lines)


def on_demand(turn: Turn) -> None:
    """`/digest`: the pending questions now, inside the mentor's opening hours only."""
    engine = turn.engine
    absences = engine.absences(turn.profile, turn.person)
    if not engine.calendar.is_open(turn.now, absences):
        opening = engine.calendar.next_opening(turn.now, absences)
        turn.say("digest_closed", when=turn.when(opening))
        return
    deliver(turn, turn.party, empty_notice=True)
