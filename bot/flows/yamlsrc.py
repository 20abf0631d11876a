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
_MERGE_TAG = "tag:yaml.org,2002:merge"
_COLLECTION_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})
_CUSTOM_TAG = "custom YAML tags are not allowed (no Python objects here)"


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


class _Builder:
    """Builds `Located` values from a composed node graph.

    Each node is built once: an alias (`*anchor`) yields the value built for its anchor, so
    nested aliases ("billion laughs") cost nothing, and an alias inside its own anchor is an
    error instead of an endless recursion.
    """

    def __init__(self, path: str, loader: yaml.SafeLoader) -> None:
        self.path = path
        self.loader = loader
        self.memo: dict[int, Any] = {}
        self.active: set[int] = set()

    def build(self, node: Node) -> Any:
        ident = id(node)
        if ident in self.memo:
            return self.memo[ident]
        if ident in self.active:
            raise SourceError(f"{_where(self.path, node)}: an alias cannot contain itself")
        if isinstance(node, MappingNode | SequenceNode) and node.tag not in _COLLECTION_TAGS:
            raise SourceError(f"{_where(self.path, node)}: {_CUSTOM_TAG}")
        self.active.add(ident)
        try:
            if isinstance(node, MappingNode):
                value: Any = self._mapping(node)
            elif isinstance(node, SequenceNode):
                value = self._sequence(node)
            else:
                value = self._scalar(node)
        finally:
            self.active.discard(ident)
        self.memo[ident] = value
        return value

    def _scalar(self, node: Node) -> Any:
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, AttributeError, OverflowError) as exc:
            # PyYAML's constructors raise plain errors for values such as 2020-13-45.
            raise SourceError(f"{_where(self.path, node)}: invalid value: {exc}") from None

    def _mapping(self, node: MappingNode) -> Located:
        out = Located()
        out.where = _where(self.path, node)
        out.key_where = {}
        explicit = sum(1 for key, _ in node.value if key.tag != _MERGE_TAG)
        self.loader.flatten_mapping(node)  # merged pairs (<<: *anchor) come first
        merged = len(node.value) - explicit
        written: set[str] = set()
        for index, (key_node, value_node) in enumerate(node.value):
            if not isinstance(key_node, ScalarNode):
                raise SourceError(f"{_where(self.path, key_node)}: a key must be a plain word")
            # The key as written: YAML 1.1 would read `no:` or `on:` as booleans.
            key = str(key_node.value)
            if index >= merged:  # an explicit key overrides a merged one, never another
                if key in written:
                    raise SourceError(f"{_where(self.path, key_node)}: duplicate key {key!r}")
                written.add(key)
            out.key_where[key] = _where(self.path, key_node)
            out[key] = self.build(value_node)
        return out

    def _sequence(self, node: SequenceNode) -> LocatedList:
        items = LocatedList()
        items.where = _where(self.path, node)
        items.item_where = []
        for item in node.value:
            items.item_where.append(_where(self.path, item))
            items.append(self.build(item))
        return items


def load_located(path: Path, display: str | None = None) -> Any:
    """Parse one YAML file into `Located` / `LocatedList` / scalars; raise `SourceError`."""
    shown = display or str(path)
    try:
        if not path.is_file():
            raise SourceError(f"{shown}:1:1: not a regular file")
        size = path.stat().st_size
    except OSError as exc:
        raise SourceError(f"{shown}:1:1: cannot read: {exc.strerror or exc}") from None
    if size > MAX_FILE_BYTES:
        raise SourceError(f"{shown}:1:1: file too large ({size} bytes, at most {MAX_FILE_BYTES})")
    try:
        data = path.read_bytes()[: MAX_FILE_BYTES + 1]
    except OSError as exc:
        raise SourceError(f"{shown}:1:1: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:  # grew since stat
        raise SourceError(f"{shown}:1:1: file too large (at most {MAX_FILE_BYTES} bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SourceError(f"{shown}:{line}:1: not UTF-8 text") from None
    return load_located_text(text, shown)


def load_located_text(text: str, shown: str) -> Any:
    """Parse YAML text (`shown` names it in messages); raise `SourceError`, never another."""
    try:
        loader = yaml.SafeLoader(text)  # checks that every character is printable
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise SourceError(f"{shown}:{line}:{col}: unacceptable character "
                          f"#x{exc.character:04x}: {exc.reason}") from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        return _Builder(shown, loader).build(node)
    except SourceError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{shown}:{mark.line + 1}:{mark.column + 1}" if mark else f"{shown}:1:1"
        problem = exc.problem or exc.context or "invalid YAML"
        if "could not determine a constructor" in str(exc):
            problem = _CUSTOM_TAG
        elif "found character '\\t'" in problem:
            problem = "a tab cannot indent YAML: use spaces"
        elif mark is not None:
            from bot.flows.yamlhelp import explain

            found = explain(text, exc)
            if found is not None:
                line, col, plain = found
                raise SourceError(f"{shown}:{line}:{col}: {plain}") from None
        raise SourceError(f"{where}: {problem}") from None
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid YAML"
        raise SourceError(f"{shown}:1:1: {first}") from None
    except RecursionError:
        raise SourceError(f"{shown}:1:1: nested too deeply") from None
    finally:
        loader.dispose()
