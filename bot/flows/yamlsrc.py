"""YAML read safely, with the line and column of every key, and duplicate keys refused.

Trainers edit these files by hand: every problem must point at `path:line:col`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_FILE_BYTES = 512 * 1024


@dataclass(frozen=True, slots=True)
class Where:
    """A position in a source file, 1-based, printed as `path:line:col`."""

    path: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


class Located(dict[str, Any]):
    """A mapping that remembers where it and each of its keys were written."""

    where: Where
    key_where: dict[str, Where]


class LocatedList(list[Any]):
    """A sequence that remembers where each item was written."""

    where: Where
    item_where: list[Where]


class SourceError(Exception):
    """A problem in a source file, already formatted as `path:line:col: message`."""


def _where(path: str, node: Node) -> Where:
    return Where(path, node.start_mark.line + 1, node.start_mark.column + 1)


def _build(node: Node, path: str, loader: yaml.SafeLoader) -> Any:
    if isinstance(node, MappingNode):
        out = Located()
        out.where = _where(path, node)
        out.key_where = {}
        loader.flatten_mapping(node)  # merge keys (<<: *anchor)
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
            if not isinstance(key, str | int | float | bool) or key is None:
                raise SourceError(f"{_where(path, key_node)}: a key must be a plain word")
            key = str(key)
            if key in out:
                raise SourceError(f"{_where(path, key_node)}: duplicate key {key!r}")
            out.key_where[key] = _where(path, key_node)
            out[key] = _build(value_node, path, loader)
        return out
    if isinstance(node, SequenceNode):
        items = LocatedList()
        items.where = _where(path, node)
        items.item_where = []
        for item in node.value:
            items.item_where.append(_where(path, item))
            items.append(_build(item, path, loader))
        return items
    assert isinstance(node, ScalarNode)
    return loader.construct_object(node, deep=True)  # type: ignore[no-untyped-call]


def load_located(path: Path, display: str | None = None) -> Any:
    """Parse one YAML file into `Located` / `LocatedList` / scalars; raise `SourceError`."""
    shown = display or str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SourceError(f"{shown}:1:1: cannot read: {exc.strerror}") from None
    if size > MAX_FILE_BYTES:
        raise SourceError(f"{shown}:1:1: file too large ({size} bytes, at most {MAX_FILE_BYTES})")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SourceError(f"{shown}:1:1: not UTF-8 text") from None
    return load_located_text(text, shown)


def load_located_text(text: str, shown: str) -> Any:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        return _build(node, shown, loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{shown}:{mark.line + 1}:{mark.column + 1}" if mark else f"{shown}:1:1"
        problem = exc.problem or exc.context or "invalid YAML"
        if "could not determine a constructor" in str(exc):
            problem = "custom YAML tags are not allowed (no Python objects in flows)"
        raise SourceError(f"{where}: {problem}") from None
    except yaml.YAMLError as exc:
        raise SourceError(f"{shown}:1:1: {exc}") from None
    finally:
        loader.dispose()  # type: ignore[no-untyped-call]
