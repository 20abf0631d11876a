"""The policies' data files are checked before the bot starts, like the flows."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.config import parse_config
from bot.errors import ConfigError
from tests.conftest import ROOT


def broken_copy(tmp_path: Path, name: str, text: str) -> Path:
    flows = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", flows)
    (flows / "policies" / name).write_text(text, encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text(f"paths: {{flows: {flows}, locales: {ROOT / 'locales'}}}\n")
    return config


@pytest.mark.parametrize("name", ["safety.yaml", "identifying.yaml"])
def test_flows_validate_reports_a_broken_policy_file(tmp_path: Path, name: str) -> None:
    config = broken_copy(tmp_path, name, "rules: [unclosed\n")
    result = CliRunner().invoke(main, ["flows", "validate", "--config", str(config)])
    assert result.exit_code == 1
    assert name in result.output
    assert "Traceback" not in result.output


def test_simulate_stops_with_one_line_on_a_broken_safety_lexicon(tmp_path: Path) -> None:
    config = broken_copy(tmp_path, "safety.yaml", "rules: [unclosed\n")
    result = CliRunner().invoke(main, ["simulate", "-", "--config", str(config), "--data",
                                       str(tmp_path / "d")],
                                input='{"at": "2026-11-30T09:00:00+01:00", "from": "console:alice", "text": "Bonjour"}\n')
    assert result.exit_code == 1
    assert "safety.yaml" in result.output and "Traceback" not in result.output


def test_an_unknown_detector_kind_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"confidentiality.disabled.*unknown kind 'mail'"):
        parse_config("confidentiality: {disabled: [mail]}\n")
    config = parse_config("confidentiality: {disabled: [email, person]}\n")
    assert config.confidentiality.disabled == ("email", "person")
