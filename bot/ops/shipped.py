"""Where the shipped flows, stories, catalogs and starting config are.

In a checkout they are the files at its top (`flows/`, `locales/`, `stories/`,
`config.yaml`), edited there by trainers and translators. In an installed wheel they are the
copy that setup.py put under `bot/shipped/`, with the same layout. Imports nothing of the
project, so that `bot.config` can use it.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent
CHECKOUT_DIR = PACKAGE_DIR.parent
PACKAGED_DIR = PACKAGE_DIR / "shipped"


def shipped_root() -> Path:
    """The checkout when running from one, else the packaged copy."""
    if (CHECKOUT_DIR / "pyproject.toml").is_file() and (CHECKOUT_DIR / "flows").is_dir():
        return CHECKOUT_DIR
    return PACKAGED_DIR
