
"""The embedded store: round trips, layout, journal replay, erasure, and crashes at any instant."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.store import JournalEntry, PersonData, SharedData, Store, TinyStore
from bot.store.tinystore import StoreError, person_dir_name

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def store(tmp_path: Path) -> TinyStore:
    return TinyStore(tmp_path / "data")


def entry(n: int, text: str = "", key: str | None = None, direction: str = "in") -> JournalEntry:
    return JournalEntry(at=f"2026-11-30T09:{n:02d}:00+00:00", direction=direction,
                        text=text or f"message {n}", key=key if key is not None else f"m{n}#0")


def sample_person(pid: str = "telegram:123") -> PersonData:
    return PersonData(
        id=pid,
        state={"flow": "question", "step": "analysis", "draft": {"context": "Contexte é ✓"}},
        signatures=[{"version": "abc123", "name": "Alice Durand", "at": "2026-11-30T08:00:00Z",
                     "channel": "telegram"}],
        questions=[{"id": "Q1", "context": "c", "analysis": "a", "ask": "?", "status": "sent",
                    "answers": [{"at": "2026-11-30T10:00:00Z", "text": "Réponse"}]},
                   {"id": "Q2", "context": "c2", "analysis": "a2", "ask": "?2", "status": "sent",
                    "answers": []}],
        outbox=[{"to": pid, "text": "bonjour", "choices": ["Oui", "Non"]}],
        applied=["telegram:update:1", "telegram:update:2"],
        meta={"locale": "en", "flags": [{"kind": "distress", "at": "x"}]},
    )


def test_the_store_satisfies_its_protocol(store: TinyStore) -> None:
    as_protocol: Store = store
    assert as_protocol is store


# -- round trips ------------------------------------------------------------------------------


def test_new_store_is_empty(store: TinyStore) -> None:
    assert store.load_person("telegram:1") is None
    assert store.read_journal("telegram:1") == []
    assert list(store.person_ids()) == []
    assert store.load_shared() == SharedData()
    assert store.forget_person("telegram:1") is False


def test_person_round_trip(store: TinyStore, tmp_path: Path) -> None:
    person = sample_person()
    store.save_person(person)
    loaded = TinyStore(tmp_path / "data").load_person("telegram:123")  # a fresh instance
    assert loaded == sample_person()


def test_person_round_trip_after_changes(store: TinyStore) -> None:
    person = sample_person()
    store.save_person(person)
    person.questions.pop()
    person.state = {}
    person.outbox = []
    person.mark_applied("telegram:update:3")
    store.save_person(person)
    loaded = store.load_person(person.id)
    assert loaded is not None
    assert [q["id"] for q in loaded.questions] == ["Q1"]
    assert loaded.state == {} and loaded.outbox == []
    assert loaded.applied == ["telegram:update:1", "telegram:update:2", "telegram:update:3"]


def test_shared_round_trip(store: TinyStore, tmp_path: Path) -> None:
    shared = SharedData(
        counters={"question": 7},
        questions={"Q7": "telegram:123"},
        invitations={"ABCD-1234": {"mentor": "console:bob", "expires": "2026-12-14T00:00:00Z",
                                   "used": False}},
        enrolled={"telegram:9": {"mentor": "console:bob", "name": "Zoé"}},
        scheduler={"digest": "2026-11-30T07:00:00+00:00"},
        transports={"telegram": {"offset": 1234}},
    )
    store.save_shared(shared)
    assert TinyStore(tmp_path / "data").load_shared() == shared
    shared.counters["question"] = 8
    shared.invitations.clear()
    store.save_shared(shared)
    assert store.load_shared() == shared


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(state=st.dictionaries(st.text(max_size=8), st.recursive(
    st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=10), max_size=5),
    text=st.text(max_size=50))
def test_any_json_data_round_trips(tmp_path: Path, state: dict[str, object], text: str) -> None:
    # Even lone surrogates (a broken client's text) are stored and read back unchanged.
    store = TinyStore(tmp_path / "hyp")
    person = PersonData(id="console:x", state=state, meta={"note": text})
    person.journal_new = [JournalEntry(at="t", direction="in", text=text, key="k")]
    store.save_person(person)
    loaded = store.load_person("console:x")
    assert loaded is not None and loaded.state == state and loaded.meta == {"note": text}
    assert store.read_journal("console:x")[-1].text == text


def test_lone_surrogate_text_is_stored_not_fatal(store: TinyStore) -> None:
    # json.loads('"\\ud800"') yields a lone surrogate: a webhook can carry one.
    text = "caf\u00e9 \ud800 end"
    person = PersonData(id="console:x", state={"draft": text})
    person.journal_new = [JournalEntry(at="t", direction="in", text=text, key="k")]
    store.save_person(person)
    loaded = store.load_person("console:x")
    assert loaded is not None and loaded.state == {"draft": text}
    assert [e.text for e in store.read_journal("console:x")] == [text]
    store.rewrite_journal("console:x", store.read_journal("console:x"))
    assert [e.text for e in store.read_journal("console:x")] == [text]
    store.save_shared(SharedData(enrolled={"console:x": {"name": text}}))
    assert store.load_shared().enrolled == {"console:x": {"name": text}}


# -- layout -----------------------------------------------------------------------------------


def test_one_directory_per_person_with_a_journal(store: TinyStore, tmp_path: Path) -> None:
    alice = sample_person("console:alice")
    alice.journal_new = [entry(1), entry(2, direction="out")]
    store.save_person(alice)
    store.save_person(sample_person("console:bob"))
    store.save_shared(SharedData(counters={"question": 1}))
    root = tmp_path / "data"
    assert (root / "shared.json").is_file()
    dirs = sorted(p.name for p in (root / "people").iterdir())
    assert dirs == ["console%3Aalice", "console%3Abob"]
    assert sorted(p.name for p in (root / "people" / "console%3Aalice").iterdir()) == [
        "journal.jsonl", "person.json"]
    assert not (root / "people" / "console%3Abob" / "journal.jsonl").exists()
    lines = (root / "people" / "console%3Aalice" / "journal.jsonl").read_text("utf-8")
    assert [json.loads(line)["text"] for line in lines.splitlines()] == ["message 1", "message 2"]
    assert sorted(store.person_ids()) == ["console:alice", "console:bob"]
    assert alice.journal_new == [], "saved journal lines are not appended twice"


@pytest.mark.parametrize("pid", [
    "whatsapp:+33 6 12 34 56 78", "telegram:a/b", "console:../../etc", "..", ".", ".hidden",
    "x:\\windows\\path", "console:é✓", "console:%2F", "a:b:c",
])
def test_odd_person_ids_map_to_safe_names(store: TinyStore, tmp_path: Path, pid: str) -> None:
    name = person_dir_name(pid)
    assert "/" not in name and "\\" not in name and " " not in name and ":" not in name
    assert not name.startswith(".")
    person = PersonData(id=pid, state={"x": 1})
    person.journal_new = [entry(1)]
    store.save_person(person)
    people = tmp_path / "data" / "people"
    assert [p.name for p in people.iterdir()] == [name]
    assert {p.name for p in (tmp_path / "data").iterdir()} == {"people"}, "nothing outside"
    assert list(store.person_ids()) == [pid]
    loaded = store.load_person(pid)
    assert loaded is not None and loaded.state == {"x": 1}
    assert [e.text for e in store.read_journal(pid)] == ["message 1"]
    assert store.forget_person(pid) is True
    assert list(people.iterdir()) == []
    assert (tmp_path / "data").is_dir()


def test_similar_ids_do_not_collide(store: TinyStore) -> None:
    ids = ["telegram:1", "telegram%3A1", "telegram:1 ", "Telegram:1", "telegram/1"]
    for i, pid in enumerate(ids):
        store.save_person(PersonData(id=pid, state={"i": i}))
    for i, pid in enumerate(ids):
        loaded = store.load_person(pid)
        assert loaded is not None and loaded.state == {"i": i}
    assert sorted(store.person_ids()) == sorted(ids)


def test_unusable_ids_are_store_errors(store: TinyStore) -> None:
    with pytest.raises(StoreError, match="cannot be empty"):
        store.save_person(PersonData(id=""))
    with pytest.raises(StoreError, match="too long"):
        store.save_person(PersonData(id="telegram:" + "9" * 300))
    with pytest.raises(StoreError):
        store.forget_person("")


# -- journal ----------------------------------------------------------------------------------


def test_journal_keeps_order_and_one_entry_per_key(store: TinyStore) -> None:
    person = PersonData(id="console:alice")
    person.journal_new = [entry(1), entry(2)]
    store.save_person(person)
    # A crash before person.json was written: the message is replayed, same keys again.
    person.journal_new = [entry(2), entry(3)]
    store.save_person(person)
    person.journal_new = [entry(4, key="")]
    store.save_person(person)
    person.journal_new = [entry(5, key="")]  # entries without a key are never merged
    store.save_person(person)
    texts = [e.text for e in store.read_journal("console:alice")]
    assert texts == ["message 1", "message 2", "message 3", "message 4", "message 5"]


def test_replayed_entry_keeps_its_first_position(store: TinyStore) -> None:
    person = PersonData(id="console:alice")
    person.journal_new = [entry(1), entry(2)]
    store.save_person(person)
    person.journal_new = [entry(1, text="message 1, replayed")]
    store.save_person(person)
    texts = [e.text for e in store.read_journal("console:alice")]
    assert texts == ["message 1, replayed", "message 2"]


def test_torn_last_line_is_skipped_and_next_append_works(store: TinyStore,
                                                         tmp_path: Path) -> None:
    person = PersonData(id="console:alice")
    person.journal_new = [entry(1), entry(2)]
    store.save_person(person)
    path = tmp_path / "data" / "people" / "console%3Aalice" / "journal.jsonl"
    whole = json.dumps(entry(3).to_dict(), ensure_ascii=False).encode("utf-8")
    with open(path, "ab") as handle:
        handle.write(whole[: len(whole) // 2])  # a crash mid-append
    assert [e.text for e in store.read_journal("console:alice")] == ["message 1", "message 2"]
    person.journal_new = [entry(3), entry(4)]
    store.save_person(person)
    texts = [e.text for e in store.read_journal("console:alice")]
    assert texts == ["message 1", "message 2", "message 3", "message 4"]
    assert path.read_bytes().count(b"\n") == 5  # the torn line was closed, not glued to the next


def test_torn_line_mid_utf8_sequence(store: TinyStore, tmp_path: Path) -> None:
    person = PersonData(id="console:alice")
    person.journal_new = [entry(1)]
    store.save_person(person)
    path = tmp_path / "data" / "people" / "console%3Aalice" / "journal.jsonl"
    with open(path, "ab") as handle:
        handle.write('{"at": "x", "direction": "in", "text": "é'.encode()[:-1])
    assert [e.text for e in store.read_journal("console:alice")] == ["message 1"]


def test_garbage_journal_lines_are_skipped(store: TinyStore, tmp_path: Path) -> None:
    person = PersonData(id="console:alice")
    person.journal_new = [entry(1)]
    store.save_person(person)
    path = tmp_path / "data" / "people" / "console%3Aalice" / "journal.jsonl"
    with open(path, "ab") as handle:
        handle.write(b'[1, 2]\n"text"\n{"no": "fields"}\n\n   \n\xff\xfe\n')
    person.journal_new = [entry(2)]
    store.save_person(person)
    assert [e.text for e in store.read_journal("console:alice")] == ["message 1", "message 2"]


def test_rewrite_journal(store: TinyStore) -> None:
    person = PersonData(id="console:alice")
    person.journal_new = [entry(1), entry(2), entry(3)]
    store.save_person(person)
    kept = store.read_journal("console:alice")[1:]
    store.rewrite_journal("console:alice", kept)
    assert [e.text for e in store.read_journal("console:alice")] == ["message 2", "message 3"]
    store.rewrite_journal("console:nobody", kept)  # nothing stored: nothing created
    assert store.load_person("console:nobody") is None
    assert store.read_journal("console:nobody") == []


def test_journal_entry_fields_round_trip(store: TinyStore) -> None:
    person = PersonData(id="console:alice")
    person.journal_new = [JournalEntry(at="2026-11-30T09:00:00+00:00", direction="out",
                                       text="Réponse’s “quoted”\nsecond line", kind="answer",
                                       qid="Q3", key="k1")]
    store.save_person(person)
    assert store.read_journal("console:alice") == [
        JournalEntry(at="2026-11-30T09:00:00+00:00", direction="out",
                     text="Réponse’s “quoted”\nsecond line", kind="answer", qid="Q3", key="k1")]


# -- erasure ----------------------------------------------------------------------------------


def test_forget_person_removes_everything(store: TinyStore, tmp_path: Path) -> None:
    alice = sample_person("console:alice")
    alice.journal_new = [entry(1)]
    store.save_person(alice)
    store.save_person(sample_person("console:bob"))
    assert store.forget_person("console:alice") is True
    assert store.load_person("console:alice") is None
    assert store.read_journal("console:alice") == []
    assert list(store.person_ids()) == ["console:bob"]
    leftovers = [p for p in (tmp_path / "data").rglob("*") if "alice" in p.name]
    assert leftovers == []
    assert store.forget_person("console:alice") is False
    assert store.load_person("console:bob") is not None


def test_interrupted_erasure_is_completed_and_never_listed(tmp_path: Path) -> None:
    store = TinyStore(tmp_path / "data")
    alice = sample_person("console:alice")
    store.save_person(alice)
    people = tmp_path / "data" / "people"
    # A crash between the rename and the removal leaves the renamed directory behind.
    (people / "console%3Aalice").rename(people / ".forget-console%3Aalice")
    assert list(store.person_ids()) == []
    store.save_person(sample_person("console:alice"))  # the person comes back...
    (people / ".forget-console%3Aalice" / "person.json").write_text("{}", encoding="utf-8")
    assert store.forget_person("console:alice") is True  # ...and is erased over the leftover
    assert list(people.iterdir()) == []
    # On restart, a leftover erasure is finished.
    (people / ".forget-console%3Abob").mkdir()
    (people / ".forget-console%3Abob" / "person.json").write_text("{}", encoding="utf-8")
    TinyStore(tmp_path / "data")
    assert list(people.iterdir()) == []


# -- corrupt files ----------------------------------------------------------------------------


@pytest.mark.parametrize("garbage", [
    b"", b"not json", b"{\"state\": ", b"[1, 2, 3]", b"\"text\"", b"{\"state\": [1]}",
    b"{\"state\": {\"1\": 5}}", b"\xff\xfe\x00", b"{\"applied\": {\"1\": {\"ids\": \"abc\"}}}",
    b"{\"state\": {\"1\": {}, \"2\": {}}}", b"{\"state\": {\"abc\": {}}}",
    b"{\"questions\": {\"1\": [1]}}",
])
def test_corrupt_person_file_is_a_store_error_naming_it(store: TinyStore, tmp_path: Path,
                                                        garbage: bytes) -> None:
    store.save_person(sample_person("console:alice"))
    path = tmp_path / "data" / "people" / "console%3Aalice" / "person.json"
    path.write_bytes(garbage)
    with pytest.raises(StoreError) as info:
        store.load_person("console:alice")
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_corrupt_shared_file_is_a_store_error_naming_it(store: TinyStore,
                                                        tmp_path: Path) -> None:
    path = tmp_path / "data" / "shared.json"
    path.write_text("{oops", encoding="utf-8")
    with pytest.raises(StoreError, match=r"shared\.json: unreadable store file"):
        store.load_shared()


def test_unreadable_person_file_is_a_store_error(store: TinyStore, tmp_path: Path) -> None:
    person_dir = tmp_path / "data" / "people" / "console%3Aalice"
    (person_dir / "person.json").mkdir(parents=True)  # a directory where a file should be
    with pytest.raises(StoreError, match=r"person\.json"):
        store.load_person("console:alice")


def test_data_directory_that_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(StoreError, match="cannot use the data directory"):
        TinyStore(tmp_path / "file" / "data")


# -- crashes ----------------------------------------------------------------------------------

WRITER = textwrap.dedent("""
    import sys
    from bot.store import JournalEntry, PersonData, SharedData, TinyStore

    store = TinyStore(sys.argv[1])
    start = int(sys.argv[2])
    print("ready", flush=True)
    n = start
    while True:
        person = store.load_person("whatsapp:+33 6") or PersonData(id="whatsapp:+33 6")
        person.state = {"n": n, "padding": "x" * (n % 5000)}
        person.questions = [{"id": f"Q{i}", "text": "é" * 50} for i in range(n % 40)]
        person.mark_applied(f"m{n}")
        person.journal_new = [JournalEntry(at=str(n), direction="in", text=f"m{n}",
                                           key=f"m{n}#0")]
        store.save_person(person)
        store.save_shared(SharedData(counters={"n": n}, questions={f"Q{n}": "whatsapp:+33 6"}))
        n += 1
""")


def test_sigkill_at_any_instant_leaves_a_store_that_loads(tmp_path: Path) -> None:
    rng = random.Random(20261130)
    data = tmp_path / "data"
    script = tmp_path / "writer.py"
    script.write_text(WRITER, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    last_n = -1
    for _ in range(20):
        child = subprocess.Popen([sys.executable, str(script), str(data), str(last_n + 1)],
                                 stdout=subprocess.PIPE, env=env)
        try:
            assert child.stdout is not None
            assert child.stdout.readline() == b"ready\n"
            time.sleep(rng.uniform(0.0, 0.08))
            child.send_signal(signal.SIGKILL)
        finally:
            child.kill()
            child.wait(timeout=10)
            if child.stdout is not None:
                child.stdout.close()
        store = TinyStore(data)
        person = store.load_person("whatsapp:+33 6")
        shared = store.load_shared()
        journal = store.read_journal("whatsapp:+33 6")
        if person is None:
            assert last_n == -1, "a saved person never disappears"
            continue
        n = person.state["n"]
        assert isinstance(n, int) and n >= last_n, "a later save never rolls back"
        assert person.state["padding"] == "x" * (n % 5000)
        assert len(person.questions) == n % 40
        assert person.applied[-1] == f"m{n}"
        # The journal is appended before person.json: it holds every applied message, once.
        keys = [e.key for e in journal]
        assert len(keys) == len(set(keys))
        assert f"m{n}#0" in keys
        assert keys == sorted(keys, key=lambda k: int(k[1:].split("#")[0]))
        if shared.counters:  # written after the person: never ahead, always whole
            c = shared.counters["n"]
            assert c <= n
            # The question index is written before the counter: after a crash it may be ahead
            # of it, never behind (the engine's replay then takes the same number again).
            [(qid, owner)] = shared.questions.items()
            assert owner == "whatsapp:+33 6" and c <= int(qid[1:]) <= n
        last_n = n
        # No temporary file is ever taken for data.
        assert list(store.person_ids()) == ["whatsapp:+33 6"]
    assert last_n > 0, "the writer made progress"
