"""What is running: the package's version and the store schema version it reads and writes."""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version


def package_version() -> str:
    try:
        return version("mentorbot")
    except PackageNotFoundError:  # a checkout on sys.path, never installed
        return "0+unknown"


def schema_version() -> int | None:
    """`bot.store.schema.SCHEMA_VERSION`, or None while the store has no versioned schema."""
    try:
        module = importlib.import_module("bot.store.schema")
    except ImportError:
        return None
    value = getattr(module, "SCHEMA_VERSION", None)
    return value if isinstance(value, int) else None


def version_line() -> str:
    schema = schema_version()
    return f"mentorbot {package_version()} (store schema {schema if schema else 'unversioned'})"
