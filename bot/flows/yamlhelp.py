"""PyYAML's syntax errors told the way a trainer can act on them.

PyYAML reports where it got lost, which is often after the mistake: an unclosed quote is
noticed at the next quote, a line indented too little at the line after it, a colon inside a
text as "mapping values are not allowed here". `explain` looks at the source around that
place, finds the likely cause, and says it in plain words, at the line of the mistake, with a
hint; PyYAML's own words follow, for the record.
"""

from __future__ import annotations

import re

import yaml

_KEY = re.compile(
    r"^(?P<indent> *)(?P<dash>- +)?(?P<key>[^\s:#'\"\[\]{},&*!|>%@`-][^:#]*?):(?= |$)"
)
_QUOTE_OPEN = re.compile(r"^ *(?:- +)?[^\s:#'\"][^:#]*?: +(?P<quote>[\"'])")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _significant(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _previous(lines: list[str], index: int) -> int | None:
    for i in range(index - 1, -1, -1):
        if _significant(lines[i]):
            return i
    return None


def _key_column(line: str) -> int:
    """The column (0-based) where a line's key starts: after its indentation and `- `."""
    match = _KEY.match(line)
    if match is None:
        return _indent(line)
    return len(match.group("indent")) + len(match.group("dash") or "")


def _quoted(value: str) -> str:
    if '"' not in value:
        return f'"{value}"'
    return "'" + value.replace("'", "''") + "'"


def _unclosed_quote(lines: list[str], error_line: int) -> tuple[int, int] | None:
    """The line (before `error_line`) whose value opens a quote it never closes, when the
    text it starts ends on the error line: (line, column of the quote), 0-based."""
    for i in range(error_line - 1, max(-1, error_line - 40), -1):
        match = _QUOTE_OPEN.match(lines[i])
        if match is None:
            continue
        quote = match.group("quote")
        rest = lines[i][match.end():]
        closed = rest.replace("\\\\", "").replace('\\"', "") if quote == '"' else \
            rest.replace("''", "")
        if quote not in closed:
            return i, match.start("quote")
        return None  # the nearest quoted value above is closed: not this cause
    return None


def _block_explained(lines: list[str], line: int) -> tuple[int, int, str] | None:
    """A line that does not fit the indentation of the block it is in."""
    text = lines[line]
    prev = _previous(lines, line)
    if prev is None:
        return None
    here = _indent(text)
    if text.lstrip().startswith("- "):
        items = [i for i in range(line - 1, -1, -1) if lines[i].lstrip().startswith("- ")
                 and _indent(lines[i]) != here]
        if items:
            other = items[0]
            want = _indent(lines[other])
            return (line, here, f"line {line + 1} is indented with {here} spaces, but the list "
                    f"it continues starts at {want} (line {other + 1}). Hint: indent this "
                    f"'- ' with {want} spaces, like line {other + 1}")
        return None
    opens = lines[prev].rstrip().endswith(":")
    want = _key_column(lines[prev]) + (2 if opens else 0)
    if want == here:
        if lines[prev].lstrip().startswith("- "):
            return (line, here, f"line {line + 1} is a 'key:' at the level of a list (line "
                    f"{prev + 1} starts with '- '): a block is either a list or keys. Hint: "
                    f"start line {line + 1} with '- ' if it is another item, or indent it "
                    f"under the item it belongs to")
        return None
    what = "the first key under it" if opens else "the key on that line"
    return (line, here, f"line {line + 1} is indented with {here} spaces: it does not line up "
            f"with the block it belongs to (line {prev + 1} above; {what} would start at "
            f"{want}). Hint: the keys of one block start in the same column: indent this line "
            f"with {want} spaces, if it belongs with line {prev + 1}")


def _mapping_values(lines: list[str], line: int, col: int) -> tuple[int, int, str] | None:
    text = lines[line]
    match = _KEY.match(text)
    if match is not None and col > match.end():
        key = match.group("key")
        value = text[match.end():].strip()
        return (line, col, f"the text after '{key}:' contains ': ' (a colon followed by a "
                f"space), which YAML reads as the start of another key. Hint: put the whole "
                f"text in quotes: {key}: {_quoted(value)}")
    prev = _previous(lines, line)
    if prev is None or _indent(text) <= _indent(lines[prev]):
        return None
    here, there = _indent(text), _indent(lines[prev])
    # The line before `prev` at this line's level or above (deeper lines are nested values).
    before = next((i for i in range(prev - 1, -1, -1)
                   if _significant(lines[i]) and _indent(lines[i]) <= here), None)
    if before is not None and _indent(lines[before]) == here and not \
            lines[prev].rstrip().endswith(":"):
        return (prev, there, f"line {prev + 1} is indented with {there} spaces, fewer than "
                f"the lines around it ({here}): YAML closed the block there, and line "
                f"{line + 1} no longer fits anywhere. Hint: indent line {prev + 1} with {here} "
                f"spaces, like line {before + 1}")
    key = _KEY.match(lines[prev])
    name = f"'{key.group('key')}:'" if key else f"line {prev + 1}"
    return (line, here, f"line {line + 1} is indented more ({here} spaces) than line "
            f"{prev + 1} ({there}), so YAML reads it as the rest of the text of {name}. Hint: "
            f"indent line {line + 1} with {there} spaces, like line {prev + 1}; for a text on "
            f"several lines, write '{name.strip(chr(39))} |' and indent the text under it")


def explain(text: str, exc: yaml.MarkedYAMLError) -> tuple[int, int, str] | None:
    """(line, column, message), 1-based, of the likely mistake behind `exc`; None if unsure."""
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return None
    lines = text.splitlines() or [""]
    line, col = min(mark.line, len(lines) - 1), mark.column
    problem = exc.problem or exc.context or "invalid YAML"
    found: tuple[int, int, str] | None = None
    quote = _unclosed_quote(lines, line)
    if quote is not None and quote[0] < line:
        opened, at = quote
        until = ("the end of the file" if "end of stream" in problem
                 else f"the next quote (line {line + 1})")
        found = (opened, at, f"line {opened + 1} opens a quote that is not closed on that "
                 f"line, so YAML reads the lines after it as the same text, up to {until}. "
                 f"Hint: close the quote at the end of line {opened + 1}")
    elif problem == "mapping values are not allowed here":
        found = _mapping_values(lines, line, col)
    elif problem.startswith("found character") and "cannot start any token" in problem:
        char = problem.split("'")[1] if "'" in problem else "?"
        found = (line, col, f"a text cannot start with '{char}' in YAML. Hint: put the "
                 f"value in quotes, e.g. \"{lines[line][col:].strip()}\"")
    elif problem == "could not find expected ':'" and exc.context_mark is not None:
        start = exc.context_mark.line
        found = (start, exc.context_mark.column,
                 f"line {start + 1} is a text without 'key:' where YAML expects 'key: value'. "
                 f"Hint: write it as 'key: value', or indent it under the key whose text it "
                 f"continues, or remove it")
    elif problem.startswith("expected <block end>"):
        value = _KEY.match(lines[line])
        rest = lines[line][value.end():].lstrip() if value else ""
        if value and rest[:1] in ("'", '"') and problem.endswith("'<scalar>'"):
            q = rest[0]
            inside = "write it twice ('')" if q == "'" else 'write it as \\"'
            other = '"' if q == "'" else "'"
            at = col - 1 if col > 0 and lines[line][col - 1:col] == q else col
            found = (line, at, f"the text after '{value.group('key')}:' starts with a quote "
                     f"({q}) and contains that quote again: YAML ends the text there and cannot "
                     f"read the rest. Hint: for a {q} inside the text, {inside}, or put the "
                     f"whole text between {other} instead")
        elif value and rest[:1] in ("{", "["):
            start = len(lines[line]) - len(lines[line][value.end():].lstrip())
            found = (line, start, f"the text after '{value.group('key')}:' starts "
                     f"with '{rest[0]}', which YAML reads as a structure, not a text. Hint: "
                     f"put the whole text in quotes: {value.group('key')}: {_quoted(rest)}")
        else:
            found = _block_explained(lines, line)
    if found is None:
        return None
    at_line, at_col, message = found
    return (at_line + 1, at_col + 1,
            f"{message} (YAML said: {problem}, at line {line + 1})")
