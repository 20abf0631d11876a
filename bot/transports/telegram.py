"""Telegram through python-telegram-bot's `Bot`: our own polling loop, webhook updates, and
rendering of `Outbound` (long texts split, choices as an inline keyboard, rate limits).

PTB's `Updater` confirms updates before handlers run (at-most-once). Here the `getUpdates`
offset moves only once the updates are durably handled (at-least-once), and the engine's
message-id dedupe (`tg:<update_id>`) makes a redelivery harmless. Nothing is ever downloaded:
an attachment becomes `Inbound(attachment=...)` from the update's fields alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest

from bot.clock import Clock
from bot.config import TelegramConfig
from bot.engine.core import Engine
from bot.errors import UserError
from bot.messages import AttachmentKind, Document, Inbound
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

log = logging.getLogger("mentorbot.telegram")

ALLOWED_UPDATES = ("message", "callback_query")
MAX_TEXT = 4096  # Telegram's limit, in UTF-16 code units
MAX_CAPTION = 1024  # a document's caption
MAX_LABEL = 60  # longer button labels are cut: Telegram shows them on one line
SEND_ATTEMPTS = 3  # RetryAfter is honoured this many times before giving up for now
POISON_LIMIT = 5  # an update that keeps failing is skipped after this many attempts
OFFSET_KEY = "offset"  # transport_state("telegram", ...): the next getUpdates offset
USERNAME_KEY = "username"  # read by `mentorbot invite` for its t.me start link
WEBHOOK_PATH = "/webhooks/telegram"


# -- receiving ----------------------------------------------------------------------------


class MalformedUpdate(ValueError):
    """An update whose fields do not have the Bot API's types."""


@dataclass(frozen=True, slots=True)
class Received:
    """What an update asks of us: an inbound for the engine and/or a callback to answer."""

    inbound: Inbound | None
    callback_id: str | None = None


def attachment_kind(message: Message) -> AttachmentKind | None:
    """The kind of non-text content, or None for a service message (nothing to answer)."""
    if message.photo or getattr(message, "live_photo", None):
        return AttachmentKind.IMAGE
    if message.animation or message.video or message.video_note:
        return AttachmentKind.VIDEO
    if message.voice or message.audio:
        return AttachmentKind.AUDIO
    if message.sticker:
        return AttachmentKind.STICKER
    if message.document:
        return AttachmentKind.DOCUMENT
    if message.location or message.venue:
        return AttachmentKind.LOCATION
    if message.contact:
        return AttachmentKind.CONTACT
    if message.effective_attachment is not None:
        return AttachmentKind.OTHER
    return None


def _expect(value: object, kind: type) -> object:
    """`value` when it has the Bot API's type; a TypeError (a malformed update) otherwise."""
    if not isinstance(value, kind) or isinstance(value, bool):
        raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")
    return value


def parse_update(update: Update, now: datetime) -> Received | None:
    """Turn a Telegram update into what the engine understands; None when it is not for us."""
    message_id = f"tg:{update.update_id}"
    query = update.callback_query
    if query is not None:
        chat = query.message.chat if query.message is not None else None
        if chat is not None and chat.type != "private":
            return Received(None, query.id)
        chat_id = chat.id if chat is not None else query.from_user.id
        _expect(chat_id, int)
        button = parse_button(query.data)
        inbound = None
        if button is not None:
            inbound = pressed(f"telegram:{chat_id}", message_id, now, *button)
        return Received(inbound, query.id)
    message = update.message
    if message is None or message.chat.type != "private":
        return None
    sender = f"telegram:{_expect(message.chat.id, int)}"
    at = message.date.astimezone(UTC) if isinstance(message.date, datetime) else now
    if message.text is not None:
        _expect(message.text, str)
        return Received(Inbound(sender=sender, message_id=message_id, at=at, text=message.text))
    kind = attachment_kind(message)
    if kind is None:
        return None
    return Received(Inbound(sender=sender, message_id=message_id, at=at, attachment=kind))


# -- rate limits --------------------------------------------------------------------------


class RateLimiter:
    """About one message a second per chat and `per_second` overall, as Telegram asks;
    `pause` stops everything after a flood-control answer (RetryAfter)."""

    def __init__(
        self,
        per_chat: float,
        per_second: float,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.per_chat = per_chat
        self.spacing = 1.0 / per_second
        self._monotonic = monotonic
        self._sleep = sleep
        self._next_any = 0.0
        self._paused_until = 0.0
        self._next: dict[int, float] = {}

    async def acquire(self, chat_id: int) -> None:
        now = self._monotonic()
        at = max(now, self._next_any, self._paused_until, self._next.get(chat_id, 0.0))
        self._next_any = at + self.spacing
        self._next[chat_id] = at + self.per_chat
        if len(self._next) > 1024:
            self._next = {k: v for k, v in self._next.items() if v > now}
        if at > now:
            await self._sleep(at - now)

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._monotonic() + seconds)


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value: Any = exc.retry_after
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


# -- rendering ----------------------------------------------------------------------------


def keyboard(choices: Sequence[str], prompt: str = "") -> InlineKeyboardMarkup | None:
    """One button per row; the button carries its prompt's key and the choice's number, never
    its label."""
    if not choices:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(truncate(label, MAX_LABEL), callback_data=choice_data(i, prompt))]
            for i, label in enumerate(choices, 1)
        ]
    )


def render(text: str, choices: Sequence[str]) -> list[str]:
    """The text parts of a message; the keyboard goes with the last one."""
    if not text.strip():
        text = numbered(tuple(choices))
    return split_text(text, MAX_TEXT, utf16=True)


# -- the channel --------------------------------------------------------------------------


class TelegramChannel:
    """Receives Telegram updates (from the poller or the webhook) and delivers outbox entries."""

    name = "telegram"

    def __init__(
        self,
        config: TelegramConfig,
        dispatcher: Dispatcher,
        clock: Clock,
        *,
        public_url: str | None = None,
        bot: Bot | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        if not config.token:
            raise UserError(
                "transports.telegram.token: required when transports.telegram is enabled"
            )
        self.config = config
        self.dispatcher = dispatcher
        self.clock = clock
        self.public_url = public_url
        self.bot = bot or Bot(
            config.token,
            base_url=config.base_url,
            request=HTTPXRequest(
                connection_pool_size=16,
                read_timeout=15.0,
                write_timeout=15.0,
                connect_timeout=5.0,
                pool_timeout=5.0,
            ),
            get_updates_request=HTTPXRequest(
                connection_pool_size=2,
                read_timeout=10.0,
                write_timeout=10.0,
                connect_timeout=5.0,
                pool_timeout=5.0,
            ),
        )
        self.limiter = limiter or RateLimiter(config.chat_interval, config.global_rate)

    @property
    def webhook_mode(self) -> bool:
        return self.config.mode == "webhook"

    async def start(self) -> None:
        """Check the token (getMe), then point Telegram at our webhook or clear it for polling."""
        try:
            await self.bot.initialize()
            if self.webhook_mode:
                if not self.public_url:
                    raise UserError(
                        "server.public_url: required when transports.telegram.mode is webhook"
                    )
                await self.bot.set_webhook(
                    url=self.public_url.rstrip("/") + WEBHOOK_PATH,
                    secret_token=self.config.webhook_secret,
                    allowed_updates=list(ALLOWED_UPDATES),
                )
            else:
                await self.bot.delete_webhook()
        except InvalidToken:
            raise UserError("transports.telegram.token: rejected by the Bot API") from None
        except TelegramError as exc:
            raise UserError(
                f"transports.telegram: the Bot API at {self.config.base_url} "
                f"answered: {exc.message}"
            ) from None
        username = self.bot.username
        store = self.dispatcher.engine.store

        def remember() -> None:
            with store.turn() as uow:
                if uow.transport_get(self.name, USERNAME_KEY) != username:
                    uow.transport_put(self.name, USERNAME_KEY, username)

        await asyncio.to_thread(remember)
        log.info("telegram ready bot=%s mode=%s", username, self.config.mode)

    async def stop(self) -> None:
        with contextlib.suppress(TelegramError):
            await self.bot.shutdown()

    # -- in -------------------------------------------------------------------------------

    def update_from_json(self, data: object) -> Update:
        """A webhook body as an `Update`; ValueError when it is not one."""
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            raise ValueError("not a Telegram update")
        try:
            update = Update.de_json(data, self.bot)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise ValueError("not a Telegram update") from exc
        return update

    async def process(self, update: Update) -> None:
        """Handle one update durably (with its replies queued), then answer a button press."""
        try:
            received = parse_update(update, self.clock.now())
        except (AttributeError, TypeError, ValueError) as exc:
            # Fields of the wrong type (a client or proxy that is not the Bot API): refused
            # as a whole, never half handled.
            raise MalformedUpdate(str(update.update_id)) from exc
        if received is None:
            log.debug("update ignored update=%s", update.update_id)
            return
        if received.inbound is not None:
            await self.dispatcher.receive(received.inbound)
            log.info("update handled update=%s", update.update_id)
        if received.callback_id is not None:
            try:
                await self.bot.answer_callback_query(received.callback_id)
            except TelegramError as exc:
                log.info(
                    "callback not answered update=%s error=%s", update.update_id, type(exc).__name__
                )

    # -- out ------------------------------------------------------------------------------

    async def deliver(self, entry: Entry, progress: Progress) -> Result:
        try:
            chat_id = int(entry.out.to.split(":", 1)[1])
        except (IndexError, ValueError):
            log.error("not a telegram chat id to=%s key=%s", entry.out.to, entry.out.key)
            return Result.DROP
        if entry.out.document is not None:
            return await self._send_document(chat_id, entry.out.text, entry.out.document)
        parts = render(entry.out.text, entry.out.choices)
        markup = keyboard(entry.out.choices, entry.out.prompt)
        last = len(parts) - 1
        for index in range(min(entry.parts, last), len(parts)):
            result = await self._send(chat_id, parts[index], markup if index == last else None)
            if result is not Result.SENT:
                return result
            if index < last:
                await progress(index + 1)
        return Result.SENT

    async def _send(self, chat_id: int, text: str, markup: InlineKeyboardMarkup | None) -> Result:
        return await self._call(
            chat_id, lambda: self.bot.send_message(chat_id=chat_id, text=text, reply_markup=markup)
        )

    async def _send_document(self, chat_id: int, caption: str, document: Document) -> Result:
        """`sendDocument`, a multipart upload of the file (never a link to it)."""
        return await self._call(
            chat_id,
            lambda: self.bot.send_document(
                chat_id=chat_id,
                document=InputFile(document.content, filename=document.filename),
                caption=truncate(caption, MAX_CAPTION) if caption.strip() else None,
            ),
        )

    async def _call(self, chat_id: int, send: Callable[[], Awaitable[Message]]) -> Result:
        for _ in range(SEND_ATTEMPTS):
            await self.limiter.acquire(chat_id)
            try:
                await send()
                return Result.SENT
            except RetryAfter as exc:
                seconds = retry_after_seconds(exc)
                log.warning("telegram flood control chat=%s retry_after=%.1fs", chat_id, seconds)
                self.limiter.pause(seconds)
            except (Forbidden, ChatMigrated) as exc:
                log.warning("telegram refused chat=%s error=%s", chat_id, type(exc).__name__)
                return Result.DROP
            except BadRequest as exc:
                log.error("telegram bad request chat=%s error=%s", chat_id, exc.message)
                return Result.DROP
            except NetworkError as exc:
                log.warning("telegram unreachable chat=%s error=%s", chat_id, type(exc).__name__)
                return Result.RETRY
            except TelegramError as exc:
                log.error("telegram error chat=%s error=%s", chat_id, type(exc).__name__)
                return Result.RETRY
        return Result.RETRY


class TelegramPoller:
    """`getUpdates` in a loop; the offset is stored only after the updates are handled."""

    def __init__(self, channel: TelegramChannel, engine: Engine) -> None:
        self.channel = channel
        self.engine = engine
        self._failures: dict[int, int] = {}

    @property
    def offset(self) -> int | None:
        with self.engine.store.read() as uow:
            value = uow.transport_get("telegram", OFFSET_KEY)
        return value if isinstance(value, int) else None

    async def _store_offset(self, offset: int) -> None:
        def change() -> None:
            with self.engine.store.turn() as uow:
                uow.transport_put("telegram", OFFSET_KEY, offset)

        await asyncio.to_thread(change)

    async def fetch(self, timeout: int) -> tuple[Update, ...]:
        return await self.channel.bot.get_updates(
            offset=self.offset, timeout=timeout, allowed_updates=list(ALLOWED_UPDATES)
        )

    async def handle(self, updates: Sequence[Update]) -> int:
        """Handle updates in order; store the offset past the last one handled.

        An update that raises stops the batch (it is fetched again), unless it failed
        `POISON_LIMIT` times: then it is skipped, so that one bad update cannot block everyone."""
        done: int | None = None
        count = 0
        try:
            for update in updates:
                try:
                    await self.channel.process(update)
                except MalformedUpdate:
                    log.warning("malformed update skipped update=%s", update.update_id)
                except Exception:
                    failures = self._failures.get(update.update_id, 0) + 1
                    self._failures[update.update_id] = failures
                    if failures < POISON_LIMIT:
                        raise
                    log.exception(
                        "update skipped after %d failures update=%s", failures, update.update_id
                    )
                else:
                    count += 1
                self._failures.pop(update.update_id, None)
                done = update.update_id
        finally:
            if done is not None:
                await self._store_offset(done + 1)
        return count

    async def poll_once(self, timeout: int = 0) -> int:
        return await self.handle(await self.fetch(timeout))

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set; a long poll in progress is abandoned (nothing was
        handled from it), updates being handled are finished."""
        backoff = 1.0
        stopper = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                fetch = asyncio.create_task(self.fetch(self.channel.config.poll_timeout))
                await asyncio.wait({fetch, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if not fetch.done():
                    fetch.cancel()
                    with contextlib.suppress(asyncio.CancelledError, TelegramError):
                        await fetch
                    return
                try:
                    await self.handle(fetch.result())
                    backoff = 1.0
                except Exception as exc:
                    if isinstance(exc, TelegramError):
                        log.warning("telegram polling error=%s", type(exc).__name__)
                    else:
                        log.exception("telegram update failed")
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=backoff)
                    backoff = min(backoff * 2, 30.0)
        finally:
            stopper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stopper
