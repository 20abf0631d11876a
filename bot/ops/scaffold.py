"""`mentorbot init DIR`: a starting deployment that trainers and operators own.

It writes `DIR/config.yaml` (the shipped starting config, pointed at the copies) and copies
the shipped flows, policies, catalogs and stories, so that a trainer edits, validates and tests
their own texts without touching the installed package.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from bot.config import PROJECT_ROOT, load_config
from bot.errors import UserError

COPIED = ("flows", "stories")
OWN_PATHS = """
# The copies written by `mentorbot init`: edit them, then `mentorbot flows validate`.
paths:
  flows: flows
  locales: locales
"""
NEXT_STEPS = """\
Created a mentorbot deployment in {dir}:
  config.yaml   the settings: people, opening hours, transports (secrets come from ${{ENV}})
  flows/        every text and step of the conversations, and the policies' word lists
  locales/      the translations of the flows' texts (gettext .po files)
  stories/      scripted conversations that check the flows

Next:
  cd {dir}
  mentorbot flows validate --config config.yaml        # check the flows and catalogs
  mentorbot flows test --config config.yaml stories    # replay the stories
  mentorbot console --config config.yaml --as console:alice   # chat in the terminal
  then add your people and enable a transport in config.yaml, and: mentorbot run
"""


def init_project(target: Path) -> str:
    """Write the starting files into `target`; refuse to overwrite. Returns what to do next."""
    source = PROJECT_ROOT
    existing = [n for n in ("config.yaml", *COPIED, "locales") if (target / n).exists()]
    if existing:
        raise UserError(f"{target}: already has {', '.join(existing)}; choose an empty directory")
    if target.exists() and not target.is_dir():
        raise UserError(f"{target}: not a directory")
    try:
        target.mkdir(parents=True, exist_ok=True)
        for name in COPIED:
            shutil.copytree(source / name, target / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
        for po in sorted((source / "locales").glob("*/LC_MESSAGES/*.po")):
            copy = target / po.relative_to(source)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(po, copy)
        text = (source / "config.yaml").read_text(encoding="utf-8")
        if "paths" not in (yaml.safe_load(text) or {}):
            text = text.rstrip("\n") + "\n" + OWN_PATHS
        (target / "config.yaml").write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{target}: cannot write: {exc.strerror or exc}") from None
    load_config(target / "config.yaml")  # what was written loads
    return NEXT_STEPS.format(dir=target)
