"""Dates in the person's language and the deployment's time zone, with translatable patterns."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, get_day_names, get_month_names

from bot.i18n.catalogs import current_locale, gettext


def format_when(moment: datetime, pattern: str, timezone: str) -> str:
    """`moment` as the current person reads it: `pattern` is a French source pattern
    (e.g. "EEEE d MMMM 'à' HH:mm") translated like any other text."""
    return format_datetime(moment, gettext(pattern), tzinfo=ZoneInfo(timezone),
                           locale=current_locale())


# -- dates as people type them (`/absence 21/12 au 3 janv.`) --------------------------------

_LANGUAGES = ("fr", "en")
# Words that may stand between or around the dates of a range, folded (no accents).
_CONNECTORS = frozenset({
    "du", "au", "a", "le", "des", "depuis", "jusqu'au", "jusqu'a", "jusqu", "inclus", "compris",
    "from", "to", "until", "till", "through", "the", "on", "included", "inclusive",
    "-", "--", "\u2013", "\u2014", "->", "\u2192", ",", "et", "and",
})


class DateError(ValueError):
    """A date range that cannot be read: `kind` says why, `text` is the part concerned."""

    def __init__(self, kind: str, text: str = "", dates: tuple[date, date] | None = None) -> None:
        super().__init__(f"{kind}: {text}")
        self.kind = kind  # "empty", "unknown", "invalid", "too_many", "order"
        self.text = text
        self.dates = dates  # for "order": the start and the end as read


@dataclass(frozen=True, slots=True)
class _Spec:
    """A date as typed: the day, and the month and year when given."""

    text: str
    day: int
    month: int | None
    year: int | None


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("\u2019", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def _month_words() -> dict[str, int]:
    """Every month name, abbreviation and unambiguous prefix (3 letters or more), folded."""
    names: dict[str, set[int]] = {}
    for language in _LANGUAGES:
        for width in ("wide", "abbreviated"):
            for number, name in get_month_names(width, "format", language).items():
                word = _fold(str(name)).rstrip(".")
                names.setdefault(word, set()).add(number)
                for size in range(3, len(word)):
                    names.setdefault(word[:size], set()).add(number)
    return {word: next(iter(months)) for word, months in names.items() if len(months) == 1}


@lru_cache(maxsize=1)
def _weekday_words() -> frozenset[str]:
    """Weekday names (skipped: "lundi 21 décembre"), but not "mar", which is also March."""
    words: set[str] = set()
    for language in _LANGUAGES:
        for width in ("wide", "abbreviated"):
            words.update(_fold(str(n)).rstrip(".")
                         for n in get_day_names(width, "format", language).values())
    return frozenset(words - set(_month_words()))


@lru_cache(maxsize=1)
def _date_re() -> re.Pattern[str]:
    months = "|".join(sorted(_month_words(), key=len, reverse=True))
    ordinal = r"(?:er|re|st|nd|rd|th)?"
    return re.compile(
        rf"""(?:
          (?P<iy>\d{{4}})-(?P<im>\d{{1,2}})-(?P<id>\d{{1,2}})
      | (?P<nd>\d{{1,2}})(?P<sep>[/.])(?P<nm>\d{{1,2}})(?:(?P=sep)(?P<ny>\d{{4}}|\d{{2}}))?
      | (?P<dd>\d{{1,2}})-(?P<dm>\d{{1,2}})-(?P<dy>\d{{4}}|\d{{2}})
      | (?P<td>\d{{1,2}}){ordinal}\s*(?P<tm>{months})\.?(?:\s+(?P<ty>\d{{4}}))?
      | (?P<em>{months})\.?\s+(?P<ed>\d{{1,2}}){ordinal}(?:,?\s+(?P<ey>\d{{4}}))?
      | (?P<bd>\d{{1,2}}){ordinal}
        )(?![\w/]|\.\d)""",
        re.VERBOSE,
    )


def _year(value: str | None) -> int | None:
    if value is None:
        return None
    return int(value) + 2000 if len(value) == 2 else int(value)


def _spec(match: re.Match[str]) -> _Spec:
    g = match.group
    text = match.group(0)
    if g("iy"):
        return _Spec(text, int(g("id")), int(g("im")), int(g("iy")))
    if g("nd"):
        return _Spec(text, int(g("nd")), int(g("nm")), _year(g("ny")))
    if g("dd"):
        return _Spec(text, int(g("dd")), int(g("dm")), _year(g("dy")))
    if g("td"):
        return _Spec(text, int(g("td")), _month_words()[g("tm")], _year(g("ty")))
    if g("em"):
        return _Spec(text, int(g("ed")), _month_words()[g("em")], _year(g("ey")))
    return _Spec(text, int(g("bd")), None, None)


def _scan(text: str) -> list[_Spec]:
    """The dates of `text`, in order; anything else than a date or a connector is an error."""
    folded = _fold(text)
    specs: list[_Spec] = []
    at = 0
    while True:
        while at < len(folded) and folded[at].isspace():
            at += 1
        if at >= len(folded):
            return specs
        match = _date_re().match(folded, at)
        if match is not None:
            specs.append(_spec(match))
            at = match.end()
            continue
        word = re.match(r"[^\s\d,]+|,", folded[at:])
        token = word.group(0) if word else folded[at:].split()[0]
        bare = token.rstrip(".")
        if bare and bare not in _CONNECTORS | _weekday_words():
            original = text[at:].split()[0] if len(text) == len(folded) else token
            raise DateError("unknown", original)
        at += len(token)


def _make(spec: _Spec, month: int, year: int) -> date:
    try:
        return date(year, month, spec.day)
    except ValueError:
        raise DateError("invalid", spec.text) from None


def _after(spec: _Spec, start: date) -> date:
    """The date `spec` (month known, year not) on or after `start`, within a year."""
    assert spec.month is not None
    for year in range(start.year, start.year + 5):
        try:
            found = date(year, spec.month, spec.day)
        except ValueError:
            continue
        if found >= start:
            return found
    raise DateError("invalid", spec.text)


def parse_date_range(text: str, today: date) -> tuple[date, date]:
    """The range of whole days that `text` names, both included: one date, or two.

    Accepted: 2026-12-21, 21/12, 21/12/2026, 21.12.26, 21-12-2026, 21 déc., 21 décembre 2026,
    1er janvier, Dec 21, 21 December, "du 21 au 23 décembre", joined by du/au, from/to, -, →.
    A date without a year is the next one whose range is not over by `today`; an end without
    a year is the first on or after the start (so "21/12 3/01" crosses the new year).
    Raises DateError saying which part could not be read.
    """
    specs = _scan(text)
    if not specs:
        raise DateError("empty")
    if len(specs) > 2:
        raise DateError("too_many", specs[2].text)
    first, last = specs[0], specs[-1]
    if last.month is None:
        raise DateError("unknown", last.text)
    if first.month is None:  # "du 21 au 23 décembre": the end's month, or the one before
        month, year = last.month, last.year
        if first.day > last.day:
            month = 12 if last.month == 1 else last.month - 1
            if year is not None and last.month == 1:
                year -= 1
        first = _Spec(first.text, first.day, month, year)
    assert first.month is not None
    if first.year is not None and last.year is not None:
        start, end = _make(first, first.month, first.year), _make(last, last.month, last.year)
    elif first.year is not None:
        start = _make(first, first.month, first.year)
        end = _after(last, start)
    elif last.year is not None:
        end = _make(last, last.month, last.year)
        start = _make(first, first.month, end.year)
        if start > end:
            start = _make(first, first.month, end.year - 1)
    else:
        # Neither has a year: the nearest range that is not over by today.
        found: tuple[date, date] | None = None
        for year in range(today.year - 1, today.year + 5):
            try:
                start = _make(first, first.month, year)
                end = _after(last, start)
            except DateError:
                continue  # 29 February, in a year that has none
            if end >= today:
                found = (start, end)
                break
        if found is None:
            raise DateError("invalid", first.text)
        start, end = found
    if end < start:
        raise DateError("order", f"{first.text} {last.text}", (start, end))
    return start, end
