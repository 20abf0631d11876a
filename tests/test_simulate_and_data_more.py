"""`simulate` scripts field by field, continuing a conversation across runs, and the data-rights
commands on people who left the roster or joined by invitation."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.app import build_app
from bot.cli import main
from bot.clock import VirtualClock
from bot.config import Config
from bot.data.export import export
from bot.data.forget import forget
from bot.data.invitations import create_invitation
from bot.errors import UnknownPersonError
from bot.messages import AttachmentKind, Inbound
from bot.transports.simulate import ScriptError, parse_script, simulate
from tests.conftest import QUESTION_FR, ROOT, Conversation, asking, make_config, say, signing
from tests.storeview import raw_text

AT = "2026-11-30T07:00:00+01:00"
NOW = datetime.fromisoformat(AT)


def line(**fields: object) -> str:
    return json.dumps({"at": AT, **fields}, ensure_ascii=False)


# -- parse_script -----------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "message"), [
    (json.dumps({"from": "console:alice", "text": "x"}),
     "'at' is required (an ISO 8601 time with its offset)"),
    (json.dumps({"at": 20261130, "from": "console:alice", "text": "x"}),
     "'at' is required (an ISO 8601 time with its offset)"),
    (json.dumps({"at": "lundi", "from": "console:alice", "text": "x"}),
     "'at' is not an ISO 8601 time: 'lundi'"),
    (line(text="x"), "'from' must be a person id like 'console:alice'"),
    (line(**{"from": "alice"}, text="x"), "'from' must be a person id like 'console:alice'"),
    (line(**{"from": 42}, text="x"), "'from' must be a person id like 'console:alice'"),
    (line(**{"from": "console:alice"}, text=42), "'text' must be a string"),
    (line(**{"from": "console:alice"}, text="x", attachment="image"),
     "an event has either 'text' or 'attachment'"),
    (line(**{"from": "console:alice"}, text="x", caption="c"),
     "'caption' goes with an 'attachment'"),
    (line(**{"from": "console:alice"}, attachment="image", caption=3),
     "'caption' must be a string"),
    (line(**{"from": "console:alice"}, text="x", id=7), "'id' must be a string"),
    (line(tick=False), 'a tick event is {"at": ..., "tick": true} and nothing else'),
    (line(tick=True, id="x"), 'a tick event is {"at": ..., "tick": true} and nothing else'),
])
def test_each_field_is_checked_with_the_line_number(raw: str, message: str) -> None:
    good = line(**{"from": "console:alice"}, text="Bonjour")
    with pytest.raises(ScriptError) as caught:
        parse_script([good, "", "   ", raw], "script.jsonl")
    assert str(caught.value) == f"script.jsonl:4: {message}"


def test_a_valid_script_becomes_events() -> None:
    events = parse_script([
        line(**{"from": "console:alice"}, text="Bonjour", id="m-1"),
        "",
        line(**{"from": "console:alice"}, attachment="document", caption="contrat"),
        json.dumps({"at": "2026-11-30T08:00:00+01:00", "tick": True}),
    ])
    assert [e.line for e in events] == [1, 3, 4]
    first, second, third = events
    assert (first.sender, first.text, first.id, first.attachment) == \
        ("console:alice", "Bonjour", "m-1", None)
    assert second.attachment is AttachmentKind.DOCUMENT and second.text is None
    assert third.tick and third.sender is None
    assert third.at == datetime.fromisoformat("2026-11-30T08:00:00+01:00")


def test_an_empty_script_sends_nothing(config: Config) -> None:
    out = io.StringIO()
    assert simulate(config, parse_script(["", "  "]), out) == 0
    assert out.getvalue() == ""
    assert not Path(config.storage.path).exists()  # not even a store is created


def test_a_second_run_continues_and_runs_the_jobs_due_in_between(config: Config) -> None:
    conversation = Conversation(config)
    conversation.run(signing("console:bob", "Bob Martin", "2026-11-30T06:00")
                     + signing("console:alice", "Alice Durand", "2026-11-30T06:10")
                     + asking("console:alice", QUESTION_FR, "2026-11-30T07:30")
                     + [say("2026-11-30T07:40:00+01:00", "console:alice", "Poser une question")])
    # a second run whose first event is after the 08:00 digest: the digest still runs, at 08:00
    out = conversation.run([say("2026-11-30T09:00:00+01:00", "console:alice", "Bonjour")])
    digest = [line for line in out if line["to"] == "console:bob"]
    assert digest and all(line["at"] == "2026-11-30T08:00:00+01:00" for line in digest)
    assert digest[0]["text"].startswith("Synthèse du lundi 30 novembre à 08:00")
    assert out.index(digest[-1]) < len(out) - 1  # before the 09:00 answer
    # and Alice is where she left off: in her new question, asked for its context
    mine = [line for line in out if line["to"] == "console:alice"]
    assert mine[0]["at"] == "2026-11-30T09:00:00+01:00"
    assert mine[0]["text"].startswith("C'est un peu court")  # the context step's own check


# -- the command line -------------------------------------------------------------------------


def write_config(tmp_path: Path, people: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"people:\n{people}\n"
                    f"paths: {{flows: {ROOT / 'flows'}, locales: {ROOT / 'locales'}}}\n",
                    encoding="utf-8")
    return path


ROSTER = """\
  - {id: "console:bob", role: mentor, name: "Bob Martin"}
  - {id: "console:alice", role: mentee, name: "Alice Durand", mentor: "console:bob"}"""


def test_a_script_that_cannot_be_read_is_one_clear_line(tmp_path: Path) -> None:
    config = write_config(tmp_path, ROSTER)
    runner = CliRunner()
    folder = tmp_path / "a-directory"
    folder.mkdir()
    latin1 = tmp_path / "latin1.jsonl"
    latin1.write_bytes(line(**{"from": "console:alice"}, text="é").encode("latin-1"))
    for script in (folder, latin1):
        result = runner.invoke(main, ["simulate", str(script), "--config", str(config)])
        assert result.exit_code == 1
        assert result.output.startswith(f"mentorbot: {script}: cannot read: ")
        assert len(result.output.strip().splitlines()) == 1


def test_simulate_a_script_file(tmp_path: Path) -> None:
    config = write_config(tmp_path, ROSTER)
    script = tmp_path / "script.jsonl"
    script.write_text(line(**{"from": "console:alice"}, text="Bonjour") + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["simulate", str(script), "--config", str(config)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.output.splitlines()]
    assert lines[0]["to"] == "console:alice" and lines[0]["text"].startswith("Bienvenue")


def test_flows_test_exits_1_when_a_story_fails(tmp_path: Path) -> None:
    story = tmp_path / "failing.yaml"
    story.write_text(f"story: failing\nsteps:\n  - at: '{AT}'\n    from: console:alice\n"
                     "    say: Bonjour\n    expect: [{contains: Au revoir}]\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["flows", "test", str(story)])
    assert result.exit_code == 1
    assert "FAIL  failing.yaml: failing" in result.output
    assert result.output.rstrip().endswith("0 passed, 1 failed")


def test_invite_prints_the_telegram_link_once_the_bot_is_known(tmp_path: Path) -> None:
    config = write_config(tmp_path, ROSTER)
    data = tmp_path / "data"
    from bot.store import SQLiteStore

    store = SQLiteStore(data)
    with store.turn() as uow:  # what `run` learns from the Bot API's getMe
        uow.transport_put("telegram", "username", "mentorbot_test_bot")
    store.close()
    result = CliRunner().invoke(main, ["invite", "--mentor", "console:bob", "--days", "3",
                                       "--config", str(config), "--data", str(data)])
    assert result.exit_code == 0, result.output
    code, link = result.output.strip().splitlines()
    assert link == f"https://t.me/mentorbot_test_bot?start={code}"
    store = SQLiteStore(data)
    with store.read() as uow:
        [(mentor,)] = list(uow.rows("SELECT mentor FROM invitations WHERE code = ?", (code,)))
    store.close()
    assert mentor == "console:bob"
    result = CliRunner().invoke(main, ["invite", "--mentor", "console:bob", "--days", "0",
                                       "--config", str(config), "--data", str(data)])
    assert result.exit_code == 1 and "--days must be between 1 and 365" in result.output


# -- data rights ------------------------------------------------------------------------------


def test_someone_who_left_the_roster_can_still_be_exported_and_forgotten(
        tmp_path: Path) -> None:
    before = make_config(tmp_path, f"people:\n{ROSTER}\n")
    Conversation(before).run(signing("console:alice", "Alice Durand", "2026-11-30T06:10"))
    after = make_config(tmp_path, 'people:\n  - {id: "console:bob", role: mentor, name: "B M"}\n')
    engine = build_app(after, VirtualClock(NOW)).engine
    assert engine.profile("console:alice") is None
    record = export(engine, "console:alice")
    assert record["person"] == {"id": "console:alice", "role": "unknown", "name": "Alice Durand"}
    assert [s["name"] for s in record["charter"]] == ["Alice Durand"]
    assert forget(engine, "console:alice").startswith("person data removed, 0 question(s)")
    with pytest.raises(UnknownPersonError, match="unknown person 'console:alice'"):
        export(engine, "console:alice")
    with pytest.raises(UnknownPersonError, match="unknown person 'console:alice'"):
        forget(engine, "console:alice")


def test_an_invitation_is_used_up_and_forgetting_leaves_no_trace(config: Config) -> None:
    app = build_app(config, VirtualClock(NOW))
    code, _ = create_invitation(app.engine, "console:bob", 14)
    app.engine.handle(Inbound("telegram:42", "m1", NOW, text=f"/start {code}"))
    assert app.engine.profile("telegram:42") is not None
    forget(app.engine, "telegram:42")
    assert app.engine.profile("telegram:42") is None
    # the code cannot be used again by someone else: it was deleted when used
    again = app.engine.handle(Inbound("telegram:43", "m2", NOW, text=f"/start {code}"))
    assert "réservé aux personnes inscrites" in again[0].text
    assert "telegram:42" not in raw_text(config.storage.path)
    assert code not in raw_text(config.storage.path)
