"""Charter article 3: the opening-hours calendar, on explicit instants only.

Instants are compared in UTC: aware datetimes sharing a ZoneInfo compare by wall time and
ignore `fold`, which would hide daylight-saving mistakes.
"""

from __future__ import annotations

import dataclasses
import functools
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.policies import hours
from bot.policies.hours import (
    SEARCH_HORIZON_DAYS,
    WEEKDAYS,
    Absence,
    Calendar,
    CalendarError,
    parse_hhmm,
)

PARIS = ZoneInfo("Europe/Paris")
MONTREAL = ZoneInfo("America/Montreal")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK_FIXED = timezone(timedelta(hours=-5))
TOKYO_FIXED = timezone(timedelta(hours=9))
WORKWEEK = ("mon", "tue", "wed", "thu", "fri")
MINUTE = timedelta(minutes=1)
MICRO = timedelta(microseconds=1)


def charter(
    *,
    timezone: str = "Europe/Paris",
    holidays_country: str | None = "FR",
    days: tuple[str, ...] = WORKWEEK,
    open: time = time(8),
    close: time = time(18),
) -> Calendar:
    """The charter's default calendar, with overridable knobs."""
    return Calendar(
        days=days, open=open, close=close, timezone=timezone, holidays_country=holidays_country
    )


def paris(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, us, tzinfo=PARIS)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, us, tzinfo=UTC)


def assert_instant(result: datetime, expected: datetime, zone: tzinfo = PARIS) -> None:
    """Same instant, same offset, expressed in the calendar's zone."""
    assert result.tzinfo is zone
    assert result.astimezone(UTC) == expected.astimezone(UTC)
    assert result.utcoffset() == expected.astimezone(zone).utcoffset()


def as_utc(instants: list[datetime]) -> list[datetime]:
    return [instant.astimezone(UTC) for instant in instants]


# --------------------------------------------------------------------------------------------
# parse_hhmm


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("08:00", time(8, 0)),
        ("00:00", time(0, 0)),
        ("18:00", time(18, 0)),
        ("23:59", time(23, 59)),
        ("07:05", time(7, 5)),
    ],
)
def test_parse_hhmm_accepts_strict_hh_mm(value: str, expected: time) -> None:
    assert parse_hhmm(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("8:00", "HH:MM"),
        ("24:00", "hour"),
        ("99:00", "hour"),
        ("08:60", "minute"),
        ("08:99", "minute"),
        ("abc", "HH:MM"),
        ("", "HH:MM"),
        ("08:00:00", "HH:MM"),
        ("08h00", "HH:MM"),
        (" 08:00", "HH:MM"),
        ("08:00\n", "HH:MM"),
        ("-1:00", "HH:MM"),
        ("08:0", "HH:MM"),
        ("\u0660\u0668:\u0660\u0660", "HH:MM"),  # Arabic-Indic digits are not ASCII digits
    ],
)
def test_parse_hhmm_rejects_with_a_clear_message(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        parse_hhmm(value)
    assert repr(value) in str(info.value)


def test_parse_hhmm_rejects_non_strings_such_as_yaml_sexagesimal() -> None:
    with pytest.raises(ValueError, match="int 1080"):
        parse_hhmm(1080)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# Absence


def test_weekdays_constant() -> None:
    assert WEEKDAYS == ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def test_absence_covers_both_bounds_inclusively() -> None:
    absence = Absence(date(2026, 12, 21), date(2027, 1, 8))
    assert not absence.covers(date(2026, 12, 20))
    assert absence.covers(date(2026, 12, 21))
    assert absence.covers(date(2026, 12, 31))
    assert absence.covers(date(2027, 1, 1))
    assert absence.covers(date(2027, 1, 8))
    assert not absence.covers(date(2027, 1, 9))


def test_single_day_absence() -> None:
    absence = Absence(date(2026, 11, 12), date(2026, 11, 12))
    assert absence.covers(date(2026, 11, 12))
    assert not absence.covers(date(2026, 11, 11))
    assert not absence.covers(date(2026, 11, 13))


def test_absence_is_frozen_and_hashable() -> None:
    absence = Absence(date(2026, 1, 5), date(2026, 1, 9))
    with pytest.raises(dataclasses.FrozenInstanceError):
        absence.start = date(2026, 1, 1)  # type: ignore[misc]
    assert {absence, Absence(date(2026, 1, 5), date(2026, 1, 9))} == {absence}


def test_absence_ending_before_it_starts_is_a_configuration_error() -> None:
    with pytest.raises(CalendarError, match="before it starts"):
        Absence(date(2026, 1, 9), date(2026, 1, 5))


def test_absence_bounds_must_be_dates() -> None:
    with pytest.raises(CalendarError, match="dates"):
        Absence(datetime(2026, 1, 5, 9), date(2026, 1, 9))
    with pytest.raises(CalendarError, match="dates"):
        Absence(date(2026, 1, 5), datetime(2026, 1, 9, tzinfo=UTC))


# --------------------------------------------------------------------------------------------
# Configuration


def test_calendar_error_is_a_value_error() -> None:
    assert issubclass(CalendarError, ValueError)


def test_weekday_names_are_case_insensitive_and_normalised() -> None:
    calendar = charter(days=("FRI", "Mon", "wed", "mon"))
    assert calendar.days == ("mon", "wed", "fri")
    assert calendar.is_open_day(date(2026, 11, 16))  # Monday
    assert not calendar.is_open_day(date(2026, 11, 17))  # Tuesday


@pytest.mark.parametrize("name", ["lundi", "monday", "mo", "", "sunday "])
def test_unknown_weekday_is_named(name: str) -> None:
    with pytest.raises(CalendarError, match="unknown weekday") as info:
        charter(days=("mon", name))
    assert repr(name) in str(info.value)


def test_days_as_a_bare_string_is_rejected() -> None:
    with pytest.raises(CalendarError, match="list of weekday names"):
        Calendar(days="mon", open=time(8), close=time(18), timezone="Europe/Paris")


def test_no_opening_day_is_rejected() -> None:
    with pytest.raises(CalendarError, match="no opening day"):
        charter(days=())


@pytest.mark.parametrize(
    ("opens", "closes"), [(time(8), time(8)), (time(18), time(8)), (time(12, 1), time(12))]
)
def test_open_must_be_before_close(opens: time, closes: time) -> None:
    with pytest.raises(CalendarError, match="before closing"):
        charter(open=opens, close=closes)


def test_open_and_close_must_be_naive_times() -> None:
    with pytest.raises(CalendarError, match="open"):
        charter(open=time(8, tzinfo=UTC))
    with pytest.raises(CalendarError, match="close"):
        charter(close=time(18, tzinfo=UTC))


@pytest.mark.parametrize("name", ["Europe/Pariss", "Mars/Olympus", "", "../etc", "Europe"])
def test_unknown_time_zone_is_named(name: str) -> None:
    with pytest.raises(CalendarError, match="unknown time zone") as info:
        charter(timezone=name)
    assert repr(name) in str(info.value)


@pytest.mark.parametrize("code", ["XX", "QQ", "", "Fr "])
def test_unknown_holiday_country_is_named(code: str) -> None:
    with pytest.raises(CalendarError, match="unknown holiday country") as info:
        charter(holidays_country=code)
    assert repr(code) in str(info.value)


def test_configuration_is_exposed_normalised() -> None:
    calendar = charter(holidays_country="fr")
    assert calendar.tz == PARIS
    assert isinstance(calendar.tz, ZoneInfo)
    assert calendar.open == time(8)
    assert calendar.close == time(18)
    assert calendar.holidays_country == "FR"
    assert calendar.days == WORKWEEK
    assert "Europe/Paris" in repr(calendar)
    assert charter(holidays_country=None).holidays_country is None


# --------------------------------------------------------------------------------------------
# Holidays and open days


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 1, 1),
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 1),
        date(2026, 5, 8),
        date(2026, 5, 14),  # Ascension
        date(2026, 5, 25),  # Whit Monday
        date(2026, 7, 14),
        date(2026, 8, 15),
        date(2026, 11, 1),
        date(2026, 11, 11),
        date(2026, 12, 25),
        date(2027, 1, 1),
        date(2027, 3, 29),  # Easter Monday, the day after the 2027 spring-forward
        date(2027, 5, 6),  # Ascension
        date(2027, 5, 17),  # Whit Monday
    ],
)
def test_french_public_holidays(day: date) -> None:
    calendar = charter()
    assert calendar.is_holiday(day)
    assert not calendar.is_open_day(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 4, 3),  # Good Friday: Alsace-Moselle only
        date(2026, 12, 24),
        date(2026, 12, 26),  # Alsace-Moselle only
        date(2026, 12, 31),
        date(2027, 1, 4),
        date(2027, 3, 30),
    ],
)
def test_ordinary_days_are_not_french_holidays(day: date) -> None:
    assert not charter().is_holiday(day)


def test_german_holidays_differ() -> None:
    calendar = charter(timezone="Europe/Berlin", holidays_country="DE")
    assert calendar.is_holiday(date(2026, 4, 3))  # Good Friday
    assert calendar.is_holiday(date(2026, 10, 3))  # German Unity Day
    assert calendar.is_holiday(date(2026, 12, 26))
    assert not calendar.is_holiday(date(2026, 11, 11))
    assert not calendar.is_holiday(date(2026, 7, 14))
    assert calendar.is_open_day(date(2026, 11, 11))


def test_holidays_disabled() -> None:
    calendar = charter(holidays_country=None)
    assert not calendar.is_holiday(date(2026, 12, 25))
    assert calendar.is_open_day(date(2026, 12, 25))  # a Friday
    assert calendar.is_open_day(date(2026, 11, 11))  # a Wednesday
    assert not calendar.is_open_day(date(2026, 11, 14))  # still a Saturday


def test_holidays_are_computed_once_per_year(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, int | None]] = []
    real = holidays.country_holidays

    def spy(code: str, years: int | None = None) -> object:
        calls.append((code, years))
        return real(code, years=years)

    calendar = charter()
    monkeypatch.setattr(holidays, "country_holidays", spy)
    for offset in range(365):
        calendar.is_holiday(date(2026, 1, 1) + timedelta(days=offset))
    calendar.is_holiday(date(2027, 1, 1))
    calendar.is_holiday(date(2027, 12, 25))
    assert calls == [("FR", 2026), ("FR", 2027)]


def test_weekends_are_closed_unless_configured() -> None:
    assert not charter().is_open_day(date(2026, 11, 14))
    assert not charter().is_open_day(date(2026, 11, 15))
    weekend = charter(days=("sat", "sun"))
    assert weekend.is_open_day(date(2026, 11, 14))
    assert weekend.is_open_day(date(2026, 11, 15))
    assert not weekend.is_open_day(date(2026, 11, 16))
    assert not weekend.is_open_day(date(2026, 11, 1))  # Sunday and All Saints' Day


def test_absences_close_days() -> None:
    calendar = charter()
    away = [
        Absence(date(2026, 11, 16), date(2026, 11, 17)),
        Absence(date(2026, 11, 19), date(2026, 11, 19)),
    ]
    assert not calendar.is_open_day(date(2026, 11, 16), away)
    assert not calendar.is_open_day(date(2026, 11, 17), away)
    assert calendar.is_open_day(date(2026, 11, 18), away)
    assert not calendar.is_open_day(date(2026, 11, 19), away)
    assert calendar.is_open_day(date(2026, 11, 20), away)


# --------------------------------------------------------------------------------------------
# is_open


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # Friday 2026-11-13: close is exclusive.
        (paris(2026, 11, 13, 17, 59), True),
        (paris(2026, 11, 13, 17, 59, 59, 999_999), True),
        (paris(2026, 11, 13, 18, 0), False),
        (paris(2026, 11, 13, 18, 0, 0, 1), False),
        # Monday 2026-11-16: open is inclusive.
        (paris(2026, 11, 16, 7, 59), False),
        (paris(2026, 11, 16, 7, 59, 59, 999_999), False),
        (paris(2026, 11, 16, 8, 0), True),
        (paris(2026, 11, 16, 12, 0), True),
        # Weekend, holidays, night.
        (paris(2026, 11, 14, 12, 0), False),
        (paris(2026, 11, 15, 12, 0), False),
        (paris(2026, 11, 11, 12, 0), False),
        (paris(2026, 12, 25, 12, 0), False),
        (paris(2027, 1, 1, 12, 0), False),
        (paris(2027, 3, 29, 12, 0), False),
        (paris(2026, 11, 16, 0, 0), False),
        (paris(2026, 11, 16, 23, 59), False),
        # Winter (CET, +01:00) inputs in UTC.
        (utc(2026, 11, 16, 7, 0), True),
        (utc(2026, 11, 16, 6, 59), False),
        (utc(2026, 11, 16, 16, 59), True),
        (utc(2026, 11, 16, 17, 0), False),
        # Summer (CEST, +02:00) inputs in UTC.
        (utc(2026, 7, 15, 6, 0), True),
        (utc(2026, 7, 15, 5, 59), False),
        (utc(2026, 7, 15, 15, 59), True),
        (utc(2026, 7, 15, 16, 0), False),
        # Around the 2026-03-29 spring-forward: Friday in CET, Monday in CEST.
        (utc(2026, 3, 27, 7, 0), True),
        (utc(2026, 3, 27, 6, 30), False),
        (utc(2026, 3, 30, 6, 0), True),
        (utc(2026, 3, 30, 5, 59), False),
        (utc(2026, 3, 30, 16, 0), False),
        # Around the 2026-10-25 fall-back: Friday in CEST, Monday in CET.
        (utc(2026, 10, 23, 6, 0), True),
        (utc(2026, 10, 23, 16, 0), False),
        (utc(2026, 10, 26, 6, 59), False),
        (utc(2026, 10, 26, 7, 0), True),
        (utc(2026, 10, 26, 16, 59), True),
        # Other offsets: 2026-11-16 08:00 Paris is 02:00 in New York (fixed -05:00).
        (datetime(2026, 11, 16, 2, 0, tzinfo=NEW_YORK_FIXED), True),
        (datetime(2026, 11, 16, 1, 59, tzinfo=NEW_YORK_FIXED), False),
        (datetime(2026, 11, 17, 2, 0, tzinfo=TOKYO_FIXED), False),  # Monday 18:00 Paris
        (datetime(2026, 11, 17, 1, 59, tzinfo=TOKYO_FIXED), True),  # Monday 17:59 Paris
        (datetime(2026, 11, 16, 16, 0, tzinfo=TOKYO_FIXED), True),  # Monday 08:00 Paris
    ],
)
def test_is_open(at: datetime, expected: bool) -> None:
    assert charter().is_open(at) is expected


def test_is_open_with_absences() -> None:
    calendar = charter()
    away = [Absence(date(2026, 11, 16), date(2026, 11, 16))]
    assert not calendar.is_open(paris(2026, 11, 16, 10), away)
    assert calendar.is_open(paris(2026, 11, 17, 10), away)


def test_is_open_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="aware"):
        charter().is_open(datetime(2026, 11, 16, 10))


def test_is_open_in_another_zone() -> None:
    calendar = charter(timezone="America/Montreal", holidays_country="CA")
    # 09:00 in Paris is 03:00 in Montreal: open for Paris, closed for Montreal.
    assert charter().is_open(paris(2026, 11, 16, 9))
    assert not calendar.is_open(paris(2026, 11, 16, 9))
    # 15:00 in Paris is 09:00 in Montreal.
    assert calendar.is_open(paris(2026, 11, 16, 15))
    assert calendar.is_open(datetime(2026, 11, 16, 8, 0, tzinfo=MONTREAL))
    assert not calendar.is_open(datetime(2026, 7, 1, 12, 0, tzinfo=MONTREAL))  # Canada Day


# --------------------------------------------------------------------------------------------
# next_opening


def test_open_instant_is_its_own_next_opening_converted_to_the_calendar_zone() -> None:
    at = utc(2026, 11, 16, 9, 30, 12, 345)
    result = charter().next_opening(at)
    assert_instant(result, at)
    assert (result.hour, result.minute, result.second, result.microsecond) == (10, 30, 12, 345)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # Friday 17:59 is open, Friday 18:00 waits for Monday.
        (paris(2026, 11, 13, 17, 59), paris(2026, 11, 13, 17, 59)),
        (paris(2026, 11, 13, 18, 0), paris(2026, 11, 16, 8, 0)),
        # Monday 07:59 waits one minute; 08:00 is open.
        (paris(2026, 11, 16, 7, 59), paris(2026, 11, 16, 8, 0)),
        (paris(2026, 11, 16, 7, 59, 59, 500_000), paris(2026, 11, 16, 8, 0)),
        (paris(2026, 11, 16, 8, 0), paris(2026, 11, 16, 8, 0)),
        # Weekend.
        (paris(2026, 11, 14, 12, 0), paris(2026, 11, 16, 8, 0)),
        (paris(2026, 11, 15, 23, 59), paris(2026, 11, 16, 8, 0)),
        # Before midnight, the next morning.
        (paris(2026, 11, 17, 23, 0), paris(2026, 11, 18, 8, 0)),
        (paris(2026, 11, 17, 0, 0), paris(2026, 11, 17, 8, 0)),
        # Armistice (Wednesday 2026-11-11): Tuesday evening waits for Thursday.
        (paris(2026, 11, 10, 20, 0), paris(2026, 11, 12, 8, 0)),
        (paris(2026, 11, 11, 10, 0), paris(2026, 11, 12, 8, 0)),
        # Christmas on a Friday, then the weekend.
        (paris(2026, 12, 24, 18, 0), paris(2026, 12, 28, 8, 0)),
        # The end of the year: New Year's Day on a Friday, then the weekend.
        (paris(2026, 12, 31, 17, 59), paris(2026, 12, 31, 17, 59)),
        (paris(2026, 12, 31, 18, 0), paris(2027, 1, 4, 8, 0)),
        (paris(2026, 12, 31, 23, 59, 59), paris(2027, 1, 4, 8, 0)),
        # Ascension Thursday and Whit Monday.
        (paris(2026, 5, 13, 18, 0), paris(2026, 5, 15, 8, 0)),
        (paris(2026, 5, 22, 18, 0), paris(2026, 5, 26, 8, 0)),
        (paris(2027, 5, 5, 18, 0), paris(2027, 5, 7, 8, 0)),
        (paris(2027, 5, 14, 18, 0), paris(2027, 5, 18, 8, 0)),
        # 2026 spring-forward weekend: Friday CET, Monday CEST.
        (paris(2026, 3, 27, 18, 0), paris(2026, 3, 30, 8, 0)),
        (utc(2026, 3, 29, 1, 0), paris(2026, 3, 30, 8, 0)),  # the transition instant
        # 2026 fall-back weekend: Friday CEST, Monday CET.
        (paris(2026, 10, 23, 18, 0), paris(2026, 10, 26, 8, 0)),
        (utc(2026, 10, 25, 0, 30), paris(2026, 10, 26, 8, 0)),  # 02:30 CEST, first pass
        (utc(2026, 10, 25, 1, 30), paris(2026, 10, 26, 8, 0)),  # 02:30 CET, second pass
        # 2027: spring-forward on Sunday 28 March, then Easter Monday.
        (paris(2027, 3, 26, 18, 0), paris(2027, 3, 30, 8, 0)),
    ],
)
def test_next_opening(at: datetime, expected: datetime) -> None:
    result = charter().next_opening(at)
    assert_instant(result, expected)


@pytest.mark.parametrize(
    ("at", "expected_utc"),
    [
        (paris(2026, 3, 27, 18, 0), utc(2026, 3, 30, 6, 0)),
        (paris(2026, 10, 23, 18, 0), utc(2026, 10, 26, 7, 0)),
        (paris(2027, 3, 26, 18, 0), utc(2027, 3, 30, 6, 0)),
        (paris(2026, 12, 31, 18, 0), utc(2027, 1, 4, 7, 0)),
    ],
)
def test_next_opening_offsets_across_dst(at: datetime, expected_utc: datetime) -> None:
    result = charter().next_opening(at)
    assert result.astimezone(UTC) == expected_utc
    assert result.hour == 8


@pytest.mark.parametrize(
    "zone",
    [UTC, PARIS, MONTREAL, NEW_YORK_FIXED, TOKYO_FIXED, timezone(timedelta(hours=5, minutes=45))],
)
@pytest.mark.parametrize(
    "instant",
    [
        utc(2026, 11, 13, 17, 0),  # Friday 18:00 Paris
        utc(2026, 11, 16, 6, 59),  # Monday 07:59 Paris
        utc(2026, 11, 16, 9, 0),  # open
        utc(2026, 12, 31, 22, 30),  # already 2027 in Paris
        utc(2026, 3, 29, 0, 59, 59),
        utc(2026, 10, 25, 0, 59, 59),
    ],
)
def test_next_opening_does_not_depend_on_the_input_offset(instant: datetime, zone: tzinfo) -> None:
    calendar = charter()
    reference = calendar.next_opening(instant)
    result = calendar.next_opening(instant.astimezone(zone))
    assert_instant(result, reference)
    assert calendar.is_open(instant.astimezone(zone)) is calendar.is_open(instant)


def test_next_opening_with_absence_spanning_a_weekend() -> None:
    away = [Absence(date(2026, 11, 12), date(2026, 11, 17))]  # Thursday to Tuesday
    calendar = charter()
    assert_instant(calendar.next_opening(paris(2026, 11, 12, 9), away), paris(2026, 11, 18, 8))
    assert_instant(calendar.next_opening(paris(2026, 11, 10, 18), away), paris(2026, 11, 18, 8))
    # Outside the absence nothing changes.
    assert_instant(calendar.next_opening(paris(2026, 11, 10, 12), away), paris(2026, 11, 10, 12))


def test_next_opening_with_absence_spanning_the_year_end() -> None:
    away = [Absence(date(2026, 12, 21), date(2027, 1, 8))]
    calendar = charter()
    assert_instant(calendar.next_opening(paris(2026, 12, 18, 18), away), paris(2027, 1, 11, 8))
    assert_instant(calendar.next_opening(paris(2026, 12, 31, 12), away), paris(2027, 1, 11, 8))


def test_next_opening_with_chained_and_overlapping_absences() -> None:
    away = [
        Absence(date(2026, 11, 23), date(2026, 11, 25)),
        Absence(date(2026, 11, 26), date(2026, 11, 27)),
        Absence(date(2026, 11, 24), date(2026, 11, 30)),
    ]
    assert_instant(charter().next_opening(paris(2026, 11, 20, 18), away), paris(2026, 12, 1, 8))


def test_next_opening_after_a_long_but_finite_absence() -> None:
    away = [Absence(date(2026, 1, 1), date(2028, 6, 30))]  # ends on a Friday
    assert_instant(charter().next_opening(paris(2026, 1, 1), away), paris(2028, 7, 3, 8))


def test_next_opening_gives_up_beyond_the_horizon() -> None:
    away = [Absence(date(2026, 1, 1), date(2026, 1, 1) + timedelta(days=SEARCH_HORIZON_DAYS + 5))]
    with pytest.raises(CalendarError, match="no opening"):
        charter().next_opening(paris(2026, 1, 1), away)


def test_next_opening_gives_up_on_absences_covering_decades() -> None:
    away = [Absence(date(2026, 1, 1), date(2099, 12, 31))]
    with pytest.raises(CalendarError):
        charter().next_opening(utc(2030, 6, 1), away)


def test_next_opening_with_holidays_disabled() -> None:
    calendar = charter(holidays_country=None)
    assert_instant(calendar.next_opening(paris(2026, 11, 10, 20)), paris(2026, 11, 11, 8))
    assert_instant(calendar.next_opening(paris(2026, 12, 24, 18)), paris(2026, 12, 25, 8))
    assert_instant(calendar.next_opening(paris(2026, 12, 31, 18)), paris(2027, 1, 1, 8))


def test_next_opening_with_german_holidays() -> None:
    calendar = charter(timezone="Europe/Berlin", holidays_country="DE")
    berlin = datetime(2026, 4, 2, 18, 0, tzinfo=BERLIN)  # Thursday before Good Friday
    assert_instant(calendar.next_opening(berlin), datetime(2026, 4, 7, 8, tzinfo=BERLIN), BERLIN)
    # France works on Good Friday.
    assert_instant(charter().next_opening(berlin), paris(2026, 4, 3, 8))
    # Germany works on 11 November.
    evening = datetime(2026, 11, 10, 20, tzinfo=BERLIN)
    assert_instant(calendar.next_opening(evening), datetime(2026, 11, 11, 8, tzinfo=BERLIN), BERLIN)


def test_next_opening_in_montreal_across_its_own_dst() -> None:
    calendar = charter(timezone="America/Montreal", holidays_country="CA")
    # Montreal springs forward on 2026-03-08; Paris only on 2026-03-29.
    friday_evening = paris(2026, 3, 7, 0, 0)  # Friday 18:00 EST
    result = calendar.next_opening(friday_evening)
    assert_instant(result, datetime(2026, 3, 9, 8, tzinfo=MONTREAL), MONTREAL)
    assert result.astimezone(UTC) == utc(2026, 3, 9, 12, 0)  # EDT, -04:00
    # Montreal falls back on 2026-11-01.
    result = calendar.next_opening(datetime(2026, 10, 30, 18, tzinfo=MONTREAL))
    assert result.astimezone(UTC) == utc(2026, 11, 2, 13, 0)  # EST, -05:00
    # Canada Day, a Wednesday in 2026.
    result = calendar.next_opening(datetime(2026, 6, 30, 18, tzinfo=MONTREAL))
    assert_instant(result, datetime(2026, 7, 2, 8, tzinfo=MONTREAL), MONTREAL)


def test_next_opening_when_opening_time_falls_in_the_spring_forward_gap() -> None:
    calendar = charter(days=WEEKDAYS, open=time(2, 30), close=time(5), holidays_country=None)
    result = calendar.next_opening(paris(2026, 3, 29, 1, 0))
    # 02:30 does not exist on 2026-03-29: hours open at 03:00 CEST, the end of the gap.
    assert result.astimezone(UTC) == utc(2026, 3, 29, 1, 0)
    assert (result.hour, result.minute, result.utcoffset()) == (3, 0, timedelta(hours=2))
    assert calendar.is_open(result)
    # Subtract in UTC: arithmetic on a zoned datetime is wall-clock arithmetic.
    assert not calendar.is_open(result.astimezone(UTC) - MICRO)


def test_next_opening_when_hours_sit_in_the_repeated_fall_back_hour() -> None:
    calendar = charter(days=WEEKDAYS, open=time(2), close=time(2, 30), holidays_country=None)
    first = calendar.next_opening(utc(2026, 10, 24, 23, 0))  # 01:00 CEST
    assert first.astimezone(UTC) == utc(2026, 10, 25, 0, 0)  # 02:00 CEST
    # Closed at 02:30 CEST, the wall clock goes back and reaches 02:00 CET again.
    second = calendar.next_opening(utc(2026, 10, 25, 0, 30))
    assert second.astimezone(UTC) == utc(2026, 10, 25, 1, 0)  # 02:00 CET
    assert second.fold == 1
    assert calendar.closes_at(first).astimezone(UTC) == utc(2026, 10, 25, 0, 30)
    assert calendar.closes_at(second).astimezone(UTC) == utc(2026, 10, 25, 1, 30)
    third = calendar.next_opening(utc(2026, 10, 25, 1, 30))
    assert third.astimezone(UTC) == utc(2026, 10, 26, 1, 0)  # 02:00 CET on Monday


def test_next_opening_over_a_skipped_calendar_day() -> None:
    # Samoa jumped from 2011-12-29 to 2011-12-31: the 30th never existed.
    calendar = charter(timezone="Pacific/Apia", days=WEEKDAYS, holidays_country=None)
    apia = ZoneInfo("Pacific/Apia")
    result = calendar.next_opening(datetime(2011, 12, 29, 20, tzinfo=apia))
    assert_instant(result, datetime(2011, 12, 31, 8, tzinfo=apia), apia)


# --------------------------------------------------------------------------------------------
# closes_at


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (paris(2026, 11, 16, 10), paris(2026, 11, 16, 18)),
        (paris(2026, 11, 16, 8), paris(2026, 11, 16, 18)),
        (paris(2026, 11, 13, 17, 59, 59, 999_999), paris(2026, 11, 13, 18)),
        (utc(2026, 7, 15, 12), utc(2026, 7, 15, 16)),
        (utc(2026, 11, 16, 12), utc(2026, 11, 16, 17)),
        (datetime(2026, 11, 16, 3, 0, tzinfo=NEW_YORK_FIXED), paris(2026, 11, 16, 18)),
        (paris(2026, 3, 27, 9), utc(2026, 3, 27, 17)),
        (paris(2026, 3, 30, 9), utc(2026, 3, 30, 16)),
    ],
)
def test_closes_at(at: datetime, expected: datetime) -> None:
    assert_instant(charter().closes_at(at), expected)


@pytest.mark.parametrize(
    "at",
    [
        paris(2026, 11, 13, 18),
        paris(2026, 11, 14, 12),
        paris(2026, 11, 11, 12),
        paris(2026, 11, 16, 7, 59),
    ],
)
def test_closes_at_needs_an_open_instant(at: datetime) -> None:
    with pytest.raises(ValueError, match="open instant"):
        charter().closes_at(at)


def test_closes_at_across_a_gap_inside_the_hours() -> None:
    calendar = charter(days=WEEKDAYS, open=time(1), close=time(5), holidays_country=None)
    at = paris(2026, 3, 29, 1, 30)  # CET
    end = calendar.closes_at(at)
    assert end.astimezone(UTC) == utc(2026, 3, 29, 3, 0)  # 05:00 CEST
    assert end.astimezone(UTC) - at.astimezone(UTC) == timedelta(hours=2, minutes=30)


# --------------------------------------------------------------------------------------------
# digest_instants


def test_digest_instants_over_a_week_with_a_holiday() -> None:
    result = charter().digest_instants(
        paris(2026, 11, 9), paris(2026, 11, 15, 23, 59), [time(14), time(9)]
    )
    expected = [paris(2026, 11, day, hour) for day in (9, 10, 12, 13) for hour in (9, 14)]
    assert as_utc(result) == as_utc(expected)
    assert all(instant.tzinfo is PARIS for instant in result)


def test_digest_instants_bounds_are_after_exclusive_until_inclusive() -> None:
    calendar = charter()
    result = calendar.digest_instants(paris(2026, 11, 16, 9), paris(2026, 11, 17, 9), [time(9)])
    assert as_utc(result) == [paris(2026, 11, 17, 9).astimezone(UTC)]


def test_digest_instants_drop_times_outside_opening_hours() -> None:
    times = [time(7, 59), time(8), time(17, 59), time(18), time(20), time(0)]
    result = charter().digest_instants(paris(2026, 11, 16), paris(2026, 11, 17), times)
    assert as_utc(result) == as_utc([paris(2026, 11, 16, 8), paris(2026, 11, 16, 17, 59)])


def test_digest_instants_deduplicate_times() -> None:
    result = charter().digest_instants(
        paris(2026, 11, 16), paris(2026, 11, 17), [time(9), time(9), time(9, 0, 0)]
    )
    assert as_utc(result) == [paris(2026, 11, 16, 9).astimezone(UTC)]


def test_digest_instants_empty_cases() -> None:
    calendar = charter()
    assert calendar.digest_instants(paris(2026, 11, 16), paris(2026, 11, 20), []) == []
    assert calendar.digest_instants(paris(2026, 11, 20), paris(2026, 11, 16), [time(9)]) == []
    same = paris(2026, 11, 16, 9)
    assert calendar.digest_instants(same, same, [time(9)]) == []
    weekend = calendar.digest_instants(paris(2026, 11, 14), paris(2026, 11, 16), [time(9)])
    assert weekend == []


def test_digest_instants_with_absences_spanning_the_year_end() -> None:
    away = [Absence(date(2026, 12, 28), date(2027, 1, 5))]
    result = charter().digest_instants(paris(2026, 12, 23), paris(2027, 1, 8, 23), [time(9)], away)
    expected = [paris(2026, 12, 23, 9), paris(2026, 12, 24, 9)] + [
        paris(2027, 1, day, 9) for day in (6, 7, 8)
    ]
    assert as_utc(result) == as_utc(expected)


def test_digest_instants_across_the_year_end_without_absence() -> None:
    result = charter().digest_instants(paris(2026, 12, 30), paris(2027, 1, 5), [time(16, 30)])
    expected = [paris(2026, 12, 30, 16, 30), paris(2026, 12, 31, 16, 30), paris(2027, 1, 4, 16, 30)]
    assert as_utc(result) == as_utc(expected)


def test_digest_instants_across_dst_weeks() -> None:
    calendar = charter()
    spring = calendar.digest_instants(utc(2026, 3, 26, 12), utc(2026, 3, 31), [time(9)])
    assert as_utc(spring) == [utc(2026, 3, 27, 8), utc(2026, 3, 30, 7)]
    autumn = calendar.digest_instants(utc(2026, 10, 22, 12), utc(2026, 10, 27), [time(9)])
    assert as_utc(autumn) == [utc(2026, 10, 23, 7), utc(2026, 10, 26, 8)]
    # 2027: spring-forward Sunday followed by Easter Monday.
    easter = calendar.digest_instants(paris(2027, 3, 26), paris(2027, 3, 31), [time(9)])
    assert as_utc(easter) == [utc(2027, 3, 26, 8), utc(2027, 3, 30, 7)]


def test_digest_time_in_the_spring_forward_gap_moves_to_the_end_of_the_gap() -> None:
    calendar = charter(days=WEEKDAYS, open=time(0), close=time(23, 59), holidays_country=None)
    result = calendar.digest_instants(
        paris(2026, 3, 29), paris(2026, 3, 29, 12), [time(2, 30), time(2), time(3)]
    )
    # 02:00 and 02:30 do not exist: both become 03:00 CEST, which is also 03:00 itself.
    assert as_utc(result) == [utc(2026, 3, 29, 1, 0)]
    assert result[0].utcoffset() == timedelta(hours=2)
    assert (result[0].hour, result[0].minute) == (3, 0)


def test_digest_time_in_the_2027_spring_forward_gap() -> None:
    calendar = charter(days=WEEKDAYS, open=time(0), close=time(23, 59), holidays_country=None)
    result = calendar.digest_instants(paris(2027, 3, 27), paris(2027, 3, 29), [time(2, 15)])
    assert as_utc(result) == [utc(2027, 3, 27, 1, 15), utc(2027, 3, 28, 1, 0)]


def test_digest_time_repeated_by_the_fall_back_is_taken_once() -> None:
    calendar = charter(days=WEEKDAYS, open=time(0), close=time(23, 59), holidays_country=None)
    result = calendar.digest_instants(paris(2026, 10, 25), paris(2026, 10, 25, 12), [time(2, 30)])
    assert as_utc(result) == [utc(2026, 10, 25, 0, 30)]  # 02:30 CEST, fold=0
    assert result[0].fold == 0
    # Starting after the first 02:30 there is no second digest that day.
    later = calendar.digest_instants(
        utc(2026, 10, 25, 0, 30), paris(2026, 10, 25, 12), [time(2, 30)]
    )
    assert later == []


def test_digest_moved_out_of_the_hours_by_the_gap_is_dropped() -> None:
    calendar = charter(days=WEEKDAYS, open=time(2), close=time(3), holidays_country=None)
    result = calendar.digest_instants(paris(2026, 3, 28), paris(2026, 3, 30), [time(2, 30)])
    # Saturday keeps 02:30; on Sunday 02:30 becomes 03:00 CEST, when the hours are closed.
    assert as_utc(result) == [utc(2026, 3, 28, 1, 30)]


def test_digest_instants_in_montreal() -> None:
    calendar = charter(timezone="America/Montreal", holidays_country="CA")
    result = calendar.digest_instants(utc(2026, 3, 6), utc(2026, 3, 10), [time(9)])
    assert as_utc(result) == [utc(2026, 3, 6, 14), utc(2026, 3, 9, 13)]
    assert all(instant.tzinfo is MONTREAL for instant in result)


@pytest.mark.parametrize("zone", [PARIS, MONTREAL, NEW_YORK_FIXED, TOKYO_FIXED])
def test_digest_instants_do_not_depend_on_the_input_offsets(zone: tzinfo) -> None:
    calendar = charter()
    after, until = utc(2026, 12, 20, 21, 17), utc(2027, 1, 12, 3, 3)
    times = [time(8), time(12, 30), time(17, 59)]
    reference = calendar.digest_instants(after, until, times)
    assert len(reference) == 3 * 14  # 14 open days: Christmas and New Year are closed
    result = calendar.digest_instants(after.astimezone(zone), until.astimezone(zone), times)
    assert as_utc(result) == as_utc(reference)
    assert all(instant.tzinfo is PARIS for instant in result)


def test_digest_instants_refuse_naive_bounds_and_aware_times() -> None:
    calendar = charter()
    with pytest.raises(ValueError, match="after"):
        calendar.digest_instants(datetime(2026, 11, 16), paris(2026, 11, 17), [time(9)])
    with pytest.raises(ValueError, match="until"):
        calendar.digest_instants(paris(2026, 11, 16), datetime(2026, 11, 17), [time(9)])
    with pytest.raises(ValueError, match="local times"):
        calendar.digest_instants(paris(2026, 11, 16), paris(2026, 11, 17), [time(9, tzinfo=UTC)])


# --------------------------------------------------------------------------------------------
# Properties

ZONES = [
    "Europe/Paris",
    "America/Montreal",
    "UTC",
    "Australia/Lord_Howe",  # 30-minute DST shift
    "America/Havana",  # DST changes at midnight
    "America/Santiago",  # DST changes around midnight
    "Pacific/Chatham",  # +12:45 / +13:45
    "Asia/Kolkata",
]
INPUT_ZONES: list[tzinfo] = [
    UTC,
    PARIS,
    MONTREAL,
    NEW_YORK_FIXED,
    TOKYO_FIXED,
    ZoneInfo("Australia/Lord_Howe"),
    timezone(timedelta(hours=-9, minutes=-30)),
]

instants = st.datetimes(
    min_value=datetime(2025, 1, 1),
    max_value=datetime(2029, 12, 31),
    timezones=st.sampled_from(INPUT_ZONES),
)


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    """Random but valid configurations, including hours that straddle DST changes."""
    days = draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True))
    last = 23 * 60 + 59
    # Half of the time, hours in the small hours of the night, where zones change offset.
    opens = draw(st.integers(0, last - 1) | st.integers(0, 4 * 60))
    closes = draw(st.integers(opens + 1, last) | st.integers(opens + 1, min(opens + 180, last)))
    return Calendar(
        days=[name.upper() if draw(st.booleans()) else name for name in days],
        open=time(opens // 60, opens % 60),
        close=time(closes // 60, closes % 60),
        timezone=draw(st.sampled_from(ZONES)),
        holidays_country=draw(st.sampled_from(["FR", "DE", None])),
    )


@functools.cache
def offset_changes(key: str) -> tuple[datetime, ...]:
    """Hours (UTC) at which a zone's offset changes, found independently of the module."""
    zone = ZoneInfo(key)
    changes = []
    probe = utc(2025, 1, 1)
    previous = probe.astimezone(zone).utcoffset()
    while probe < utc(2030, 1, 1):
        probe += timedelta(hours=1)
        offset = probe.astimezone(zone).utcoffset()
        if offset != previous:
            changes.append(probe)
            previous = offset
    return tuple(changes)


def instants_for(calendar: Calendar) -> st.SearchStrategy[datetime]:
    """Any instant, or one within 36 hours of an offset change of the calendar's zone."""
    changes = offset_changes(calendar.tz.key)
    if not changes:
        return instants
    near = st.builds(
        lambda change, delta, zone: (change + delta).astimezone(zone),
        st.sampled_from(changes),
        st.timedeltas(min_value=timedelta(hours=-36), max_value=timedelta(hours=36)),
        st.sampled_from(INPUT_ZONES),
    )
    return instants | near


@st.composite
def absences_near(draw: st.DrawFn, around: date) -> list[Absence]:
    result = []
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        start = around + timedelta(days=draw(st.integers(min_value=-5, max_value=15)))
        length = draw(st.integers(min_value=0, max_value=12))
        result.append(Absence(start, start + timedelta(days=length)))
    return result


def exists(zone: tzinfo, day: date, at: time) -> bool:
    """Whether a local wall time occurs on that date (it does not in a spring-forward gap)."""
    wall = datetime.combine(day, at)
    return wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall


def ceil_minute(instant: datetime) -> datetime:
    floor = instant.astimezone(UTC).replace(second=0, microsecond=0)
    return floor if floor == instant else floor + MINUTE


PROPERTIES = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTIES
@given(calendar=calendars(), data=st.data())
def test_property_next_opening(calendar: Calendar, data: st.DataObject) -> None:
    at = data.draw(instants_for(calendar))
    away = data.draw(absences_near(at.astimezone(calendar.tz).date()))
    result = calendar.next_opening(at, away)
    assert result.tzinfo is calendar.tz
    assert result.astimezone(UTC) >= at.astimezone(UTC)
    assert calendar.is_open(result, away)
    if calendar.is_open(at, away):
        assert result.astimezone(UTC) == at.astimezone(UTC)
    # Idempotent, and independent of the input's offset.
    assert calendar.next_opening(result, away).astimezone(UTC) == result.astimezone(UTC)
    assert calendar.next_opening(at.astimezone(UTC), away).astimezone(UTC) == result.astimezone(UTC)
    # Nothing open strictly between `at` and the result, sampled at every minute.
    probe = ceil_minute(at)
    end = result.astimezone(UTC)
    while probe < end:
        assert not calendar.is_open(probe, away), probe
        probe += MINUTE
    # Nothing open in the last microsecond before it either (when `at` was closed).
    if result.astimezone(UTC) > at.astimezone(UTC):
        assert not calendar.is_open(end - MICRO, away)


@PROPERTIES
@given(calendar=calendars(), data=st.data())
def test_property_closes_at(calendar: Calendar, data: st.DataObject) -> None:
    at = data.draw(instants_for(calendar))
    start = calendar.next_opening(at)
    end = calendar.closes_at(start)
    assert end.tzinfo is calendar.tz
    assert end.astimezone(UTC) > start.astimezone(UTC)
    assert not calendar.is_open(end)
    assert calendar.is_open(end.astimezone(UTC) - MICRO)
    assert end.astimezone(UTC) - start.astimezone(UTC) <= timedelta(hours=26)
    probe = ceil_minute(start)
    while probe < end.astimezone(UTC):
        assert calendar.is_open(probe), probe
        probe += MINUTE


@PROPERTIES
@given(at=instants, zone=st.sampled_from(INPUT_ZONES))
def test_property_charter_is_open_matches_the_wall_clock(at: datetime, zone: tzinfo) -> None:
    calendar = charter()
    local = at.astimezone(PARIS)
    expected = (
        local.weekday() < 5
        and not calendar.is_holiday(local.date())
        and time(8) <= local.time() < time(18)
    )
    assert calendar.is_open(at) is expected
    assert calendar.is_open(at.astimezone(zone)) is expected


times_lists = st.lists(
    st.builds(time, st.integers(min_value=0, max_value=23), st.sampled_from([0, 1, 15, 30, 59])),
    max_size=5,
)


@PROPERTIES
@given(
    calendar=calendars(),
    span=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40)),
    times=times_lists,
    data=st.data(),
)
def test_property_digest_instants(
    calendar: Calendar, span: timedelta, times: list[time], data: st.DataObject
) -> None:
    after = data.draw(instants_for(calendar))
    away = data.draw(absences_near(after.astimezone(calendar.tz).date()))
    until = (after.astimezone(UTC) + span).astimezone(data.draw(st.sampled_from(INPUT_ZONES)))
    result = calendar.digest_instants(after, until, times, away)
    in_utc = as_utc(result)
    assert in_utc == sorted(set(in_utc))  # sorted and unique
    for instant in result:
        assert instant.tzinfo is calendar.tz
        assert after.astimezone(UTC) < instant.astimezone(UTC) <= until.astimezone(UTC)
        assert calendar.is_open(instant, away)
        local = instant.astimezone(calendar.tz)
        if local.time() not in times:
            # Only a time swallowed by a spring-forward gap moves, to the end of that gap.
            day = local.date()
            assert any(
                not exists(calendar.tz, day, t)
                or not exists(calendar.tz, day - timedelta(days=1), t)
                for t in times
            )
            before = (instant.astimezone(UTC) - MICRO).astimezone(calendar.tz)
            assert before.utcoffset() != instant.utcoffset()
    # Every existing digest time inside the interval and the hours is there.
    found = set(in_utc)
    day = after.astimezone(calendar.tz).date()
    while day <= until.astimezone(calendar.tz).date():
        for t in times:
            if exists(calendar.tz, day, t):
                instant = datetime.combine(day, t, tzinfo=calendar.tz).astimezone(UTC)
                inside = after.astimezone(UTC) < instant <= until.astimezone(UTC)
                if inside and calendar.is_open(instant, away):
                    assert instant in found
        day += timedelta(days=1)
    # Splitting the interval splits the result.
    middle = after.astimezone(UTC) + span / 2
    halves = calendar.digest_instants(after, middle, times, away) + calendar.digest_instants(
        middle, until, times, away
    )
    assert as_utc(halves) == in_utc


@PROPERTIES
@given(
    after=instants,
    span=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=4)),
    times=times_lists,
    data=st.data(),
)
def test_property_digest_instants_match_brute_force(
    after: datetime, span: timedelta, times: list[time], data: st.DataObject
) -> None:
    """On the charter calendar (no DST inside the hours), scan every minute."""
    calendar = charter()
    away = data.draw(absences_near(after.astimezone(PARIS).date()))
    until = after.astimezone(UTC) + span
    wanted = set(times)
    expected = []
    probe = ceil_minute(after)
    if probe == after.astimezone(UTC):
        probe += MINUTE
    while probe <= until.astimezone(UTC):
        if probe.astimezone(PARIS).time() in wanted and calendar.is_open(probe, away):
            expected.append(probe)
        probe += MINUTE
    assert as_utc(calendar.digest_instants(after, until, times, away)) == expected


@settings(max_examples=50, deadline=None, database=None)
@given(calendar=calendars(), at=instants)
def test_property_next_opening_terminates_or_reports(calendar: Calendar, at: datetime) -> None:
    away = [Absence(date(2024, 1, 1), date(2034, 1, 1))]
    with pytest.raises(CalendarError):
        calendar.next_opening(at, away)


def test_module_never_reads_the_clock() -> None:
    source = Path(hours.__file__).read_text(encoding="utf-8")
    for forbidden in ("now(", "today(", "time.time", "utcnow", "monotonic"):
        assert forbidden not in source, forbidden


# --------------------------------------------------------------------------------------------
# next_digest: what an acknowledgement promises (issue 14, item 3)

DIGESTS = (time(8), time(13))


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        (paris(2026, 12, 4, 17, 15), paris(2026, 12, 7, 8)),  # Friday after 13:00 -> Monday
        (paris(2026, 11, 30, 13, 18), paris(2026, 12, 1, 8)),  # Monday after 13:00 -> Tuesday
        (paris(2026, 11, 30, 10), paris(2026, 11, 30, 13)),  # before today's second digest
        (paris(2026, 11, 30, 13), paris(2026, 12, 1, 8)),  # exactly at a digest: it has run
        (paris(2026, 11, 28, 23), paris(2026, 11, 30, 8)),  # Saturday night
        (paris(2026, 12, 24, 18, 30), paris(2026, 12, 28, 8)),  # Christmas and a weekend
        (paris(2026, 11, 10, 14), paris(2026, 11, 12, 8)),  # Armistice on Wednesday
    ],
)
def test_next_digest(sent: datetime, expected: datetime) -> None:
    assert_instant(charter().next_digest(sent, DIGESTS) or sent, expected)


def test_next_digest_skips_absences_and_unreadable_times() -> None:
    away = (Absence(date(2026, 11, 30), date(2026, 12, 2)),)
    assert_instant(charter().next_digest(paris(2026, 11, 30, 7), DIGESTS, away) or utc(2000, 1, 1),
                   paris(2026, 12, 3, 8))
    # A digest time outside the hours is never sent, so it is never promised.
    assert_instant(charter().next_digest(paris(2026, 11, 30, 10), (time(7), time(19), time(9)))
                   or utc(2000, 1, 1), paris(2026, 12, 1, 9))


def test_next_digest_none_when_no_digest_can_be_sent() -> None:
    assert charter().next_digest(paris(2026, 11, 30, 10), ()) is None
    assert charter().next_digest(paris(2026, 11, 30, 10), (time(7), time(19))) is None


def test_next_digest_needs_an_aware_instant() -> None:
    with pytest.raises(ValueError, match="aware"):
        charter().next_digest(datetime(2026, 11, 30, 10), DIGESTS)
