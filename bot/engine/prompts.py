"""The choices shown to a person: what a typed number or a pressed button answers.

Every message that offers choices is a prompt with a key of its own (`Outbound.meta["prompt"]`,
carried by each of its buttons). The prompts a person was last shown are kept in their durable
state (`state["prompts"]`), so that:

- a typed number or label answers the choices shown last ("1" under a digest's
  "1. Répondre Q1" answers Q1, not the menu the mentor was in before the digest came);
- a pressed button answers the prompt it belongs to, while that prompt is current: the prompts
  sent together (one digest, one turn) stay current together until the person is shown new
  choices; the prompt of a flow step stays current while the person is at that step;
- an old button says it is no longer current and shows what is.

A prompt's choices either answer the person's flow step or pending question (the default), or
each does something on a question (`options`: "reply Q3", "close Q3", "show Q3", "page 2").
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from bot.domain import PersonData
from bot.engine.choices import pick

STATE_KEY = "prompts"
MAX_LIVE = 12  # a digest's messages with choices, plus the step's prompt


@dataclass(frozen=True, slots=True)
class Prompt:
    """One message with choices, as kept in the person's state."""

    key: str
    labels: tuple[str, ...]
    options: tuple[tuple[str, str], ...] | None = None  # (what, argument) per choice
    step: str | None = None  # "flow:step" when it is that step's prompt

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "labels": list(self.labels)}
        if self.options is not None:
            out["options"] = [list(o) for o in self.options]
        if self.step is not None:
            out["step"] = self.step
        return out

    @classmethod
    def from_json(cls, raw: object) -> Prompt | None:
        if not isinstance(raw, dict) or not isinstance(raw.get("key"), str):
            return None
        labels = raw.get("labels")
        options = raw.get("options")
        step = raw.get("step")
        return cls(
            key=raw["key"],
            labels=tuple(str(x) for x in labels) if isinstance(labels, list) else (),
            options=(
                tuple((str(o[0]), str(o[1])) for o in options
                      if isinstance(o, list) and len(o) == 2)
                if isinstance(options, list) else None
            ),
            step=step if isinstance(step, str) else None,
        )


def key_of(outbound_key: str) -> str:
    """A prompt's key: short and ASCII (Telegram callback data is at most 64 bytes)."""
    return hashlib.blake2s(outbound_key.encode("utf-8"), digest_size=5).hexdigest()


def _step_of(data: PersonData) -> str | None:
    flow, step = data.state.get("flow"), data.state.get("step")
    return f"{flow}:{step}" if flow and step else None


def _stored(data: PersonData) -> tuple[str, list[Prompt]]:
    raw = data.state.get(STATE_KEY)
    if not isinstance(raw, dict):
        return "", []
    items = raw.get("live")
    live = [p for p in (Prompt.from_json(x) for x in (items if isinstance(items, list) else []))
            if p is not None]
    batch = raw.get("batch")
    return (batch if isinstance(batch, str) else ""), live


def live(data: PersonData) -> list[Prompt]:
    """The person's current prompts, oldest first (a step's prompt only while at that step)."""
    here = _step_of(data)
    return [p for p in _stored(data)[1] if p.step is None or p.step == here]


def latest(data: PersonData) -> Prompt | None:
    """The choices shown last, when still current."""
    stored = _stored(data)[1]
    if not stored:
        return None
    last = stored[-1]
    return last if last.step is None or last.step == _step_of(data) else None


def ambiguous(data: PersonData) -> bool:
    """Several messages with their own choices are current together (a digest of several
    questions, each "1. Répondre Qn"): a bare number could mean any of them."""
    return sum(1 for p in live(data) if p.options is not None) > 1


def find(data: PersonData, key: str) -> Prompt | None:
    for prompt in live(data):
        if prompt.key == key:
            return prompt
    return None


def register(data: PersonData, batch: str, prompt: Prompt) -> None:
    """`prompt` was just shown. The first prompt of a new batch (turn, digest) ends the
    previous batch's; a step's prompt stays while the person is at that step."""
    old_batch, stored = _stored(data)
    if any(p.key == prompt.key for p in stored):
        batch = old_batch  # shown again (after an old button): its batch stays current
    elif old_batch != batch:
        here = _step_of(data)
        stored = [p for p in stored if p.step is not None and p.step == here]
    stored = [p for p in stored if p.key != prompt.key]
    stored.append(prompt)
    data.state[STATE_KEY] = {"batch": batch, "live": [p.to_json() for p in stored[-MAX_LIVE:]]}


def resolve(prompt: Prompt, text: str) -> int | None:
    """The 1-based choice of `prompt` that a typed `text` names (number, label, beginning)."""
    return pick(text, [(label,) for label in prompt.labels])
