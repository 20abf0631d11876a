"""`config.yaml` as typed models, with `${ENV}` interpolation and errors that name the key.

Every key of DESIGN.md's config section exists with a default that works out of the box: with
no file at all, the bot runs on the console with the embedded demo roster.
"""

from __future__ import annotations

import os
import re
from datetime import time
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.errors import ConfigError
from bot.policies.hours import WEEKDAYS, parse_hhmm

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PERSON_ID = re.compile(r"^[a-z][a-z0-9_-]*:[^\s:][^\s]*$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StorageConfig(_Model):
    path: Path = Path("data")


class HoursConfig(_Model):
    days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    open: time = time(8, 0)
    close: time = time(18, 0)
    holidays: str | None = "FR"

    @field_validator("days", mode="before")
    @classmethod
    def _days(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            out = []
            for day in value:
                name = str(day).lower()
                if name not in WEEKDAYS:
                    raise ValueError(f"unknown day {day!r}, expected one of {', '.join(WEEKDAYS)}")
                out.append(name)
            return tuple(out)
        return value

    @field_validator("open", "close", mode="before")
    @classmethod
    def _hhmm(cls, value: Any) -> Any:
        return parse_hhmm(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _order(self) -> HoursConfig:
        if self.open >= self.close:
            raise ValueError("open must be before close")
        return self


class DigestConfig(_Model):
    times: tuple[time, ...] = (time(8, 0), time(13, 0))

    @field_validator("times", mode="before")
    @classmethod
    def _times(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return tuple(parse_hhmm(v) if isinstance(v, str) else v for v in value)
        return value


class AbsenceConfig(_Model):
    start: str = Field(alias="from")
    end: str = Field(alias="to")


class PersonConfig(_Model):
    id: str
    role: Literal["mentor", "mentee"]
    name: str = ""
    mentor: str | None = None
    locale: str | None = None
    absences: tuple[AbsenceConfig, ...] = ()

    @field_validator("id", "mentor")
    @classmethod
    def _pid(cls, value: str | None) -> str | None:
        if value is not None and not _PERSON_ID.match(value):
            raise ValueError(f"{value!r} is not a person id like 'telegram:123' or 'console:alice'")
        return value


class ConfidentialityConfig(_Model):
    deny_list: tuple[str, ...] = ()
    disabled: tuple[str, ...] = ()       # detector kinds switched off (email, phone, person, ...)
    stop_words: tuple[str, ...] = ()     # words never flagged as names
    use_model: bool = True               # the spaCy model for names


class ServerConfig(_Model):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    public_url: str | None = None


class RetentionConfig(_Model):
    days: int = Field(default=730, ge=1)


class LimitsConfig(_Model):
    max_text_length: int = Field(default=4000, ge=100, le=100_000)


class TelegramConfig(_Model):
    enabled: bool = False
    token: str | None = None
    mode: Literal["polling", "webhook"] = "polling"
    base_url: str = "https://api.telegram.org/bot"
    webhook_secret: str | None = None


class WhatsAppConfig(_Model):
    enabled: bool = False
    token: str | None = None
    phone_number_id: str | None = None
    app_secret: str | None = None
    verify_token: str | None = None
    api_base_url: str = "https://graph.facebook.com"
    api_version: str = "26.0"
    template_name: str = "mentorbot_waiting"
    template_language: str = "fr"


class TransportsConfig(_Model):
    telegram: TelegramConfig = TelegramConfig()
    whatsapp: WhatsAppConfig = WhatsAppConfig()


class PathsConfig(_Model):
    flows: Path = PROJECT_ROOT / "flows"
    locales: Path = PROJECT_ROOT / "locales"


def _default_people() -> tuple[PersonConfig, ...]:
    return (
        PersonConfig(id="console:bob", role="mentor", name="Bob Martin"),
        PersonConfig(id="console:alice", role="mentee", name="Alice Durand",
                     mentor="console:bob", locale="fr"),
        PersonConfig(id="console:emma", role="mentee", name="Emma Smith",
                     mentor="console:bob", locale="en"),
    )


class Config(_Model):
    locale: str = "fr"
    timezone: str = "Europe/Paris"
    storage: StorageConfig = StorageConfig()
    hours: HoursConfig = HoursConfig()
    digest: DigestConfig = DigestConfig()
    people: tuple[PersonConfig, ...] = Field(default_factory=_default_people)
    confidentiality: ConfidentialityConfig = ConfidentialityConfig()
    server: ServerConfig = ServerConfig()
    retention: RetentionConfig = RetentionConfig()
    limits: LimitsConfig = LimitsConfig()
    transports: TransportsConfig = TransportsConfig()
    paths: PathsConfig = PathsConfig()

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _roster(self) -> Config:
        seen: dict[str, PersonConfig] = {}
        for i, person in enumerate(self.people):
            if person.id in seen:
                raise ValueError(f"people.{i}: duplicate id {person.id!r}")
            seen[person.id] = person
        for i, person in enumerate(self.people):
            if person.role == "mentee":
                if person.mentor is None:
                    raise ValueError(f"people.{i}: a mentee needs a 'mentor'")
                mentor = seen.get(person.mentor)
                if mentor is None or mentor.role != "mentor":
                    raise ValueError(f"people.{i}.mentor: {person.mentor!r} is not a mentor of the roster")
        return self

    def person(self, pid: str) -> PersonConfig | None:
        for person in self.people:
            if person.id == pid:
                return person
        return None


def _interpolate(node: Any, path: str, missing: dict[str, str]) -> Any:
    """Replace `${NAME}` by the environment; remember which paths lacked their variable."""
    if isinstance(node, dict):
        return {k: _interpolate(v, f"{path}.{k}" if path else str(k), missing) for k, v in node.items()}
    if isinstance(node, list):
        return [_interpolate(v, f"{path}.{i}", missing) for i, v in enumerate(node)]
    if isinstance(node, str) and "${" in node:
        names = _ENV_REF.findall(node)
        absent = [n for n in names if n not in os.environ]
        if absent:
            missing[path] = absent[0]
            return None
        return _ENV_REF.sub(lambda m: os.environ[m.group(1)], node)
    return node


def _check_secrets(config: Config, missing: dict[str, str], source: str) -> None:
    """An enabled transport needs its secrets: name the missing environment variable."""
    needs = {
        "telegram": ["token"] + (["webhook_secret"] if config.transports.telegram.mode == "webhook" else []),
        "whatsapp": ["token", "phone_number_id", "app_secret", "verify_token"],
    }
    for name, keys in needs.items():
        transport = getattr(config.transports, name)
        if not transport.enabled:
            continue
        for key in keys:
            path = f"transports.{name}.{key}"
            if getattr(transport, key) in (None, ""):
                if path in missing:
                    raise ConfigError(
                        f"{source}: {path}: environment variable {missing[path]} is not set "
                        f"(needed because transports.{name} is enabled)")
                raise ConfigError(f"{source}: {path}: required when transports.{name} is enabled")


def _format_validation(error: ValidationError, source: str) -> str:
    first = error.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    return f"{source}: {loc}: {message}" if loc else f"{source}: {message}"


def parse_config(text: str, source: str = "config.yaml", base_dir: Path | None = None) -> Config:
    """Parse and validate a config text; raise `ConfigError` with one clear line."""
    try:
        raw = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        raise ConfigError(f"{where}: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of keys")
    missing: dict[str, str] = {}
    data = _interpolate(raw, "", missing)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation(exc, source)) from None
    _check_secrets(config, missing, source)
    if base_dir is not None:
        config = _resolve_paths(config, base_dir)
    return config


def _resolve_paths(config: Config, base: Path) -> Config:
    def resolve(p: Path) -> Path:
        return p if p.is_absolute() else (base / p)

    return config.model_copy(update={
        "storage": config.storage.model_copy(update={"path": resolve(config.storage.path)}),
        "paths": PathsConfig(flows=resolve(config.paths.flows), locales=resolve(config.paths.locales)),
    })


def load_config(path: Path | None, data_dir: Path | None = None) -> Config:
    """Load `path` (or `./config.yaml` when present, else the embedded defaults)."""
    if path is None:
        candidate = Path("config.yaml")
        path = candidate if candidate.exists() else None
    if path is None:
        config = Config()
        config = config.model_copy(update={"storage": StorageConfig(path=Path.cwd() / "data")})
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such config file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read: {exc}") from None
        config = parse_config(text, str(path), base_dir=path.resolve().parent)
    if data_dir is not None:
        config = config.model_copy(update={"storage": StorageConfig(path=data_dir)})
    return config
