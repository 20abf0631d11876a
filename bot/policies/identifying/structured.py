"""Structured identifiers: recognised by their shape and, where one exists, their checksum.

A checksum keeps amounts, years and reference numbers out ("3 500 euros", "en 2024");
where there is none (e-mail, URL, address) the shape is strict enough on its own.
"""

from __future__ import annotations

import re

import phonenumbers
from stdnum import iban as stdnum_iban
from stdnum.fr import nir as stdnum_nir
from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret

from bot.policies.identifying.gazetteer import load_gazetteer
from bot.policies.identifying.lexicon import Lexicon
from bot.policies.identifying.spans import Span, SpanKind
from bot.policies.textnorm import fold

# Separators people put inside long numbers: space, no-break spaces, dot, hyphen.
_SEP = r"[ .\-\u00a0\u202f]"
_SEPARATORS = re.compile(_SEP)
_PHONE_CONTEXT = 8
_TRAILING_PUNCTUATION = ".,;:!?'\"»\u201d\u2019…"


def _after_elision(word: str) -> str:
    """'d'Alsace' -> 'Alsace'."""
    return (
        re.split(r"['\u2019]", word, maxsplit=1)[-1]
        if len(word) > 2 and word[1] in "'\u2019"
        else word
    )


def _compact(value: str) -> str:
    return _SEPARATORS.sub("", value).upper()


class EmailDetector:
    """E-mail addresses, including the "jean [at] exemple.fr" disguise."""

    name: str = "email"
    _PLAIN = re.compile(
        r"(?<![\w.+\-])[\w.+\-]+@(?:[^\W_](?:[\w\-]*[^\W_])?\.)+[^\W\d_]{2,24}(?![\w\-])"
    )
    _DISGUISED = re.compile(
        r"(?<![\w.+\-])[\w.+\-]+\s*(?:\[\s*(?:at|@)\s*\]|\(\s*(?:at|@)\s*\)|\barobase\b)\s*"
        r"(?:[^\W_](?:[\w\-]*[^\W_])?(?:\.|\s*[\[(]\s*(?:dot|point)\s*[\])]\s*))+"
        r"[^\W\d_]{2,24}(?![\w\-])",
        re.IGNORECASE,
    )

    def detect(self, text: str) -> list[Span]:
        if "@" not in text and "at" not in text.lower() and "arobase" not in text.lower():
            return []
        spans = [Span.of(text, *m.span(), SpanKind.EMAIL) for m in self._PLAIN.finditer(text)]
        spans += [Span.of(text, *m.span(), SpanKind.EMAIL) for m in self._DISGUISED.finditer(text)]
        return spans


class PhoneDetector:
    """Phone numbers that `phonenumbers` finds valid: French, international, UK and US.

    Leniency VALID already rejects amounts, years and dates. A number must also be written
    like a phone number: starting with "+" or "0" (French and UK national formats,
    international ones), or grouped the North-American way ("(415) 555-2671"). Bare digit
    runs ("commande n° 3312533774") are references more often than phones.
    """

    name: str = "phone"
    _CANDIDATE = re.compile(r"[+(]?\d[\d \u00a0\u202f().\-/]{5,}\d")
    _DIALLED = re.compile(r"^\(?[+0]")
    _NORTH_AMERICAN = re.compile(r"^(?:\+?1[ .\-]?)?\(?\d{3}\)?[ .\-]\d{3}[ .\-]\d{4}$")

    def __init__(self, regions: tuple[str, ...] = ("FR", "GB", "US")) -> None:
        self._regions = regions

    def _written_as_phone(self, raw: str, region: str) -> bool:
        if region in {"US", "CA"}:
            return bool(self._DIALLED.match(raw) or self._NORTH_AMERICAN.match(raw))
        return bool(self._DIALLED.match(raw))

    def detect(self, text: str) -> list[Span]:
        if sum(ch.isdigit() for ch in text) < 6:
            return []
        found: dict[tuple[int, int], Span] = {}
        # The matcher is slow on long texts: give it only the digit runs, with some context.
        for candidate in self._CANDIDATE.finditer(text):
            window = max(candidate.start() - _PHONE_CONTEXT, 0)
            chunk = text[window : candidate.end() + _PHONE_CONTEXT]
            for region in self._regions:
                for match in phonenumbers.PhoneNumberMatcher(
                    chunk, region, leniency=phonenumbers.Leniency.VALID
                ):
                    start, end = window + match.start, window + match.end
                    if (start, end) not in found and self._written_as_phone(
                        match.raw_string, region
                    ):
                        found[start, end] = Span.of(text, start, end, SpanKind.PHONE)
        return sorted(found.values(), key=lambda span: span.start)


class IbanDetector:
    """IBANs, spaced or not, validated by their ISO 7064 checksum and national format."""

    name: str = "iban"
    _CANDIDATE = re.compile(
        r"(?<![A-Za-z0-9])[A-Za-z]{2}[0-9]{2}(?:[ \-\u00a0]?[A-Za-z0-9]){8,32}(?![A-Za-z0-9])"
    )

    def detect(self, text: str) -> list[Span]:
        spans: list[Span] = []
        for match in self._CANDIDATE.finditer(text):
            start, candidate = match.start(), match.group()
            # The pattern may run into the next words: try each group boundary, longest first.
            ends = [i for i, ch in enumerate(candidate) if ch in " -\u00a0"] + [len(candidate)]
            for end in sorted(ends, reverse=True):
                if stdnum_iban.is_valid(_compact(candidate[:end])):
                    spans.append(Span.of(text, start, start + end, SpanKind.IBAN))
                    break
        return spans


class CompanyIdDetector:
    """SIREN (9 digits) and SIRET (14 digits), spaced or not, with their Luhn checksum."""

    name: str = "company_id"
    _CANDIDATE = re.compile(
        r"(?<![\w.,])(?<!\d[ .\u00a0\u202f])"
        r"\d{3}[ .\u00a0\u202f]?\d{3}[ .\u00a0\u202f]?\d{3}"
        r"(?:[ .\u00a0\u202f]?\d{5}|[ .\u00a0\u202f]?\d{3}[ .\u00a0\u202f]?\d{2})?"
        r"(?![\w])(?![ .\u00a0\u202f,]\d)"
    )
    _AMOUNT = re.compile(r"\s?(?:€|k€|M€|\$|£|euros?\b|eur\b|dollars?\b|pounds?\b)", re.I)

    def detect(self, text: str) -> list[Span]:
        spans: list[Span] = []
        for match in self._CANDIDATE.finditer(text):
            if self._AMOUNT.match(text, match.end()):
                continue
            digits = _compact(match.group())
            if len(digits) == 14 and stdnum_siret.is_valid(digits):
                spans.append(Span.of(text, *match.span(), SpanKind.COMPANY_ID))
            elif stdnum_siren.is_valid(digits[:9]):
                # A SIRET with a wrong establishment number still discloses its SIREN.
                end = match.start()
                seen = 0
                while seen < 9:
                    seen += text[end].isdigit()
                    end += 1
                spans.append(Span.of(text, match.start(), end, SpanKind.COMPANY_ID))
        return spans


class NirDetector:
    """French social-security numbers (NIR): 13 characters and a 2-digit key, 2A/2B for Corsica."""

    name: str = "nir"
    _CANDIDATE = re.compile(
        rf"(?<![\w])[1-478](?:{_SEP}?[0-9]){{4}}{_SEP}?(?:[0-9]{{2}}|2[ABab])"
        rf"(?:{_SEP}?[0-9]){{8}}(?![\w])"
    )

    def detect(self, text: str) -> list[Span]:
        return [
            Span.of(text, *m.span(), SpanKind.NIR)
            for m in self._CANDIDATE.finditer(text)
            if stdnum_nir.is_valid(_compact(m.group()))
        ]


class UrlDetector:
    """Links: with a scheme, starting with "www.", or a bare domain with a known TLD."""

    name: str = "url"
    _URL_CHARS = r"[^\s<>\"«»\u201c\u201d]"
    _CHUNK = re.compile(r"\S+")

    def __init__(self, lexicon: Lexicon) -> None:
        patterns = [
            rf"\b(?:https?|ftp)://{self._URL_CHARS}+",
            rf"(?<![\w.@/\-])www\.{self._URL_CHARS}+",
        ]
        if lexicon.top_level_domains:
            tlds = "|".join(sorted(map(re.escape, lexicon.top_level_domains), key=len)[::-1])
            label = r"[^\W_](?:[\w\-]{0,61}[^\W_])?"
            patterns.append(
                rf"(?<![\w.@/\-])(?:{label}\.)+(?:{tlds})(?::\d{{2,5}})?(?![\w\-])"
                rf"(?:/{self._URL_CHARS}*)?"
            )
        self._regex = re.compile("|".join(patterns), re.IGNORECASE)

    def detect(self, text: str) -> list[Span]:
        if "." not in text and "://" not in text:
            return []
        spans: list[Span] = []
        # Links hold no space: search only the chunks that could be one (much faster).
        for chunk in self._CHUNK.finditer(text):
            if "." not in chunk.group():
                continue
            for match in self._regex.finditer(text, chunk.start(), chunk.end()):
                start, end = match.span()
                end = self._trim(text, start, end)
                if end > start:
                    spans.append(Span.of(text, start, end, SpanKind.URL))
        return spans

    @staticmethod
    def _trim(text: str, start: int, end: int) -> int:
        """Drop sentence punctuation glued to the link, and a closing bracket it did not open."""
        while end > start:
            last = text[end - 1]
            if last in _TRAILING_PUNCTUATION or (
                last in ")]"
                and text.count("(" if last == ")" else "[", start, end)
                < text.count(last, start, end)
            ):
                end -= 1
            else:
                break
        return end


class AddressDetector:
    """Street addresses: a number, a street type and a name, plus a following postcode.

    French: "12 rue de la Paix, 75002 Paris", "3 bis avenue Foch". English: "10 Downing
    Street", "221B Baker Street". Street types that are also common words ("12 cours de
    maths") need a capitalised street name.
    """

    name: str = "address"
    _NUMBER = re.compile(r"(?<![\w,.\-/])(\d{1,5})(?:([A-Za-z])(?![\w]))?(?:\s?([A-Za-z]+)\b)?")
    _WORD = re.compile(r"[^\W\d_]+(?:['\u2019\-][^\W\d_]+)*\.?")
    _GAP = re.compile(r"[ \t\u00a0]+")
    _COMMA_GAP = re.compile(r"[ \t\u00a0]*,?[ \t\u00a0]+")
    _POSTCODE = re.compile(
        r"[ \t\u00a0]*,?[ \t\u00a0]*(?:\d{5}|\d{2}[ \u00a0]\d{3})[ \t\u00a0]+"
        r"[^\W\d_][\w'\u2019]*(?:[ \-][A-Z][\w'\u2019]*){0,3}"
    )
    _NAME_PARTICLES = frozenset({"de", "du", "des", "la", "le", "les", "aux", "au"})
    _MAX_NAME_WORDS = 6

    def __init__(self, lexicon: Lexicon) -> None:
        self._lexicon = lexicon

    def detect(self, text: str) -> list[Span]:
        if not any(ch.isdigit() for ch in text):
            return []
        spans: list[Span] = []
        for match in self._NUMBER.finditer(text):
            span = self._french(text, match) or self._english(text, match)
            if span is not None:
                spans.append(span)
        return spans

    def _word_at(self, text: str, pos: int) -> tuple[int, int, str] | None:
        match = self._WORD.match(text, pos)
        return (match.start(), match.end(), match.group()) if match else None

    def _french(self, text: str, number: re.Match[str]) -> Span | None:
        pos = number.end(1)
        suffix = number.group(3)
        if suffix and fold(suffix) in self._lexicon.number_suffixes:
            pos = number.end(3)
        elif number.group(2) and fold(number.group(2)) in self._lexicon.number_suffixes:
            pos = number.end(2)
        gap = self._COMMA_GAP.match(text, pos)
        if gap is None:
            return None
        street_type = self._word_at(text, gap.end())
        if street_type is None:
            return None
        folded_type = fold(street_type[2]).rstrip(".")
        if folded_type not in self._lexicon.french_street_types:
            return None
        end = self._street_name_end(
            text,
            street_type[1],
            need_capital=folded_type in self._lexicon.ambiguous_french_street_types,
        )
        if end is None:
            return None
        postcode = self._POSTCODE.match(text, end)
        if postcode is not None:
            end = postcode.end()
        return Span.of(text, number.start(), end, SpanKind.ADDRESS)

    def _street_name_end(self, text: str, pos: int, *, need_capital: bool) -> int | None:
        """End of the street name that starts after `pos`, or None when there is none."""
        end: int | None = None
        names = 0
        particles = 0
        while names < self._MAX_NAME_WORDS:
            gap = self._GAP.match(text, pos)
            if gap is None:
                break
            word = self._word_at(text, gap.end())
            if word is None:
                break
            _, word_end, surface = word
            folded = fold(surface).rstrip(".")
            core = folded.rsplit("'", 1)[-1]
            if folded in self._NAME_PARTICLES:
                pos = word_end
                particles += 1
                continue
            capitalised = _after_elision(surface)[:1].isupper()
            if end is None and need_capital and not capitalised and (
                # "3 place bellecour" is an address; "12 cours de maths", "3 place libre" not.
                particles
                or self._lexicon.is_stop_word(folded)
                or folded in load_gazetteer().common_words
            ):
                return None
            if not capitalised and (
                self._lexicon.is_stop_word(folded) or self._lexicon.is_stop_word(core)
            ):
                break
            end = word_end if not surface.endswith(".") else word_end - 1
            pos = word_end
            names += 1
        return end

    def _english(self, text: str, number: re.Match[str]) -> Span | None:
        pos = number.end(2) if number.group(2) else number.end(1)
        words: list[tuple[int, int, str]] = []
        while len(words) < 4:
            gap = self._GAP.match(text, pos)
            if gap is None:
                break
            word = self._word_at(text, gap.end())
            if word is None:
                break
            words.append(word)
            pos = word[1]
            folded = fold(word[2]).rstrip(".")
            if len(words) >= 2 and folded in self._lexicon.english_street_types:
                names = words[:-1]
                street_type = word[2]
                capitalised = all(w[2][0].isupper() for w in names) and street_type[0].isupper()
                lowercase = not any(
                    self._lexicon.is_stop_word(fold(w[2])) for w in names
                ) and folded in {"street", "road", "avenue", "lane", "drive"}
                if capitalised or lowercase:
                    end = word[1] - 1 if street_type.endswith(".") else word[1]
                    return Span.of(text, number.start(), end, SpanKind.ADDRESS)
                return None
            if self._lexicon.is_stop_word(folded) and not word[2][0].isupper():
                break
        return None
