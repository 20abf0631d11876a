"""WhatsApp Cloud API: our own parser of the raw webhook JSON, and sending with httpx.

Receiving: every entry, change and item of `messages[]` / `statuses[]` / `errors[]` is walked;
`contacts` and `wa_id` may be missing; media are never fetched (an attachment is refused from
its type alone).

Sending goes straight to `{api_base_url}/v{api_version}/{phone_number_id}/messages` with httpx,
not through pywa: `pywa.api.GraphAPI.__init__` overwrites the session's base URL with the
hard-coded `https://graph.facebook.com/v{version}`, so another endpoint (a fake in tests, a
proxy) could only be reached by patching pywa's internals after construction. The three
payloads needed here (text, interactive, template, document) are plain JSON, and the error
codes that matter are mapped below. A document (the export of a trace) is first uploaded to
`/{phone_number_id}/media` (multipart), then sent as a document message with the media id.

The 24-hour customer-service window: free-form messages only reach someone whose last message
is less than 24 h old. Otherwise (or when Meta answers 131047, at once or later in a `failed`
status) the message stays held in the person's outbox, the configured template is sent once,
and the held messages go out when the person writes back.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bot.config import WhatsAppConfig
from bot.domain import OutboxStatus
from bot.engine.core import Engine
from bot.errors import UserError
from bot.messages import AttachmentKind, Document, Inbound, Outbound
from bot.transports.outbox import (
    Dispatcher,
    Entry,
    Progress,
    Result,
    choice_data,
    numbered,
    parse_button,
    pressed,
    split_text,
    truncate,
)
from bot.transports.shared_rate import SharedRate

log = logging.getLogger("mentorbot.whatsapp")

WINDOW = timedelta(hours=24)
WINDOW_CLOSED = frozenset({131047})
RATE_LIMITED = frozenset({4, 80007, 130429, 131056})
TEXT_LIMIT = 4096
BUTTONS_BODY_LIMIT = 1024
LIST_BODY_LIMIT = 4096
CAPTION_LIMIT = 1024  # a document message's caption
# The document types the Cloud API accepts; any other text (an HTML export) goes as text/plain
# with its own file name, whose extension tells the phone how to open it.
DOCUMENT_TYPES = frozenset({
    "text/plain", "application/pdf", "application/msword", "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
})
MAX_BUTTONS, BUTTON_TITLE = 3, 20
MAX_ROWS, ROW_TITLE, ROW_DESCRIPTION = 10, 24, 72
STATUS_RANK = {"sent": 1, "delivered": 2, "read": 3, "played": 3, "failed": 4}

ATTACHMENTS = {
    "image": AttachmentKind.IMAGE,
    "document": AttachmentKind.DOCUMENT,
    "audio": AttachmentKind.AUDIO,
    "voice": AttachmentKind.AUDIO,
    "video": AttachmentKind.VIDEO,
    "sticker": AttachmentKind.STICKER,
    "location": AttachmentKind.LOCATION,
    "contacts": AttachmentKind.CONTACT,
}
IGNORED_TYPES = frozenset({"reaction", "system", "request_welcome"})


# -- signature and subscription -----------------------------------------------------------


def signature_valid(app_secret: str, body: bytes, header: str) -> bool:
    """`X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`, in constant time."""
    scheme, _, given = header.strip().partition("=")
    if scheme.lower() != "sha256" or not given:
        return False
    expected = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode("ascii"), given.strip().lower().encode("ascii",
                                                                                     "replace"))


def sign(app_secret: str, body: bytes) -> str:
    """The header value Meta would send for `body` (tests, tools)."""
    return "sha256=" + hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


# -- parsing ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WaMessage:
    """One incoming message, already reduced to what the engine understands."""

    wamid: str
    wa_id: str
    phone_number_id: str | None
    at: datetime | None
    text: str | None = None
    choice: int | None = None
    attachment: AttachmentKind | None = None
    prompt: str | None = None  # the key of the prompt of the button pressed

    def inbound(self, now: datetime) -> Inbound:
        sender, message_id, at = f"whatsapp:{self.wa_id}", f"wa:{self.wamid}", self.at or now
        if self.choice is not None:
            return pressed(sender, message_id, at, self.choice, self.prompt)
        if self.attachment is not None:
            return Inbound(sender=sender, message_id=message_id, at=at, attachment=self.attachment)
        return Inbound(sender=sender, message_id=message_id, at=at, text=self.text or "")


@dataclass(frozen=True, slots=True)
class WaStatus:
    """A delivery status of a message we sent."""

    wamid: str
    status: str
    wa_id: str | None
    phone_number_id: str | None
    at: datetime | None
    codes: tuple[int, ...] = ()


@dataclass
class WaBatch:
    """Everything one webhook POST carries."""

    messages: list[WaMessage] = field(default_factory=list)
    statuses: list[WaStatus] = field(default_factory=list)
    errors: list[int] = field(default_factory=list)
    skipped: int = 0  # items that could not be read (no id, no sender...)


def _dicts(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                yield item


def _str(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _time(value: Any) -> datetime | None:
    raw = _str(value)
    if raw is None or not raw.isdigit():
        return None
    try:
        return datetime.fromtimestamp(int(raw), UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _codes(value: Any) -> tuple[int, ...]:
    out = []
    for error in _dicts(value):
        code = error.get("code")
        if isinstance(code, int) and not isinstance(code, bool):
            out.append(code)
    return tuple(out)


Button = tuple[int, str | None]  # the choice's number, the key of its prompt


def _content(message: dict[str, Any]) -> tuple[str | None, Button | None, AttachmentKind | None]:
    """(text, button, attachment) of a message; all None when it is to be ignored."""
    kind = message.get("type")
    if kind == "text":
        text = message.get("text")
        body = text.get("body") if isinstance(text, dict) else None
        if isinstance(body, str):
            return body, None, None
        return None, None, AttachmentKind.OTHER
    if kind == "interactive":
        interactive = message.get("interactive")
        if isinstance(interactive, dict):
            reply = interactive.get(str(interactive.get("type")))
            if interactive.get("type") in ("button_reply", "list_reply") and isinstance(reply,
                                                                                        dict):
                pressed_button = parse_button(reply.get("id"))
                if pressed_button is not None:
                    return None, pressed_button, None
                title = reply.get("title")
                if isinstance(title, str) and title:
                    return title, None, None
        return None, None, AttachmentKind.OTHER
    if kind == "button":  # a quick reply of a template
        button = message.get("button")
        if isinstance(button, dict):
            quick = parse_button(button.get("payload"))
            if quick is not None:
                return None, quick, None
            text = button.get("text")
            if isinstance(text, str) and text:
                return text, None, None
        return None, None, AttachmentKind.OTHER
    if isinstance(kind, str) and kind in IGNORED_TYPES:
        return None, None, None
    if isinstance(kind, str) and kind in ATTACHMENTS:
        return None, None, ATTACHMENTS[kind]
    return None, None, AttachmentKind.OTHER  # unsupported, order, anything new


def parse_webhook(payload: Any) -> WaBatch:
    """Every message, status and error of a webhook body, in order; never raises."""
    batch = WaBatch()
    if not isinstance(payload, dict):
        return batch
    for entry in _dicts(payload.get("entry")):
        for change in _dicts(entry.get("changes")):
            field_name = change.get("field")
            value = change.get("value")
            if field_name not in (None, "messages") or not isinstance(value, dict):
                continue
            metadata = value.get("metadata")
            phone_id = _str(metadata.get("phone_number_id")) if isinstance(metadata,
                                                                             dict) else None
            contacts = [c for c in _dicts(value.get("contacts"))]
            messages = list(_dicts(value.get("messages")))
            for index, message in enumerate(messages):
                wamid = _str(message.get("id"))
                wa_id = _str(message.get("from"))
                if wa_id is None and contacts:
                    contact = contacts[index] if len(contacts) == len(messages) else contacts[0]
                    wa_id = _str(contact.get("wa_id"))
                if wamid is None or wa_id is None:
                    batch.skipped += 1
                    continue
                text, choice, attachment = _content(message)
                if text is None and choice is None and attachment is None:
                    continue
                batch.messages.append(WaMessage(
                    wamid=wamid, wa_id=wa_id, phone_number_id=phone_id,
                    at=_time(message.get("timestamp")), text=text,
                    choice=choice[0] if choice else None, attachment=attachment,
                    prompt=choice[1] if choice else None))
            for status in _dicts(value.get("statuses")):
                wamid, state = _str(status.get("id")), _str(status.get("status"))
                if wamid is None or state is None:
                    batch.skipped += 1
                    continue
                if status.get("recipient_type") == "group":
                    continue
                batch.statuses.append(WaStatus(
                    wamid=wamid, status=state, wa_id=_str(status.get("recipient_id")),
                    phone_number_id=phone_id, at=_time(status.get("timestamp")),
                    codes=_codes(status.get("errors"))))
            batch.errors.extend(_codes(value.get("errors")))
    return batch


# -- rendering ----------------------------------------------------------------------------


def _base(wa_id: str) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": wa_id}


def render(out: Outbound, wa_id: str, list_button: str) -> list[dict[str, Any]]:
    """The Graph API payloads for one outbound: text parts, the last one interactive when there
    are choices (reply buttons, else a list, else numbered lines)."""
    choices = out.choices
    text = out.text if out.text.strip() else numbered(choices)
    buttons = (0 < len(choices) <= MAX_BUTTONS and len(set(choices)) == len(choices)
               and all(0 < len(c) <= BUTTON_TITLE for c in choices))
    listed = not buttons and 0 < len(choices) <= MAX_ROWS
    if choices and not buttons and not listed:
        text = f"{text}\n\n{numbered(choices)}"
    parts = split_text(text, TEXT_LIMIT)
    if buttons or listed:
        last = parts.pop()
        parts.extend(split_text(last, BUTTONS_BODY_LIMIT if buttons else LIST_BODY_LIMIT))
    payloads = [{**_base(wa_id), "type": "text", "text": {"body": p, "preview_url": False}}
                for p in parts]
    if not (buttons or listed):
        return payloads
    body = payloads.pop()["text"]["body"]
    if buttons:
        action: dict[str, Any] = {"buttons": [
            {"type": "reply", "reply": {"id": choice_data(i, out.prompt), "title": label}}
            for i, label in enumerate(choices, 1)]}
        interactive: dict[str, Any] = {"type": "button", "body": {"text": body}, "action": action}
    else:
        rows = []
        for i, label in enumerate(choices, 1):
            row = {"id": choice_data(i, out.prompt), "title": truncate(label, ROW_TITLE)}
            if row["title"] != label:
                row["description"] = truncate(label, ROW_DESCRIPTION)
            rows.append(row)
        interactive = {"type": "list", "body": {"text": body},
                       "action": {"button": list_button, "sections": [{"rows": rows}]}}
    payloads.append({**_base(wa_id), "type": "interactive", "interactive": interactive})
    return payloads


# -- the 24-hour window -------------------------------------------------------------------


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def window_open(meta: dict[str, Any], now: datetime) -> bool:
    """Free-form messages are allowed: their last message is recent, and no 131047 since."""
    last = _instant(meta.get("last_inbound_at"))
    if last is None or now - last >= WINDOW:
        return False
    closed = _instant(meta.get("wa_window_closed_at"))
    return closed is None or last > closed


def template_due(meta: dict[str, Any]) -> bool:
    """The template is sent once per silence: not again until they have written back."""
    sent = _instant(meta.get("wa_template_at"))
    last = _instant(meta.get("last_inbound_at"))
    return sent is None or (last is not None and sent <= last)


@dataclass(frozen=True, slots=True)
class Posted:
    """The outcome of one Graph API call."""

    result: Result
    wamid: str | None = None
    code: int | None = None
    media_id: str | None = None  # an upload's id


# -- the channel --------------------------------------------------------------------------


class WhatsAppChannel:
    """Receives webhook batches and delivers outbox entries through the Graph API."""

    name = "whatsapp"

    def __init__(self, config: WhatsAppConfig, engine: Engine, dispatcher: Dispatcher, *,
                 http: httpx.AsyncClient | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        missing = [k for k in ("token", "phone_number_id", "app_secret", "verify_token")
                   if not getattr(config, k)]
        if missing:
            raise UserError(f"transports.whatsapp.{missing[0]}: required when "
                            "transports.whatsapp is enabled")
        self.config = config
        self.engine = engine
        self.dispatcher = dispatcher
        self._sleep = sleep
        base = f"{config.api_base_url.rstrip('/')}/v{config.api_version}"
        self.http = http or httpx.AsyncClient(timeout=httpx.Timeout(15.0, connect=5.0))
        self.rate: SharedRate | None = None  # the number's rate across workers (runner sets it)
        self._messages_url = f"{base}/{config.phone_number_id}/messages"
        self._media_url = f"{base}/{config.phone_number_id}/media"
        self._headers = {"Authorization": f"Bearer {config.token}"}

    async def start(self) -> None:
        log.info("whatsapp ready phone_number_id=%s", self.config.phone_number_id)

    async def stop(self) -> None:
        await self.http.aclose()

    # -- webhook --------------------------------------------------------------------------

    def signature_valid(self, body: bytes, header: str) -> bool:
        return signature_valid(self.config.app_secret or "", body, header)

    def subscription_valid(self, mode: str | None, token: str | None) -> bool:
        expected = (self.config.verify_token or "").encode("utf-8")
        return mode == "subscribe" and token is not None and bool(expected) and \
            hmac.compare_digest(token.encode("utf-8"), expected)

    def _ours(self, phone_number_id: str | None) -> bool:
        return phone_number_id is None or phone_number_id == self.config.phone_number_id

    async def process(self, batch: WaBatch) -> None:
        """Handle every message (in order) and status durably; raises if one could not be."""
        now = self.engine.clock.now()
        for message in batch.messages:
            if not self._ours(message.phone_number_id):
                log.info("message for another number ignored phone_number_id=%s",
                         message.phone_number_id)
                continue
            await self.dispatcher.receive(message.inbound(now))
            log.info("message handled wamid=%s", message.wamid)
        for status in batch.statuses:
            if self._ours(status.phone_number_id):
                await self.apply_status(status)
        for code in batch.errors:
            log.warning("whatsapp webhook error code=%s", code)
        if batch.skipped:
            log.warning("whatsapp webhook items skipped count=%d", batch.skipped)

    # -- bookkeeping (rows of transport_state owned by this channel) ----------------------

    def _window(self, pid: str) -> dict[str, Any]:
        """The person's window state: their last message (kept by the engine) and ours."""
        with self.engine.store.read() as uow:
            person = uow.peek(pid)
            state = uow.transport_get(self.name, f"window:{pid}")
        meta: dict[str, Any] = dict(state) if isinstance(state, dict) else {}
        meta["last_inbound_at"] = person.last_inbound_at if person else None
        return meta

    def _set_window(self, pid: str, **values: str) -> dict[str, Any]:
        with self.engine.store.turn() as uow:
            state = uow.transport_get(self.name, f"window:{pid}")
            merged: dict[str, Any] = dict(state) if isinstance(state, dict) else {}
            merged.update(values)
            uow.transport_put(self.name, f"window:{pid}", merged, person=pid)
        return self._window(pid)

    async def apply_status(self, status: WaStatus) -> None:
        """Record a delivery status; a 131047 failure holds the message again."""
        if status.wa_id is None:
            return
        pid = f"whatsapp:{status.wa_id}"
        if not await asyncio.to_thread(self.dispatcher.outbox.known, pid):
            return
        again = await asyncio.to_thread(self._apply_status, pid, status)
        log.info("status wamid=%s status=%s", status.wamid, status.status)
        if again:
            self.dispatcher.kick(pid)

    def _apply_status(self, pid: str, status: WaStatus) -> bool:
        now = self.engine.clock.now()
        key = f"delivery:{status.wamid}"
        with self.engine.store.turn() as uow:
            record = uow.transport_get(self.name, key)
            if not isinstance(record, dict):
                return False  # not ours, or already final
            if STATUS_RANK.get(status.status, 0) <= STATUS_RANK.get(str(record.get("status")), 0):
                return False  # seen before, or older news
            if status.status == "sent":
                record["status"] = "sent"
                uow.transport_put(self.name, key, record, person=pid)
                return False
            uow.transport_delete(self.name, key)  # a final status: the record is done
            if status.status != "failed":
                return False
            if not WINDOW_CLOSED & set(status.codes):
                log.warning("not delivered wamid=%s codes=%s", status.wamid,
                            ",".join(map(str, status.codes)))
                return False
            window = uow.transport_get(self.name, f"window:{pid}")
            window = dict(window) if isinstance(window, dict) else {}
            window["wa_window_closed_at"] = (status.at or now).isoformat()
            uow.transport_put(self.name, f"window:{pid}", window, person=pid)
            entry = uow.outbox_entry(str(record.get("key", "")))
            if entry is None:
                return True
            part = record.get("part")
            part = part if isinstance(part, int) and part >= 0 else 0
            uow.outbox_mark(entry.id, OutboxStatus.HELD, parts=min(entry.parts, part))
            return True

    # -- delivery -------------------------------------------------------------------------

    async def deliver(self, entry: Entry, progress: Progress) -> Result:
        pid = entry.out.to
        wa_id = pid.split(":", 1)[1]
        known = entry.id != 0 or await asyncio.to_thread(self.dispatcher.outbox.known, pid)
        if known:
            meta = await asyncio.to_thread(self._window, pid)
            if not window_open(meta, self.engine.clock.now()):
                return await self._hold(pid, wa_id, meta)
        if entry.out.document is not None:
            return await self._deliver_document(pid, wa_id, entry.out.text, entry.out.document)
        payloads = render(entry.out, wa_id, self.config.list_button)
        last = len(payloads) - 1
        for index in range(min(entry.parts, last), len(payloads)):
            posted = await self._post(payloads[index])
            if posted.result is Result.SENT:
                if known and posted.wamid:
                    await asyncio.to_thread(self._record_send, pid, posted.wamid, entry, index)
                if index < last:
                    await progress(index + 1)
                continue
            if posted.result is Result.HELD and known:
                meta = await asyncio.to_thread(
                    self._set_window, pid,
                    wa_window_closed_at=self.engine.clock.now().isoformat())
                return await self._hold(pid, wa_id, meta)
            return Result.DROP if posted.result is Result.HELD else posted.result
        return Result.SENT

    async def _deliver_document(self, pid: str, wa_id: str, caption: str,
                                document: Document) -> Result:
        """Upload the file (`/media`, multipart), then send a document message with its id.
        A document is never stored: a window that closes meanwhile drops it (ask again)."""
        media_type = document.media_type
        if media_type not in DOCUMENT_TYPES:
            media_type = "text/plain" if media_type.startswith("text/") else media_type
        uploaded = await self._upload(document, media_type)
        if uploaded.result is not Result.SENT or not uploaded.media_id:
            log.warning("document upload failed person=%s code=%s", pid, uploaded.code)
            return Result.DROP if uploaded.result is Result.HELD else uploaded.result
        body: dict[str, Any] = {"id": uploaded.media_id, "filename": document.filename}
        if caption.strip():
            body["caption"] = truncate(caption, CAPTION_LIMIT)
        posted = await self._post({**_base(wa_id), "type": "document", "document": body})
        return Result.DROP if posted.result is Result.HELD else posted.result

    async def _upload(self, document: Document, media_type: str) -> Posted:
        files = {"file": (document.filename, document.content, media_type)}
        data = {"messaging_product": "whatsapp", "type": media_type}
        return await self._call(lambda: self.http.post(
            self._media_url, data=data, files=files, headers=self._headers))

    def _record_send(self, pid: str, wamid: str, entry: Entry, part: int) -> None:
        """Kept until a final status: a 131047 failure then holds the message again."""
        if not entry.id:
            return
        with self.engine.store.turn() as uow:
            uow.transport_put(self.name, f"delivery:{wamid}", {
                "key": entry.out.key, "part": part, "status": "sent",
                "sent_at": self.engine.clock.now().isoformat()}, person=pid)

    async def _hold(self, pid: str, wa_id: str, meta: dict[str, Any]) -> Result:
        """The window is closed: send the template once, keep the message."""
        if not template_due(meta):
            return Result.HELD
        template = {**_base(wa_id), "type": "template", "template": {
            "name": self.config.template_name,
            "language": {"code": self.config.template_language}}}
        posted = await self._post(template)
        if posted.result is Result.RETRY:
            return Result.RETRY
        if posted.result is not Result.SENT:
            log.error("template refused person=%s code=%s", pid, posted.code)
        await asyncio.to_thread(self._set_window, pid,
                                wa_template_at=self.engine.clock.now().isoformat())
        log.info("template sent person=%s", pid)
        return Result.HELD

    async def _post(self, payload: dict[str, Any]) -> Posted:
        """One message to the Graph API."""
        return await self._call(lambda: self.http.post(self._messages_url, json=payload,
                                                       headers=self._headers))

    async def _call(self, send: Callable[[], Awaitable[httpx.Response]]) -> Posted:
        """One Graph API call; rate-limit errors are retried after the configured delays."""
        delays = self.config.retry_delays
        for attempt in range(len(delays) + 1):
            if self.rate is not None:
                await self.rate.acquire()
            try:
                response = await send()
            except httpx.HTTPError as exc:
                log.warning("graph api unreachable error=%s", type(exc).__name__)
                return Posted(Result.RETRY)
            body = _json(response)
            if response.status_code < 300:
                messages = body.get("messages")
                first = messages[0] if isinstance(messages, list) and messages else {}
                wamid = _str(first.get("id")) if isinstance(first, dict) else None
                return Posted(Result.SENT, wamid=wamid, media_id=_str(body.get("id")))
            error = body.get("error")
            code = error.get("code") if isinstance(error, dict) else None
            code = code if isinstance(code, int) else None
            if code in RATE_LIMITED or response.status_code == 429:
                if attempt < len(delays):
                    log.warning("graph api rate limit code=%s wait=%.1fs", code, delays[attempt])
                    await self._sleep(delays[attempt])
                    continue
                return Posted(Result.RETRY, code=code)
            if code in WINDOW_CLOSED:
                log.info("graph api window closed code=%s", code)
                return Posted(Result.HELD, code=code)
            if response.status_code >= 500 or response.status_code in (401, 403):
                log.error("graph api error status=%d code=%s", response.status_code, code)
                return Posted(Result.RETRY, code=code)
            log.error("graph api refused status=%d code=%s", response.status_code, code)
            return Posted(Result.DROP, code=code)
        return Posted(Result.RETRY)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
