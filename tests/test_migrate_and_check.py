"""`data migrate --from DIR` imports a data directory written by the first release (made by
that release: tests/fixtures/store-0.1), and `data check` says what it finds."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from bot.cli import main
from tests.conftest import ROOT, Conversation, make_config, say
from tests.storeview import StoreView

FIXTURE = ROOT / "tests" / "fixtures" / "store-0.1"
CONFIG = """
locale: fr
timezone: Europe/Paris
people:
  - {id: "console:bob", role: mentor, name: "Bob Martin"}
  - {id: "console:alice", role: mentee, name: "Alice Durand", mentor: "console:bob", locale: fr}
  - {id: "console:emma", role: mentee, name: "Emma Smith", mentor: "console:bob", locale: en}
"""


def _config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_a_first_release_directory_is_imported_whole(tmp_path: Path) -> None:
    old = tmp_path / "old"
    shutil.copytree(FIXTURE, old)
    data = tmp_path / "data"
    config = _config_file(tmp_path)
    result = CliRunner().invoke(main, ["data", "migrate", "--from", str(old), "--config",
                                       str(config), "--data", str(data)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("imported 3 people, 1 questions")
    view = StoreView(data)
    [question] = view.questions("console:alice")
    assert question.id == "Q1" and question.status.value == "sent"  # a follow-up came
    assert [t.kind.value for t in question.thread] == ["answer", "followup"]
    alice = view.load_person("console:alice")
    assert alice is not None and alice.signatures[0].name == "Alice Durand"
    journal = view.read_journal("console:alice")
    assert any(e.kind == "followup" for e in journal)  # pending entries were imported too
    assert len({e.key for e in journal}) == len(journal)
    bob = view.load_person("console:bob")
    assert bob is not None and [(a.start, a.end) for a in bob.absences] == [
        ("2026-12-21", "2027-01-03")]
    assert [f.level for f in view.flags("console:alice")] == ["distress"]
    # The conversation goes on where it was: the next question is Q2, Emma's draft is kept.
    out = Conversation(make_config(tmp_path).model_copy(
        update={"storage": make_config(tmp_path).storage.model_copy(update={"path": data})}
    )).run([say("2026-12-01T09:00:00+01:00", "console:emma", "I tried several things already "
                "and I think the issue is how the priorities are shared.")])
    assert any(line["text"].startswith("Synthèse du lundi 30 novembre à 13:00") for line in out)
    to_emma = [line["text"] for line in out if line["to"] == "console:emma"]
    assert to_emma[0].startswith("3/3")
    check = CliRunner().invoke(main, ["data", "check", "--config", str(config), "--data",
                                      str(data)])
    assert check.exit_code == 0, check.output
    assert check.output.strip().endswith("store ok")


def test_migrate_says_what_is_wrong(tmp_path: Path) -> None:
    config = _config_file(tmp_path)
    runner = CliRunner()
    result = runner.invoke(main, ["data", "migrate", "--config", str(config)])
    assert result.exit_code == 1 and "--from DIR" in result.output
    result = runner.invoke(main, ["data", "migrate", "--from", str(tmp_path / "nope"),
                                  "--config", str(config), "--data", str(tmp_path / "d")])
    assert result.exit_code == 1 and "no such directory" in result.output
    (tmp_path / "empty").mkdir()
    result = runner.invoke(main, ["data", "migrate", "--from", str(tmp_path / "empty"),
                                  "--config", str(config), "--data", str(tmp_path / "d")])
    assert result.exit_code == 1 and "not a data directory of the first release" in result.output


def test_check_reports_damage_and_orphans(tmp_path: Path) -> None:
    old = tmp_path / "old"
    shutil.copytree(FIXTURE, old)
    data = tmp_path / "data"
    config = _config_file(tmp_path)
    runner = CliRunner()
    runner.invoke(main, ["data", "migrate", "--from", str(old), "--config", str(config),
                         "--data", str(data)])
    with sqlite3.connect(data / "mentorbot.sqlite3") as conn:
        conn.execute("UPDATE people SET state = 'x' WHERE id = 'console:emma'")
        conn.execute("INSERT INTO people (id) VALUES ('telegram:404')")
    result = runner.invoke(main, ["data", "check", "--config", str(config), "--data", str(data)])
    assert result.exit_code == 1
    assert "person console:emma: unreadable state" in result.output
    assert "person telegram:404: neither in the roster nor enrolled" in result.output
    assert "2 problem(s) found" in result.output
