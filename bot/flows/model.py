"""A loaded flow: immutable definitions that the engine interprets."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.flows.yamlsrc import Where


class Expect(StrEnum):
    TEXT = "text"      # free text, checked, maybe saved
    CHOICE = "choice"  # one of the labelled options
    NONE = "none"      # nothing: the step says its text and moves on


@dataclass(frozen=True, slots=True)
class Target:
    """Where to go: a step of a flow, or the person's home (`@home`)."""

    flow: str | None  # None for `@home`
    step: str | None

    @property
    def is_home(self) -> bool:
        return self.flow is None

    def __str__(self) -> str:
        return "@home" if self.is_home else f"{self.flow}:{self.step}"


@dataclass(frozen=True, slots=True)
class CheckSpec:
    name: str
    error: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Choice:
    label: str
    next: Target
    action: str | None = None


@dataclass(frozen=True, slots=True)
class Step:
    id: str
    flow: str
    where: Where
    say: str | None = None
    again: str | None = None  # said instead of `say` once the person has seen the step
    expect: Expect = Expect.NONE
    choices: tuple[Choice, ...] = ()
    checks: tuple[CheckSpec, ...] = ()
    save: str | None = None
    action: str | None = None
    next: Target | None = None
    policies: tuple[str, ...] = ()
    article: bool = False
    # Under the confidentiality policy: every free-text step unless it opts out in its YAML.
    confidential: bool = False

    def trigger(self, index: int | None = None) -> str:
        """The `transitions` event that leaves this step (by choice `index`, or by answer)."""
        return f"choose_{index}" if index is not None else "advance"


@dataclass(frozen=True, slots=True)
class Flow:
    name: str
    start: str
    steps: dict[str, Step]
    where: Where
    description: str = ""


@dataclass(frozen=True, slots=True)
class FlowSet:
    """Every flow and text of a deployment, validated together."""

    flows: dict[str, Flow]
    texts: dict[str, str]
    homes: dict[str, Target]
    entry: dict[str, Target]  # entry points the engine needs: "charter"
    sources: tuple[str, ...] = ()
    plurals: dict[str, str] = field(default_factory=dict)  # key -> plural form of texts[key]

    def step(self, target: Target) -> Step | None:
        flow = self.flows.get(target.flow or "")
        return flow.steps.get(target.step or "") if flow else None

    def charter_articles(self) -> list[Step]:
        """The article steps of the charter flow, in order (their texts make the version)."""
        charter = self.flows.get(self.entry["charter"].flow or "")
        return [s for s in charter.steps.values() if s.article] if charter else []
