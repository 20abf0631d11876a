"""`config.yaml`: defaults, every documented key, and errors that name the key or the line."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import time
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT, Config, load_config, parse_config
from bot.errors import ConfigError

PYTHON = sys.executable

# Every key of DESIGN.md's config section, with values other than the defaults where possible.
FULL = """
locale: en
timezone: America/Montreal
storage:
  path: var/store
hours:
  days: [mon, tue, wed, thu]
  open: "09:30"
  close: "17:00"
  holidays: CA
digest:
  times: ["09:30", "14:00"]
people:
  - {id: "telegram:42", role: mentor, name: "Bob Martin"}
  - {id: "whatsapp:33612345678", role: mentee, name: "Alice Durand", mentor: "telegram:42",
     locale: fr}
confidentiality:
  deny_list: [Acme, Globex]
server: {host: 0.0.0.0, port: 9090, public_url: "https://bot.example.org"}
retention: {days: 365}
transports:
  telegram:
    enabled: true
    token: ${MB_TEST_TG_TOKEN}
    mode: webhook
    base_url: http://127.0.0.1:9999/bot
    webhook_secret: ${MB_TEST_TG_SECRET}
  whatsapp:
    enabled: true
    token: ${MB_TEST_WA_TOKEN}
    phone_number_id: ${MB_TEST_WA_PHONE}
    app_secret: ${MB_TEST_WA_SECRET}
    verify_token: ${MB_TEST_WA_VERIFY}
    api_base_url: http://127.0.0.1:9998
    api_version: "26.0"
"""

FULL_ENV = {
    "MB_TEST_TG_TOKEN": "123:abc",
    "MB_TEST_TG_SECRET": "s3cret",
    "MB_TEST_WA_TOKEN": "wa-token",
    "MB_TEST_WA_PHONE": "1234567890",
    "MB_TEST_WA_SECRET": "app-secret",
    "MB_TEST_WA_VERIFY": "verify-me",
}

ROSTER = """
people:
  - {id: "console:bob", role: mentor, name: "Bob"}
  - {id: "console:alice", role: mentee, name: "Alice", mentor: "console:bob"}
"""


def error_of(text: str, source: str = "config.yaml") -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(textwrap.dedent(text), source)
    message = str(info.value)
    assert "\n" not in message, "a config error is one line"
    return message


# -- defaults ---------------------------------------------------------------------------------


def test_embedded_defaults_with_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./config.yaml here
    config = load_config(None)
    assert config.locale == "fr"
    assert config.timezone == "Europe/Paris"
    assert config.hours.days == ("mon", "tue", "wed", "thu", "fri")
    assert (config.hours.open, config.hours.close) == (time(8), time(18))
    assert config.hours.holidays == "FR"
    assert config.digest.times == (time(8), time(13))
    assert config.storage.path == tmp_path / "data"
    assert config.retention.days == 730
    assert (config.server.host, config.server.port) == ("127.0.0.1", 8080)
    assert not config.transports.telegram.enabled and not config.transports.whatsapp.enabled
    assert config.paths.flows == PROJECT_ROOT / "flows"
    roles = {p.id: p.role for p in config.people}
    assert roles["console:bob"] == "mentor" and roles["console:alice"] == "mentee"


def test_empty_file_gives_the_defaults() -> None:
    assert parse_config("", "c.yaml") == Config()
    assert parse_config("# only a comment\n", "c.yaml") == Config()


def test_cwd_config_yaml_is_used_when_no_path(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config.yaml").write_text("locale: en\n" + ROSTER, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    config = load_config(None)
    assert config.locale == "en"
    assert config.storage.path == tmp_path / "data"


def test_shipped_config_yaml_loads() -> None:
    config = load_config(PROJECT_ROOT / "config.yaml")
    assert config.storage.path == PROJECT_ROOT / "data"
    assert config.person("console:alice") is not None


def test_every_documented_key_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in FULL_ENV.items():
        monkeypatch.setenv(name, value)
    config = parse_config(FULL, "full.yaml")
    assert config.locale == "en"
    assert config.timezone == "America/Montreal"
    assert config.storage.path == Path("var/store")
    assert config.hours.days == ("mon", "tue", "wed", "thu")
    assert (config.hours.open, config.hours.close) == (time(9, 30), time(17))
    assert config.hours.holidays == "CA"
    assert config.digest.times == (time(9, 30), time(14))
    alice = config.person("whatsapp:33612345678")
    assert alice is not None and alice.mentor == "telegram:42" and alice.locale == "fr"
    assert config.confidentiality.deny_list == ("Acme", "Globex")
    assert config.server.port == 9090 and config.server.public_url == "https://bot.example.org"
    assert config.retention.days == 365
    telegram = config.transports.telegram
    assert telegram.enabled and telegram.mode == "webhook"
    assert telegram.token == "123:abc" and telegram.webhook_secret == "s3cret"
    assert telegram.base_url == "http://127.0.0.1:9999/bot"
    whatsapp = config.transports.whatsapp
    assert (whatsapp.token, whatsapp.phone_number_id, whatsapp.app_secret,
            whatsapp.verify_token) == ("wa-token", "1234567890", "app-secret", "verify-me")
    assert whatsapp.api_base_url == "http://127.0.0.1:9998" and whatsapp.api_version == "26.0"


def test_holidays_null_means_no_holidays() -> None:
    config = parse_config("hours: {holidays: null}\n", "c.yaml")
    assert config.hours.holidays is None


def test_empty_section_keeps_its_defaults() -> None:
    config = parse_config("storage:\nhours:\n", "c.yaml")
    assert config.storage.path == Path("data")
    assert config.hours.open == time(8)


def test_absences_accept_dates_quoted_or_not() -> None:
    config = parse_config(textwrap.dedent("""
        people:
          - id: "console:bob"
            role: mentor
            absences:
              - {from: 2026-12-24, to: "2026-12-31"}
        """), "c.yaml")
    bob = config.person("console:bob")
    assert bob is not None
    assert (bob.absences[0].start, bob.absences[0].end) == ("2026-12-24", "2026-12-31")


# -- errors that name the key -----------------------------------------------------------------


def test_unknown_key_names_its_path() -> None:
    assert error_of("hours:\n  opne: '08:00'\n") == "config.yaml: hours.opne: unknown key"
    assert error_of("colour: blue\n") == "config.yaml: colour: unknown key"
    message = error_of("""
        people:
          - {id: "console:bob", role: mentor}
          - {id: "console:al", role: mentee, mentr: "console:bob"}
        """)
    assert message == "config.yaml: people.1.mentr: unknown key"
    message = error_of("transports:\n  telegram:\n    tokn: x\n")
    assert message == "config.yaml: transports.telegram.tokn: unknown key"


def test_yaml_syntax_error_gives_line_and_column() -> None:
    message = error_of("locale: fr\nhours:\n  open: '08:00'\n   close: '18:00'\n", "conf/c.yaml")
    assert message.startswith("conf/c.yaml:4:4: line 4 is indented with 3 spaces")
    assert "indent this line with 2 spaces" in message
    assert message.endswith("(YAML said: expected <block end>, but found "
                            "'<block mapping start>', at line 4)")
    message = error_of("locale: fr\nhours: {open: '08:00', close: [}\n")
    assert message == "config.yaml:2:32: expected the node content, but found '}'"


def test_tab_indentation_points_at_the_tab() -> None:
    message = error_of("hours:\n\topen: '08:00'\n")
    assert message.startswith("config.yaml:2:1: ")


def test_duplicate_key_is_an_error_with_its_line() -> None:
    message = error_of("locale: fr\nhours:\n  open: '08:00'\n  open: '09:00'\n")
    assert message == "config.yaml:4:3: duplicate key 'open'"


def test_python_tags_are_refused() -> None:
    message = error_of("locale: !!python/object/apply:os.system ['true']\n")
    assert message.startswith("config.yaml:1:9: ")
    assert "custom YAML tags are not allowed" in message


def test_invalid_yaml_value_is_a_config_error() -> None:
    # PyYAML raises a bare ValueError for an impossible date: it must not escape.
    message = error_of("people:\n  - {id: 'console:b', role: mentor, absences: "
                       "[{from: 2026-13-45, to: 2026-12-31}]}\n")
    assert message.startswith("config.yaml:2:")
    assert "month must be in 1..12" in message


def test_top_level_must_be_a_mapping() -> None:
    assert error_of("- a\n- b\n") == "config.yaml: the top level must be a mapping of keys"


@pytest.mark.parametrize(("text", "expected"), [
    ("hours: {open: '25:00'}", "config.yaml: hours.open: hour must be between 00 and 23"),
    ("hours: {close: '18:60'}", "config.yaml: hours.close: minute must be between 00 and 59"),
    ("hours: {open: '8h'}", "config.yaml: hours.open: expected a time as 'HH:MM'"),
    ("hours: {open: '10:00', close: '09:00'}", "config.yaml: hours: open must be before close"),
    ("hours: {open: '10:00', close: '10:00'}", "config.yaml: hours: open must be before close"),
    ("hours: {days: [mon, fryday]}", "config.yaml: hours.days: unknown day 'fryday'"),
    ("hours: {days: []}", "config.yaml: hours.days: at least one opening day"),
    ("hours: {days: mon}", "config.yaml: hours.days: expected a list of days"),
    ("hours: {holidays: XX}", "config.yaml: hours.holidays: unknown holiday country 'XX'"),
    ("digest: {times: ['08:00', '24:00']}", "config.yaml: digest.times: hour must be"),
    ("timezone: Europe/Pariss", "config.yaml: timezone: unknown time zone 'Europe/Pariss'"),
    ("timezone: /etc/passwd", "config.yaml: timezone: unknown time zone '/etc/passwd'"),
    ("locale: xx", "config.yaml: locale: unknown locale 'xx'"),
    ("server: {port: 70000}", "config.yaml: server.port: "),
    ("retention: {days: 0}", "config.yaml: retention.days: "),
    ("transports: {telegram: {mode: carrier-pigeon}}", "config.yaml: transports.telegram.mode: "),
])
def test_bad_values_name_their_key(text: str, expected: str) -> None:
    assert error_of(text + "\n").startswith(expected)


def test_unquoted_time_is_not_taken_as_seconds() -> None:
    # YAML 1.1 reads 18:00 as the integer 1080: it must be an error, not 00:18.
    message = error_of("hours: {open: '08:00', close: 18:00}\n")
    assert message.startswith("config.yaml: hours.close: expected a 'HH:MM' string, got int 1080")
    message = error_of("digest: {times: [13:00]}\n")
    assert message.startswith("config.yaml: digest.times: expected a 'HH:MM' string")


def test_days_are_case_insensitive() -> None:
    assert parse_config("hours: {days: [Mon, TUE]}\n", "c").hours.days == ("mon", "tue")


@pytest.mark.parametrize(("people", "expected"), [
    ("""
     - {id: "console:bob", role: mentor}
     - {id: "console:bob", role: mentor}
     """, "config.yaml: people.1: duplicate id 'console:bob'"),
    ("""
     - {id: "console:bob", role: mentor}
     - {id: "console:al", role: mentee}
     """, "config.yaml: people.1: a mentee needs a 'mentor'"),
    ("""
     - {id: "console:bob", role: mentor}
     - {id: "console:al", role: mentee, mentor: "console:zoe"}
     """, "config.yaml: people.1.mentor: 'console:zoe' is not a mentor of the roster"),
    ("""
     - {id: "console:bob", role: mentor}
     - {id: "console:al", role: mentee, mentor: "console:bob"}
     - {id: "console:cy", role: mentee, mentor: "console:al"}
     """, "config.yaml: people.2.mentor: 'console:al' is not a mentor of the roster"),
    ("""
     - {id: "bob", role: mentor}
     """, "config.yaml: people.0.id: 'bob' is not a person id"),
    ("""
     - {id: "console:bob", role: boss}
     """, "config.yaml: people.0.role: "),
    ("""
     - {id: "console:bob", role: mentor, locale: zz}
     """, "config.yaml: people.0.locale: unknown locale 'zz'"),
    ("""
     - {id: "console:bob", role: mentor, absences: [{from: 2026-12-31, to: 2026-12-24}]}
     """, "config.yaml: people.0.absences.0: the absence ends (2026-12-24) before it starts"),
    ("""
     - {id: "console:bob", role: mentor, absences: [{from: "Noël", to: 2026-12-24}]}
     """, "config.yaml: people.0.absences.0.from: expected a date like 2026-12-24"),
])
def test_roster_errors(people: str, expected: str) -> None:
    text = "people:\n" + textwrap.indent(textwrap.dedent(people).strip("\n"), "  ") + "\n"
    assert error_of(text).startswith(expected)


# -- environment ------------------------------------------------------------------------------


def test_interpolation_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MB_TEST_HOST", "10.0.0.7")
    monkeypatch.setenv("MB_TEST_NAME", "Acme")
    config = parse_config("server: {host: '${MB_TEST_HOST}'}\n"
                          "confidentiality: {deny_list: ['${MB_TEST_NAME} SA', x]}\n", "c")
    assert config.server.host == "10.0.0.7"
    assert config.confidentiality.deny_list == ("Acme SA", "x")


def test_missing_variable_of_a_disabled_transport_is_fine(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MB_TEST_ABSENT", raising=False)
    config = parse_config("transports: {telegram: {enabled: false, token: '${MB_TEST_ABSENT}'}}\n",
                          "c")
    assert config.transports.telegram.token is None


def test_enabled_transport_names_the_missing_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MB_TEST_ABSENT", raising=False)
    message = error_of("transports:\n  telegram:\n    enabled: true\n"
                       "    token: ${MB_TEST_ABSENT}\n")
    assert message == ("config.yaml: transports.telegram.token: environment variable "
                       "MB_TEST_ABSENT is not set (needed because transports.telegram is enabled)")


def test_whatsapp_names_each_missing_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in FULL_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MB_TEST_WA_SECRET")
    with pytest.raises(ConfigError, match=r"transports\.whatsapp\.app_secret: environment "
                                          r"variable MB_TEST_WA_SECRET is not set"):
        parse_config(FULL, "c")


def test_webhook_mode_needs_its_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MB_TEST_TG_TOKEN", "123:abc")
    monkeypatch.delenv("MB_TEST_TG_SECRET", raising=False)
    text = ("transports:\n  telegram:\n    enabled: true\n    token: ${MB_TEST_TG_TOKEN}\n"
            "    webhook_secret: ${MB_TEST_TG_SECRET}\n")
    assert parse_config(text, "c").transports.telegram.token == "123:abc"  # polling: not needed
    message = error_of(text + "    mode: webhook\n")
    assert "transports.telegram.webhook_secret: environment variable MB_TEST_TG_SECRET" in message


def test_empty_variable_is_named_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MB_TEST_EMPTY", "")
    message = error_of("transports: {telegram: {enabled: true, token: '${MB_TEST_EMPTY}'}}\n")
    assert "environment variable MB_TEST_EMPTY is empty" in message


def test_enabled_transport_without_any_value(monkeypatch: pytest.MonkeyPatch) -> None:
    message = error_of("transports: {telegram: {enabled: true}}\n")
    assert message == ("config.yaml: transports.telegram.token: required when "
                       "transports.telegram is enabled")


def test_missing_variable_elsewhere_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MB_TEST_ABSENT", raising=False)
    message = error_of("server: {port: '${MB_TEST_ABSENT}'}\n")
    assert message == "config.yaml: server.port: environment variable MB_TEST_ABSENT is not set"


# -- paths ------------------------------------------------------------------------------------


def test_paths_are_relative_to_the_config_file(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    conf_dir = tmp_path / "etc"
    conf_dir.mkdir()
    path = conf_dir / "mentorbot.yaml"
    path.write_text("storage: {path: store}\npaths: {flows: my-flows, locales: /abs/locales}\n"
                    + ROSTER, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    config = load_config(Path("etc/mentorbot.yaml"))
    assert config.storage.path == conf_dir / "store"
    assert config.paths.flows == conf_dir / "my-flows"
    assert config.paths.locales == Path("/abs/locales")


def test_data_option_overrides_storage_path(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("storage: {path: store}\n", encoding="utf-8")
    assert load_config(path, tmp_path / "other").storage.path == tmp_path / "other"
    assert load_config(None, tmp_path / "x").storage.path == tmp_path / "x"


def test_missing_or_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path)  # a directory
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("locale: fr # é\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(bad)


# -- through the command line -----------------------------------------------------------------


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MB_TEST_")}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    return subprocess.run([PYTHON, "-m", "bot", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize(("text", "expected"), [
    ("hours:\n  opne: '08:00'\n", "hours.opne: unknown key"),
    ("hours: [\n", "bad.yaml:2:1: "),
    ("hours: {open: '25:00'}\n", "hours.open: hour must be between 00 and 23"),
    ("transports: {whatsapp: {enabled: true, token: '${MB_TEST_NOPE}'}}\n",
     "environment variable MB_TEST_NOPE is not set"),
    ("people:\n  - {id: 'console:a', role: mentee, mentor: 'console:b'}\n",
     "'console:b' is not a mentor of the roster"),
])
def test_cli_bad_config_is_one_line(tmp_path: Path, text: str, expected: str) -> None:
    (tmp_path / "bad.yaml").write_text(text, encoding="utf-8")
    result = run_cli("flows", "validate", "--config", "bad.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert result.stdout == ""
