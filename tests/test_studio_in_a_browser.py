"""The studio in a real browser (Playwright driving Debian's Chromium), against
`mentorbot studio` on a free loopback port: a mentee signs the charter and asks a question
holding an e-mail address (highlighted, then masked), the clock moves to the digest, the mentor
replies, the mentee reads the answer; the session saved as a story replays green in
`flows test` and step by step in the page; a broken flow edit shows its error with file:line.

Screenshots of each step are kept in test-artifacts/studio/ (ignored by git).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = ROOT / "test-artifacts" / "studio"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
START = "2026-11-30T07:00:00+01:00"  # a Monday, before the mentor's opening
EMAIL = "paul.martin@example.org"
WAIT_MS = 60_000  # the first identifying check loads the language model

try:
    from playwright.sync_api import Locator, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - the dev extras install it
    sync_playwright = None

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None,
                       reason="Chromium is not installed here (apt-get install chromium)"),
    pytest.mark.skipif(sync_playwright is None,
                       reason="Playwright for Python is not installed (pip install playwright)"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def studio(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """`mentorbot studio` on a copy of the flows (edited by the test), a fresh store."""
    flows = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", flows)
    config = tmp_path / "config.yaml"
    config.write_text(f"paths: {{flows: {flows}}}\n", encoding="utf-8")
    stories = tmp_path / "stories"
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "studio", "--config", str(config),
         "--data", str(tmp_path / "data"), "--port", str(port), "--start", START,
         "--stories", str(stories)],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                if httpx.get(url + "healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read() if process.stdout else ""
                pytest.fail(f"the studio did not start:\n{output}")
            time.sleep(0.2)
        yield url, flows, stories
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


class Shots:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.count = 0
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for old in ARTIFACTS.glob("*.png"):
            old.unlink()

    def take(self, name: str) -> None:
        self.count += 1
        self.page.screenshot(path=str(ARTIFACTS / f"{self.count:02d}-{name}.png"), full_page=True)


def clock(page: Page) -> Locator:
    return page.get_by_role("region", name="Horloge virtuelle").get_by_role("status")


def pane(page: Page, pid: str) -> Locator:
    return page.get_by_role("region", name=pid)


def send(page: Page, pid: str, text: str) -> None:
    box = pane(page, pid).get_by_role("textbox", name="Message")
    box.fill(text)
    box.press("Enter")
    expect(pane(page, pid).get_by_role("log").get_by_role("listitem").filter(
        has_text=text[:30]).last).to_be_visible()


def key(page: Page, target: Locator, key: str = "Enter") -> None:
    """Keyboard alone: focus the control, press the key."""
    target.focus()
    page.keyboard.press(key)


def press(page: Page, pid: str, label: str, then: str) -> None:
    """Press the last button named `label` in the person's log; wait for `then` to show."""
    log = pane(page, pid).get_by_role("log")
    key(page, log.get_by_role("button", name=label, exact=True).last)
    expect(log.get_by_role("listitem").filter(has_text=then).last).to_be_visible()


def sign(page: Page, pid: str, name: str) -> None:
    send(page, pid, "Bonjour")
    press(page, pid, "Lire l'article 1", "1. Nature de l'outil")
    for article in ("2. Confidentialité", "3. Temporalité", "4. Responsabilité",
                    "5. Traçabilité", "6. Limites", "écrivez votre prénom"):
        press(page, pid, "J'accepte", article)
    send(page, pid, name)
    expect(pane(page, pid).get_by_role("log")).to_contain_text(f"Merci {name}")


def test_a_whole_mentoring_loop_in_the_studio(studio: tuple[str, Path, Path]) -> None:
    url, flows, stories = studio
    assert sync_playwright is not None and CHROMIUM is not None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1700, "height": 1250})
        expect.set_options(timeout=WAIT_MS)
        shots = Shots(page)
        page.goto(url)
        for pid in ("console:bob", "console:alice", "console:emma"):
            expect(pane(page, pid)).to_be_visible()
        expect(clock(page)).to_have_text("lundi 30 novembre à 07:00")
        shots.take("start")

        sign(page, "console:bob", "Bob Martin")
        sign(page, "console:alice", "Alice Durand")
        shots.take("signed")
        alice = pane(page, "console:alice")
        expect(alice.get_by_text("charte signée", exact=True)).to_be_visible()  # the inspector

        press(page, "console:alice", "Poser une question", "1/3 — Le contexte")
        send(page, "console:alice", f"Chez nous, mon chef m'a écrit depuis {EMAIL} "
                                    "pour changer le planning de la semaine.")
        flagged = alice.get_by_role("log").locator("mark[data-kind=email]")
        expect(flagged).to_have_text(f"{EMAIL} (adresse e-mail)")
        expect(alice.get_by_role("log")).to_contain_text("Données identifiantes : à masquer")
        expect(alice.get_by_text("identifying", exact=True)).to_be_visible()  # pending decision
        shots.take("identifying-span")
        press(page, "console:alice", "Masquer ces éléments", "2/3 — Votre analyse")
        send(page, "console:alice", "J'ai essayé d'en parler avec lui après la réunion ; "
                                    "je pense qu'il manque de visibilité sur nos délais.")
        send(page, "console:alice", "J'hésite entre lui écrire ou lui proposer un point ; "
                                    "quel regard portez-vous sur ma posture ?")
        press(page, "console:alice", "Envoyer", "Votre question Q1 est enregistrée")
        expect(alice.get_by_role("log")).to_contain_text("Heures d'ouverture : synthèse aujourd'hui")
        expect(alice.get_by_text("Q1 (console:alice) — sent", exact=False)).to_be_visible()
        shots.take("question-sent")

        # Whatsapp shows more than three choices as a list that opens.
        key(page, page.get_by_label("WhatsApp", exact=False), "Space")
        opener = alice.get_by_role("log").get_by_role("button", name="Options").last
        expect(opener).to_have_attribute("aria-expanded", "false")
        key(page, opener)
        expect(alice.get_by_role("log").get_by_role("button", name="Relire la charte").last
               ).to_be_visible()
        shots.take("whatsapp-list")
        key(page, page.get_by_label("Telegram", exact=False), "Space")

        key(page, page.get_by_role("button", name="Prochaine synthèse"))
        expect(clock(page)).to_have_text("lundi 30 novembre à 08:00")
        bob = pane(page, "console:bob")
        expect(bob.get_by_role("log")).to_contain_text("Synthèse du lundi 30 novembre à 08:00")
        shots.take("digest")

        # Typed, not pressed: a press carries the choice's number, which the engine reads
        # against the mentor's current step (the menu), not against the digest's buttons.
        send(page, "console:bob", "Répondre Q1")
        expect(bob.get_by_role("log")).to_contain_text("Votre réponse à Q1")
        send(page, "console:bob", "Qu'attendez-vous de lui, concrètement, cette semaine ?")
        expect(alice.get_by_role("log")).to_contain_text(
            "Votre mentor a répondu à votre question Q1")
        expect(alice.get_by_role("log")).to_contain_text(
            "Qu'attendez-vous de lui, concrètement, cette semaine ?")
        shots.take("answer-read")

        # The session becomes a story that `flows test` runs green.
        page.get_by_role("textbox", name="Nom de l'histoire").fill("Boucle complète au studio")
        key(page, page.get_by_role("button", name="Enregistrer comme histoire"))
        expect(page.locator("#saved")).to_contain_text("boucle-complete-au-studio.yaml")
        saved = stories / "boucle-complete-au-studio.yaml"
        run = subprocess.run([sys.executable, "-m", "bot", "flows", "test", str(saved)],
                             cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
        assert run.returncode == 0, run.stdout + run.stderr
        assert "1 passed, 0 failed" in run.stdout

        # ...and replays step by step in the page.
        page.get_by_role("combobox", name="Histoires").select_option("boucle-complete-au-studio.yaml")
        key(page, page.get_by_role("button", name="Charger l'histoire"))
        expect(clock(page)).to_have_text("lundi 30 novembre à 07:00")
        for _ in range(3):
            key(page, page.get_by_role("button", name="Étape suivante"))
        expect(page.get_by_text("Étape 3 : conforme")).to_be_visible()
        expect(pane(page, "console:bob").get_by_role("log")).to_contain_text("Bienvenue")
        shots.take("replay")

        # A flow edited with a mistake: the error shows, with its file and line.
        menu = flows / "menu.yaml"
        menu.write_text(menu.read_text(encoding="utf-8").replace(
            "next: question:followup_which", "next: question:nulle_part", 1),
                        encoding="utf-8")
        problems = page.get_by_role("alert")
        expect(problems).to_contain_text("menu.yaml:")
        expect(problems).to_contain_text("nulle_part")
        shots.take("flow-error")
        keyboard_only(page)
        browser.close()
    # Every control above was used with the keyboard alone (focus, then Enter or Space).


def keyboard_only(page: Page) -> None:
    """Tab reaches the clock's buttons; Enter moves the clock."""
    page.get_by_role("button", name="Prochaine synthèse").focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_role("button", name="+1 h")).to_be_focused()
    page.keyboard.press("Enter")
    expect(clock(page)).to_have_text("lundi 30 novembre à 08:00")
