"""The charter's version and signatures.

The version is a hash of the articles' French source text: a changed text is a new version,
and everyone is asked to sign again.
"""

from __future__ import annotations

import hashlib

from bot.domain import PersonData
from bot.flows.model import FlowSet


def charter_version(flows: FlowSet) -> str:
    text = "\n\n".join(step.say or "" for step in flows.charter_articles())
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def signed(person: PersonData, version: str) -> bool:
    """Signed this version, and not withdrawn since."""
    since = person.withdrawn_at or ""
    return any(s.version == version and s.at > since for s in person.signatures)
