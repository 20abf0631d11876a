"""The charter's version and signatures.

The version is a hash of the articles' French source text: a changed text is a new version,
and everyone is asked to sign again.
"""

from __future__ import annotations

import hashlib
from typing import Any

from bot.domain import PersonData
from bot.flows.model import FlowSet, Step, Target


def charter_version(flows: FlowSet) -> str:
    text = "\n\n".join(step.say or "" for step in flows.charter_articles())
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def signed(person: PersonData, version: str) -> bool:
    """Signed this version, and not withdrawn since."""
    since = person.withdrawn_at or ""
    return any(s.version == version and s.at > since for s in person.signatures)


# -- the charter as a conversation (issue 14, item 8) ------------------------------------------

# Keys of the person's state the charter uses (no text of the person is ever kept there).
SIGNED_ARTICLES = "charter_articles"  # article step -> digest of its text, at the signature
READING = "charter_at"  # the article being read: "Relire la charte" resumes there
SUSPENDED = "charter_resume"  # where the person was when a new charter interrupted them
CHANGED = "charter_changed"  # articles changed since the last signature, said once at home


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def article_digests(flows: FlowSet) -> dict[str, str]:
    """Each article step's id and the digest of its source text: what a signature covers."""
    return {step.id: _digest(step.say or "") for step in flows.charter_articles()}


def numbered(flows: FlowSet) -> list[Step]:
    """The articles to accept, in order: article steps offering a choice (accept or refuse).
    An article step with a single way on (the introduction) is not counted."""
    return [step for step in flows.charter_articles() if len(step.choices) > 1]


def position(flows: FlowSet, step: Step) -> tuple[int, int] | None:
    """(n, total) of an article to accept, e.g. (3, 6); None for any other step."""
    articles = numbered(flows)
    for index, article in enumerate(articles, start=1):
        if article.id == step.id and article.flow == step.flow:
            return index, len(articles)
    return None


def changed_since(flows: FlowSet, before: dict[str, Any]) -> list[Step]:
    """The article steps whose text differs from the digests kept at the last signature."""
    now = article_digests(flows)
    return [step for step in flows.charter_articles() if before.get(step.id) != now[step.id]]


def suspend(state: dict[str, Any], flows: FlowSet, home: Target) -> None:
    """Keep where the person was (flow, step, answers) before the charter gate takes them to
    sign again, unless they were at home: after the signature they come back there."""
    flow, step = state.get("flow"), state.get("step")
    answers = state.pop("answers", None)
    state.pop(READING, None)
    if not flow or not step or flow == flows.entry["charter"].flow:
        return
    if Target(str(flow), str(step)) == home or flows.step(Target(str(flow), str(step))) is None:
        return
    state[SUSPENDED] = {"flow": flow, "step": step, "answers": answers or {}}


def resume_point(state: dict[str, Any], flows: FlowSet) -> Target | None:
    """Where a suspended person goes back to (their answers restored); None if nowhere."""
    kept = state.pop(SUSPENDED, None)
    if not isinstance(kept, dict):
        return None
    target = Target(str(kept.get("flow")), str(kept.get("step")))
    if flows.step(target) is None:  # the flows changed meanwhile: home instead
        return None
    answers = kept.get("answers")
    state["answers"] = dict(answers) if isinstance(answers, dict) else {}
    return target
