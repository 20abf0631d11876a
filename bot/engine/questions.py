"""A question's thread: answers, follow-ups, redirections and closing, on both sides.

Status moves sent -> read (shown in a digest) -> answered -> closed; a follow-up sends it
back to the mentor (sent); a redirection (formal session, another professional) ends the
written thread.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.domain import Question, QuestionStatus, ThreadItem, ThreadKind
from bot.domain.records import OPEN_STATUSES
from bot.engine import trace
from bot.engine.turn import Party, Turn
from bot.flows.contract import ANSWER_STEP, FOLLOWUP_STEP, REDIRECT_STEP
from bot.flows.model import Expect, Target
from bot.policies.textnorm import fold


def for_mentor(turn: Turn, qid: str) -> tuple[Party, Question] | None:
    """The mentee and question `qid`, when it belongs to one of this mentor's mentees."""
    question = turn.uow.question(qid)
    if question is None:
        return None
    mentee = turn.other(question.mentee)
    if mentee is None or mentee.profile.mentor != turn.profile.id:
        return None
    return mentee, question


def answer(turn: Turn, qid: str, text: str) -> bool:
    """The mentor's answer reaches the mentee at once and joins both journals."""
    found = for_mentor(turn, qid)
    if found is None:
        turn.say("reply_unknown", qid=qid)
        return False
    mentee, question = found
    turn.uow.thread_add(question, ThreadItem(ThreadKind.ANSWER, turn.now.isoformat(), text))
    question.status = QuestionStatus.ANSWERED
    turn.uow.question_update(question)
    turn.journal(turn.party, "out", text, kind="answer", qid=qid)
    choices = (
        turn.engine.flows.texts["answer_choice_followup"],
        turn.engine.flows.texts["answer_choice_close"],
    )
    turn.say(
        "answer_received",
        party=mentee,
        entry="answer",
        about=qid,
        qid=qid,
        text=text,
        ask=question.ask,
        choices=choices,
        options=(("followup", qid), ("close", qid)),
    )
    turn.say("reply_sent", qid=qid, mentee=mentee.profile.name or mentee.profile.id)
    return True


def redirect(turn: Turn, qid: str, how: str, text: str) -> bool:
    """Article 6: to a formal session or another professional; the mentee is told kindly."""
    found = for_mentor(turn, qid)
    if found is None:
        turn.say("reply_unknown", qid=qid)
        return False
    mentee, question = found
    kind = ThreadKind.REDIRECT_SESSION if how == "session" else ThreadKind.REDIRECT_OTHER
    turn.uow.thread_add(question, ThreadItem(kind, turn.now.isoformat(), text))
    question.status = QuestionStatus.REDIRECTED
    question.closed_at = turn.now.isoformat()
    turn.uow.question_update(question)
    turn.journal(turn.party, "out", text, kind=f"redirect_{how}", qid=qid)
    turn.say(
        f"redirected_{how}", party=mentee, entry=f"redirect_{how}", about=qid, qid=qid, text=text
    )
    turn.say("redirect_done", qid=qid, mentee=mentee.profile.name or mentee.profile.id)
    return True


def own(turn: Turn, qid: str) -> Question | None:
    question = turn.uow.question(qid)
    if question is None or question.mentee != turn.profile.id:
        turn.say("question_not_yours", qid=qid)
        return None
    if question.status not in OPEN_STATUSES:
        turn.say("question_already_closed", qid=qid)
        return None
    return question


def followup(turn: Turn, qid: str, text: str) -> None:
    question = own(turn, qid)
    if question is None:
        return
    turn.uow.thread_add(question, ThreadItem(ThreadKind.FOLLOWUP, turn.now.isoformat(), text))
    question.status = QuestionStatus.SENT
    question.read_at = None
    turn.uow.question_update(question)
    turn.journal(turn.party, "in", text, kind="followup", qid=qid)
    acknowledge(turn, qid, "followup_sent")


def acknowledge(turn: Turn, qid: str, key: str) -> None:
    """Say when the mentor will receive it (article 3): the next digest sent to that mentor,
    after the configured digest times, open days, holidays and the mentor's absences."""
    engine = turn.engine
    absences = engine.absences_of(turn.profile.mentor, turn.uow)
    calendar = engine.calendar
    digest = calendar.next_digest(turn.now, engine.config.digest.times, absences)
    if digest is None:  # no digest time inside the hours: read at the next opening
        opening = calendar.next_opening(turn.now, absences)
        trace.hours(turn, False, opening)
        turn.say(f"{key}_closed", qid=qid, when=turn.when(opening))
        return
    # "Today at 13:00" while the mentor's hours are running; outside them (before 08:00 too)
    # the full date, with the hours recalled.
    local_day = turn.now.astimezone(calendar.tz).date()
    today = digest.astimezone(calendar.tz).date() == local_day
    if today and calendar.is_open(turn.now, absences):
        trace.hours(turn, True, digest)
        turn.say(f"{key}_open", qid=qid, when=turn.when(digest, pattern="time_pattern"))
    else:
        trace.hours(turn, today, digest)  # the studio says "today" for 08:00 asked at 07:00
        turn.say(f"{key}_closed", qid=qid, when=turn.when(digest))


def close(turn: Turn, qid: str) -> None:
    question = own(turn, qid)
    if question is None:
        return
    question.status = QuestionStatus.CLOSED
    question.closed_at = turn.now.isoformat()
    turn.uow.question_update(question)
    turn.journal(turn.party, "in", "", kind="closed", qid=qid)
    turn.say("question_closed", qid=qid)


# -- shortcuts: the choices under a digest question or an answer -----------------------------

# text key of the label -> (role, what it does)
SHORTCUTS: dict[str, tuple[str, str]] = {
    "digest_choice_reply": ("mentor", "reply"),
    "digest_choice_redirect": ("mentor", "redirect"),
    "answer_choice_followup": ("mentee", "followup"),
    "answer_choice_close": ("mentee", "close"),
}

# what a choice does -> (the role it is for, the flow step it leads to, or "")
ACTS: dict[str, tuple[str, str]] = {
    "reply": ("mentor", str(ANSWER_STEP)),
    "redirect": ("mentor", str(REDIRECT_STEP)),
    "show": ("mentor", ""),
    "page": ("mentor", ""),
    "followup": ("mentee", str(FOLLOWUP_STEP)),
    "close": ("mentee", ""),
}


def act(turn: Turn, what: str, arg: str) -> None:
    """Do what a question's choice says (`ACTS`): `arg` is the question id, or a page number."""
    from bot.engine import digest

    role, target = ACTS.get(what, ("", ""))
    if role != turn.profile.role:  # a prompt kept from a former role: the menu
        turn.enter(turn.home())
        return
    if what == "page":
        digest.page(turn, int(arg) if arg.isdecimal() else 1)
        return
    if what == "close":
        close(turn, arg)
        return
    if role == "mentor" and for_mentor(turn, arg) is None:
        turn.say("reply_unknown", qid=arg)
        return
    if what == "show":
        digest.show(turn, arg)
        return
    if role == "mentee" and own(turn, arg) is None:
        return
    turn.answers["qid"] = arg
    flow, _, step = target.partition(":")
    turn.enter(Target(flow, step))


@lru_cache(maxsize=64)
def _pattern(label: str) -> re.Pattern[str]:
    """A shortcut label as a pattern, folded and compiled once per label."""
    escaped = re.escape(fold(label)).replace(re.escape("{qid}"), r"(q\d+)")
    return re.compile(rf"^{escaped}$")


def shortcut(turn: Turn, text: str) -> bool:
    """A digest or answer choice typed in full later ("Répondre Q3", "Clore Q3"), or a question
    id alone for a mentor ("Q3": shows it): act on its question. True if used."""
    from bot.i18n import gettext

    folded = fold(text.strip())
    if "q" not in folded:
        return False
    step = turn.current()
    typing = step is not None and step.expect is not Expect.CHOICE  # "Q3" answers that step
    if turn.profile.role == "mentor" and not typing and _QID.match(folded):
        turn.journal(turn.party, "in", text.strip())
        act(turn, "show", folded.upper())
        return True
    texts = turn.engine.flows.texts
    for key, (role, what) in SHORTCUTS.items():
        if role != turn.profile.role:
            continue
        with turn.engine.catalogs.use(turn.profile.locale):
            labels = {texts[key], gettext(texts[key])}
        for label in labels:
            match = _pattern(label).match(folded)
            if match is None:
                continue
            turn.journal(turn.party, "in", text.strip())
            act(turn, what, match.group(1).upper())
            return True
    return False


_QID = re.compile(r"^q\d{1,9}$")
