"""The mentor's digest: the pending questions of their mentees, at opening times only.

A question appears in every digest until it is answered; from its second appearance on it is
marked as waiting since it was first shown.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.engine.consent import withdrawn
from bot.engine.texts import fill
from bot.engine.turn import Party, Turn
from bot.i18n import gettext

PENDING = ("sent", "read")


def pending(turn: Turn, mentor: Party) -> list[tuple[Party, dict[str, Any]]]:
    out: list[tuple[Party, dict[str, Any]]] = []
    for profile in turn.engine.directory.mentees_of(mentor.profile.id):
        mentee = turn.other(profile.id)
        if mentee is None or withdrawn(mentee.data):
            continue
        for question in mentee.data.questions:
            if question.get("status") in PENDING:
                out.append((mentee, question))
    out.sort(key=lambda item: item[1]["submitted_at"])
    return out


def unreported_flags(turn: Turn, mentor: Party) -> list[tuple[Party, dict[str, Any]]]:
    """Distress flags of the mentor's mentees not yet shown to the mentor (no message text)."""
    out: list[tuple[Party, dict[str, Any]]] = []
    for profile in turn.engine.directory.mentees_of(mentor.profile.id):
        mentee = turn.other(profile.id)
        if mentee is None:
            continue
        out.extend(
            (mentee, f)
            for f in mentee.data.meta.get("flags", [])
            if _not_yet(f.get("reported"), turn.source)
        )
    return out


def _not_yet(marked_by: Any, source: str) -> bool:
    """Not shown yet, or marked by this very digest: a digest replayed after a crash (the
    mentee saved, the mentor not) shows again what its first run had marked."""
    return not marked_by or marked_by == source


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
        flag["reported"] = turn.source
        turn.say(
            "digest_flag",
            party=mentor,
            kind=turn.text(f"flag_{flag['level']}", party=mentor),
            mentee=mentee.profile.name or mentee.profile.id,
            date=turn.when(datetime.fromisoformat(flag["at"]), party=mentor),
        )
    for mentee, question in items:
        text = turn.text(
            "digest_question",
            party=mentor,
            qid=question["id"],
            mentee=mentee.profile.name or mentee.profile.id,
            date=turn.when(datetime.fromisoformat(question["submitted_at"]), party=mentor),
            context=question.get("context", ""),
            analysis=question.get("analysis", ""),
            ask=question.get("ask", ""),
        )
        text += thread(turn, mentor, question)
        first_shown = question.get("read_at")
        if first_shown and not _not_yet(question.get("read_in"), turn.source):
            since = turn.when(datetime.fromisoformat(first_shown), party=mentor, short=True)
            text += "\n\n" + turn.text("digest_waiting", party=mentor, since=since)
        else:
            question["status"] = "read"
            question["read_at"] = turn.now.isoformat()
            question["read_in"] = turn.source
        texts = turn.engine.flows.texts
        with turn.engine.catalogs.use(mentor.profile.locale):
            choices = tuple(
                fill(gettext(texts[k]), {"qid": question["id"]})
                for k in ("digest_choice_reply", "digest_choice_redirect")
            )
        turn.send(mentor, text, choices, kind="digest", qid=question["id"])
    return 1 + len(flagged) + len(items)


def thread(turn: Turn, mentor: Party, question: dict[str, Any]) -> str:
    """Earlier answers and the mentee's follow-ups, in time order, under the question."""
    events = [(a["at"], "digest_answer", a["text"]) for a in question.get("answers", [])]
    events += [(f["at"], "digest_followup", f["text"]) for f in question.get("followups", [])]
    lines = [
        turn.text(
            key,
            party=mentor,
            text=text,
            date=turn.when(datetime.fromisoformat(at), party=mentor, short=True),
        )
        for at, key, text in sorted(events)
    ]
    return "".join("\n\n" + line for line in lines)


def on_demand(turn: Turn) -> None:
    """`/digest`: the pending questions now, inside the mentor's opening hours only."""
    engine = turn.engine
    absences = engine.absences(turn.profile)
    if not engine.calendar.is_open(turn.now, absences):
        opening = engine.calendar.next_opening(turn.now, absences)
        turn.say("digest_closed", when=turn.when(opening))
        return
    deliver(turn, turn.party, empty_notice=True)
