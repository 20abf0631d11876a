"""Shared fixtures: configs in a temporary data directory, and a scripted conversation runner
that uses the real `simulate` (virtual clock, JSON Lines in and out)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from bot.config import Config, parse_config
from bot.transports.simulate import parse_script, simulate

ROOT = Path(__file__).resolve().parent.parent

BASE_CONFIG = """
locale: fr
timezone: Europe/Paris
people:
  - {id: "console:bob", role: mentor, name: "Bob Martin"}
  - {id: "console:alice", role: mentee, name: "Alice Durand", mentor: "console:bob", locale: fr}
  - {id: "console:emma", role: mentee, name: "Emma Smith", mentor: "console:bob", locale: en}
"""

ARTICLES = 6


def make_config(tmp_path: Path, text: str = BASE_CONFIG) -> Config:
    config = parse_config(text, "test-config.yaml")
    return config.model_copy(
        update={"storage": config.storage.model_copy(update={"path": tmp_path / "data"})}
    )


class Conversation:
    """Feeds events to `simulate` and keeps every line it printed."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.lines: list[dict[str, Any]] = []

    def run(self, events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        script = [json.dumps(e, ensure_ascii=False) for e in events]
        out = io.StringIO()
        simulate(self.config, parse_script(script, "test"), out)
        got = [json.loads(line) for line in out.getvalue().splitlines()]
        self.lines.extend(got)
        return got


def say(at: str, who: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"at": at, "from": who, "text": text, **extra}


def signing(who: str, name: str, start: str = "2026-11-30T07:00") -> list[dict[str, Any]]:
    """The events of a person reading and signing the charter, a second apart."""
    texts = ["Bonjour", "1"] + ["1"] * ARTICLES + [name]
    return [say(f"{start}:{i:02d}+01:00", who, t) for i, t in enumerate(texts)]


QUESTION_FR = [
    "Poser une question",
    "Dans mon équipe, une collègue conteste systématiquement les priorités fixées en réunion.",
    "J'ai essayé d'en parler avec elle après la réunion ; je pense qu'elle se sent exclue.",
    "J'hésite entre l'associer à la préparation ou recadrer : quel regard sur ma posture ?",
    "Envoyer",
]

QUESTION_EN = [
    "Ask a question",
    "In my team, a colleague keeps questioning the priorities I set in our weekly meeting.",
    "I tried to talk with her after the meeting and I think she feels left out of decisions.",
    "I hesitate between involving her earlier or reframing: how do you see my stance?",
    "Send",
]


def asking(
    who: str, texts: list[str], start: str = "2026-11-30T07:30", offset: str = "+01:00"
) -> list[dict[str, Any]]:
    return [say(f"{start}:{i:02d}{offset}", who, t) for i, t in enumerate(texts)]


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path)


@pytest.fixture
def conversation(config: Config) -> Conversation:
    return Conversation(config)


@pytest.fixture
def new_conversation(tmp_path: Path) -> Callable[[str], Conversation]:
    def build(text: str = BASE_CONFIG) -> Conversation:
        return Conversation(make_config(tmp_path, text))

    return build


from tests.pgdb import pg_url  # noqa: E402, F401 - the fixture, for every test module
