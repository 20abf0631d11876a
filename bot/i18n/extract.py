"""A Babel extractor for flow files: every text a person reads, with its line number.

Registered as the `babel.extractors` entry point `mentorbot_flows`; `babel.cfg` maps
`flows/*.yaml` to it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import IO, Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

TRANSLATABLE_KEYS = frozenset({"say", "label", "error"})


def _walk(node: Node, parent_key: str | None, in_texts: bool,
          visited: set[tuple[int, bool]]) -> Iterator[tuple[int, str, str]]:
    # An alias (*anchor) repeats a node: walk each node once (also bounds "billion laughs").
    if (id(node), in_texts) in visited:
        return
    visited.add((id(node), in_texts))
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, ScalarNode) else ""
            if isinstance(value_node, ScalarNode) and (in_texts or key in TRANSLATABLE_KEYS):
                text = str(value_node.value).strip()
                if text:
                    where = f"{parent_key or ''}.{key}".strip(".")
                    yield value_node.start_mark.line + 1, text, where
            else:
                top_texts = key == "texts" and parent_key is None and not in_texts
                yield from _walk(value_node, key, top_texts, visited)
    elif isinstance(node, SequenceNode):
        for item in node.value:
            yield from _walk(item, parent_key, False, visited)


def iter_texts(source: str) -> Iterator[tuple[int, str, str]]:
    """(line, text, where) for every translatable text of a flow file, in file order."""
    node = yaml.compose(source, Loader=yaml.SafeLoader)
    if node is None:
        return
    seen: set[tuple[int, str]] = set()
    for line, text, where in _walk(node, None, False, set()):
        if (line, text) not in seen:  # YAML aliases (*anchor) repeat a node
            seen.add((line, text))
            yield line, text, where


def extract_flows(fileobj: IO[bytes], keywords: Mapping[str, Any], comment_tags: Any,
                  options: Mapping[str, Any]) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel extractor protocol: yields (lineno, funcname, message, comments)."""
    source = fileobj.read().decode(str(options.get("encoding", "utf-8")))
    for line, text, where in iter_texts(source):
        yield line, "", text, [where]
