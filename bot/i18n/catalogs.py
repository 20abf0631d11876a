"""Load the catalogs once; pick one per message through a context variable."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from babel.core import Locale, UnknownLocaleError
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

DOMAIN = "messages"
SOURCE_LOCALE = "fr"

_current: ContextVar[tuple[str, NullTranslations] | None] = ContextVar(
    "mentorbot_locale", default=None
)


BUILT_MARKER = ".compiled"  # written by setup.py next to the catalogs it compiled


class Catalogs:
    """Every available translation, loaded from `locales/`.

    A compiled `.mo` is used when it is at least as new as its `.po`; otherwise the `.po` is
    compiled in memory, so a fresh checkout works before `make i18n` has run.
    """

    def __init__(self, root: Path, default: str = SOURCE_LOCALE) -> None:
        self.root = Path(root)
        self.default = default
        self._translations: dict[str, NullTranslations] = {SOURCE_LOCALE: NullTranslations()}
        if self.root.is_dir():
            for po in sorted(self.root.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
                lang = po.parent.parent.name
                if lang != SOURCE_LOCALE:
                    self._translations[lang] = self._load(po)

    @staticmethod
    def _load(po: Path) -> NullTranslations:
        mo = po.with_suffix(".mo")
        built = (po.parents[2] / BUILT_MARKER).exists()  # compiled with the wheel
        if mo.exists() and (built or mo.stat().st_mtime >= po.stat().st_mtime):
            with mo.open("rb") as handle:
                return Translations(handle, domain=DOMAIN)
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=po.parent.parent.name)
        buffer = io.BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        buffer.seek(0)
        return Translations(buffer, domain=DOMAIN)

    @property
    def locales(self) -> list[str]:
        return sorted(self._translations)

    def resolve(self, locale: str | None) -> str:
        """The best available locale for a person's preference (`en_GB` -> `en`)."""
        for candidate in (locale, (locale or "").split("_")[0].split("-")[0], self.default):
            if candidate and candidate in self._translations:
                return candidate
        return SOURCE_LOCALE

    def translations(self, locale: str) -> NullTranslations:
        return self._translations[self.resolve(locale)]

    @contextmanager
    def use(self, locale: str | None) -> Iterator[str]:
        resolved = self.resolve(locale)
        token = _current.set((resolved, self._translations[resolved]))
        try:
            yield resolved
        finally:
            _current.reset(token)


def gettext(message: str) -> str:
    """Translate `message` (a French source text) into the current person's language."""
    state = _current.get()
    return state[1].gettext(message) if state else message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a text that varies with `n`, by the plural rule of the person's language
    (French, the source, uses the singular for 0 and 1)."""
    state = _current.get()
    if state is None or state[0] == SOURCE_LOCALE:
        return singular if n in (0, 1) else plural
    return state[1].ngettext(singular, plural, n)


def join_words(items: list[str]) -> str:
    """"a, b et c" in the person's language (Babel's list patterns)."""
    return format_list(items, locale=current_locale()) if items else ""


def current_locale() -> str:
    state = _current.get()
    return state[0] if state else SOURCE_LOCALE


def valid_locale(name: str) -> bool:
    try:
        Locale.parse(name)
    except (UnknownLocaleError, ValueError):
        return False
    return True
