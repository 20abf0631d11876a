"""A package that stands alone: the wheel, installed in a fresh virtual environment outside the
repository, runs `init`, `flows validate`, `flows test` and `simulate` on its own data.

The fresh environment reuses this one's installed dependencies through a `.pth` line (nothing
is downloaded) and gets the wheel with `pip install --no-deps`: only the wheel's `bot` is
there, no checkout on its path.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.config import PROJECT_ROOT

TIMEOUT = 300


def _sources(target: Path) -> None:
    """The files a fresh clone has (tracked or new, not ignored): no .mo, no build output."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=PROJECT_ROOT, capture_output=True, check=True, timeout=60).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("the wheel test needs a git checkout to list the sources")
    for name in filter(None, listed.decode().split("\0")):
        source = PROJECT_ROOT / name
        if not source.is_file():
            continue  # deleted in the work tree, not yet committed
        copy = target / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, copy)


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=TIMEOUT)
    assert result.returncode == 0, f"{args}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if PROJECT_ROOT.name == "shipped":
        pytest.skip("running from an installed package, not a checkout")
    work = tmp_path_factory.mktemp("wheel")
    _sources(work / "src")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
          "--no-index", "--quiet", "--wheel-dir", str(work / "dist"), str(work / "src")],
         cwd=work, env=env)
    (built,) = (work / "dist").glob("mentorbot-*.whl")
    return built


def test_the_wheel_carries_flows_catalogs_stories_and_templates(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for flow in (PROJECT_ROOT / "flows").rglob("*.yaml"):
        assert f"bot/shipped/flows/{flow.relative_to(PROJECT_ROOT / 'flows')}" in names
    for po in (PROJECT_ROOT / "locales").glob("*/LC_MESSAGES/messages.po"):
        relative = po.relative_to(PROJECT_ROOT).as_posix()
        assert f"bot/shipped/{relative}" in names
        assert f"bot/shipped/{relative[:-3]}.mo" in names  # compiled at build time
    assert "bot/shipped/config.yaml" in names
    assert any(n.startswith("bot/shipped/stories/") for n in names)
    assert "bot/templates/export.html.j2" in names and "bot/py.typed" in names
    assert not any(n.startswith(("flows/", "locales/", "tests/")) for n in names)


def test_the_installed_wheel_works_outside_the_repository(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True, timeout=60).stdout.strip())
    # This environment's dependencies, as a plain path: its .pth files (the editable install of
    # the checkout) are not processed from there.
    (purelib / "shared-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "COVERAGE_PROCESS_START")}
    env["HOME"] = str(tmp_path)
    _run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed",
          "--quiet", str(wheel)], cwd=tmp_path, env=env)
    mentorbot = str(env_dir / "bin" / "mentorbot")
    work = tmp_path / "elsewhere"
    work.mkdir()

    where = _run([str(python), "-c", "import bot.config as c; print(c.__file__, c.PROJECT_ROOT)"],
                 cwd=work, env=env).stdout.split()
    assert where[0].startswith(str(purelib)), where
    assert where[1] == str(purelib / "bot" / "shipped")

    version = _run([mentorbot, "--version"], cwd=work, env=env).stdout
    assert version.startswith("mentorbot 0.") and "store schema" in version

    # The shipped flows, straight from the package.
    assert _run([mentorbot, "flows", "validate"], cwd=work, env=env).stdout.startswith("ok: ")

    told = _run([mentorbot, "init", "site"], cwd=work, env=env).stdout
    assert "mentorbot flows validate" in told and "cd site" in told
    site = work / "site"
    assert (site / "config.yaml").is_file() and (site / "flows" / "policies").is_dir()
    assert not list(site.rglob("*.mo"))

    validated = _run([mentorbot, "flows", "validate", "--config", "config.yaml"], cwd=site,
                     env=env).stdout
    assert "catalogs: en, fr" in validated
    tested = _run([mentorbot, "flows", "test", "--config", "config.yaml", "stories"], cwd=site,
                  env=env).stdout
    assert ", 0 failed" in tested

    def say(person: str, text: str) -> str:
        script = site / "hello.jsonl"
        script.write_text(json.dumps({"at": "2026-11-30T09:00:00+01:00", "from": person,
                                      "text": text}) + "\n", encoding="utf-8")
        out = _run([mentorbot, "simulate", "hello.jsonl"], cwd=site, env=env).stdout
        return " ".join(json.loads(line)["text"] for line in out.splitlines())

    assert "Welcome" in say("console:emma", "Hello")  # the English catalog

    # A trainer's edit in the copy is what the bot says.
    flows = site / "flows" / "system.yaml"
    text = flows.read_text(encoding="utf-8")
    flows.write_text(text.replace("Bienvenue.", "Bienvenue chez nous.", 1), encoding="utf-8")
    assert "Bienvenue chez nous." in say("console:alice", "Bonjour")
    assert (site / "data").is_dir()


def test_init_refuses_a_directory_that_already_has_a_deployment(tmp_path: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["init", str(tmp_path / "site")])
    assert first.exit_code == 0, first.output
    assert "Next:" in first.output
    again = runner.invoke(main, ["init", str(tmp_path / "site")])
    assert again.exit_code == 1
    assert "already has config.yaml, flows, stories, locales" in again.output
    (tmp_path / "file").write_text("x")
    assert runner.invoke(main, ["init", str(tmp_path / "file")]).exit_code == 1


def test_version_shows_the_package_and_schema() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("mentorbot ") and "store schema" in result.output


def _catalog(path: Path, text: str) -> None:
    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import write_po

    catalog = Catalog(locale="en")
    catalog.add("Bonjour", text)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        (write_mo if path.suffix == ".mo" else write_po)(handle, catalog)


def test_catalogs_compiled_with_the_wheel_are_used_whatever_their_file_times(
        tmp_path: Path) -> None:
    from bot.i18n import Catalogs, gettext
    from bot.i18n.catalogs import BUILT_MARKER

    po = tmp_path / "en" / "LC_MESSAGES" / "messages.po"
    _catalog(po.with_suffix(".mo"), "Hello from the .mo")
    _catalog(po, "Hello from the .po")
    os.utime(po.with_suffix(".mo"), (1_000_000, 1_000_000))  # installers do not keep times

    def hello() -> str:
        with Catalogs(tmp_path).use("en"):
            return gettext("Bonjour")

    assert hello() == "Hello from the .po"  # a checkout: the newer .po wins
    (tmp_path / BUILT_MARKER).write_text("built with the wheel\n")
    assert hello() == "Hello from the .mo"
