"""A check never traps (issue 14): after repeated refusals, send as it is or rephrase.

A check of a flow step may carry `way_out_after: N`. When checks carrying it refuse the texts
typed for one step N times in a row, the person is told why (the check's error, as every
time) and offered the choice to send the text as it is, or to rephrase it. Sending it as it is
skips the checks that carry `way_out_after` (the others, such as `not_empty`, still apply).
Checks without it (an off-topic ask, a delegated decision) refuse every time: the way out is
the trainer's decision, written in the flow.

The refused text waits in `turn.state` (persisted with the person, like the answers of the
question being written, and only after the confidentiality screening), so the choice survives
a restart; any other text answers the step again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.engine.choices import pick
from bot.flows.model import CheckSpec, Step
from bot.i18n import gettext

if TYPE_CHECKING:
    from bot.engine.turn import Turn

PENDING = "way_out"
REFUSALS_KEY = "refusals"  # {"step": "flow:step", "count": n}
HELD_KEY = "way_out"  # {"step": "flow:step", "text": the refused text}
CHOICES = ("way_out_choice_send", "way_out_choice_rephrase")


def _where(step: Step) -> str:
    return f"{step.flow}:{step.id}"


def refused(turn: Turn, step: Step, spec: CheckSpec, text: str) -> bool:
    """Count a refusal at `step`; True when the way out was offered (after the error)."""
    limit = spec.params.get("way_out_after")
    if not isinstance(limit, int):
        return False
    where = _where(step)
    memory = turn.state.get(REFUSALS_KEY)
    count = 1
    if isinstance(memory, dict) and memory.get("step") == where:
        count = int(memory.get("count", 0)) + 1
    turn.state[REFUSALS_KEY] = {"step": where, "count": count}
    if count < limit:
        return False
    turn.state["pending"] = PENDING
    turn.state[HELD_KEY] = {"step": where, "text": text}
    texts = turn.engine.flows.texts
    turn.say("way_out_offer", choices=tuple(texts[key] for key in CHOICES))
    return True


def passed(turn: Turn) -> None:
    """The step was answered: the count starts again at the next step."""
    turn.state.pop(REFUSALS_KEY, None)
    clear(turn)


def clear(turn: Turn) -> None:
    if turn.state.get("pending") == PENDING:
        turn.state.pop("pending", None)
    turn.state.pop(HELD_KEY, None)


def waived(spec: CheckSpec) -> bool:
    """A check that sending as it is skips."""
    return isinstance(spec.params.get("way_out_after"), int)


def answer(turn: Turn, text: str) -> bool:
    """The answer to the offer. True when the turn is fully answered by it; False when the
    text is a new answer to the step (handled as such)."""
    held: Any = turn.state.get(HELD_KEY)
    step = turn.current()
    if not isinstance(held, dict) or step is None or held.get("step") != _where(step):
        clear(turn)
        return False
    texts = turn.engine.flows.texts
    with turn.engine.catalogs.use(turn.profile.locale):
        options = [(texts[key], gettext(texts[key])) for key in CHOICES]
    index = pick(text, options)
    if index is None:
        # A new version of the text: judged as the step's answer. The offer stays until the
        # step is answered (an emoji or a held text does not withdraw it).
        return False
    clear(turn)
    turn.journal(turn.party, "in", turn.text(CHOICES[index - 1]))
    if CHOICES[index - 1] == "way_out_choice_rephrase":
        turn.prompt(step)
        return True
    turn.say("way_out_sent")
    turn.engine.accept_text(turn, step, str(held.get("text", "")), as_is=True)
    return True
