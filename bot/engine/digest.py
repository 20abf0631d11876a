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


FULL_MAX = 3  # up to this many pending questions, each comes in full in the digest
PAGE_SIZE = 9  # questions per page of the list (a WhatsApp list holds ten rows)
FLAG_MESSAGES = 3  # more distress flags than this come in one message
ASK_EXCERPT = 90  # characters of the ask shown in the list
_FLAG_ORDER = {"urgent": 0, "distress": 1, "check_in": 2}


def deliver(turn: Turn, mentor: Party, *, empty_notice: bool) -> int:
    """Send the digest to `mentor`, a bounded number of messages whatever they have pending:
    a summary (questions, distress flags, mentees), the flags (urgent first, article 6), then
    either each question in full (a few) so each can be answered on its own, or the first
    page of the list of questions, grouped by mentee, each reachable by its id.

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
        items=turn.text("digest_count_questions", party=mentor, count=len(items)),
        flags=turn.text("digest_count_flags", party=mentor, count=len(flagged)),
        mentees=turn.listing(names, party=mentor),
        date=turn.when(turn.now, party=mentor),
    )
    sent = 1
    flagged.sort(key=lambda pair: (_FLAG_ORDER.get(pair[1].level, 9), pair[1].id))
    lines = []
    for mentee, flag in flagged:
        turn.uow.flag_reported(flag, turn.source)
        lines.append(turn.text(
            "digest_flag",
            party=mentor,
            kind=turn.text(f"flag_{flag.level}", party=mentor),
            mentee=mentee.profile.name or mentee.profile.id,
            date=turn.when(datetime.fromisoformat(flag.at), party=mentor),
        ).strip())
    if len(lines) > FLAG_MESSAGES:
        lines = ["\n\n".join(lines)]
    for line in lines:
        turn.send(mentor, line, kind="digest")
        sent += 1
    if len(items) <= FULL_MAX:
        for mentee, question in items:
            _full(turn, mentor, mentee, question)
        return sent + len(items)
    _list(turn, mentor, _grouped(items), 1)
    return sent + 1


def _grouped(items: list[tuple[Party, Question]]) -> list[tuple[Party, Question]]:
    """By mentee (the one waiting longest first), each one's questions oldest first."""
    first: dict[str, int] = {}
    for i, (mentee, _) in enumerate(items):
        first.setdefault(mentee.profile.id, i)
    return sorted(items, key=lambda pair: first[pair[0].profile.id])


def _full(turn: Turn, mentor: Party, mentee: Party, question: Question) -> None:
    """One question in full, with its thread; its choices answer or redirect it."""
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
    if question.status is QuestionStatus.CLOSED:
        # Closed by the mentee after a follow-up the mentor had not seen yet: shown once.
        closed = turn.when(datetime.fromisoformat(question.closed_at or turn.now.isoformat()),
                           party=mentor, short=True)
        text += "\n\n" + turn.text("digest_closed_by_mentee", party=mentor, date=closed)
        question.read_at = turn.now.isoformat()
        turn.uow.question_update(question)
        turn.send(mentor, text, kind="digest", qid=question.id)
        return
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
    turn.send(mentor, text, choices, kind="digest", qid=question.id,
              options=(("reply", question.id), ("redirect", question.id)))


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= ASK_EXCERPT else flat[: ASK_EXCERPT - 1].rstrip() + "…"


def _list(turn: Turn, mentor: Party, items: list[tuple[Party, Question]], number: int) -> None:
    """Page `number` of the list of pending questions: one line each, grouped by mentee; a
    choice reads each question in full, the last one turns the page."""
    pages = max(1, -(-len(items) // PAGE_SIZE))
    number = min(max(1, number), pages)
    shown = items[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    parts = [turn.text("digest_list_header", party=mentor, page=number, pages=pages,
                       first=(number - 1) * PAGE_SIZE + 1,
                       last=(number - 1) * PAGE_SIZE + len(shown), count=len(items)).strip()]
    current = ""
    for mentee, question in shown:
        name = mentee.profile.name or mentee.profile.id
        if name != current:
            parts.append(f"\n{name}")
            current = name
        closed = question.status is QuestionStatus.CLOSED
        key = "digest_list_closed" if closed else "digest_list_item"
        parts.append(turn.text(
            key, party=mentor, qid=question.id, ask=_excerpt(question.ask),
            date=turn.when(datetime.fromisoformat(question.submitted_at), party=mentor,
                           short=True),
        ).strip())
    parts.append("\n" + turn.text("digest_list_footer", party=mentor).strip())
    labels: list[str] = []
    options: list[tuple[str, str]] = []
    for _, question in shown:
        labels.append(turn.text("digest_choice_show", party=mentor, qid=question.id))
        options.append(("show", question.id))
    if number < pages:
        labels.append(turn.text("digest_choice_next", party=mentor, page=number + 1, pages=pages))
        options.append(("page", str(number + 1)))
    turn.send(mentor, "\n".join(parts), tuple(labels), kind="digest", options=tuple(options))


def page(turn: Turn, number: int) -> None:
    """The mentor turns a page of the list of pending questions."""
    items = pending(turn, turn.party)
    if not items:
        turn.say("digest_none")
        return
    _list(turn, turn.party, _grouped(items), number)


def show(turn: Turn, qid: str) -> None:
    """One question in full, reached by its id (a choice of the list, or "Q3" typed)."""
    for mentee, question in pending(turn, turn.party):
        if question.id == qid:
            _full(turn, turn.party, mentee, question)
            return
    turn.say("digest_not_pending", qid=qid)


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
