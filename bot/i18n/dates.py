"""Dates in the person's language and the deployment's time zone, with translatable patterns."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from bot.i18n.catalogs import current_locale, gettext


def format_when(moment: datetime, pattern: str, timezone: str) -> str:
    """`moment` as the current person reads it: `pattern` is a French source pattern
    (e.g. "EEEE d MMMM 'à' HH:mm") translated like any other text."""
    return format_datetime(moment, gettext(pattern), tzinfo=ZoneInfo(timezone),
                           locale=current_locale())
