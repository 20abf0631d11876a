"""The HTML export opened in a real headless browser (Chromium, when the machine has it):
it renders on its own, with no other file, and shows the trace; printing it works."""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from bot.app import build_app
from bot.clock import VirtualClock
from bot.config import Config
from bot.data.export import export, render
from tests.conftest import QUESTION_FR, Conversation, asking, say, signing

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed here")


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    profile = tmp_path / "profile"
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=90, check=False)


def test_the_html_export_renders_in_a_browser(tmp_path: Path, config: Config) -> None:
    conversation = Conversation(config)
    conversation.run(signing("console:bob", "Bob Martin", "2026-11-30T06:00")
                     + signing("console:alice", "Alice Durand", "2026-11-30T06:10")
                     + asking("console:alice", QUESTION_FR)
                     + [say("2026-11-30T09:00:00+01:00", "console:bob",
                            "/repondre Q1 <script>alert(1)</script> Une piste : demandez-lui.")])
    engine = build_app(config, VirtualClock(datetime.fromisoformat("2026-12-01T09:00:00+01:00"))).engine
    page = tmp_path / "export.html"
    page.write_text(render(export(engine, "console:alice"), "html", engine), encoding="utf-8")

    dom = chromium(tmp_path, "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "Trace de travail — Alice Durand" in dom.stdout
    assert QUESTION_FR[1] in dom.stdout
    # The mentor's text is shown as text, never run as markup.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom.stdout
    assert "<script>alert(1)</script>" not in dom.stdout

    pdf = tmp_path / "export.pdf"
    printed = chromium(tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", page.as_uri())
    assert printed.returncode == 0, printed.stderr[-2000:]
    assert pdf.read_bytes().startswith(b"%PDF")

    shot = tmp_path / "export.png"
    taken = chromium(tmp_path, f"--screenshot={shot}", "--window-size=900,1400", page.as_uri())
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.stat().st_size > 10_000
