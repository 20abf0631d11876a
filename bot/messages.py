"""Transport-neutral messages: what the engine receives and what it emits.

Transports translate their platform's payloads into `Inbound` and render `Outbound`;
the engine never sees a platform type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class AttachmentKind(StrEnum):
    """Kinds of non-text content. The content itself is never fetched nor stored."""

    IMAGE = "image"
    DOCUMENT = "document"
    AUDIO = "audio"
    VIDEO = "video"
    STICKER = "sticker"
    LOCATION = "location"
    CONTACT = "contact"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message from a person.

    `sender` is a person id `channel:native-id`. Exactly one of `text` and `attachment`
    is set. `message_id` is the platform's id, unique per channel, used to recognise
    redeliveries. `choice` is set when the person pressed a button: the 1-based index
    of the choice offered in the last prompt. `prompt` is the key of the prompt a pressed
    button belongs to (`Outbound.prompt`): an old button is told apart from a current one.
    """

    sender: str
    message_id: str
    at: datetime
    text: str | None = None
    attachment: AttachmentKind | None = None
    choice: int | None = None
    prompt: str | None = None

    @property
    def channel(self) -> str:
        return self.sender.split(":", 1)[0]


# The channels whose transport can send a file (Telegram `sendDocument`, a WhatsApp document
# message): the engine offers a document only there, and says where to find it elsewhere.
DOCUMENT_CHANNELS = frozenset({"telegram", "whatsapp"})


@dataclass(frozen=True, slots=True)
class Document:
    """A file sent to a person (the whole export of their trace). Never stored: an outbound
    that carries one is volatile, and the file is rebuilt on the next request."""

    filename: str
    media_type: str
    content: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Outbound:
    """One message to a person, already in their language.

    `choices` are the labels offered, in order; a person answers by label or number.
    `key` identifies the outbound durably (for the outbox and delivery statuses).
    `meta["prompt"]`: the key of the prompt its choices belong to, carried by every button.
    `volatile`: never written to the store (it quotes identifying data the person must
    decide about, or goes to someone of whom nothing is kept): delivered from memory only.
    `document`: a file sent with `text` as its caption (volatile: never stored).
    """

    to: str
    text: str
    choices: tuple[str, ...] = ()
    key: str = ""
    meta: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    volatile: bool = field(default=False, compare=False)
    about: str | None = field(default=None, compare=False)  # the question id it concerns
    document: Document | None = field(default=None, compare=False)

    @property
    def prompt(self) -> str:
        """The key of the prompt its buttons belong to ("" when it offers no choice)."""
        return self.meta.get("prompt", "") if self.choices else ""

    @property
    def channel(self) -> str:
        return self.to.split(":", 1)[0]
