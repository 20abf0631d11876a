"""Issue 14, item 15: the README gets a newcomer through. Every YAML and JSON example parses
(the configuration example as a configuration), every link leads to a file of the repository
or a heading of the README, and it says how to call `mentorbot` after `make demo`."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.config import parse_config
from bot.flows.loader import STEP_KEYS
from bot.flows.yamlsrc import load_located_text
from tests.conftest import ROOT

README = ROOT / "README.md"
TEXT = README.read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```(\w*)\n(.*?)^```", TEXT, flags=re.DOTALL | re.MULTILINE)
YAML_BLOCKS = [body for lang, body in BLOCKS if lang == "yaml"]
LINKS = re.findall(r"\]\(([^)\s]+)\)", TEXT)


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


ANCHORS = {slug(h) for h in re.findall(r"^#+ (.+)$", TEXT, flags=re.MULTILINE)}


def test_the_readme_has_yaml_examples() -> None:
    assert len(YAML_BLOCKS) >= 2


@pytest.mark.parametrize("body", YAML_BLOCKS, ids=lambda b: b.splitlines()[0][:30])
def test_every_yaml_example_parses(body: str) -> None:
    assert yaml.safe_load(body) is not None
    load_located_text(body, "README.md")  # the loader the bot uses: no SourceError


def test_the_configuration_example_is_a_valid_configuration() -> None:
    config_blocks = [b for b in YAML_BLOCKS if b.startswith("locale:")]
    assert len(config_blocks) == 1
    config = parse_config(config_blocks[0], "README.md")
    assert config.transports.telegram.enabled is False
    assert config.digest.times


def test_the_flow_example_uses_only_known_step_keys() -> None:
    flow_blocks = [yaml.safe_load(b) for b in YAML_BLOCKS if b.startswith("flow:")]
    assert len(flow_blocks) == 1
    for step in flow_blocks[0]["steps"].values():
        assert set(step) <= STEP_KEYS


def test_every_json_example_line_parses() -> None:
    for lang, body in BLOCKS:
        if lang == "json":
            for line in body.splitlines():
                assert isinstance(json.loads(line), dict)


def tracked(path: Path) -> bool:
    """In git's index when this is a clone (what a fresh clone has); else present."""
    if not (ROOT / ".git").exists():
        return path.exists()
    done = subprocess.run(["git", "ls-files", "--error-unmatch", str(path.relative_to(ROOT))],
                          cwd=ROOT, capture_output=True, timeout=30)
    return done.returncode == 0 or (path.is_dir() and any(path.iterdir()))


@pytest.mark.parametrize("link", [link for link in LINKS if not link.startswith("http")])
def test_every_link_leads_inside_a_fresh_clone(link: str) -> None:
    if link.startswith("#"):
        assert link[1:] in ANCHORS, f"no heading for {link}"
        return
    target = (ROOT / link.split("#")[0]).resolve()
    assert target.is_relative_to(ROOT), f"{link} leads outside the repository"
    assert tracked(target), f"{link}: not in the repository"


def test_it_says_how_to_call_mentorbot_after_make_demo() -> None:
    assert ".venv/bin/mentorbot" in TEXT
    assert ". .venv/bin/activate" in TEXT
    commands = [line for line in TEXT.splitlines() if line.startswith("mentorbot data ")]
    assert commands and all("--data .demo-data" in line for line in commands
                            if "migrate" not in line)
