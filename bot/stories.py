"""`mentorbot flows test`: YAML conversation stories that trainers write without Python.

A story is a list of steps; each step is something a person says (or a tick of the clock) at
a given time, and what the bot must answer. It runs through the same `Simulator` as
`mentorbot simulate`.

    story: Alice pose une question avant l'ouverture
    config: {}                      # optional overrides of the embedded defaults
    steps:
      - at: "2026-11-30T07:00:00+01:00"
        from: console:alice
        say: Bonjour
        expect:
          - contains: Bienvenue            # to the sender unless `to:` says otherwise
          - contains: Charte d'usage
            choices: [Lire l'article 1]
      - at: "2026-11-30T08:00:00+01:00"
        tick: true
        expect:
          - to: console:bob
            contains: Synthèse
      - at: ...
        from: console:alice
        say: "..."
        expect: nothing                    # the bot must stay silent
      - at: ...
        from: console:bob
        press: Répondre Q1                 # the button of the last message showing it

The whole story runs on one engine and one virtual clock, in a fresh temporary store.
Expectations are matched in order against the messages the step produced; other messages in
between are allowed. A failure prints a readable diff of what was expected and what was sent.
"""

from __future__ import annotations

import difflib
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from bot.config import PROJECT_ROOT, Config, load_config, parse_config
from bot.errors import UserError
from bot.transports.simulate import Simulator, parse_script

STEP_KEYS = {"at", "from", "say", "press", "attachment", "tick", "expect", "id"}
EXPECT_KEYS = {"to", "contains", "choices", "not_contains", "equals"}
DEFAULT_DIR = PROJECT_ROOT / "stories"


class StoryError(UserError):
    """A malformed story file: names the file and the step."""


@dataclass
class StoryResult:
    name: str
    path: Path
    failures: list[str]

    @property
    def ok(self) -> bool:
        return not self.failures


def story_config(path: Path, raw: Any, base: Path | None, data: Path) -> Config:
    if raw is not None and not isinstance(raw, dict):
        raise StoryError(f"{path}: 'config' must be a mapping")
    if raw:
        merged: dict[str, Any] = {}
        if base is not None:
            merged = yaml.safe_load(base.read_text(encoding="utf-8")) or {}
        merged.update(raw)
        config = parse_config(
            yaml.safe_dump(merged, allow_unicode=True),
            f"{path}:config",
            base_dir=(base.parent if base else PROJECT_ROOT),
        )
    else:
        config = load_config(base) if base else Config()
    return config.model_copy(update={"storage": config.storage.model_copy(update={"path": data})})


def events_of(path: Path, steps: Any) -> list[tuple[dict[str, Any], Any]]:
    if not isinstance(steps, list) or not steps:
        raise StoryError(f"{path}: 'steps' must be a non-empty list")
    out: list[tuple[dict[str, Any], Any]] = []
    for i, step in enumerate(steps, 1):
        if not isinstance(step, dict):
            raise StoryError(f"{path}: step {i}: must be a mapping")
        unknown = sorted(set(step) - STEP_KEYS)
        if unknown:
            raise StoryError(f"{path}: step {i}: unknown key {unknown[0]!r}")
        event: dict[str, Any] = {"at": str(step.get("at", ""))}
        if step.get("tick"):
            event["tick"] = True
        else:
            event["from"] = step.get("from")
            if "attachment" in step:
                event["attachment"] = step["attachment"]
            elif "press" in step:  # resolved when it runs: the button of a message sent before
                event["text"] = ""
                event["press"] = str(step["press"])
            else:
                event["text"] = str(step.get("say", ""))
            if "id" in step:
                event["id"] = str(step["id"])
        out.append((event, step.get("expect", [])))
    return out


def matches(expect: dict[str, Any], message: dict[str, Any], sender: str | None) -> bool:
    if message["to"] != expect.get("to", sender):
        return False
    text = message["text"]
    if "contains" in expect and str(expect["contains"]) not in text:
        return False
    if "equals" in expect and str(expect["equals"]).strip() != text.strip():
        return False
    if "not_contains" in expect and str(expect["not_contains"]) in text:
        return False
    return not (
        "choices" in expect and [str(c) for c in expect["choices"]] != message.get("choices", [])
    )


def _show(messages: list[dict[str, Any]]) -> list[str]:
    lines = []
    for m in messages:
        first = m["text"].splitlines()[0] if m["text"] else ""
        choices = f"  [{' | '.join(m['choices'])}]" if m.get("choices") else ""
        lines.append(f"→ {m['to']}: {first}{choices}")
    return lines


def _describe(expects: list[dict[str, Any]], sender: str | None) -> list[str]:
    lines = []
    for e in expects:
        parts = [
            f"contains {e['contains']!r}" if "contains" in e else "",
            f"equals {e['equals']!r}" if "equals" in e else "",
            f"not containing {e['not_contains']!r}" if "not_contains" in e else "",
            f"[{' | '.join(map(str, e['choices']))}]" if "choices" in e else "",
        ]
        lines.append(f"→ {e.get('to', sender)}: " + " ".join(p for p in parts if p))
    return lines


def _button(shown: list[dict[str, Any]], pid: str, label: str) -> tuple[str, int] | None:
    """The key and number of the button `label` on the last message to `pid` showing it."""
    for message in reversed(shown):
        choices = message.get("choices", [])
        if message["to"] == pid and label in choices and message.get("prompt"):
            return str(message["prompt"]), choices.index(label) + 1
    return None


def run_story(path: Path, base_config: Path | None = None) -> StoryResult:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise StoryError(f"{path}: cannot read the story: {exc}") from None
    if not isinstance(doc, dict) or "steps" not in doc:
        raise StoryError(f"{path}: a story is a mapping with 'story' and 'steps'")
    name = str(doc.get("story", path.stem))
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="mentorbot-story-") as tmp:
        config = story_config(path, doc.get("config"), base_config, Path(tmp) / "data")
        steps = events_of(path, doc["steps"])
        lines = [json.dumps({k: v for k, v in event.items() if k != "press"}) for event, _ in steps]
        parsed = parse_script(lines, f"{path}: step")
        simulator = Simulator(config, parsed[0].at)
        shown: list[dict[str, Any]] = []
        try:
            for number, ((event, expect), item) in enumerate(zip(steps, parsed, strict=True), 1):
                sender = event.get("from")
                said = event.get("text", "tick" if event.get("tick") else event.get("attachment"))
                if "press" in event:
                    label = str(event["press"])
                    said = f"[{label}]"
                    button = _button(shown, str(sender), label)
                    if button is None:
                        failures.append(f"step {number}: no button {label!r} was shown to "
                                        f"{sender}")
                        continue
                    item = replace(item, text=str(button[1]), prompt=button[0])
                sent = [json.loads(line) for line in simulator.feed(item)]
                shown.extend(sent)
                what = f"step {number} ({said!r} at {event['at']})"
                if expect == "nothing":
                    if sent:
                        failures.append(
                            f"{what}: expected no message, got:\n  " + "\n  ".join(_show(sent))
                        )
                    continue
                if isinstance(expect, dict):
                    expect = [expect]
                if not isinstance(expect, list) or not all(isinstance(e, dict) for e in expect):
                    raise StoryError(
                        f"{path}: step {number}: 'expect' must be a list of checks or 'nothing'"
                    )
                for e in expect:
                    unknown = sorted(set(e) - EXPECT_KEYS)
                    if unknown:
                        raise StoryError(
                            f"{path}: step {number}: unknown expectation {unknown[0]!r}"
                        )
                position = 0
                for e in expect:
                    while position < len(sent) and not matches(e, sent[position], sender):
                        position += 1
                    if position == len(sent):
                        diff = difflib.unified_diff(
                            _describe(expect, sender), _show(sent), "expected", "sent", lineterm=""
                        )
                        failures.append(f"{what}:\n  " + "\n  ".join(diff))
                        break
                    position += 1

        finally:
            simulator.close()
    return StoryResult(name=name, path=path, failures=failures)


def collect_stories(paths: list[Path]) -> list[Path]:
    if not paths:
        paths = [DEFAULT_DIR]
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(p.glob("*.yaml")))
        elif p.exists():
            out.append(p)
        else:
            raise StoryError(f"{p}: no such story")
    if not out:
        raise StoryError("no story found")
    return out


def run_stories(paths: list[Path], base_config: Path | None, echo: Callable[[str], None]) -> int:
    """Run the stories; print one line per story and a diff per failure. Returns failures."""
    failed = 0
    for path in collect_stories(paths):
        result = run_story(path, base_config)
        if result.ok:
            echo(f"ok    {path.name}: {result.name}")
        else:
            failed += 1
            echo(f"FAIL  {path.name}: {result.name}")
            for failure in result.failures:
                echo("  " + failure.replace("\n", "\n  "))
    echo(f"{len(collect_stories(paths)) - failed} passed, {failed} failed")
    return failed
