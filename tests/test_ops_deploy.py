"""The deployment files parse and agree with the package: Dockerfile, compose.yaml, the systemd
unit, and docs/deploy.md that explains them. (No image is built here.)"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli import main
from bot.config import PROJECT_ROOT, StorageConfig, parse_config

pytestmark = pytest.mark.skipif(PROJECT_ROOT.name == "shipped", reason="needs a checkout")

UNIT = PROJECT_ROOT / "deploy" / "mentorbot.service"
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|API_KEY", re.IGNORECASE)


def console_script() -> str:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    (name, target), = project["scripts"].items()
    assert target == "bot.cli:main"
    return str(name)


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    text = (PROJECT_ROOT / "Dockerfile").read_text()
    joined = re.sub(r"\\\n", " ", "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith("#")))
    out = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def unit() -> dict[str, dict[str, list[str]]]:
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for number, raw in enumerate(UNIT.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            assert line.endswith("]"), f"line {number}: {raw}"
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None and "=" in line, f"line {number}: {raw}"
        key, value = line.split("=", 1)
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def test_the_dockerfile_is_multi_stage_non_root_with_a_health_check() -> None:
    steps = dockerfile()
    known = {"FROM", "ARG", "ENV", "WORKDIR", "RUN", "COPY", "USER", "VOLUME", "EXPOSE",
             "HEALTHCHECK", "ENTRYPOINT", "CMD", "LABEL"}
    assert {word for word, _ in steps} <= known
    froms = [i for i, (word, _) in enumerate(steps) if word == "FROM"]
    assert len(froms) >= 2 and " AS build" in steps[froms[0]][1]
    final = steps[froms[-1]:]
    users = [args for word, args in final if word == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert any(word == "COPY" and args.startswith("--from=build") for word, args in final)
    health = [args for word, args in final if word == "HEALTHCHECK"]
    assert health and "/livez" in health[0]
    entry = [args for word, args in final if word == "ENTRYPOINT"]
    assert entry and f'"{console_script()}"' in entry[0]
    cmd = [args for word, args in final if word == "CMD"]
    assert cmd and cmd[0].startswith('["run"')
    for word, args in steps:
        if word in ("ENV", "ARG"):
            assert not SECRET_NAME.search(args), f"a secret baked in: {word} {args}"
        if word == "COPY" and not args.startswith("--from"):
            for source in args.split()[:-1]:
                assert (PROJECT_ROOT / source).exists(), source
    ignored = (PROJECT_ROOT / ".dockerignore").read_text().split()
    for private in (".venv", "data", ".env", "**/*.mo", ".git"):
        assert private in ignored


def test_compose_runs_postgresql_and_two_workers_on_it() -> None:
    compose: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert "postgres" in services["db"]["image"]
    assert "healthcheck" in services["db"]
    workers = [s for name, s in services.items() if name.startswith("worker")]
    assert len(workers) == 2
    config_text = (PROJECT_ROOT / "deploy" / "config.compose.yaml").read_text()
    needed = set(re.findall(r"\$\{([A-Z_]+)\}", config_text))
    assert "DATABASE_URL" in needed
    ports = set()
    for worker in workers:
        assert worker["build"] == "."
        assert worker["depends_on"]["db"]["condition"] == "service_healthy"
        assert worker["restart"] == "on-failure"
        assert needed <= set(worker["environment"]), needed - set(worker["environment"])
        assert worker["environment"]["DATABASE_URL"].startswith("postgresql://")
        mounts = [v.split(":") for v in worker["volumes"]]
        assert ["./deploy/config.compose.yaml", "/etc/mentorbot/config.yaml", "ro"] in mounts
        assert worker["command"][:3] == ["run", "--config", "/etc/mentorbot/config.yaml"]
        ports.add(worker["ports"][0])
        for key, value in worker["environment"].items():
            if SECRET_NAME.search(key):
                assert str(value).startswith("${") or "${POSTGRES_PASSWORD" in str(value), key
    assert len(ports) == 2


def test_the_compose_config_is_valid() -> None:
    if "url" not in StorageConfig.model_fields:
        pytest.skip("storage.url (the PostgreSQL store) is not in this branch's config yet")
    text = (PROJECT_ROOT / "deploy" / "config.compose.yaml").read_text()
    env = {"DATABASE_URL": "postgresql://mentorbot:x@db:5432/mentorbot"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        config = parse_config(text, "config.compose.yaml")
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    assert config.server.host == "0.0.0.0"


def test_the_systemd_unit_is_hardened_and_matches_the_package() -> None:
    sections = unit()
    assert set(sections) == {"Unit", "Service", "Install"}
    service = {k: v[-1] for k, v in sections["Service"].items()}
    for key, value in {"NoNewPrivileges": "yes", "ProtectSystem": "strict",
                       "Restart": "on-failure", "PrivateTmp": "yes",
                       "ProtectHome": "yes"}.items():
        assert service.get(key) == value, key
    assert service["StateDirectory"] and service["CapabilityBoundingSet"] == ""
    argv = shlex.split(service["ExecStart"])
    assert Path(argv[0]).is_absolute() and Path(argv[0]).name == console_script()
    assert argv[1] == "run" and "run" in main.commands  # type: ignore[attr-defined]
    options = dict(zip(argv[2::2], argv[3::2], strict=True))
    assert options["--data"] == f"/var/lib/{service['StateDirectory']}"
    assert options["--data"] == service["WorkingDirectory"]
    assert Path(options["--config"]).parent == Path("/etc") / service["ConfigurationDirectory"]
    assert sections["Install"]["WantedBy"] == ["multi-user.target"]


def test_systemd_analyze_verifies_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    script = Path(sys.executable).parent / console_script()
    if not script.exists():
        pytest.skip(f"{script}: the console script is not installed in this environment")
    # The unit as installed, pointing at this environment's console script.
    text = UNIT.read_text().replace(f"/opt/mentorbot/bin/{console_script()}", str(script))
    copy = tmp_path / "mentorbot.service"
    copy.write_text(text)
    result = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True,
                            timeout=60)
    about_unit = [line for line in (result.stdout + result.stderr).splitlines()
                  if "mentorbot.service" in line]
    assert result.returncode == 0 and not about_unit, result.stdout + result.stderr


def test_docs_deploy_covers_each_file() -> None:
    text = (PROJECT_ROOT / "docs" / "deploy.md").read_text()
    for needed in ("Dockerfile", "compose.yaml", "deploy/mentorbot.service", "mentorbot init",
                   "/metrics", "/readyz", "/livez", "data backup", "data restore", "pg_dump",
                   "pg_restore", "--version"):
        assert needed in text, needed
    headings = re.findall(r"^## (.+)$", text, re.MULTILINE)
    assert len(headings) >= 6
