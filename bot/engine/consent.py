"""Consent (the signature is the proof), its withdrawal, and erasure asked in the chat.

Withdrawing (`/retirer`) is as easy as signing and stops all processing but erasure and help;
`/start` signs again. `/oublier` asks for a confirmation, then removes every trace of the
person, the mentor's side included; the mentor is told that a mentee left.
"""

from __future__ import annotations

from bot.domain import PersonData
from bot.engine.turn import Turn

FORGET_CHOICES = ("forget_choice_yes", "forget_choice_no")
# Withdrawal stops all processing but these: signing again, help, erasure and export.
ALLOWED_WHEN_WITHDRAWN = frozenset({"start", "aide", "help", "oublier", "forget", "export"})


def withdrawn(person: PersonData) -> bool:
    """Withdrawn and not signed again since."""
    since = person.withdrawn_at
    if not since:
        return False
    return not any(s.at > since for s in person.signatures)


def withdraw(turn: Turn) -> None:
    turn.person.withdrawn_at = turn.now.isoformat()
    turn.state.clear()
    turn.journal(turn.party, "in", "", kind="consent_withdrawn")
    turn.say("withdrawn_done")


def ask_forget(turn: Turn) -> None:
    turn.state["pending"] = "forget"
    choices = tuple(turn.engine.flows.texts[k] for k in FORGET_CHOICES)
    turn.say("forget_confirm", choices=choices)


def forget_answer(turn: Turn, text: str) -> bool:
    """The answer to the erasure question. True when handled."""
    from bot.engine.choices import pick
    from bot.i18n import gettext

    texts = turn.engine.flows.texts
    with turn.engine.catalogs.use(turn.profile.locale):
        options = [(texts[k], gettext(texts[k])) for k in FORGET_CHOICES]
    index = pick(text, options)
    turn.state.pop("pending", None)
    if index != 1:
        turn.say("forget_cancelled")
        step = turn.current()
        if step is not None:
            turn.prompt(step)
        return True
    turn.erase = True
    turn.journaling = True  # the erased person's lines are dropped; the mentor's notice is kept
    mentor = turn.other(turn.profile.mentor) if turn.profile.mentor else None
    if mentor is not None:
        name = turn.profile.name or turn.profile.id
        turn.say("forget_mentor_notice", party=mentor, mentee=name, journal_params={"mentee": ""})
    turn.say("forget_done")
    return True
