"""The journal is fsynced every JOURNAL_SYNC_EVERY entries; in between, the entries travel in
person.json, whose atomic write is the commit. Losing the unsynced tail of journal.jsonl (what
a power cut does to the page cache) loses nothing."""

from __future__ import annotations

import json
from pathlib import Path

from bot.store import JournalEntry, PersonData, TinyStore
from bot.store.tinystore import JOURNAL_SYNC_EVERY

PID = "console:alice"


def entry(n: int) -> JournalEntry:
    return JournalEntry(at=f"2026-11-30T08:{n % 60:02d}:00+00:00", direction="in",
                        text=f"message {n}", key=f"m{n}#1")


def journal_file(root: Path) -> Path:
    return root / "people" / "console%3Aalice" / "journal.jsonl"


def test_unsynced_journal_lines_lost_in_a_power_cut_come_back(tmp_path: Path) -> None:
    store = TinyStore(tmp_path)
    person = PersonData(id=PID)
    person.journal_new = [entry(0)]
    store.save_person(person)  # creating the journal syncs it
    synced = journal_file(tmp_path).read_bytes()
    for n in range(1, 6):
        person.journal_new = [entry(n)]
        store.save_person(person)
    journal_file(tmp_path).write_bytes(synced)  # the page cache never reached the disk
    assert [e.text for e in store.read_journal(PID)] == [f"message {n}" for n in range(6)]


def test_the_journal_is_synced_and_the_pending_copy_emptied_every_n_entries(tmp_path: Path) -> None:
    store = TinyStore(tmp_path)
    person = PersonData(id=PID)
    for n in range(JOURNAL_SYNC_EVERY + 3):
        person.journal_new = [entry(n)]
        store.save_person(person)
    raw = json.loads((tmp_path / "people" / "console%3Aalice" / "person.json").read_text())
    pending = next(iter(raw["pending"].values()))["entries"]
    assert len(pending) < JOURNAL_SYNC_EVERY
    assert len(store.read_journal(PID)) == JOURNAL_SYNC_EVERY + 3


def test_rewriting_the_journal_also_rewrites_the_pending_copy(tmp_path: Path) -> None:
    store = TinyStore(tmp_path)
    person = PersonData(id=PID)
    for n in range(4):
        person.journal_new = [entry(n)]
        store.save_person(person)
    kept = store.read_journal(PID)[:2]
    kept[1].text = "[…]"  # erasure anonymises a line about someone else
    store.rewrite_journal(PID, kept)
    assert [e.text for e in store.read_journal(PID)] == ["message 0", "[…]"]
    raw = (tmp_path / "people" / "console%3Aalice" / "person.json").read_text()
    assert "message 3" not in raw and "message 1" not in raw
