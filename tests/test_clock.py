"""The clock (real and virtual) and dates in the reader's language."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

import pytest

from bot.clock import Clock, RealClock, VirtualClock
from bot.i18n.catalogs import Catalogs
from bot.i18n.dates import format_when

PARIS = ZoneInfo("Europe/Paris")
START = datetime(2026, 11, 30, 9, 0, tzinfo=PARIS)


class _NoOffset(tzinfo):
    """A tzinfo that knows no offset: an aware-looking datetime that is in fact naive."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None


def test_both_clocks_are_clocks() -> None:
    clocks: list[Clock] = [RealClock(), VirtualClock(START)]
    for clock in clocks:
        assert clock.now().tzinfo is not None


# -- virtual ----------------------------------------------------------------------------------


def test_virtual_clock_starts_where_told_in_utc() -> None:
    clock = VirtualClock(START)
    assert clock.now() == START
    assert clock.now().utcoffset() == timedelta(0)
    assert clock.now() == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert clock.monotonic() == 0.0


def test_virtual_clock_moves_only_when_told() -> None:
    clock = VirtualClock(START)
    assert clock.now() == clock.now() == START
    clock.advance(timedelta(minutes=90))
    assert clock.now() == START + timedelta(minutes=90)
    assert clock.monotonic() == 5400.0
    clock.set(datetime(2026, 11, 30, 13, 0, tzinfo=PARIS))
    assert clock.monotonic() == 4 * 3600.0
    clock.set(clock.now())  # standing still is fine
    assert clock.monotonic() == 4 * 3600.0


def test_virtual_clock_across_a_dst_change() -> None:
    clock = VirtualClock(datetime(2026, 10, 25, 1, 30, tzinfo=PARIS))
    clock.set(datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=PARIS))  # the repeated hour
    assert clock.monotonic() == 2 * 3600.0  # wall time moved 1 h, real time 2 h


@pytest.mark.parametrize("naive", [datetime(2026, 11, 30, 9, 0),
                                   datetime(2026, 11, 30, 9, 0, tzinfo=_NoOffset())])
def test_virtual_clock_refuses_naive_datetimes(naive: datetime) -> None:
    with pytest.raises(ValueError, match="aware"):
        VirtualClock(naive)
    clock = VirtualClock(START)
    with pytest.raises(ValueError, match="aware"):
        clock.set(naive)
    assert clock.now() == START


def test_virtual_clock_refuses_to_move_backwards() -> None:
    clock = VirtualClock(START)
    with pytest.raises(ValueError, match="only moves forward"):
        clock.set(START - timedelta(microseconds=1))
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(timedelta(seconds=-1))
    # The same instant written in another zone is not "backwards".
    clock.set(START.astimezone(timezone(timedelta(hours=-5))))
    assert clock.now() == START and clock.monotonic() == 0.0


# -- real -------------------------------------------------------------------------------------


def test_real_clock_is_aware_utc_now() -> None:
    clock = RealClock()
    before = datetime.now(UTC)
    now = clock.now()
    after = datetime.now(UTC)
    assert before <= now <= after
    assert now.utcoffset() == timedelta(0)
    first = clock.monotonic()
    assert clock.monotonic() >= first


def test_real_clock_offset() -> None:
    offset = timedelta(days=3, hours=2)
    clock = RealClock(offset)
    before = datetime.now(UTC) + offset
    now = clock.now()
    after = datetime.now(UTC) + offset
    assert before <= now <= after
    clock.advance(timedelta(hours=1))
    assert clock.offset == offset + timedelta(hours=1)
    assert clock.now() >= after + timedelta(hours=1)
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(timedelta(seconds=-1))
    assert clock.offset == offset + timedelta(hours=1)


# -- dates in the reader's language ------------------------------------------------------------


def test_format_when_in_french_by_default() -> None:
    moment = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
    assert format_when(moment, "EEEE d MMMM 'à' HH:mm", "Europe/Paris") == \
        "lundi 30 novembre à 08:00"
    assert format_when(moment, "d MMM yyyy HH:mm", "America/Montreal") == "30 nov. 2026 02:00"


def test_format_when_uses_the_person_locale_and_translated_pattern() -> None:
    from pathlib import Path

    catalogs = Catalogs(Path(__file__).resolve().parent.parent / "locales")
    if "en" not in catalogs.locales:
        pytest.skip("no English catalog")
    moment = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
    with catalogs.use("en"):
        text = format_when(moment, "EEEE d MMMM 'à' HH:mm", "Europe/Paris")
    assert "Monday" in text and "November" in text and "08:00" in text and "à" not in text
    with catalogs.use("fr"):
        assert format_when(moment, "EEEE d MMMM 'à' HH:mm", "Europe/Paris") == \
            "lundi 30 novembre à 08:00"
