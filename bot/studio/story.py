"""A studio session as a YAML story (the format `mentorbot flows test` runs), and back.

Each message typed or button pressed becomes a step `{at, from, say}`; each move of the clock
that made the bot speak becomes a tick. What the bot sent at that step becomes its
expectations: recipient, first line, choices.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.messages import Outbound
from bot.stories import StoryError, events_of, matches
from bot.transports.simulate import Event, parse_script

MAX_CONTAINS = 80


@dataclass
class Step:
    """One recorded step: a person's message (`say`) or a tick of the clock."""

    at: str
    sender: str | None = None
    say: str | None = None
    sent: list[Outbound] = field(default_factory=list)

    def to_yaml(self) -> dict[str, Any]:
        step: dict[str, Any] = {"at": self.at}
        if self.sender is None:
            step["tick"] = True
        else:
            step["from"], step["say"] = self.sender, self.say
        step["expect"] = [expectation(o, self.sender) for o in self.sent] or "nothing"
        return step


def expectation(out: Outbound, sender: str | None) -> dict[str, Any]:
    first = next((line.strip() for line in out.text.splitlines() if line.strip()), "")
    check: dict[str, Any] = {}
    if out.to != sender:
        check["to"] = out.to
    if first:
        check["contains"] = first[:MAX_CONTAINS]
    if out.choices:
        check["choices"] = list(out.choices)
    return check


def slug(name: str) -> str:
    """A file name from a story's name: "Boucle complète" -> "boucle-complete"."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    cleaned = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")
    return cleaned[:60] or "studio"


def write(directory: Path, name: str, steps: list[Step], config: dict[str, Any] | None) -> Path:
    """Write the story as `<directory>/<slug>.yaml` (never over another file)."""
    if not any(s.sender for s in steps):
        raise StoryError("nothing to save: no one has written yet")
    directory.mkdir(parents=True, exist_ok=True)
    base = slug(name)
    path, number = directory / f"{base}.yaml", 1
    while path.exists():
        number += 1
        path = directory / f"{base}-{number}.yaml"
    doc: dict[str, Any] = {"story": name}
    if config:
        doc["config"] = config
    doc["steps"] = [s.to_yaml() for s in steps]
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=1000),
                    encoding="utf-8")
    return path


def deployment(config_path: Path | None) -> dict[str, Any] | None:
    """What a story must carry of the studio's config file (its roster, hours...): all but the
    store, the server and the transports, which a story never uses."""
    if config_path is None or not config_path.exists():
        return None
    raw = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        return None
    return {k: v for k, v in raw.items()
            if k not in ("storage", "server", "transports", "paths")} or None


@dataclass
class Loaded:
    """A story read back, to replay step by step."""

    name: str
    path: Path
    config: Any
    events: list[Event]
    expects: list[Any]


def load(path: Path) -> Loaded:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise StoryError(f"{path}: cannot read the story: {exc}") from None
    if not isinstance(doc, dict) or "steps" not in doc:
        raise StoryError(f"{path}: a story is a mapping with 'story' and 'steps'")
    steps = events_of(path, doc["steps"])
    events = parse_script([json.dumps(event) for event, _ in steps], f"{path}: step")
    return Loaded(str(doc.get("story", path.stem)), path, doc.get("config"), events,
                  [expect for _, expect in steps])


def check(expect: Any, sent: list[Outbound], sender: str | None) -> bool:
    """Whether what a replayed step sent meets its expectations (as `flows test` judges)."""
    messages = [{"to": o.to, "text": o.text, "choices": list(o.choices)} for o in sent]
    if expect == "nothing":
        return not messages
    expects = [expect] if isinstance(expect, dict) else expect
    if not isinstance(expects, list):
        return False
    position = 0
    for e in expects:
        while position < len(messages) and not matches(e, messages[position], sender):
            position += 1
        if position == len(messages):
            return False
        position += 1
    return True
