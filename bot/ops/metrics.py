"""The service's Prometheus metrics, and the one-line calls that move them.

Names are prefixed `mentorbot_`. No label or value ever carries a person id, a name or a
text: every label value is taken from a closed list (channels, safety levels, identifying
kinds, refusal reasons) and anything else is counted as `other`. Each `mentorbot run` process
has its own registry and serves it on its own `/metrics` (several workers are several scrape
targets; Prometheus adds `instance`).

This module imports nothing of the project: the engine and the transports call the small
functions below, one line each, where the events happen. The outbox's depth and oldest age
are read from the store at scrape time through `set_outbox_probe`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

CHANNELS = ("telegram", "whatsapp", "console", "simulate", "web")
SAFETY_LEVELS = ("check_in", "distress", "urgent", "out_of_scope")
IDENTIFYING_KINDS = ("email", "phone", "iban", "company_id", "nir", "url", "address", "person",
                     "organisation", "denied")
REFUSAL_REASONS = ("attachment", "identifying", "too_long", "unknown_sender", "withdrawn")
OTHER = "other"

disable_created_metrics()  # type: ignore[no-untyped-call] # the `_created` twin of every series is noise for this service
REGISTRY = CollectorRegistry(auto_describe=True)
CONTENT_TYPE = CONTENT_TYPE_LATEST


def _label(value: str, allowed: tuple[str, ...]) -> str:
    """A label value from a closed list, never free text."""
    value = value.strip().lower()
    return value if value in allowed else OTHER


_messages_in = Counter("mentorbot_messages_in", "Messages received from people, by channel",
                       ["channel"], registry=REGISTRY)
_messages_out = Counter("mentorbot_messages_out", "Messages the platforms accepted, by channel",
                        ["channel"], registry=REGISTRY)
_redeliveries = Counter("mentorbot_redeliveries_dropped",
                        "Messages received again (same platform id) and not handled twice",
                        ["channel"], registry=REGISTRY)
_sends_failed = Counter("mentorbot_sends_failed", "Delivery attempts that failed (retried later)",
                        ["channel"], registry=REGISTRY)
_sends_parked = Counter("mentorbot_sends_parked",
                        "Messages the platform refused for good (not retried)",
                        ["channel"], registry=REGISTRY)
_digests = Counter("mentorbot_digests_sent", "Digests sent to mentors", registry=REGISTRY)
_safety = Counter("mentorbot_safety_answers", "Safety answers given, by level", ["level"],
                  registry=REGISTRY)
_masks = Counter("mentorbot_identifying_masks", "Identifying data masked, by kind", ["kind"],
                 registry=REGISTRY)
_refusals = Counter("mentorbot_refusals", "Messages refused, by reason", ["reason"],
                    registry=REGISTRY)
_turn_seconds = Histogram("mentorbot_turn_seconds", "Time to handle one message (one turn)",
                          buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
                          registry=REGISTRY)
_lease = Gauge("mentorbot_scheduler_lease_holder",
               "1 when this process holds the scheduler lease (runs digests and jobs)",
               registry=REGISTRY)

_turn_start: ContextVar[float | None] = ContextVar("mentorbot_turn_start", default=None)

for _channel in CHANNELS:  # every series exists from the start, at zero
    for _counter in (_messages_in, _messages_out, _redeliveries, _sends_failed, _sends_parked):
        _counter.labels(channel=_channel)
for _level in SAFETY_LEVELS:
    _safety.labels(level=_level)
for _kind in IDENTIFYING_KINDS:
    _masks.labels(kind=_kind)
for _reason in REFUSAL_REASONS:
    _refusals.labels(reason=_reason)


# -- the one-line calls ---------------------------------------------------------------------


def message_in(channel: str) -> None:
    _messages_in.labels(channel=_label(channel, CHANNELS)).inc()


def message_out(channel: str) -> None:
    _messages_out.labels(channel=_label(channel, CHANNELS)).inc()


def redelivery_dropped(channel: str) -> None:
    _redeliveries.labels(channel=_label(channel, CHANNELS)).inc()


def send_failed(channel: str) -> None:
    _sends_failed.labels(channel=_label(channel, CHANNELS)).inc()


def send_parked(channel: str) -> None:
    _sends_parked.labels(channel=_label(channel, CHANNELS)).inc()


def digest_sent() -> None:
    _digests.inc()


def safety_answer(level: str) -> None:
    _safety.labels(level=_label(level, SAFETY_LEVELS)).inc()


def masked(kinds: Iterable[str]) -> None:
    for kind in kinds:
        _masks.labels(kind=_label(kind, IDENTIFYING_KINDS)).inc()


def refused(reason: str) -> None:
    _refusals.labels(reason=_label(reason, REFUSAL_REASONS)).inc()


def turn_started() -> None:
    """Mark the start of a turn (per thread of work: a context variable)."""
    _turn_start.set(time.monotonic())


def turn_done() -> float:
    """Observe the turn's duration since `turn_started`; returns milliseconds, for the log."""
    started = _turn_start.get()
    if started is None:
        return 0.0
    _turn_start.set(None)
    seconds = max(time.monotonic() - started, 0.0)
    _turn_seconds.observe(seconds)
    return round(seconds * 1000, 1)


def lease_held(held: bool) -> None:
    _lease.set(1 if held else 0)


# -- read at scrape time --------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxStats:
    """What the outbox holds now: messages not yet accepted, and the oldest one's age."""

    depth: int
    oldest_age_seconds: float


OutboxProbe = Callable[[], OutboxStats]
_outbox_probe: OutboxProbe | None = None


def set_outbox_probe(probe: OutboxProbe | None) -> None:
    """Wire the store: `probe()` is called at each scrape (keep it one cheap query)."""
    global _outbox_probe
    _outbox_probe = probe


class _OutboxCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        stats = OutboxStats(0, 0.0)
        if _outbox_probe is not None:
            try:
                stats = _outbox_probe()
            except Exception:  # a store that cannot answer must not break the scrape
                stats = OutboxStats(-1, -1.0)
        yield GaugeMetricFamily("mentorbot_outbox_depth",
                                "Messages in the outbox, not yet accepted by a platform "
                                "(-1: the store did not answer)", value=stats.depth)
        yield GaugeMetricFamily("mentorbot_outbox_oldest_age_seconds",
                                "Age of the oldest message in the outbox (0 when empty)",
                                value=stats.oldest_age_seconds)

    def describe(self) -> Iterator[Metric]:
        return iter(())


REGISTRY.register(_OutboxCollector())


def exposition() -> bytes:
    """The registry in the Prometheus text format."""
    return generate_latest(REGISTRY)
