"""The studio's server without a browser: the web channel behind the dispatcher, the clock,
the policies' verdicts, stories saved and replayed, flows reloaded, and who may connect."""

from __future__ import annotations

import shutil
import time
import warnings
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

with warnings.catch_warnings():  # Starlette would rather use httpx2, not installed here
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from bot.cli import main
from bot.config import Config
from bot.errors import UserError
from bot.messages import Outbound
from bot.stories import run_story
from bot.studio.render import render
from bot.studio.server import Options, build
from bot.transports import whatsapp
from tests.conftest import ROOT, make_config

START = datetime.fromisoformat("2026-11-30T07:00:00+01:00")  # Monday, before opening
EMAIL = "paul.martin@example.org"
LOCAL = "http://127.0.0.1:8765"


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    copy = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", copy)
    return copy


def options(config: Config, tmp_path: Path, flows: Path | None = None, **extra: Any) -> Options:
    if flows is not None:
        config = config.model_copy(
            update={"paths": config.paths.model_copy(update={"flows": flows})})
    return Options(config=config, start=START, stories=tmp_path / "stories", **extra)


@pytest.fixture
def client(config: Config, tmp_path: Path, flows: Path) -> Iterator[TestClient]:
    with TestClient(build(options(config, tmp_path, flows)), base_url=LOCAL) as test_client:
        yield test_client


def state(client: TestClient) -> dict[str, Any]:
    response = client.get("/api/state")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def say(client: TestClient, person: str, text: str) -> None:
    assert client.post("/api/say", json={"person": person, "text": text}).status_code == 200


def press(client: TestClient, person: str, index: int) -> None:
    assert client.post("/api/say", json={"person": person, "index": index}).status_code == 200


def bubbles(client: TestClient, person: str, direction: str = "out") -> list[dict[str, Any]]:
    return [b for b in state(client)["bubbles"]
            if b["person"] == person and b["direction"] == direction]


def sign(client: TestClient, person: str, name: str) -> None:
    say(client, person, "Bonjour")
    for _ in range(7):
        press(client, person, 1)
    say(client, person, name)
    assert f"Merci {name}" in bubbles(client, person)[-2]["text"]


def test_the_page_shows_the_mentor_and_two_mentees_on_the_virtual_clock(
        client: TestClient) -> None:
    body = state(client)
    assert body["panes"] == ["console:bob", "console:alice", "console:emma"]
    assert body["now_text"] == "lundi 30 novembre à 07:00"
    assert body["open"] is False
    assert body["texts"]["studio_message"] == "Message"
    english = client.get("/api/state?locale=en").json()
    assert english["texts"]["studio_next_digest"] == "Next digest"
    page = client.get("/")
    assert page.status_code == 200 and 'id="panes"' in page.text
    assert client.get("/static/studio.js").status_code == 200


def test_roster_people_are_driven_through_the_web_channel(client: TestClient) -> None:
    say(client, "console:alice", "Bonjour")
    out = bubbles(client, "console:alice")
    assert "Bienvenue" in out[0]["text"]
    charter = out[-1]
    assert [b["label"] for b in charter["telegram"]["buttons"]] == ["Lire l'article 1"]
    assert charter["telegram"]["kind"] == "keyboard"
    assert charter["whatsapp"]["kind"] == "buttons"
    press(client, "console:alice", 1)
    mine = bubbles(client, "console:alice", "in")
    assert [b["text"] for b in mine] == ["Bonjour", "Lire l'article 1"]  # the label pressed
    assert "1. Nature de l'outil" in bubbles(client, "console:alice")[-1]["text"]
    view = state(client)["views"]["console:alice"]
    assert (view["flow"], view["step"], view["signed"]) == ("charter", "article_1", False)
    refused = client.post("/api/say", json={"person": "console:nobody", "text": "Bonjour"})
    assert refused.status_code == 400


def test_each_channel_draws_choices_within_its_limits() -> None:
    long = "Une option dont le libellé dépasse largement toutes les limites des plateformes"
    many = render(Outbound("x:1", "Choisissez", tuple(f"{long} {i}" for i in range(5))),
                  "Options")
    assert all(len(b.label) <= 60 for b in many.telegram.buttons)
    assert many.whatsapp.kind == "list" and many.whatsapp.list_button == "Options"
    assert all(len(b.label) <= whatsapp.ROW_TITLE for b in many.whatsapp.buttons)
    assert all(len(b.description) <= whatsapp.ROW_DESCRIPTION for b in many.whatsapp.buttons)
    assert [b.index for b in many.whatsapp.buttons] == [1, 2, 3, 4, 5]
    few = render(Outbound("x:1", "Envoyer ?", ("Envoyer", "Modifier", "Annuler")), "Options")
    assert few.whatsapp.kind == "buttons"
    eleven = render(Outbound("x:1", "", tuple(str(i) for i in range(11))), "Options")
    assert eleven.whatsapp.kind == "text" and "11. 10" in eleven.whatsapp.parts[-1]


def test_a_question_the_digest_the_answer_and_the_verdicts(client: TestClient) -> None:
    sign(client, "console:bob", "Bob Martin")
    sign(client, "console:alice", "Alice Durand")
    press(client, "console:alice", 1)  # Poser une question
    text = f"Chez nous, mon chef m'a écrit depuis {EMAIL} pour changer le planning."
    say(client, "console:alice", text)
    flagged = bubbles(client, "console:alice", "in")[-1]
    by_policy = {v["policy"]: v for v in flagged["verdicts"]}
    assert by_policy["safety"]["outcome"] == "none"
    assert by_policy["identifying"]["outcome"] == "flagged"
    mark = by_policy["identifying"]["marks"][0]
    assert (text[mark["start"]:mark["end"]], mark["kind"]) == (EMAIL, "email")
    assert state(client)["views"]["console:alice"]["pending"] == "identifying"
    press(client, "console:alice", 1)  # Masquer ces éléments
    say(client, "console:alice", "J'ai essayé d'en parler avec lui ; je pense qu'il manque "
                                 "de visibilité sur nos délais.")
    say(client, "console:alice", "J'hésite entre lui écrire ou proposer un point : quel regard "
                                 "portez-vous sur ma posture ?")
    say(client, "console:alice", "Envoyer")
    hours = [v for v in bubbles(client, "console:alice", "in")[-1]["verdicts"]
             if v["policy"] == "hours"]
    # Sent before 08:00 on Monday: the date is given in full, and the digest is today's.
    assert hours == [{"policy": "hours", "outcome": "today", "marks": [],
                      "until": "lundi 30 novembre à 08:00"}]
    assert [q["status"] for q in state(client)["views"]["console:bob"]["questions"]] == ["sent"]

    assert client.post("/api/clock", json={"action": "digest"}).status_code == 200
    body = state(client)
    assert body["now_text"] == "lundi 30 novembre à 08:00" and body["open"] is True
    assert any("Synthèse du lundi 30 novembre" in b["text"]
               for b in bubbles(client, "console:bob"))
    say(client, "console:bob", "/repondre Q1 Qu'attendez-vous de lui cette semaine ?")
    assert "Votre mentor a répondu à votre question Q1" in bubbles(
        client, "console:alice")[-1]["text"]

    client.post("/api/clock", json={"action": "hour"})
    assert state(client)["now_text"] == "lundi 30 novembre à 09:00"
    client.post("/api/clock", json={"action": "opening"})
    assert state(client)["now_text"] == "mardi 1 décembre à 08:00"
    client.post("/api/clock", json={"action": "date", "at": "2026-12-02T10:30"})
    assert state(client)["now_text"] == "mercredi 2 décembre à 10:30"
    bad = client.post("/api/clock", json={"action": "backwards"})
    assert bad.status_code == 400


def test_a_session_saved_as_a_story_runs_green_and_replays(
        client: TestClient, tmp_path: Path) -> None:
    sign(client, "console:bob", "Bob Martin")
    say(client, "console:alice", "Bonjour")
    client.post("/api/clock", json={"action": "hour"})
    saved = client.post("/api/story/save", json={"name": "Séance d'essai"}).json()["path"]
    assert saved.endswith("seance-d-essai.yaml")
    result = run_story(Path(saved))
    assert result.ok, result.failures

    assert state(client)["stories"] == ["seance-d-essai.yaml"]
    client.post("/api/story/load", json={"name": "seance-d-essai.yaml"})
    body = state(client)
    assert body["bubbles"] == [] and body["replay"]["position"] == 0
    for _ in range(3):
        client.post("/api/story/step", json={})
    replay = state(client)["replay"]
    assert replay["results"] == [{"step": 1, "ok": True}, {"step": 2, "ok": True},
                                 {"step": 3, "ok": True}]
    assert "2. Confidentialité" in bubbles(client, "console:bob")[-1]["text"]


def test_a_flow_edit_reloads_and_a_mistake_shows_with_its_line(
        client: TestClient, flows: Path) -> None:
    menu = flows / "menu.yaml"
    menu.write_text(menu.read_text(encoding="utf-8").replace(
        "next: question:followup_which", "next: question:nulle_part", 1), encoding="utf-8")
    deadline = time.monotonic() + 30  # the watcher looks twice a second
    while not state(client)["problems"] and time.monotonic() < deadline:
        time.sleep(0.1)
    problems = state(client)["problems"]
    lines = menu.read_text(encoding="utf-8").splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "nulle_part" in text)
    assert any(f"menu.yaml:{line}:" in p and "nulle_part" in p for p in problems), problems
    diagram = client.get("/api/diagram?flow=menu&people=console:alice").json()["text"]
    assert "stateDiagram-v2" in diagram


def test_the_diagram_marks_where_each_person_is(client: TestClient) -> None:
    say(client, "console:alice", "Bonjour")
    text = client.get("/api/diagram?flow=charter&people=console:alice,console:bob").json()["text"]
    assert "Class intro s_active" in text
    assert "note right of intro : Alice Durand" in text
    assert client.get("/api/diagram?flow=nowhere").status_code == 400


def test_a_language_chosen_for_a_person(client: TestClient) -> None:
    client.post("/api/locale", json={"person": "console:alice", "locale": "en"})
    say(client, "console:alice", "Hello")
    assert "Welcome" in bubbles(client, "console:alice")[0]["text"]


def test_only_the_page_itself_may_act(client: TestClient) -> None:
    forged = client.post("/api/clock", json={"action": "hour"},
                         headers={"origin": "http://evil.example"})
    assert forged.status_code == 403
    form = client.post("/api/clock", content=b"action=hour",
                       headers={"content-type": "application/x-www-form-urlencoded"})
    assert form.status_code == 415
    assert state(client)["now_text"] == "lundi 30 novembre à 07:00"
    rebound = client.get("/api/state", headers={"host": "evil.example:8765"})
    assert rebound.status_code == 421


def test_people_of_any_channel_are_driven_from_the_page(tmp_path: Path) -> None:
    """The web channel stands in for Telegram and WhatsApp people of the roster."""
    config = make_config(tmp_path, """
people:
  - {id: "telegram:1001", role: mentor, name: "Bob Martin"}
  - {id: "whatsapp:33612345678", role: mentee, name: "Alice Durand", mentor: "telegram:1001"}
""")
    with TestClient(build(options(config, tmp_path)), base_url=LOCAL) as client:
        assert state(client)["panes"] == ["telegram:1001", "whatsapp:33612345678"]
        say(client, "whatsapp:33612345678", "Bonjour")
        say(client, "telegram:1001", "Bonjour")
        assert "Bienvenue" in bubbles(client, "whatsapp:33612345678")[0]["text"]
        assert "Bienvenue" in bubbles(client, "telegram:1001")[0]["text"]
        assert all(v["waiting"] == 0 for v in state(client)["views"].values())  # delivered


def test_another_host_needs_a_token(config: Config, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="needs --token"):
        build(options(config, tmp_path, host="0.0.0.0"))
    app = build(options(config, tmp_path, host="0.0.0.0", token="s3cret"))
    with TestClient(app, base_url="http://studio.example:8765") as client:
        assert client.get("/api/state").status_code == 401
        assert client.get("/api/state?token=wrong").status_code == 401
        first = client.get("/?token=s3cret")
        assert first.status_code == 200 and "mentorbot_studio" in first.headers["set-cookie"]
        assert client.get("/api/state").status_code == 200  # the cookie, from now on


def test_the_command_line(tmp_path: Path) -> None:
    runner = CliRunner()
    shown = runner.invoke(main, ["studio", "--help"])
    assert shown.exit_code == 0 and "--port" in shown.output and "--token" in shown.output
    refused = runner.invoke(main, ["studio", "--data", str(tmp_path), "--host", "0.0.0.0"])
    assert refused.exit_code == 1 and "needs --token" in refused.output
    bad = runner.invoke(main, ["studio", "--data", str(tmp_path), "--start", "2026-11-30"])
    assert bad.exit_code == 1 and "UTC offset" in bad.output


def test_the_page_buttons_carry_their_prompt_and_an_old_one_is_told_so(
        client: TestClient) -> None:
    """Issue 14: the page's buttons carry the key of their prompt, as the channels' do."""
    say(client, "console:alice", "Bonjour")
    first = bubbles(client, "console:alice")[-1]
    button = first["telegram"]["buttons"][0]
    assert button["prompt"] and button["prompt"] == first["whatsapp"]["buttons"][0]["prompt"]
    pressed = {"person": "console:alice", "index": 1, "prompt": button["prompt"]}
    assert client.post("/api/say", json=pressed).status_code == 200
    assert "1. Nature de l'outil" in bubbles(client, "console:alice")[-1]["text"]
    assert client.post("/api/say", json=pressed).status_code == 200  # the same, old button
    stale = bubbles(client, "console:alice")[-1]
    assert stale["text"].startswith("Ce bouton n'est plus d'actualité")
    assert [b["label"] for b in stale["telegram"]["buttons"]] == ["J'accepte", "Je n'accepte pas"]
    bad = {"person": "console:alice", "index": 1, "prompt": "../x"}
    assert client.post("/api/say", json=bad).status_code == 400
