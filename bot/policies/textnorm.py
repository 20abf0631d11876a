"""Text folding shared by the policies: case, accents and apostrophes do not matter."""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})
_SPACES = re.compile(r"\s+")


def strip_accents(text: str) -> str:
    """Remove combining marks: 'Élodie' -> 'Elodie'. Keeps string length for Latin text."""
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize(
        "NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    )


def fold(text: str) -> str:
    """Casefold, strip accents, normalise apostrophes and whitespace."""
    text = text.translate(_APOSTROPHES)
    text = strip_accents(text).casefold()
    return _SPACES.sub(" ", text).strip()


def has_words(text: str) -> bool:
    """True when the text holds at least one letter or digit (not only emoji or punctuation)."""
    return any(ch.isalnum() for ch in text)
