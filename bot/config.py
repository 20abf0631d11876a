"""`config.yaml` as typed models, with `${ENV}` interpolation and errors that name the key.

Every key of DESIGN.md's config section exists with a default that works out of the box: with
no file at all, the bot runs on the console with the embedded demo roster.
"""

from __future__ import annotations

import os
import re
from datetime import date, time
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.errors import ConfigError
from bot.flows.yamlsrc import SourceError, load_located_text
from bot.ops.shipped import shipped_root
from bot.policies.hours import WEEKDAYS, parse_hhmm

# The checkout, or the packaged copy of its flows/, locales/, stories/ (bot.ops.shipped).
PROJECT_ROOT = shipped_root()
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PERSON_ID = re.compile(r"^[a-z][a-z0-9_-]*:[^\s:][^\s]*$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StorageConfig(_Model):
    path: Path = Path("data")
    # A PostgreSQL URL (or `${DATABASE_URL}`): the server store, which several `run`
    # processes may share; without it, the embedded store in `path`.
    url: str | None = None

    @field_validator("url", mode="before")
    @classmethod
    def _url(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str) or not value.strip().startswith(
            ("postgresql://", "postgres://")
        ):
            raise ValueError(f"expected a URL like postgresql://user@host/db, got {value!r}")
        return value.strip()


class HoursConfig(_Model):
    days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    open: time = time(8, 0)
    close: time = time(18, 0)
    holidays: str | None = "FR"

    @field_validator("days", mode="before")
    @classmethod
    def _days(cls, value: Any) -> Any:
        if isinstance(value, str):
            raise ValueError(f"expected a list of days like [mon, tue], got {value!r}")
        if isinstance(value, list | tuple):
            out: list[str] = []
            for day in value:
                name = str(day).strip().lower()
                if name not in WEEKDAYS:
                    raise ValueError(f"unknown day {day!r}, expected one of {', '.join(WEEKDAYS)}")
                if name not in out:
                    out.append(name)
            if not out:
                raise ValueError("at least one opening day is needed")
            return tuple(out)
        return value

    @field_validator("open", "close", mode="before")
    @classmethod
    def _hhmm(cls, value: Any) -> Any:
        # Unquoted 18:00 is the YAML 1.1 integer 1080: parse_hhmm says so instead of
        # letting it pass as 1080 seconds.
        return value if isinstance(value, time) else parse_hhmm(value)

    @field_validator("holidays", mode="before")
    @classmethod
    def _country(cls, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"expected a country code like FR, or null, got {value!r}")
        import holidays

        try:
            holidays.country_holidays(value.strip().upper())
        except NotImplementedError:
            raise ValueError(f"unknown holiday country {value!r}") from None
        return value.strip().upper()

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
            return tuple(v if isinstance(v, time) else parse_hhmm(v) for v in value)
        return value


class AbsenceConfig(_Model):
    """A mentor's absence, whole dates both included; kept as ISO text (`2026-12-24`)."""

    start: str = Field(alias="from")
    end: str = Field(alias="to")

    @field_validator("start", "end", mode="before")
    @classmethod
    def _iso(cls, value: Any) -> Any:
        if isinstance(value, date):  # YAML reads an unquoted 2026-12-24 as a date
            return value.isoformat()
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip()).isoformat()
            except ValueError:
                raise ValueError(f"expected a date like 2026-12-24, got {value!r}") from None
        return value

    @model_validator(mode="after")
    def _order(self) -> AbsenceConfig:
        if self.end < self.start:
            raise ValueError(f"the absence ends ({self.end}) before it starts ({self.start})")
        return self


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

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str | None) -> str | None:
        return None if value is None else _check_locale(value)


def _check_locale(value: str) -> str:
    from babel.core import Locale, UnknownLocaleError

    try:
        Locale.parse(value.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        raise ValueError(f"unknown locale {value!r} (e.g. fr, en, en_GB)") from None
    return value


# The kinds of identifying data a deployment may switch off (bot.policies.identifying.SpanKind).
IDENTIFYING_KINDS = (
    "email",
    "phone",
    "iban",
    "company_id",
    "nir",
    "url",
    "address",
    "person",
    "organisation",
    "denied",
)


class ConfidentialityConfig(_Model):
    deny_list: tuple[str, ...] = ()
    disabled: tuple[str, ...] = ()  # detector kinds switched off (email, phone, person, ...)
    stop_words: tuple[str, ...] = ()  # words never flagged as names
    use_model: bool = True  # the spaCy model for names

    @field_validator("disabled")
    @classmethod
    def _kinds(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for kind in value:
            if kind not in IDENTIFYING_KINDS:
                raise ValueError(
                    f"unknown kind {kind!r}, expected one of {', '.join(IDENTIFYING_KINDS)}"
                )
        return value


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
    poll_timeout: int = Field(default=30, ge=0, le=50)  # getUpdates long polling, seconds
    chat_interval: float = Field(default=1.0, ge=0)  # seconds between messages to a chat
    global_rate: float = Field(default=30.0, gt=0)  # messages per second, all chats


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
    list_button: str = Field(default="Options", min_length=1, max_length=20)  # opens a list
    retry_delays: tuple[float, ...] = (2.0, 6.0, 18.0)  # back-off on rate-limit errors


class LoggingConfig(_Model):
    """`-v`/`-q` win over `level`; `auto` is JSON lines unless stderr is a terminal."""

    level: Literal["debug", "info", "warning", "error"] = "warning"
    format: Literal["auto", "json", "text"] = "auto"

    @field_validator("level", "format", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value


class TransportsConfig(_Model):
    telegram: TelegramConfig = TelegramConfig()
    whatsapp: WhatsAppConfig = WhatsAppConfig()


class PathsConfig(_Model):
    flows: Path = PROJECT_ROOT / "flows"
    locales: Path = PROJECT_ROOT / "locales"


def _default_people() -> tuple[PersonConfig, ...]:
    return (
        PersonConfig(id="console:bob", role="mentor", name="Bob Martin"),
        PersonConfig(
            id="console:alice",
            role="mentee",
            name="Alice Durand",
            mentor="console:bob",
            locale="fr",
        ),
        PersonConfig(
            id="console:emma", role="mentee", name="Emma Smith", mentor="console:bob", locale="en"
        ),
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
    logging: LoggingConfig = LoggingConfig()

    @model_validator(mode="before")
    @classmethod
    def _empty_sections(cls, value: Any) -> Any:
        """A section left empty (`storage:` with nothing under it) keeps its defaults."""
        if isinstance(value, dict):
            sections = (
                "storage",
                "hours",
                "digest",
                "confidentiality",
                "server",
                "retention",
                "limits",
                "transports",
                "paths",
                "logging",
            )
            return {k: v for k, v in value.items() if not (k in sections and v is None)}
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        return _check_locale(value)

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
                    raise ValueError(
                        f"people.{i}.mentor: {person.mentor!r} is not a mentor of the roster"
                    )
        return self

    def person(self, pid: str) -> PersonConfig | None:
        """A person of the roster (the engine's `Directory` indexes them for hot paths)."""
        for person in self.people:
            if person.id == pid:
                return person
        return None


class _Env:
    """What `${NAME}` interpolation found: the variable each path names, and the absent ones."""

    def __init__(self) -> None:
        self.refs: dict[str, str] = {}  # key path -> first variable it names
        self.missing: dict[str, str] = {}  # key path -> first variable that is not set


def _interpolate(node: Any, path: str, env: _Env) -> Any:
    """Replace `${NAME}` by the environment; remember which paths lacked their variable."""
    if isinstance(node, dict):
        return {k: _interpolate(v, f"{path}.{k}" if path else str(k), env) for k, v in node.items()}
    if isinstance(node, list):
        return [_interpolate(v, f"{path}.{i}", env) for i, v in enumerate(node)]
    if isinstance(node, str) and "${" in node:
        names = _ENV_REF.findall(node)
        if names:
            env.refs[path] = names[0]
        absent = [n for n in names if n not in os.environ]
        if absent:
            env.missing[path] = absent[0]
            return None
        return _ENV_REF.sub(lambda m: os.environ[m.group(1)], node)
    return node


def _check_secrets(config: Config, env: _Env, source: str) -> None:
    """An enabled transport needs its secrets: name the missing environment variable."""
    webhook = config.transports.telegram.mode == "webhook"
    needs = {
        "telegram": ["token"] + (["webhook_secret"] if webhook else []),
        "whatsapp": ["token", "phone_number_id", "app_secret", "verify_token"],
    }
    for name, keys in needs.items():
        transport = getattr(config.transports, name)
        if not transport.enabled:
            continue
        for key in keys:
            path = f"transports.{name}.{key}"
            if getattr(transport, key) in (None, ""):
                why = f"(needed because transports.{name} is enabled)"
                if path in env.missing:
                    raise ConfigError(
                        f"{source}: {path}: environment variable "
                        f"{env.missing[path]} is not set {why}"
                    )
                if path in env.refs:
                    raise ConfigError(
                        f"{source}: {path}: environment variable {env.refs[path]} is empty {why}"
                    )
                raise ConfigError(f"{source}: {path}: required when transports.{name} is enabled")


def _format_validation(error: ValidationError, source: str, env: _Env) -> str:
    first = error.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    elif loc in env.missing:
        message = f"environment variable {env.missing[loc]} is not set"
    return f"{source}: {loc}: {message}" if loc else f"{source}: {message}"


def parse_config(text: str, source: str = "config.yaml", base_dir: Path | None = None) -> Config:
    """Parse and validate a config text; raise `ConfigError` with one clear line.

    YAML problems (syntax, duplicate keys, custom tags) are `source:line:col: message`; a
    value that does not fit is `source: key.path: message`.
    """
    try:
        raw = load_located_text(text, source)
    except SourceError as exc:
        raise ConfigError(str(exc)) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of keys")
    env = _Env()
    data = _interpolate(raw, "", env)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation(exc, source, env)) from None
    _check_secrets(config, env, source)
    if base_dir is not None:
        config = _resolve_paths(config, base_dir)
    return config


def _resolve_paths(config: Config, base: Path) -> Config:
    def resolve(p: Path) -> Path:
        return p if p.is_absolute() else (base / p)

    return config.model_copy(
        update={
            "storage": config.storage.model_copy(update={"path": resolve(config.storage.path)}),
            "paths": PathsConfig(
                flows=resolve(config.paths.flows), locales=resolve(config.paths.locales)
            ),
        }
    )


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
