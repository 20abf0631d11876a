"""The daily retention job, and the trainers' Mermaid diagrams."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import BASE_CONFIG, ROOT, Conversation, make_config, say, signing
from tests.storeview import StoreView


def test_the_daily_job_removes_journal_lines_older_than_the_retention(tmp_path: Path) -> None:
    conversation = Conversation(make_config(tmp_path, BASE_CONFIG + "retention: {days: 2}\n"))
    conversation.run(signing("console:alice", "Alice Durand", "2026-11-30T07:00"))
    conversation.run([say("2026-12-02T10:00:00+01:00", "console:alice", "/aide")])
    store = StoreView(conversation.config.storage.path)
    before = store.read_journal("console:alice")
    conversation.run([{"at": "2026-12-02T23:00:00+01:00", "tick": True}])
    assert store.read_journal("console:alice") == before  # 2 days not yet passed
    conversation.run([{"at": "2026-12-03T03:00:00+01:00", "tick": True}])
    after = store.read_journal("console:alice")
    assert after and all(e.at >= "2026-12-01" for e in after)
    assert len(after) < len(before)
    # The signature record itself is kept: it is the proof of consent.
    person = store.load_person("console:alice")
    assert person is not None and person.signatures


def test_flows_graph_prints_mermaid(tmp_path: Path) -> None:
    out = tmp_path / "question.mmd"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "flows", "graph", "question", "-o", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert "stateDiagram" in text
    for step in ("context", "analysis", "ask", "review", "edit"):
        assert step in text
    result = subprocess.run(
        [sys.executable, "-m", "bot", "flows", "graph", "nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1 and "unknown flow 'nope'" in result.stderr
