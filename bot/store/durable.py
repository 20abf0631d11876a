"""Crash-safe files: write a temp file, fsync it, rename it over, fsync the directory.

A crash at any instant leaves either the old or the new file, never a torn one. Appends to a
journal are fsynced; a torn last line (crash mid-append) is skipped when reading.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tinydb.storages import Storage


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` with `data` atomically and durably."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def durable_append(path: Path, lines: list[str], sync: bool = True) -> None:
    """Append JSON lines; with `sync`, fsync them (creating the file makes its directory entry
    durable too). Without it the caller keeps a durable copy until the next synced append."""
    created = not path.exists()
    with open(path, "a+b") as handle:
        end = handle.seek(0, os.SEEK_END)
        if end > 0:
            # Heal a torn last line left by a crash mid-append: start on a fresh line.
            handle.seek(end - 1)
            if handle.read(1) != b"\n":
                handle.write(b"\n")
        handle.write("".join(line + "\n" for line in lines).encode("utf-8"))
        handle.flush()
        if sync:
            os.fsync(handle.fileno())
    if created and sync:
        fsync_dir(path.parent)


def read_json_lines(path: Path) -> list[dict[str, Any]]:
    """Every complete JSON line of the file; a torn or corrupt line is skipped."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    out: list[dict[str, Any]] = []
    for line in raw.splitlines():
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            out.append(value)
    return out


def json_line(value: Any) -> str:
    """`value` as one line of JSON that UTF-8 can always encode (see `json_bytes`)."""
    text = json.dumps(value, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, ensure_ascii=True)
    return text


def json_bytes(value: Any) -> bytes:
    """`value` as compact UTF-8 JSON; text that UTF-8 cannot carry (a lone surrogate from a
    broken client) is written escaped, so it still round-trips instead of failing the write."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def _check_document(data: Any) -> dict[str, dict[str, Any]]:
    """A TinyDB file is {table: {doc id: {field: value}}}; anything else was not written by us."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object of tables")
    for name, table in data.items():
        if not isinstance(table, dict):
            raise ValueError(f"table {name!r} is not a JSON object")
        for doc_id, doc in table.items():
            if not doc_id.isdigit():
                raise ValueError(f"document id {doc_id!r} of table {name!r} is not a number")
            if not isinstance(doc, dict):
                raise ValueError(f"document {doc_id!r} of table {name!r} is not a JSON object")
    return data


class DurableStorage(Storage):
    """A TinyDB storage that keeps the document in memory and writes it only on `flush()`.

    TinyDB writes on every table operation; buffering lets one logical change (state, questions,
    outbox, applied ids) reach the disk as one atomic file replacement.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._data: dict[str, dict[str, Any]] | None = None
        self._dirty = False
        self._loaded = False

    def read(self) -> dict[str, dict[str, Any]] | None:
        if not self._loaded:
            try:
                self._data = _check_document(json.loads(self.path.read_bytes()))
            except FileNotFoundError:
                self._data = None
            self._loaded = True
        return self._data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        self._data = data
        self._loaded = True
        self._dirty = True

    def flush(self) -> None:
        if self._dirty and self._data is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, json_bytes(self._data))
            self._dirty = False

    def close(self) -> None:
        self.flush()
