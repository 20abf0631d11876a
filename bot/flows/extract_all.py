"""Every source text of the flows, with where it is written (for catalog checks)."""

from __future__ import annotations

from pathlib import Path

from bot.flows.loader import flow_files
from bot.i18n.extract import iter_texts


def source_messages(flows_dir: Path) -> dict[str, str]:
    """msgid -> `file:line` of its first occurrence."""
    out: dict[str, str] = {}
    for path in flow_files(flows_dir):
        try:
            texts = list(iter_texts(path.read_text(encoding="utf-8")))
        except Exception:  # a broken file is reported by the flow loader
            continue
        for line, text, _ in texts:
            out.setdefault(text, f"{path.name}:{line}")
    return out
