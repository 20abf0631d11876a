"""`/metrics`, `/livez`, `/readyz`: scraped after scripted conversations.

The engine's series move with the shipped stories (charter, question with identifying data
masked, distress, attachment, digest); the transports' series move with the fake Telegram Bot
API refusing, then blocking, then accepting. Every series must have moved, and nothing about a
person (id, name, text) may appear in the exposition.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from bot.config import PROJECT_ROOT
from bot.ops import metrics
from bot.ops.health import Readiness
from bot.stories import run_stories
from bot.transports.simulate import Simulator, parse_script
from tests.transports.conftest import TG_MENTEE, World

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]

ALLOWED_LABELS = {
    "channel": {*metrics.CHANNELS, metrics.OTHER},
    "level": {*metrics.SAFETY_LEVELS, metrics.OTHER},
    "kind": {*metrics.IDENTIFYING_KINDS, metrics.OTHER},
    "reason": {*metrics.REFUSAL_REASONS, metrics.OTHER},
    "le": None,  # histogram buckets: numbers
}
# Numeric platform ids could match a number by chance: the closed label lists cover them.
PERSONAL = ["alice", "bob", "emma", "durand", "martin", "console:", "telegram:", "whatsapp:",
            "bonjour", "example.org", "lemoine", "mourir"]


def samples(text: str) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def total(values: Samples, name: str, **labels: str) -> float:
    return sum(v for (n, lab), v in values.items()
               if n == name and all((k, w) in lab for k, w in labels.items()))


def assert_nothing_personal(text: str) -> None:
    for family in text_string_to_metric_families(text):
        assert family.name.startswith("mentorbot_"), family.name
        for sample in family.samples:
            for key, value in sample.labels.items():
                assert key in ALLOWED_LABELS, (sample.name, key)
                allowed = ALLOWED_LABELS[key]
                if allowed is None:
                    float(value)
                else:
                    assert value in allowed, (sample.name, key, value)
    lowered = text.lower()
    for word in PERSONAL:
        assert word not in lowered, word


def test_label_values_come_from_closed_lists() -> None:
    metrics.message_in("console:alice")
    metrics.refused("Alice Durand wrote this")
    metrics.masked(["paul.martin@example.org"])
    metrics.safety_answer("URGENT")
    assert_nothing_personal(metrics.exposition().decode())


def test_a_failing_outbox_probe_does_not_break_the_scrape() -> None:
    def broken() -> metrics.OutboxStats:
        raise OSError("store gone")

    metrics.set_outbox_probe(broken)
    try:
        values = samples(metrics.exposition().decode())
        assert values[("mentorbot_outbox_depth", ())] == -1
    finally:
        metrics.set_outbox_probe(None)


async def test_every_series_moves_after_scripted_conversations(world: World,
                                                               tmp_path: Path) -> None:
    before = samples((await world.client.get("/metrics")).text)

    # The engine: the shipped stories, then a redelivered message and a too-long one.
    lines: list[str] = []
    assert run_stories([PROJECT_ROOT / "stories"], None, lines.append) == 0, "\n".join(lines)
    config = world.config.model_copy(update={"storage": world.config.storage.model_copy(
        update={"path": tmp_path / "sim"})})
    script = [json.dumps({"at": "2026-11-30T09:00:00+01:00", "from": f"telegram:{TG_MENTEE}",
                          "text": text, "id": ident})
              for text, ident in (("Bonjour", "m1"), ("Bonjour", "m1"), ("x" * 5000, "m2"))]
    events = parse_script(script, "script")
    simulator = Simulator(config, events[0].at)
    for event in events:
        simulator.feed(event)

    # The transports: Telegram refuses (500), then the person blocked the bot (403), then
    # everything goes through; the updates are delivered twice.
    assert world.tg is not None
    world.tg.fail("sendMessage", 500, times=-1)
    await world.tg_say(TG_MENTEE, "/start")
    world.advance_to(world.clock.now() + timedelta(minutes=5))
    waiting = samples((await world.client.get("/metrics")).text)
    assert waiting[("mentorbot_outbox_depth", ())] >= 1
    assert waiting[("mentorbot_outbox_oldest_age_seconds", ())] >= 300
    world.tg.heal()
    world.tg.fail("sendMessage", 403, times=1, body={
        "ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"})
    world.runtime.dispatcher.retry_now()
    await world.idle()
    world.tg.replay()
    await world.tg_say(TG_MENTEE, "1")
    await world.runtime.tick()

    response = await world.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = samples(response.text)
    assert_nothing_personal(response.text)

    moved = {
        "mentorbot_messages_in_total": {"channel": "console"},
        "mentorbot_messages_out_total": {"channel": "console"},
        "mentorbot_redeliveries_dropped_total": {"channel": "telegram"},
        "mentorbot_sends_failed_total": {"channel": "telegram"},
        "mentorbot_sends_parked_total": {"channel": "telegram"},
        "mentorbot_digests_sent_total": {},
        "mentorbot_safety_answers_total": {},
        "mentorbot_identifying_masks_total": {},
        "mentorbot_refusals_total": {"reason": "attachment"},
        "mentorbot_turn_seconds_count": {},
    }
    for name, labels in moved.items():
        assert total(after, name, **labels) > total(before, name, **labels), name
    for channel in ("telegram",):
        assert total(after, "mentorbot_messages_in_total", channel=channel) > total(
            before, "mentorbot_messages_in_total", channel=channel)
        assert total(after, "mentorbot_messages_out_total", channel=channel) > total(
            before, "mentorbot_messages_out_total", channel=channel)
    for reason in ("identifying", "too_long"):
        assert total(after, "mentorbot_refusals_total", reason=reason) > total(
            before, "mentorbot_refusals_total", reason=reason), reason
    assert after[("mentorbot_scheduler_lease_holder", ())] == 1
    assert after[("mentorbot_outbox_depth", ())] == 0


async def test_livez_and_readyz(world: World) -> None:
    live = await world.client.get("/livez")
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    ready = await world.client.get("/readyz")
    body = ready.json()
    assert ready.status_code == 200, body
    assert body["status"] == "ready"
    assert body["version"]
    assert "schema" in body
    assert body["checks"]["store"]["ok"] is True
    assert body["checks"]["transports"] == {"ok": True, "detail": "telegram, whatsapp"}
    assert body["checks"]["identifying_model"] == {"ok": True, "detail": "disabled"}


async def test_readyz_without_any_transport_is_not_ready(tmp_path: Path) -> None:
    from tests.transports.conftest import open_world

    async with open_world(tmp_path / "data") as world:
        ready = await world.client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["transports"] == {"ok": False,
                                                        "detail": "no transport enabled"}


def test_readiness_is_cached_for_a_few_seconds() -> None:
    calls: list[int] = []
    now = [0.0]

    def store() -> tuple[bool, str]:
        calls.append(1)
        return len(calls) > 1, f"call {len(calls)}"

    readiness = Readiness({"store": store}, ttl=5.0, now=lambda: now[0])
    assert readiness.report().ready is False
    now[0] = 4.9
    assert readiness.report().ready is False and len(calls) == 1
    now[0] = 5.0
    assert readiness.report().ready is True and len(calls) == 2


def test_a_check_that_raises_is_not_ready() -> None:
    def broken() -> tuple[bool, str]:
        raise OSError("disk gone")

    report = Readiness({"store": broken}).report()
    assert report.ready is False
    assert report.checks["store"] == {"ok": False, "detail": "OSError"}
