"""Properties of the engine and of the simulate parser, for any input (hypothesis).

Whatever people send (any text, empty, huge, control characters, emoji, right-to-left, NUL,
lone surrogates, commands, any attachment kind, a pressed button of any number), in any order,
from roster people and strangers, at any time: `Engine.handle` returns outbound messages with
text, never raises, the store still loads, and strangers never get a file.

The examples are derandomized (the same ones on every run) and kept few; most properties run
with safety on and the identifying-data detector off (it loads spaCy), one with the full guard.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import App, build_app
from bot.clock import VirtualClock
from bot.engine.guard import Guard
from bot.messages import AttachmentKind, Inbound, Outbound
from bot.transports.simulate import Event, ScriptError, parse_script
from tests.conftest import ARTICLES, QUESTION_EN, QUESTION_FR, make_config
from tests.storeview import StoreView

ROSTER = ("console:bob", "console:alice", "console:emma")
STRANGERS = ("console:mallory", "telegram:123456789", "whatsapp:33612345678", "console:Alice")
BASE = datetime.fromisoformat("2026-11-27T17:00:00+01:00")  # a Friday, before a weekend

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Texts people really send, and texts that break naive code.
NASTY = [
    "", " ", "\n\t ", "\x00", "Bonjour\x00", "\x1b[31mrouge", "\r\n\r\n", "\u200b", "\ufeff",
    "\u202eRTL override", "مرحبا، أحتاج إلى مساعدة", "שלום", "😀" * 50, "👩🏽‍💻🏳️‍🌈", "\ud800",
    "a\udfffb", "²", "①", "١", "٣", "9" * 40, "-1", "0", "1", "2", "99", "1.5", "+1", "١٢",
    "{name}", "{name.__class__}", "{0}", "%s%s%n", "<b>gras</b>", "' OR 1=1 --",
    "../../etc/passwd", "J'accepte", "Je n'accepte pas", "Lire l'article 1", "Poser une question",
    "Envoyer", "Masquer", "Reformuler", "Annuler", "Alice Durand", "Bob Martin",
    "Je n'en peux plus, j'ai envie de mourir.", "Il me frappe, je suis en danger",
    "Mon IBAN est FR76 3000 6000 0112 3456 7890 189", "écrivez-moi : paul@example.org",
    "/start", "/start ABCDEFGH", "/aide", "/help", "/journal", "/digest", "/reply", "/reply Q1",
    "/repondre Q1 Voici ma réponse détaillée.", "/reply Q999999999999 ok", "/as console:bob",
    "/absence", "/retirer", "/oublier", "/forget", "/inconnue", "/", "//", "/start\x00",
    "mot " * 1100, "x" * 4001, "y" * 20000,
    *QUESTION_FR, *QUESTION_EN,
]
texts = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=80),
    st.builds(lambda a, b: a + b, st.sampled_from(NASTY), st.text(max_size=40)),
)


@st.composite
def inbound_payloads(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["text", "text", "text", "attachment", "choice"]))
    if kind == "attachment":
        return {"attachment": draw(st.sampled_from(list(AttachmentKind)))}
    if kind == "choice":
        return {"choice": draw(st.integers(-2, 12)), "text": draw(st.sampled_from(NASTY[:30]))}
    return {"text": draw(texts)}


@st.composite
def conversations(draw: st.DrawFn, size: int = 25) -> list[tuple[str, timedelta, dict[str, Any]]]:
    """(sender, time since the previous event, payload), in order."""
    senders = st.one_of(st.sampled_from(ROSTER), st.sampled_from(STRANGERS))
    gaps = st.one_of(
        st.just(timedelta(0)),
        st.integers(1, 600).map(lambda s: timedelta(seconds=s)),
        st.integers(1, 96).map(lambda h: timedelta(hours=h)),
    )
    return draw(st.lists(st.tuples(senders, gaps, inbound_payloads()), max_size=size))


def signed_prefix(who: str, name: str, question: list[str]) -> list[dict[str, Any]]:
    """Sign the charter and open a question: the random events then meet the deep steps."""
    return [{"text": t} for t in ["Bonjour", "1", *["1"] * ARTICLES, name, question[0]]]


class Harness:
    """A fresh engine in a fresh data directory, on a virtual clock, fed one event at a time."""

    def __init__(self, root: Path, start: datetime, full_guard: bool = False) -> None:
        self.config = make_config(root)
        self.clock = VirtualClock(start)
        guard = None if full_guard else Guard(self.config, identifying=False)
        self.app: App = build_app(self.config, self.clock, guard=guard)
        self.now = start
        self.count = 0

    def send(self, sender: str, gap: timedelta, payload: dict[str, Any]) -> list[Outbound]:
        self.now += gap
        for _, jobs_out in self.app.scheduler.run_due(self.now, self.clock.set):
            check_outbound(jobs_out)
        if self.now > self.clock.now():
            self.clock.set(self.now)
        self.count += 1
        inbound = Inbound(sender=sender, message_id=f"prop-{self.count}",
                          at=self.clock.now(), **payload)
        out = self.app.engine.handle(inbound)
        check_outbound(out)
        assert out, (sender, payload)  # every new message gets an answer
        return out

    def check_store(self) -> None:
        root = self.config.storage.path
        store = StoreView(root)
        ids = set(store.person_ids())
        assert ids <= set(ROSTER), ids
        for pid in ids:
            assert store.load_person(pid) is not None
            for entry in store.read_journal(pid):
                assert entry.direction in ("in", "out")
        for stranger in STRANGERS:
            assert stranger not in ids, stranger


def check_outbound(out: object) -> None:
    assert isinstance(out, list)
    for message in out:
        assert isinstance(message, Outbound)
        assert isinstance(message.text, str) and message.text.strip(), message
        assert isinstance(message.to, str) and ":" in message.to
        assert all(isinstance(c, str) and c.strip() for c in message.choices), message


# -- the engine -------------------------------------------------------------------------------


@SETTINGS
@given(events=conversations(), start=st.integers(0, 24 * 40).map(lambda h: timedelta(hours=h)),
       signed=st.booleans())
def test_any_events_are_answered_and_the_store_loads(
    tmp_path_factory: pytest.TempPathFactory,
    events: list[tuple[str, timedelta, dict[str, Any]]],
    start: timedelta,
    signed: bool,
) -> None:
    harness = Harness(tmp_path_factory.mktemp("prop"), BASE + start)
    if signed:
        for payload in signed_prefix("console:alice", "Alice Durand", QUESTION_FR):
            harness.send("console:alice", timedelta(seconds=1), payload)
        for payload in signed_prefix("console:bob", "Bob Martin", ["/aide"]):
            harness.send("console:bob", timedelta(seconds=1), payload)
    for sender, gap, payload in events:
        harness.send(sender, gap, payload)
    harness.check_store()


@SETTINGS
@given(text=texts, kind=st.sampled_from(list(AttachmentKind)), steps=st.integers(0, 11))
def test_any_text_or_attachment_at_any_step_of_the_journey(
    tmp_path_factory: pytest.TempPathFactory, text: str, kind: AttachmentKind, steps: int,
) -> None:
    """Walk the journey `steps` messages deep, then the text, then an attachment."""
    harness = Harness(tmp_path_factory.mktemp("prop"), BASE)
    journey = [*signed_prefix("console:emma", "Emma Smith", QUESTION_EN), *(
        {"text": t} for t in QUESTION_EN[1:])]
    for payload in journey[:steps]:
        harness.send("console:emma", timedelta(seconds=1), payload)
    harness.send("console:emma", timedelta(seconds=1), {"text": text})
    harness.send("console:emma", timedelta(seconds=1), {"attachment": kind})
    harness.check_store()


@SETTINGS
@given(events=st.lists(st.tuples(st.sampled_from(STRANGERS), inbound_payloads()), max_size=12))
def test_strangers_get_an_answer_and_never_a_file(
    tmp_path_factory: pytest.TempPathFactory,
    events: list[tuple[str, dict[str, Any]]],
) -> None:
    harness = Harness(tmp_path_factory.mktemp("prop"), BASE)
    for sender, payload in events:
        out = harness.send(sender, timedelta(minutes=1), payload)
        # a polite answer, preceded by the help resources when the text is alarming
        assert [m.to for m in out] in ([sender], [sender, sender])
    harness.check_store()
    assert not list(StoreView(harness.config.storage.path).person_ids())


@settings(SETTINGS, max_examples=25)
@given(events=conversations(size=8))
def test_the_full_guard_answers_any_text_in_a_question(
    tmp_path_factory: pytest.TempPathFactory,
    events: list[tuple[str, timedelta, dict[str, Any]]],
) -> None:
    """Safety and identifying data both on (spaCy loads once for the session)."""
    harness = Harness(tmp_path_factory.mktemp("prop"), BASE, full_guard=True)
    for payload in signed_prefix("console:alice", "Alice Durand", QUESTION_FR):
        harness.send("console:alice", timedelta(seconds=1), payload)
    named = "Hier, Clémence Vautrin m'a reproché de ne pas avoir prévenu Orvalis à temps."
    harness.send("console:alice", timedelta(seconds=1), {"text": named})
    for sender, gap, payload in events:
        harness.send(sender, gap, payload)
    harness.check_store()


def test_a_redelivered_message_is_handled_once(tmp_path: Path) -> None:
    harness = Harness(tmp_path, BASE)
    at = BASE + timedelta(minutes=1)
    harness.clock.set(at)
    first = harness.app.engine.handle(Inbound("console:alice", "same-id", at, text="Bonjour"))
    again = harness.app.engine.handle(Inbound("console:alice", "same-id", at, text="Bonjour"))
    assert first and again == []
    journal = StoreView(harness.config.storage.path).read_journal("console:alice")
    assert len([e for e in journal if e.key.startswith("same-id#")]) == len(journal)


# -- the simulate parser ----------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=3),
    max_leaves=8,
)
times = st.one_of(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                 timezones=st.just(UTC)).map(lambda d: d.isoformat()),
    st.sampled_from(["2026-11-30T09:00:00+01:00", "2026-11-30T09:00:00", "2026-13-45T09:00Z",
                     "hier", "", "2026-11-30"]),
    json_values,
)
KEYS = ["at", "from", "text", "attachment", "caption", "tick", "id"]


VALID = {
    "at": "2026-11-30T09:00:00+01:00", "from": "console:alice", "text": "Bonjour",
    "attachment": "image", "caption": "capture", "tick": True, "id": "m-1",
}


@st.composite
def script_lines(draw: st.DrawFn) -> str:
    """Any text, any JSON, and events that are valid but for a key or two: each check of the
    parser is reached."""
    shape = draw(st.sampled_from(["event", "event", "event", "json", "text"]))
    if shape == "text":
        return draw(st.text(max_size=120))
    if shape == "json":
        return json.dumps(draw(json_values))
    keys = draw(st.sampled_from([["at", "from", "text"], ["at", "from", "attachment"],
                                 ["at", "from", "attachment", "caption"], ["at", "tick"],
                                 ["at", "from", "text", "id"]]))
    event: dict[str, Any] = {key: VALID[key] for key in keys}
    for _ in range(draw(st.integers(0, 2))):
        key = draw(st.sampled_from([*event, *KEYS, "extra"]))  # mostly a key already there
        if draw(st.integers(0, 4)) == 0:
            event.pop(key, None)
        elif key == "at":
            event[key] = draw(times)
        elif key == "from":
            event[key] = draw(st.sampled_from(ROSTER + STRANGERS) | json_values)
        elif key == "attachment":
            event[key] = draw(st.sampled_from(["image", "audio", "gif"]) | json_values)
        elif key == "tick":
            event[key] = draw(st.just(True) | json_values)
        else:
            event[key] = draw(st.text(max_size=20) | json_values)
    return json.dumps(event, ensure_ascii=draw(st.booleans()))


def parse_or_script_error(lines: list[str]) -> list[Event] | None:
    try:
        return parse_script(lines, "prop")
    except ScriptError as exc:
        assert str(exc).startswith("prop:"), exc
        return None


@settings(SETTINGS, max_examples=200)
@given(lines=st.lists(st.one_of(script_lines(), st.sampled_from([
    '{"at": "2026-11-30T09:00:00+01:00", "from": "console:alice", "text": "Bonjour"}',
    '{"at": "2026-11-30T09:00:00+01:00", "tick": true}',
])), max_size=4))
def test_the_parser_answers_any_well_typed_script_with_events_or_a_script_error(
    lines: list[str],
) -> None:
    """Lines of every shape, but where `attachment` is a text or a number: the parser answers them with a ScriptError."""
    lines = [line for line in lines if not isinstance(
        (json.loads(line) if line.startswith("{") else {}).get("attachment"), list | dict)]
    events = parse_or_script_error(lines)
    if events is not None:
        for event in events:
            assert event.at.tzinfo is not None
            assert event.tick or (event.sender and (event.text is not None) != (
                event.attachment is not None))


@settings(SETTINGS, max_examples=200)
@given(lines=st.lists(script_lines(), max_size=4))
def test_the_parser_answers_any_line_with_events_or_a_script_error(lines: list[str]) -> None:
    parse_or_script_error(lines)


BROKEN_LINES = [
    '{"at": "2026-11-30T09:00:00+01:00", "from": "console:alice", "attachment": []}',
    '{"at": "2026-11-30T09:00:00+01:00", "from": "console:alice", "attachment": {"a": 1}}',
    "[" * 100_000 + "]" * 100_000,
]


@pytest.mark.parametrize("line", BROKEN_LINES, ids=["list", "mapping", "deep"])
def test_a_malformed_line_is_a_script_error(line: str) -> None:
    with pytest.raises(ScriptError, match=r"^prop:1: "):
        parse_script([line], "prop")


@pytest.mark.parametrize("at", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+01:00"])
def test_a_time_out_of_range_is_a_script_error(at: str) -> None:
    line = json.dumps({"at": at, "tick": True})
    try:
        events = parse_script([line], "prop")
    except ScriptError:
        return
    VirtualClock(events[0].at)  # what `simulate` does with it
