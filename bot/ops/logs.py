"""Structured logs: one event per line, with ids and durations, never message text.

On a terminal a line reads `18:02:11 INFO  mentorbot.engine handled person=… out=2`;
elsewhere (a container, systemd's journal, a file) it is one JSON object per line:
`{"time": "…", "level": "info", "logger": "mentorbot.engine", "event": "handled",
"person": "…", "out": 2}`.

Both shapes come from the same calls. The project's calls read `log.info("handled
person=%s out=%d", pid, n)`: the words before the first `key=` are the event name, each
`key=value` a field; `extra={...}` adds fields too. The level comes from `-v`/`-q`, else from
the config's `logging.level`.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import IO, Any

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
          "error": logging.ERROR}
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_FIELD = re.compile(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_.]*)=(\S*)")
# Attributes every LogRecord has: anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

HANDLER_NAME = "mentorbot"
_DROPPED = {"color_message"}  # uvicorn's ANSI-coloured twin of its message
_cli_level: int | None = None  # -v/-q, which win over the config


def parse_event(message: str) -> tuple[str, dict[str, Any]]:
    """`"handled person=x out=2"` -> `("handled", {"person": "x", "out": 2})`."""
    first = _FIELD.search(message)
    head = message[: first.start()] if first else message
    fields: dict[str, Any] = {}
    for key, value in _FIELD.findall(message):
        fields[key] = _number(value)
    name = "_".join(head.replace(":", " ").split()) or "event"
    return name, fields


def _number(value: str) -> Any:
    """Counts and durations as numbers, flags as booleans; ids (`Q12`, `tg:42`) stay text."""
    if value in ("True", "False"):
        return value == "True"
    if _NUMBER.fullmatch(value) and len(value) < 10:
        return float(value) if "." in value else int(value)
    return value


def _extra(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and k not in _DROPPED}


def _event(record: logging.LogRecord) -> tuple[str, dict[str, Any]]:
    """The project's lines are events; a library's line (uvicorn, httpx) is kept whole."""
    if record.name == "mentorbot" or record.name.startswith("mentorbot."):
        return parse_event(record.getMessage())
    return "library", {"msg": record.getMessage()}


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for machines."""

    def format(self, record: logging.LogRecord) -> str:
        event, fields = _event(record)
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": event,
        }
        line.update(fields)
        line.update(_extra(record))
        if record.exc_info and record.exc_info[0] is not None:
            line["error"] = record.exc_info[0].__name__
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """A readable line, for people at a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-5s %(name)s %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = _extra(record)
        if extra:
            head, sep, tail = line.partition("\n")
            line = head + "".join(f" {k}={v}" for k, v in extra.items()) + sep + tail
        return line


def set_cli_level(verbose: int, quiet: bool) -> None:
    """Remember `-v` (info), `-vv` (debug) or `-q` (errors only); none leaves the config's."""
    global _cli_level
    if quiet:
        _cli_level = logging.ERROR
    elif verbose:
        _cli_level = logging.INFO if verbose == 1 else logging.DEBUG
    else:
        _cli_level = None
    configure("warning", "auto")


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time (tests swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> IO[str]:
        return sys.stderr

    @stream.setter
    def stream(self, value: IO[str]) -> None:
        pass


def configure(level: str, fmt: str, stream: IO[str] | None = None) -> None:
    """Install the one handler of the root logger (the CLI's level wins over `level`)."""
    json_lines = fmt == "json" or (fmt == "auto" and not _isatty(stream or sys.stderr))
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() == HANDLER_NAME:
            root.removeHandler(old)
    handler.set_name(HANDLER_NAME)
    root.addHandler(handler)
    root.setLevel(_cli_level if _cli_level is not None else LEVELS.get(level, logging.WARNING))


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
