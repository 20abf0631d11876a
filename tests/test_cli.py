"""The command line in-process (click's runner): each command's output and exit code."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from bot.cli import main
from tests.conftest import QUESTION_FR, ROOT, asking, signing

CONFIG = """
people:
  - {id: "console:bob", role: mentor, name: "Bob Martin"}
  - {id: "console:alice", role: mentee, name: "Alice Durand", mentor: "console:bob"}
"""


def setup_config(tmp_path: Path) -> Path:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG + f"paths: {{flows: {ROOT / 'flows'}, locales: {ROOT / 'locales'}}}\n")
    return config


def script(events: list[dict[str, object]]) -> str:
    return "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events)


def test_simulate_then_export_in_three_formats_then_forget(tmp_path: Path) -> None:
    runner = CliRunner()
    config = setup_config(tmp_path)
    events = (signing("console:bob", "Bob Martin", "2026-11-30T06:00")
              + signing("console:alice", "Alice Durand", "2026-11-30T06:10")
              + asking("console:alice", QUESTION_FR))
    result = runner.invoke(main, ["simulate", "-", "--config", str(config)], input=script(events))
    assert result.exit_code == 0, result.output
    assert '"to": "console:alice"' in result.output
    for fmt, marker in (("json", '"questions"'), ("md", "# Trace de travail"), ("html", "<!DOCTYPE html>")):
        result = runner.invoke(main, ["data", "export", "--user", "console:alice", "--format", fmt,
                                      "--config", str(config)])
        assert result.exit_code == 0, result.output
        assert marker in result.output
    record = json.loads(runner.invoke(main, ["data", "export", "--user", "console:alice",
                                             "--config", str(config)]).output)
    assert set(record) == {"person", "charter", "questions", "journal"}
    result = runner.invoke(main, ["data", "forget", "--user", "console:alice", "--config", str(config)])
    assert result.exit_code == 1 and "add --yes to confirm" in result.output
    result = runner.invoke(main, ["data", "forget", "--user", "console:alice", "--yes",
                                  "--config", str(config)])
    assert result.exit_code == 0 and "erased console:alice" in result.output
    result = runner.invoke(main, ["data", "export", "--user", "console:nobody", "--config", str(config)])
    assert result.exit_code == 1 and "unknown person 'console:nobody'" in result.output


def test_invite_prints_a_code(tmp_path: Path) -> None:
    runner = CliRunner()
    config = setup_config(tmp_path)
    result = runner.invoke(main, ["invite", "--mentor", "console:bob", "--config", str(config)])
    assert result.exit_code == 0
    assert len(result.output.strip()) == 8
    result = runner.invoke(main, ["invite", "--mentor", "console:alice", "--config", str(config)])
    assert result.exit_code == 1 and "is not a mentor" in result.output


def test_flows_commands(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["flows", "validate"])
    assert result.exit_code == 0 and result.output.startswith("ok: 4 flows")
    result = runner.invoke(main, ["flows", "graph", "charter"])
    assert result.exit_code == 0 and "stateDiagram" in result.output
    result = runner.invoke(main, ["flows", "test", str(ROOT / "stories" / "04-mentor.yaml")])
    assert result.exit_code == 0 and "1 passed, 0 failed" in result.output
    result = runner.invoke(main, ["flows", "test", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 1 and "no such story" in result.output


def test_console_command(tmp_path: Path) -> None:
    runner = CliRunner()
    config = setup_config(tmp_path)
    result = runner.invoke(main, ["console", "--config", str(config), "--as", "console:alice"],
                           input="Bonjour\n/quitter\n")
    assert result.exit_code == 0
    assert "Charte d'usage" in result.output


def test_simulate_missing_script_and_bad_config(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["simulate", str(tmp_path / "none.jsonl")])
    assert result.exit_code == 1 and "no such script" in result.output
    result = runner.invoke(main, ["simulate", "-", "--config", str(tmp_path / "absent.yaml")], input="")
    assert result.exit_code == 1 and "no such config file" in result.output


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(main, ["--help"])
    for command in ("run", "console", "simulate", "flows", "data", "invite"):
        assert command in result.output
