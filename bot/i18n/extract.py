"""A Babel extractor for flow files: every text a person reads, with its line number.

Registered as the `babel.extractors` entry point `mentorbot_flows`; `babel.cfg` maps
`flows/*.yaml` to it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import IO, Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

TRANSLATABLE_KEYS = frozenset({"say", "again", "label", "error"})
PLURAL_KEYS = frozenset({"one", "other"})  # a text under `texts:` that varies with {count}

# (line, text, where, plural form or None)
_Found = tuple[int, str, str, str | None]


def plural_forms(node: Node) -> tuple[str, str] | None:
    """The (one, other) texts of a `{one: ..., other: ...}` mapping, else None."""
    if not isinstance(node, MappingNode):
        return None
    pairs = {str(k.value): v for k, v in node.value if isinstance(k, ScalarNode)}
    if set(pairs) != PLURAL_KEYS or not all(isinstance(v, ScalarNode) for v in pairs.values()):
        return None
    return str(pairs["one"].value).strip(), str(pairs["other"].value).strip()


def _walk(node: Node, parent_key: str | None, in_texts: bool,
          visited: set[tuple[int, bool]]) -> Iterator[_Found]:
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
                    yield value_node.start_mark.line + 1, text, where, None
            elif in_texts and (forms := plural_forms(value_node)) and all(forms):
                where = f"{parent_key or ''}.{key}".strip(".")
                yield value_node.start_mark.line + 1, forms[0], where, forms[1]
            else:
                top_texts = key == "texts" and parent_key is None and not in_texts
                yield from _walk(value_node, key, top_texts, visited)
    elif isinstance(node, SequenceNode):
        for item in node.value:
            yield from _walk(item, parent_key, False, visited)


def iter_messages(source: str) -> Iterator[_Found]:
    """(line, text, where, plural) for every translatable text of a flow file, in file order;
    `plural` is the plural form of a text that varies with a number, else None."""
    node = yaml.compose(source, Loader=yaml.SafeLoader)
    if node is None:
        return
    seen: set[tuple[int, str]] = set()
    for line, text, where, plural in _walk(node, None, False, set()):
        if (line, text) not in seen:  # YAML aliases (*anchor) repeat a node
            seen.add((line, text))
            yield line, text, where, plural


def iter_texts(source: str) -> Iterator[tuple[int, str, str]]:
    """(line, text, where) for every message id of a flow file (a plural text by its singular)."""
    for line, text, where, _ in iter_messages(source):
        yield line, text, where


def extract_flows(
    fileobj: IO[bytes], keywords: Mapping[str, Any], comment_tags: Any,
    options: Mapping[str, Any],
) -> Iterator[tuple[int, str, str | tuple[str, str], list[str]]]:
    """Babel extractor protocol: yields (lineno, funcname, message, comments)."""
    source = fileobj.read().decode(str(options.get("encoding", "utf-8")))
    for line, text, where, plural in iter_messages(source):
        if plural is None:
            yield line, "", text, [where]
        else:
            yield line, "ngettext", (text, plural), [where]
