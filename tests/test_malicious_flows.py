"""A flow directory written by someone hostile can neither run code nor leak anything.

Trainers edit YAML; the bot must treat it as data. Each case starts from a copy of the shipped
`flows/` and plants one attack: a Python callable named as an action or a check, a YAML tag
that builds Python objects, a symlink or a special file that leads outside `flows/`, a huge
file, a placeholder with attribute access. The loader must refuse it with `path:line:col`,
and nothing may run: a planted module writes a sentinel file if it is ever imported.
(`tests/test_flow_loader.py` covers the trainer's honest mistakes; this file, the attacks.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_app
from bot.clock import VirtualClock
from bot.config import Config, parse_config
from bot.engine.guard import Guard
from bot.engine.texts import REQUIRED_TEXTS, fill
from bot.errors import ConfigError, FlowError
from bot.flows.loader import MAX_FILES, load_flows
from bot.flows.validate import check_catalogs
from bot.flows.yamlsrc import MAX_FILE_BYTES
from bot.messages import Inbound
from tests.conftest import ROOT, make_config

EVIL = "mentorbot_evil_payload"


@pytest.fixture
def planted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An importable module that leaves a sentinel file when imported or called."""
    sentinel = tmp_path / "PWNED"
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / f"{EVIL}.py").write_text(
        "from pathlib import Path\n"
        f"Path({str(sentinel)!r}).write_text('imported')\n"
        "def run(*args, **kwargs):\n"
        f"    Path({str(sentinel)!r}).write_text('called')\n"
        "class Thing:\n"
        "    def __init__(self, *args, **kwargs):\n"
        "        run()\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path / "lib"))
    sys.modules.pop(EVIL, None)
    yield sentinel
    assert EVIL not in sys.modules, "the planted module was imported"
    assert not sentinel.exists(), "planted code ran"
    sys.modules.pop(EVIL, None)


@pytest.fixture
def flows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, planted: Path) -> Path:
    """A copy of the shipped flows; problems read `flows/<file>:line:col`."""
    root = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", root)
    monkeypatch.chdir(tmp_path)
    return root


def problems(root: Path) -> list[str]:
    with pytest.raises(FlowError) as info:
        load_flows(root, REQUIRED_TEXTS)
    return info.value.problems


def plant(root: Path, name: str, old: str, new: str) -> str:
    path = root / name
    text = path.read_text(encoding="utf-8")
    assert old in text, (name, old)
    changed = text.replace(old, new, 1)
    path.write_text(changed, encoding="utf-8")
    return changed


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def key_line(text: str, needle: str, key: str) -> int:
    """The line of the `key:` whose value holds `needle` (a block scalar starts a line above)."""
    lines = text.splitlines()
    line = line_of(text, needle)
    while f"{key}:" not in lines[line - 1]:
        line -= 1
    return line


def test_the_copied_flows_load(flows: Path) -> None:
    assert load_flows(flows, REQUIRED_TEXTS).flows


# -- Python callables named as actions or checks ------------------------------------------------

CALLABLES = ["os.system", "bot.cli.main", "builtins.eval", f"{EVIL}.run", "subprocess:Popen",
             "__import__", "eval", "exec", "getattr", "bot.engine.actions.submit_question"]


@pytest.mark.parametrize("name", CALLABLES)
def test_a_choice_action_naming_a_callable_is_refused(flows: Path, name: str) -> None:
    text = plant(flows, "question.yaml", "action: submit_question", f"action: {name}")
    found = problems(flows)
    assert len(found) == 1, found
    where = f"flows/question.yaml:{line_of(text, f'action: {name}')}:"
    assert found[0].startswith(f"{where}9: unknown action {name!r}"), found
    if "." in name or ":" in name:
        assert "(flows cannot name Python code)" in found[0]


@pytest.mark.parametrize("name", ["os.system", "bot.cli.main", "builtins.eval", f"{EVIL}.run"])
def test_a_step_action_naming_a_callable_is_refused(flows: Path, name: str) -> None:
    text = plant(flows, "charter.yaml", "action: sign_charter", f"action: {name}")
    found = problems(flows)
    assert any(p.startswith(f"flows/charter.yaml:{line_of(text, f'action: {name}')}:")
               and f"unknown action {name!r} (flows cannot name Python code)" in p
               for p in found), found


@pytest.mark.parametrize("name", ["os.system", "bot.cli.main", "builtins.eval", f"{EVIL}.run",
                                  "bot.engine.checks.min_words", "re.compile"])
def test_a_check_naming_a_callable_is_refused(flows: Path, name: str) -> None:
    text = plant(flows, "question.yaml", "- check: not_empty", f"- check: {name}")
    found = problems(flows)
    assert len(found) == 1, found
    assert found[0].startswith(
        f"flows/question.yaml:{line_of(text, f'check: {name}')}:"), found
    assert f"unknown check {name!r} (flows cannot name Python code)" in found[0]


@pytest.mark.parametrize("target", ["os:system", "os.path:join", f"{EVIL}:run", "@os.system",
                                    "bot.cli:main", "../../etc:passwd"])
def test_a_target_naming_code_is_refused(flows: Path, target: str) -> None:
    plant(flows, "question.yaml", "next: analysis", f"next: {target!r}")
    found = problems(flows)
    assert any("question.yaml" in p and ("unknown flow" in p or "'next' must be" in p)
               for p in found), found


# -- YAML tags that build Python objects -------------------------------------------------------

TAGS = [
    f"!!python/object/apply:{EVIL}.run []",
    "!!python/object/apply:os.system ['touch PWNED_BY_YAML']",
    f"!!python/object/new:{EVIL}.Thing []",
    f"!!python/object:{EVIL}.Thing {{}}",
    f"!!python/name:{EVIL}.run ''",
    f"!!python/module:{EVIL} ''",
    "!!python/name:bot.cli.main ''",
    "!!python/tuple [a, b]",
    "!<tag:yaml.org,2002:python/object/apply:os.system> ['touch PWNED_BY_YAML']",
    "!evil {}",
]


@pytest.mark.parametrize("tag", TAGS)
def test_a_python_tag_is_refused_and_nothing_runs(flows: Path, tmp_path: Path, tag: str) -> None:
    text = plant(flows, "question.yaml", "save: context\n", f"save: {tag}\n")
    # the root cause, marked as such when other problems only follow from it
    found = [p.split(" [fix this first", 1)[0] for p in problems(flows)
             if p.startswith("flows/question.yaml")]
    line = line_of(text, tag)
    column = text.splitlines()[line - 1].index("!") + 1
    assert found == [f"flows/question.yaml:{line}:{column}: custom YAML tags are not allowed "
                     "(no Python objects here)"], found
    assert not (tmp_path / "PWNED_BY_YAML").exists()


@pytest.mark.parametrize("tag", TAGS[:3])
def test_a_python_tag_as_a_whole_file_or_a_key_is_refused(flows: Path, tag: str) -> None:
    (flows / "evil.yaml").write_text(f"--- {tag}\n", encoding="utf-8")
    (flows / "evil_key.yaml").write_text(f"? {tag}\n: value\n", encoding="utf-8")
    found = problems(flows)
    assert any(p.startswith("flows/evil.yaml:1:") for p in found), found
    assert any(p.startswith("flows/evil_key.yaml:1:") for p in found), found


def test_a_python_tag_in_the_config_is_refused(planted: Path) -> None:
    with pytest.raises(ConfigError, match="custom YAML tags are not allowed"):
        parse_config(f"locale: !!python/object/apply:{EVIL}.run []\n", "config.yaml")


# -- files that lead elsewhere ------------------------------------------------------------------


def test_a_symlink_to_a_file_outside_is_refused_without_reading_it(
    flows: Path, tmp_path: Path,
) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text((flows / "question.yaml").read_text(encoding="utf-8")
                       .replace("flow: question", "flow: stolen"), encoding="utf-8")
    (flows / "stolen.yaml").symlink_to(outside)
    (flows / "passwd.yaml").symlink_to("/etc/passwd")
    (flows / "relative.yaml").symlink_to(Path("..") / "outside.yaml")
    (flows / "zero.yaml").symlink_to("/dev/zero")  # endless if ever read
    found = problems(flows)
    for name in ("passwd", "relative", "stolen", "zero"):
        assert f"flows/{name}.yaml:1:1: file points outside the flows directory" in found, found
    assert len(found) == 4, found


def test_a_symlinked_directory_outside_is_refused(flows: Path, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (flows / "dir.yaml").symlink_to(tmp_path / "elsewhere")
    assert problems(flows) == ["flows/dir.yaml:1:1: file points outside the flows directory"]


def test_a_symlink_that_leaves_and_comes_back_is_an_ordinary_file(flows: Path) -> None:
    (flows / "again.yaml").symlink_to(Path("..") / "flows" / "system.yaml")
    found = problems(flows)  # the same texts twice: duplicates, not an escape
    assert found and all("duplicate" in p or "defined twice" in p for p in found), found


def test_a_fifo_is_not_read(flows: Path) -> None:
    """Opening a FIFO blocks until a writer comes: the loader must not even try."""
    os.mkfifo(flows / "pipe.yaml")
    result: list[list[str]] = []
    worker = threading.Thread(target=lambda: result.append(problems(flows)), daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "the loader blocked on a FIFO"
    assert result == [["flows/pipe.yaml:1:1: not a regular file"]]


def test_a_huge_file_is_refused_before_it_is_read(flows: Path) -> None:
    with open(flows / "huge.yaml", "wb") as handle:  # sparse: 8 GiB, no disk used
        handle.truncate(8 * 1024**3)
    found = problems(flows)
    assert found == [f"flows/huge.yaml:1:1: file too large ({8 * 1024**3} bytes, "
                     f"at most {MAX_FILE_BYTES})"]


def test_a_file_just_over_the_limit_is_refused(flows: Path) -> None:
    line = "# " + "x" * 78 + "\n"
    (flows / "big.yaml").write_text(line * (MAX_FILE_BYTES // len(line) + 1), encoding="utf-8")
    assert problems(flows)[0].startswith("flows/big.yaml:1:1: file too large (")


def test_a_flood_of_files_is_bounded(flows: Path) -> None:
    for n in range(MAX_FILES + 5):
        (flows / f"z{n:03d}.yaml").write_text(f"# empty {n}\n", encoding="utf-8")
    assert f"too many flow files (at most {MAX_FILES})" in "\n".join(problems(flows))


def test_an_alias_bomb_costs_nothing(flows: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 12)]
    (flows / "bomb.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    found = problems(flows)
    assert found and all(p.startswith("flows/bomb.yaml:") for p in found), found


# -- placeholders -----------------------------------------------------------------------------

PLACEHOLDERS = ["{name.__class__}", "{name.__init__.__globals__}", "{0}", "{}", "{name[0]}",
                "{name!r}", "{name:>99999999}", "{name.__class__.__mro__}",
                "{context.__len__}"]


@pytest.mark.parametrize("placeholder", PLACEHOLDERS)
def test_a_placeholder_with_attribute_access_is_refused(flows: Path, placeholder: str) -> None:
    text = plant(flows, "charter.yaml", "Merci {name}.", f"Merci {placeholder}.")
    found = problems(flows)
    assert len(found) == 1, found
    assert found[0].startswith(f"flows/charter.yaml:{key_line(text, placeholder, 'say')}:"), found
    assert "must be a plain name like {name}" in found[0], found


def test_a_placeholder_in_a_choice_label_is_checked_too(flows: Path) -> None:
    plant(flows, "question.yaml", "label: Envoyer", "label: Envoyer {name.__class__}")
    assert any("must be a plain name like {name}" in p for p in problems(flows))


class Secret:
    """A value that carries more than its text: formatting must only ever see its text."""

    token = "TOKEN-7c1e"

    def __str__(self) -> str:
        return "Alice"


def leaky_function() -> None:
    """A function whose globals hold the module, and so everything it imported."""


FILL_PARAMS: dict[str, Any] = {"name": Secret(), "context": leaky_function, "count": 3}
NEVER = ("TOKEN-7c1e", "<class", "<function", "<built-in", " at 0x", "__", "module", "Secret")


@pytest.mark.parametrize("template", [
    "Bonjour {name.token}",
    "Bonjour {name.__init__.__globals__}",
    "Bonjour {context.__globals__}",
    "Bonjour {context.__globals__[os]}",
    "Bonjour {0} {1}",
    "Bonjour {}",
    "Bonjour {name} {0.__class__}",
    "Bonjour {{name.__class__}}",
    "Bonjour {name",
    "Bonjour {name}}",
    "{{{name}}}",
])
def test_fill_never_reaches_beyond_the_text_of_a_value(template: str) -> None:
    out = fill(template, FILL_PARAMS)
    assert not any(bad in out for bad in NEVER if bad not in template), out
    assert len(out) <= len(template) + 64


@pytest.mark.parametrize("template", [
    "Bonjour {name.__class__}",
    "Bonjour {name.__class__.__mro__}",
    "Bonjour {name.__class__.__base__.__subclasses__}",
    "Bonjour {count.__doc__}",
    "Bonjour {name[0]}{name[1]}",
    "Bonjour {name!r}",
    "Bonjour {name:>200}",
])
def test_fill_formats_plain_names_only(template: str) -> None:
    assert fill(template, FILL_PARAMS) == template  # left alone, like "{0}" is today


def _catalog_with(root: Path, old: str, new: str) -> Path:
    """A copy of `locales/` (the .po only: compiled in memory) with one translation changed."""
    locales = root / "locales"
    for po in (ROOT / "locales").glob("*/LC_MESSAGES/messages.po"):
        target = locales / po.relative_to(ROOT / "locales")
        target.parent.mkdir(parents=True, exist_ok=True)
        text = po.read_text(encoding="utf-8")
        if po.parent.parent.name == "en":
            assert old in text
            text = text.replace(old, new, 1)
        target.write_text(text, encoding="utf-8")
    return locales


EN_SIGNED = 'msgstr "Thank you, {name}. The charter'
EN_EVIL = 'msgstr "Thank you, {name.__class__}. The charter'


def test_flows_validate_catches_a_catalog_placeholder_with_attribute_access(
    tmp_path: Path,
) -> None:
    locales = _catalog_with(tmp_path, EN_SIGNED, EN_EVIL)
    found = check_catalogs(ROOT / "flows", locales)
    assert len(found) == 1 and "placeholders differ from the source" in found[0], found
    assert "name.__class__" in found[0]


def _sign_as_emma(config: Config) -> list[str]:
    at = datetime.fromisoformat("2026-11-30T09:00:00+01:00")
    clock = VirtualClock(at)
    engine = build_app(config, clock, guard=Guard(config, identifying=False)).engine
    texts: list[str] = []
    for n, text in enumerate(["Hello", "1", *["1"] * 6, "Emma Smith"]):
        at += timedelta(seconds=1)
        clock.set(at)
        texts += [o.text for o in engine.handle(Inbound("console:emma", f"e{n}", at, text=text))]
    return texts


def test_an_unchecked_catalog_cannot_leak_at_render_time(tmp_path: Path) -> None:
    locales = _catalog_with(tmp_path, EN_SIGNED, EN_EVIL)
    config = make_config(tmp_path)
    config = config.model_copy(update={"paths": config.paths.model_copy(
        update={"locales": locales})})
    texts = _sign_as_emma(config)
    assert any(t.startswith("Thank you,") for t in texts), texts
    assert not any("<class" in t for t in texts), [t for t in texts if "<class" in t]


# -- the command line and the engine refuse such a directory as a whole -----------------------


def test_validate_reports_every_attack_without_running_anything(
    flows: Path, tmp_path: Path, planted: Path,
) -> None:
    plant(flows, "question.yaml", "action: submit_question", f"action: {EVIL}.run")
    plant(flows, "question.yaml", "save: context\n",
          f"save: !!python/object/apply:{EVIL}.run []\n")
    plant(flows, "charter.yaml", "Merci {name}.", "Merci {name.__init__.__globals__}.")
    (flows / "passwd.yaml").symlink_to("/etc/passwd")
    config = tmp_path / "config.yaml"
    config.write_text(f"paths: {{flows: {flows}, locales: {ROOT / 'locales'}}}\n",
                      encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "flows", "validate", "--config", str(config)],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path / "lib")])},
    )
    assert done.returncode == 1, done
    assert "Traceback" not in done.stderr and done.stdout == ""
    lines = done.stderr.splitlines()
    assert any("passwd.yaml:1:1: file points outside" in line for line in lines), lines
    assert any("charter.yaml" in line and "plain name" in line for line in lines), lines
    assert any("question.yaml" in line and "custom YAML tags" in line for line in lines), lines


def test_the_engine_does_not_start_on_a_hostile_flow_directory(
    flows: Path, tmp_path: Path,
) -> None:
    plant(flows, "menu.yaml", "action: show_help", f"action: {EVIL}.run")
    config = make_config(tmp_path)
    config = config.model_copy(update={"paths": config.paths.model_copy(update={"flows": flows})})
    with pytest.raises(FlowError) as info:
        build_app(config, VirtualClock(datetime.fromisoformat("2026-11-30T09:00:00+01:00")))
    assert any(f"unknown action '{EVIL}.run'" in p for p in info.value.problems)
