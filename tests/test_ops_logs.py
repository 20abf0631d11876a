"""Structured logs: JSON lines off a terminal, readable text on one, the level from -v/-q or the
config, and never a word of what people wrote."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT, parse_config
from bot.errors import ConfigError
from bot.ops import logs

SECRET_WORDS = "zanzibar quetzalcoatl"


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def script(tmp_path: Path) -> Path:
    lines = [
        {"at": "2026-11-30T09:00:00+01:00", "from": "console:alice", "text": "Bonjour"},
        {"at": "2026-11-30T09:00:01+01:00", "from": "console:alice", "text": "1"},
        {"at": "2026-11-30T09:00:02+01:00", "from": "console:alice",
         "text": f"Je voulais dire {SECRET_WORDS}"},
    ]
    path = tmp_path / "script.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return path


def test_parse_event_splits_the_name_from_the_fields() -> None:
    assert logs.parse_event("handled person=console:alice out=2 ms=3.5") == (
        "handled", {"person": "console:alice", "out": 2, "ms": 3.5})
    assert logs.parse_event("redelivery ignored person=x") == ("redelivery_ignored",
                                                               {"person": "x"})
    assert logs.parse_event("stopping") == ("stopping", {})
    assert logs.parse_event("running telegram=False port=8080") == (
        "running", {"telegram": False, "port": 8080})


def test_a_library_line_is_kept_whole() -> None:
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1,
                               "Started server process [%d]", (42,), None)
    record.color_message = "\x1b[36m42\x1b[0m"
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["event"] == "library" and line["msg"] == "Started server process [42]"
    assert "color_message" not in line


def test_json_and_text_lines_carry_the_same_fields() -> None:
    record = logging.LogRecord("mentorbot.engine", logging.INFO, __file__, 1,
                               "handled person=%s out=%d", ("console:alice", 2), None)
    record.ms = 4.2
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["event"] == "handled" and line["level"] == "info"
    assert line["logger"] == "mentorbot.engine"
    assert line["person"] == "console:alice" and line["out"] == 2 and line["ms"] == 4.2
    text = logs.TextFormatter().format(record)
    assert "INFO  mentorbot.engine handled person=console:alice out=2 ms=4.2" in text


def test_configure_writes_json_off_a_terminal_and_text_when_asked() -> None:
    root = logging.getLogger()
    level = root.level
    stream = io.StringIO()
    try:
        logs.set_cli_level(0, False)
        logs.configure("info", "auto", stream)
        logging.getLogger("mentorbot.test").info("event happened id=%s", "Q1")
        logs.configure("info", "text", stream)
        logging.getLogger("mentorbot.test").info("event happened id=%s", "Q2")
        logs.set_cli_level(0, True)  # -q wins over the config's level
        logs.configure("debug", "text", stream)
        logging.getLogger("mentorbot.test").info("hidden id=%s", "Q3")
    finally:
        for handler in list(root.handlers):
            if handler.get_name() == logs.HANDLER_NAME:
                root.removeHandler(handler)
        logs.set_cli_level(0, False)
        for handler in list(root.handlers):
            if handler.get_name() == logs.HANDLER_NAME:
                root.removeHandler(handler)
        root.setLevel(level)
    first, second = stream.getvalue().splitlines()
    assert json.loads(first)["event"] == "event_happened"
    assert json.loads(first)["id"] == "Q1"
    assert second.endswith("mentorbot.test event happened id=Q2")


def test_simulate_logs_json_events_and_never_message_text(tmp_path: Path) -> None:
    result = run_cli("-v", "simulate", str(script(tmp_path)), "--data", str(tmp_path / "d"),
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stderr.splitlines()]
    handled = [e for e in events if e["event"] == "handled"]
    assert len(handled) == 3
    assert all(e["person"] == "console:alice" and isinstance(e["ms"], float) for e in handled)
    assert "zanzibar" not in result.stderr and "Bonjour" not in result.stderr


def test_level_and_format_come_from_the_config_unless_quiet(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("logging: {level: info, format: text}\n", encoding="utf-8")
    result = run_cli("simulate", str(script(tmp_path)), "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "INFO  mentorbot.engine handled person=console:alice" in result.stderr
    quiet = run_cli("-q", "simulate", str(script(tmp_path)), "--config", str(config),
                    "--data", str(tmp_path / "q"), cwd=tmp_path)
    assert quiet.returncode == 0 and quiet.stderr == ""


@pytest.mark.parametrize(("text", "message"), [
    ("logging: {level: loud}", "logging.level: Input should be"),
    ("logging: {format: xml}", "logging.format: Input should be"),
    ("logging: {colour: true}", "logging.colour: unknown key"),
])
def test_logging_keys_are_validated(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(text)


def test_logging_keys_accept_any_case_and_an_empty_section() -> None:
    assert parse_config("logging: {level: INFO, format: JSON}").logging.level == "info"
    assert parse_config("logging:").logging.format == "auto"
