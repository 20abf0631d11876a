"""Charter article 3: the opening-hours calendar.

Messages may be sent at any time but are read only during opening hours; the delay is
deliberate. This module is a pure calendar: it never reads the machine's clock, every
function receives the instant it reasons about, so hours, holidays and digests are testable.

All reasoning about instants is done in UTC: aware datetimes sharing a `ZoneInfo` compare by
wall time and ignore `fold`, which is wrong around a daylight-saving fall back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

__all__ = [
    "SEARCH_HORIZON_DAYS",
    "WEEKDAYS",
    "Absence",
    "Calendar",
    "CalendarError",
    "parse_hhmm",
]

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# `next_opening` gives up after this many days: absences may be configured over years, and
# a search that never ends would freeze the bot instead of reporting the configuration.
SEARCH_HORIZON_DAYS = 3 * 366

_HHMM = re.compile(r"([0-9]{2}):([0-9]{2})")
_ONE_DAY = timedelta(days=1)
_MICROSECOND = timedelta(microseconds=1)
_PROBE_STEP = timedelta(hours=1)  # no real zone has two offset changes less than 1 h apart


class CalendarError(ValueError):
    """The calendar's configuration cannot be honoured; the message names the problem."""


def parse_hhmm(value: str) -> time:
    """Parse a strict 'HH:MM' (24-hour, two digits each) so config typos fail loudly."""
    if not isinstance(value, str):
        # YAML 1.1 reads an unquoted 18:00 as the sexagesimal integer 1080.
        raise ValueError(f"expected a 'HH:MM' string, got {type(value).__name__} {value!r}")
    match = _HHMM.fullmatch(value)
    if match is None:
        raise ValueError(f"expected a time as 'HH:MM' (e.g. '08:00'), got {value!r}")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23:
        raise ValueError(f"hour must be between 00 and 23, got {value!r}")
    if minute > 59:
        raise ValueError(f"minute must be between 00 and 59, got {value!r}")
    return time(hour, minute)


@dataclass(frozen=True, slots=True)
class Absence:
    """A mentor's absence: whole local dates, both bounds inclusive, closed like a holiday."""

    start: date
    end: date

    def __post_init__(self) -> None:
        # datetime is a date subclass, but comparing it with a date raises at lookup time.
        if isinstance(self.start, datetime) or isinstance(self.end, datetime):
            raise CalendarError("absence bounds must be dates, not datetimes")
        if self.end < self.start:
            raise CalendarError(f"absence ends ({self.end}) before it starts ({self.start})")

    def covers(self, day: date) -> bool:
        """True when the mentor is away on this local date."""
        return self.start <= day <= self.end


def _require_aware(value: datetime, name: str) -> datetime:
    """Reject naive datetimes: an instant without an offset is ambiguous, so refuse to guess."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {value!r}")
    return value.astimezone(UTC)


def _offset(tz: tzinfo, instant: datetime) -> timedelta:
    """UTC offset of `tz` at a UTC instant."""
    offset = instant.astimezone(tz).utcoffset()
    assert offset is not None  # a ZoneInfo always yields an offset for an aware instant
    return offset


def _transition(tz: tzinfo, lo: datetime, hi: datetime) -> datetime:
    """First UTC instant in (lo, hi] whose offset differs from lo's (offsets differ at hi).

    Bisects on whole microseconds, so the result is exact whatever the zone's data.
    """
    before = _offset(tz, lo)
    low, high = 0, (hi - lo) // _MICROSECOND
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(tz, lo + middle * _MICROSECOND) == before:
            low = middle
        else:
            high = middle
    return lo + high * _MICROSECOND


def _transitions(tz: tzinfo, start: datetime, end: datetime) -> list[datetime]:
    """UTC instants in (start, end) where the offset changes, found by hourly probes."""
    found: list[datetime] = []
    probes: list[datetime] = []
    probe = start
    while probe < end:
        probes.append(probe)
        probe += _PROBE_STEP
    probes.append(end - _MICROSECOND)
    for lo, hi in pairwise(probes):
        if _offset(tz, lo) != _offset(tz, hi):
            found.append(_transition(tz, lo, hi))
    return found


def _resolve(tz: tzinfo, day: date, at: time) -> datetime:
    """The instant a local wall time designates on a date, in `tz`.

    A repeated time (fall back) is its first occurrence (fold=0); a time that does not exist
    (spring forward gap) becomes the first existing instant after the gap.
    """
    wall = datetime.combine(day, at)
    first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == wall:
        return first.astimezone(tz)
    # In a gap the two folds apply the offsets on either side: the transition lies between.
    second = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    lo, hi = sorted((first, second))
    if _offset(tz, lo) == _offset(tz, hi):
        return hi.astimezone(tz)
    return _transition(tz, lo, hi).astimezone(tz)


@lru_cache(maxsize=4096)
def _open_intervals(
    tz: tzinfo, opens: time, closes: time, day: date
) -> tuple[tuple[datetime, datetime], ...]:
    """UTC intervals [a, b) of the instants on local `day` whose wall time is in [opens, closes).

    Usually one interval; a daylight-saving change inside the hours splits or shifts it, so
    the day is cut into constant-offset segments and each is intersected with the hours.
    """
    start = _resolve(tz, day, time(0)).astimezone(UTC)
    end = _resolve(tz, day + _ONE_DAY, time(0)).astimezone(UTC)
    bounds = [start, *_transitions(tz, start, end), end]
    wall_open = datetime.combine(day, opens)
    wall_close = datetime.combine(day, closes)
    pieces: list[tuple[datetime, datetime]] = []
    for seg_start, seg_end in pairwise(bounds):
        shift = _offset(tz, seg_start)
        lo = max((wall_open - shift).replace(tzinfo=UTC), seg_start)
        hi = min((wall_close - shift).replace(tzinfo=UTC), seg_end)
        if lo < hi:
            pieces.append((lo, hi))
    merged: list[tuple[datetime, datetime]] = []
    for lo, hi in sorted(pieces):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return tuple(merged)


class Calendar:
    """When the mentor reads: open weekdays, daily hours, public holidays and absences."""

    def __init__(
        self,
        *,
        days: Sequence[str],
        open: time,
        close: time,
        timezone: str,
        holidays_country: str | None = "FR",
    ) -> None:
        """Validate the configuration up front so a typo fails at start-up, not at 8 am."""
        if isinstance(days, str):
            raise CalendarError(f"days must be a list of weekday names, got the string {days!r}")
        names: set[str] = set()
        for name in days:
            folded = name.strip().lower() if isinstance(name, str) else name
            if folded not in WEEKDAYS:
                raise CalendarError(f"unknown weekday {name!r}; expected one of {WEEKDAYS}")
            names.add(folded)
        if not names:
            raise CalendarError("no opening day: the mentor would never read anything")
        for label, value in (("open", open), ("close", close)):
            if not isinstance(value, time):
                raise CalendarError(f"{label} must be a time, got {value!r}")
            if value.tzinfo is not None:
                raise CalendarError(f"{label} must be a local time without tzinfo, got {value!r}")
        if open >= close:
            raise CalendarError(f"opening time {open} must be before closing time {close}")
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError, TypeError) as exc:
            raise CalendarError(f"unknown time zone {timezone!r}") from exc
        country: str | None = None
        if holidays_country is not None:
            country = holidays_country.upper()
            try:
                holidays.country_holidays(country)
            except NotImplementedError as exc:
                raise CalendarError(f"unknown holiday country {holidays_country!r}") from exc
        self._weekdays = frozenset(WEEKDAYS.index(name) for name in names)
        self._open = open.replace(fold=0)
        self._close = close.replace(fold=0)
        self._tz = zone
        self._country = country
        self._holidays: dict[int, frozenset[date]] = {}

    def __repr__(self) -> str:
        return (
            f"Calendar(days={self.days!r}, open={self._open}, close={self._close}, "
            f"timezone={self._tz.key!r}, holidays_country={self._country!r})"
        )

    @property
    def tz(self) -> ZoneInfo:
        """The zone whose wall clock defines the opening hours and the dates."""
        return self._tz

    @property
    def days(self) -> tuple[str, ...]:
        """Open weekday names, normalised and in week order."""
        return tuple(name for i, name in enumerate(WEEKDAYS) if i in self._weekdays)

    @property
    def open(self) -> time:
        """Local opening time (inclusive)."""
        return self._open

    @property
    def close(self) -> time:
        """Local closing time (exclusive)."""
        return self._close

    @property
    def holidays_country(self) -> str | None:
        """Country whose public holidays are closed, or None when holidays are ignored."""
        return self._country

    def is_holiday(self, day: date) -> bool:
        """Public holiday of the configured country; computed once per year, then cached."""
        if self._country is None:
            return False
        known = self._holidays.get(day.year)
        if known is None:
            known = frozenset(holidays.country_holidays(self._country, years=day.year).keys())
            self._holidays[day.year] = known
        return day in known

    def is_open_day(self, day: date, absences: Sequence[Absence] = ()) -> bool:
        """An open weekday that is neither a public holiday nor covered by an absence."""
        if day.weekday() not in self._weekdays or self.is_holiday(day):
            return False
        return not any(absence.covers(day) for absence in absences)

    def is_open(self, at: datetime, absences: Sequence[Absence] = ()) -> bool:
        """Whether the mentor reads at this instant: open <= local wall time < close."""
        local = _require_aware(at, "at").astimezone(self._tz)
        if not self._open <= local.time() < self._close:
            return False
        return self.is_open_day(local.date(), absences)

    def next_opening(self, at: datetime, absences: Sequence[Absence] = ()) -> datetime:
        """`at` itself if open, else the next instant the hours open, in the calendar's zone.

        The search is bounded by SEARCH_HORIZON_DAYS so absences spanning years end in a
        CalendarError instead of an endless loop.
        """
        instant = _require_aware(at, "at")
        if self.is_open(instant, absences):
            return instant.astimezone(self._tz)
        # Start one day early: a fall back across midnight can revisit the previous date.
        first = instant.astimezone(self._tz).date() - _ONE_DAY
        for step in range(SEARCH_HORIZON_DAYS + 2):
            day = first + timedelta(days=step)
            if not self.is_open_day(day, absences):
                continue
            for lo, hi in _open_intervals(self._tz, self._open, self._close, day):
                if hi > instant:
                    return max(lo, instant).astimezone(self._tz)
        raise CalendarError(
            f"no opening within {SEARCH_HORIZON_DAYS} days after {instant.isoformat()}: "
            "check the opening days, holidays and absences"
        )

    def closes_at(self, at: datetime) -> datetime:
        """When the open period containing `at` ends, in the calendar's zone.

        Raises ValueError when `at` is not open: there is no current period to end.
        """
        instant = _require_aware(at, "at")
        if self.is_open(instant):
            day = instant.astimezone(self._tz).date()
            for lo, hi in _open_intervals(self._tz, self._open, self._close, day):
                if lo <= instant < hi:
                    return hi.astimezone(self._tz)
        raise ValueError(f"closes_at needs an open instant, got {at.isoformat()}")

    def digest_instants(
        self,
        after: datetime,
        until: datetime,
        times: Sequence[time],
        absences: Sequence[Absence] = (),
    ) -> list[datetime]:
        """Digest times falling in (after, until] and inside opening hours, sorted ascending.

        Each local time in `times` is placed on each local date (a missing time moves to the
        end of the spring-forward gap, a repeated one is taken once, at its first occurrence);
        only instants at which the calendar is open are kept, so a digest is never sent to a
        mentor who is not reading.
        """
        lower = _require_aware(after, "after")
        upper = _require_aware(until, "until")
        for moment in times:
            if moment.tzinfo is not None:
                raise ValueError(f"digest times must be local times without tzinfo: {moment!r}")
        if upper <= lower:
            return []
        wanted = sorted({moment.replace(fold=0) for moment in times})
        # One day of margin on each side: resolving a gap can move an instant past midnight.
        day = lower.astimezone(self._tz).date() - _ONE_DAY
        last = upper.astimezone(self._tz).date() + _ONE_DAY
        found: set[datetime] = set()
        while day <= last:
            if self.is_open_day(day, absences) or self.is_open_day(day + _ONE_DAY, absences):
                for moment in wanted:
                    instant = _resolve(self._tz, day, moment).astimezone(UTC)
                    if lower < instant <= upper and self.is_open(instant, absences):
                        found.add(instant)
            day += _ONE_DAY
        return [instant.astimezone(self._tz) for instant in sorted(found)]

    def next_digest(
        self,
        after: datetime,
        times: Sequence[time],
        absences: Sequence[Absence] = (),
    ) -> datetime | None:
        """The first digest instant strictly after `after` (what a message sent now waits for).

        None when no digest time can ever fall inside the opening hours (no times, or all
        outside the hours); a CalendarError when absences close every day of the horizon.
        """
        instant = _require_aware(after, "after")
        if not times:
            return None
        horizon = instant + timedelta(days=SEARCH_HORIZON_DAYS)
        start = instant
        while start < horizon:
            # Jump over closed stretches (weekends, holidays, absences) to the next open
            # day, then look at the digest times of the days around it.
            opening = self.next_opening(start, absences).astimezone(UTC)
            until = opening + 2 * _ONE_DAY
            found = self.digest_instants(start, until, times, absences)
            if found:
                return found[0]
            start = until
        return None
