"""Issue 14, item 14: errors a trainer understands. A YAML mistake is reported first, at its
own line, in plain words with a hint; what only follows from it comes after. A missing or fuzzy
translation stops `flows validate` and `run`; scripts/i18n.sh counts fuzzy entries as
untranslated and says so."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import Config
from bot.errors import FlowError
from bot.flows.validate import validate_all
from bot.flows.yamlsrc import SourceError, load_located_text
from tests.conftest import ROOT


def copy_tree(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(ROOT / name, target)
    return target


def line_of(path: Path, fragment: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if fragment in line:
            return number
    raise AssertionError(fragment)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def with_paths(config: Config, **paths: Path) -> Config:
    return config.model_copy(update={"paths": config.paths.model_copy(update=paths)})


def problems(config: Config) -> list[str]:
    with pytest.raises(FlowError) as caught:
        validate_all(config)
    return list(caught.value.problems)


def error_of(text: str) -> str:
    with pytest.raises(SourceError) as caught:
        load_located_text(text, "case.yaml")
    return str(caught.value)


# -- YAML mistakes, at their line, in plain words ---------------------------------------------


def test_an_unquoted_colon_is_the_root_cause_and_knock_on_errors_follow(
    tmp_path: Path, config: Config
) -> None:
    flows = copy_tree(tmp_path, "flows")
    mentor = flows / "mentor.yaml"
    edit(mentor, "    say: Quelle question voulez-vous traiter ? Écrivez son numéro, par exemple Q3.",
         "    say: valeur : avec deux-points")
    line = line_of(mentor, "valeur : avec")
    found = problems(with_paths(config, flows=flows))
    first = found[0]
    assert first.startswith(f"{mentor}:{line}:17: the text after 'say:' contains ': ' (a colon "
                            "followed by a space), which YAML reads as the start of another key.")
    assert 'Hint: put the whole text in quotes: say: "valeur : avec deux-points"' in first
    assert "(YAML said: mapping values are not allowed here" in first
    assert "fix this first" in first
    # The menu leads to the mentor flow, which could not be read: that comes after.
    rest = "\n".join(found[1:])
    assert "unknown flow 'mentor'" in rest
    assert "mapping values" not in rest


def test_a_line_indented_too_little_is_reported_at_that_line(
    tmp_path: Path, config: Config
) -> None:
    flows = copy_tree(tmp_path, "flows")
    question = flows / "question.yaml"
    text = question.read_text(encoding="utf-8")
    # The `expect:` of the first step, written two spaces to the left.
    question.write_text(text.replace("    expect: text\n", "  expect: text\n", 1), encoding="utf-8")
    line = line_of(question, "  expect: text")
    found = problems(with_paths(config, flows=flows))
    assert found[0].startswith(f"{question}:{line}:3: line {line} is indented with 2 spaces, "
                               "fewer than the lines around it (4)")
    assert f"Hint: indent line {line} with 4 spaces" in found[0]
    assert f"(YAML said: mapping values are not allowed here, at line {line + 1})" in found[0]


@pytest.mark.parametrize(("text", "where", "words"), [
    ("texts:\n  hello: Bienvenue : lisez la charte\n", "2:20",
     "Hint: put the whole text in quotes: hello: \"Bienvenue : lisez la charte\""),
    ("steps:\n  a:\n    choices:\n      - label: Oui : envoyer\n        next: b\n", "4:20",
     "Hint: put the whole text in quotes: label: \"Oui : envoyer\""),
    ("texts:\n  hello: {name}, bonjour\n", "2:10",
     "starts with '{', which YAML reads as a structure"),
    ("steps:\n  a:\n    say: Bonjour\n     expect: text\n    next: b\n", "4:6",
     "line 4 is indented more (5 spaces) than line 3 (4), so YAML reads it as the rest of the "
     "text of 'say:'"),
    ("steps:\n  a:\n    say: Bonjour\n   expect: text\n", "4:4",
     "indent this line with 4 spaces, if it belongs with line 3"),
    ("steps:\n  a:\n    choices:\n      - label: Oui\n        next: b\n     - label: Non\n", "6:6",
     "indent this '- ' with 6 spaces, like line 4"),
    ('steps:\n  a:\n    say: "Bonjour\n    expect: text\n    next: "@home"\n', "3:10",
     "line 3 opens a quote that is not closed on that line"),
    ("steps:\n  a:\n    say: 'C'est bien'\n    next: b\n", "3:12",
     "starts with a quote (') and contains that quote again"),
    ("steps:\n  a:\n    say: 'Bonjour\n    next: b\n", "3:10",
     "not closed on that line, so YAML reads the lines after it as the same text, up to the "
     "end of the file"),
    ("a:\n  - x\n  b: 1\n", "3:3", "a block is either a list or keys"),
    ("steps:\n  a:\n    next: @home\n", "3:11",
     "a text cannot start with '@' in YAML. Hint: put the value in quotes, e.g. \"@home\""),
])
def test_yaml_mistakes_in_plain_words(text: str, where: str, words: str) -> None:
    message = error_of(text)
    assert message.startswith(f"case.yaml:{where}: "), message
    assert words in message, message
    assert "(YAML said: " in message


def test_an_unknown_yaml_problem_keeps_pyyaml_words() -> None:
    assert error_of("a: [1, 2\n") .startswith("case.yaml:2:1: ")


# -- translations -----------------------------------------------------------------------------


def drop_translation(locales: Path, msgid_start: str) -> None:
    po = locales / "en" / "LC_MESSAGES" / "messages.po"
    lines = po.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        if line.startswith(f'msgid "{msgid_start}'):
            assert lines[index + 1].startswith("msgstr ")
            lines[index + 1] = 'msgstr ""'
            break
    else:
        raise AssertionError(msgid_start)
    po.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_a_missing_translation_stops_validate(tmp_path: Path, config: Config) -> None:
    locales = copy_tree(tmp_path, "locales")
    drop_translation(locales, "Quelle partie voulez-vous modifier")
    found = problems(with_paths(config, locales=locales))
    assert len(found) == 1
    assert "missing en translation for question.yaml" in found[0]


def test_a_missing_translation_stops_run(tmp_path: Path) -> None:
    locales = copy_tree(tmp_path, "locales")
    drop_translation(locales, "Quelle partie voulez-vous modifier")
    config = tmp_path / "config.yaml"
    config.write_text(f"paths: {{locales: '{locales}'}}\nstorage: {{path: '{tmp_path / 'data'}'}}\n",
                      encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "bot", "run", "--config", str(config)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert "missing en translation for question.yaml" in lines[0]
    assert lines[-1].startswith("mentorbot: not started: translate the texts above")
    assert not (tmp_path / "data").exists()  # nothing was opened


def test_i18n_counts_a_fuzzy_entry_as_untranslated_and_says_so(tmp_path: Path) -> None:
    work = tmp_path / "repo"
    work.mkdir()
    for name in ("flows", "locales", "scripts"):
        shutil.copytree(ROOT / name, work / name)
    shutil.copy(ROOT / "babel.cfg", work / "babel.cfg")
    edit(work / "flows" / "question.yaml", "Quelle partie voulez-vous modifier ?",
         "Quelle partie souhaitez-vous modifier ?")
    venv = ROOT / ".venv" / "bin"
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYBABEL=str(venv / "pybabel"),
               PYTHON=sys.executable)
    done = subprocess.run(["bash", "scripts/i18n.sh"], cwd=work, env=env, capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    report = [line for line in done.stdout.splitlines() if "en/LC_MESSAGES" in line
              and "translated" in line]
    assert len(report) == 1
    assert ", 1 untranslated (1 fuzzy:" in report[0]
    assert "it counts as untranslated until reviewed" in report[0]
    assert "fuzzy, line " in done.stdout and "Quelle partie souhaitez-vous modifier" in done.stdout
    # pybabel would have said 100%: the compiled catalog leaves the fuzzy entry out.
    assert "100%" not in done.stdout + done.stderr
