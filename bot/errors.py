"""Errors that end a command with one clear line instead of a traceback."""

from __future__ import annotations


class UserError(Exception):
    """A mistake the user can fix (bad config, bad flow, unknown person): one line, exit 1."""

    exit_code = 1


class ConfigError(UserError):
    """`config.yaml` is invalid: the message names the file and the key path or line."""


class FlowError(UserError):
    """A flow or catalog is invalid: one or more `path:line:col: message` problems."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class UnknownPersonError(UserError):
    """A person id that is neither in the roster nor enrolled by invitation."""
