"""Commands in the chat (`/aide`, `/journal`, `/digest`, `/repondre`...), by role."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.engine import actions, consent, digest, questions
from bot.engine.turn import Turn
from bot.flows.contract import ANSWER_STEP

_REPLY = re.compile(r"^\s*(q\d+)\s+(.+)$", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class Command:
    roles: frozenset[str] | None  # None: anyone
    needs_charter: bool
    run: Callable[[Turn, str], None]


def _help(turn: Turn, args: str) -> None:
    actions.show_help(turn)
    step = turn.current()
    if step is not None and step.choices:
        turn.prompt(step)


def _start(turn: Turn, args: str) -> None:
    from bot.engine.charter import signed

    if signed(turn.person, turn.engine.charter_version):
        turn.enter(turn.home())
        return
    turn.say("charter_changed" if turn.person.signatures else "charter_first")
    turn.enter(turn.engine.flows.entry["charter"])


def _journal(turn: Turn, args: str) -> None:
    actions.show_journal(turn)


def _digest(turn: Turn, args: str) -> None:
    digest.on_demand(turn)


def _reply(turn: Turn, args: str) -> None:
    """`/repondre Q<n> text`: the same as the answer step of the mentor flow, with its checks and
    the confidentiality policy, in one message."""
    match = _REPLY.match(args)
    if not match:
        turn.say("reply_usage")
        return
    qid = match.group(1).upper()
    if questions.for_mentor(turn, qid) is None:
        turn.say("reply_unknown", qid=qid)
        return
    step = turn.engine.flows.step(ANSWER_STEP)
    if step is None:  # never with validated flows (bot.flows.contract): never unscreened
        turn.say("reply_usage")
        return
    turn.answers["qid"] = qid
    turn.state["flow"], turn.state["step"] = step.flow, step.id
    turn.engine.answer_step(turn, step, match.group(2).strip())


# An absence longer than this is a typo in the year, not a plan (and it would close the
# calendar beyond what `next_opening` searches).
_LONGEST_ABSENCE_DAYS = 366

_DATE_ERRORS = {
    "empty": "absence_usage",
    "unknown": "absence_bad_date",
    "invalid": "absence_invalid_date",
    "too_many": "absence_too_many",
    "order": "absence_order",
}


def _absence(turn: Turn, args: str) -> None:
    """`/absence DATES` closes the mentor's hours on those dates (one date or a range, typed
    as people do: 21/12, 21/12/2026, 21 déc., du 21/12 au 3/01); `/absence` lists them;
    `/absence annuler` removes those not yet over. The range understood is said back."""
    from datetime import date

    from bot.domain import Absence
    from bot.i18n.dates import DateError, parse_date_range

    stored = turn.person.absences
    words = args.split()
    today = turn.now.astimezone(turn.engine.calendar.tz).date()
    if not words:
        current = [
            turn.text("absence_item", since=turn.when_day(date.fromisoformat(a.start)),
                      until=turn.when_day(date.fromisoformat(a.end)))
            for a in stored if date.fromisoformat(a.end) >= today
        ]
        if current:
            turn.say("absence_list", items="\n".join(current))
        else:
            turn.say("absence_none")
        return
    if len(words) == 1 and words[0].casefold() in ("annuler", "cancel", "aucune", "none"):
        stored[:] = [a for a in stored if date.fromisoformat(a.end) < today]
        turn.say("absence_cleared")
        return
    try:
        start, end = parse_date_range(args, today)
    except DateError as error:
        if error.dates is not None:
            first, last = error.dates
            turn.say(_DATE_ERRORS[error.kind], since=turn.when_day(first),
                     until=turn.when_day(last))
        else:
            # What is echoed was typed by the mentor: mask anything identifying first.
            turn.say(_DATE_ERRORS[error.kind], text=turn.engine.guard.redact(turn, error.text))
        return
    since, until = turn.when_day(start), turn.when_day(end)
    if end < today:
        turn.say("absence_past", since=since, until=until)
        return
    if (end - start).days >= _LONGEST_ABSENCE_DAYS:
        turn.say("absence_too_long", since=since, until=until)
        return
    stored.append(Absence(start.isoformat(), end.isoformat()))
    if start == end:
        turn.say("absence_added_day", since=since)
    else:
        turn.say("absence_added", since=since, until=until)


def _forget(turn: Turn, args: str) -> None:
    consent.ask_forget(turn)


def _withdraw(turn: Turn, args: str) -> None:
    consent.withdraw(turn)


def _export(turn: Turn, args: str) -> None:
    from bot.engine.exports import in_chat

    in_chat(turn)


def _console_only(turn: Turn, args: str) -> None:
    turn.say("console_only", command="/as")


COMMANDS: dict[str, Command] = {
    "start": Command(None, False, _start),
    "aide": Command(None, False, _help),
    "help": Command(None, False, _help),
    "journal": Command(frozenset({"mentee"}), True, _journal),
    "digest": Command(frozenset({"mentor"}), True, _digest),
    "absence": Command(frozenset({"mentor"}), True, _absence),
    "repondre": Command(frozenset({"mentor"}), True, _reply),
    "reply": Command(frozenset({"mentor"}), True, _reply),
    "oublier": Command(None, False, _forget),
    "forget": Command(None, False, _forget),
    "retirer": Command(None, True, _withdraw),
    "withdraw": Command(None, True, _withdraw),
    # Export always works, withdrawn or not yet signed: it is the person's own data.
    "export": Command(frozenset({"mentee"}), False, _export),
    "as": Command(None, False, _console_only),
}


def parse(text: str) -> tuple[str, str] | None:
    """`/name args` -> (name, args); None when the text is not a command."""
    stripped = text.strip()
    if not stripped.startswith("/") or stripped.startswith("//"):
        return None
    head, _, args = stripped[1:].partition(" ")
    name = head.split("@", 1)[0].casefold()  # Telegram adds @botname in groups
    return name, args.strip()


def dispatch(turn: Turn, name: str, args: str, signed: bool) -> None:
    command = COMMANDS.get(name)
    shown = f"/{name}"
    if command is None:
        # Issue 13: an unknown command is echoed (and journaled) only once judged, masked.
        shown = turn.engine.guard.redact(turn, shown)
        turn.say(
            "unknown_command", command=shown, commands=turn.text(f"commands_{turn.profile.role}")
        )
        return
    if command.roles is not None and turn.profile.role not in command.roles:
        turn.say("command_not_allowed", command=shown)
        return
    if command.needs_charter and not signed:
        turn.say("command_needs_charter", command=shown)
        return
    command.run(turn, args)
