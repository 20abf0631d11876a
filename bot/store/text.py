"""Text that every store and every platform can take.

A broken client can send a lone UTF-16 surrogate (or a NUL): UTF-8 cannot encode the first,
PostgreSQL refuses the second, and either would block a person's outbox for good. Both are
replaced before anything is stored or sent: U+FFFD for a surrogate, nothing for a NUL.
"""

from __future__ import annotations

import json
import re
from typing import Any

_BAD = re.compile("[\ud800-\udfff\x00]")


def clean(text: str) -> str:
    """`text` without lone surrogates (U+FFFD instead) and NUL characters."""
    if not _BAD.search(text):
        return text
    return _BAD.sub(lambda m: "" if m.group(0) == "\x00" else "\ufffd", text)


def clean_value(value: Any) -> Any:
    """`clean` applied to every string inside a JSON-like value."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean(str(k)): clean_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_value(v) for v in value]
    return value


def clean_json(value: Any) -> str:
    """`value` as compact JSON, every string cleaned."""
    return json.dumps(clean_value(value), ensure_ascii=False, separators=(",", ":"), default=str)
