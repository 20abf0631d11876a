"""One Starlette app: `/healthz`, the Telegram webhook and the WhatsApp webhook.

A webhook is answered 200 only once everything it carried is durably recorded (the message
handled, the replies in the outbox); before that, an error answer makes the platform retry,
and the message-id dedupe makes the retry harmless. Secrets and signatures are checked before
anything is read: a refused request leaves no trace but a log line.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.transports.telegram import MalformedUpdate
from bot.transports.whatsapp import parse_webhook

if TYPE_CHECKING:
    from bot.server.runner import Runtime

log = logging.getLogger("mentorbot.server")

MAX_BODY = 1 << 20  # webhook bodies are small; a larger one is refused unread


class _TooLarge(Exception):
    pass


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _status(code: int, status: str) -> JSONResponse:
    return JSONResponse({"status": status}, status_code=code)


def create_server(runtime: Runtime) -> Starlette:
    """The ASGI app serving `runtime`'s channels."""

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def telegram_webhook(request: Request) -> Response:
        channel = runtime.telegram
        if channel is None or not channel.webhook_mode:
            return _status(404, "not found")
        expected = (channel.config.webhook_secret or "").encode("utf-8")
        given = request.headers.get("x-telegram-bot-api-secret-token", "").encode("utf-8")
        if not expected or not hmac.compare_digest(given, expected):
            log.warning("telegram webhook refused: bad secret token")
            return _status(403, "forbidden")
        try:
            body = await _body(request)
        except _TooLarge:
            return _status(413, "too large")
        try:
            update = channel.update_from_json(json.loads(body))
        except (ValueError, RecursionError):
            log.warning("telegram webhook refused: not an update")
            return _status(400, "bad request")
        try:
            await channel.process(update)
        except MalformedUpdate:
            log.warning("telegram webhook refused: malformed update")
            return _status(400, "bad request")
        except Exception:
            log.exception("telegram webhook failed update=%s", update.update_id)
            return _status(500, "error")
        return _status(200, "ok")

    async def whatsapp_verify(request: Request) -> Response:
        channel = runtime.whatsapp
        if channel is None:
            return _status(404, "not found")
        params = request.query_params
        if not channel.subscription_valid(params.get("hub.mode"), params.get("hub.verify_token")):
            log.warning("whatsapp subscription refused")
            return PlainTextResponse("forbidden", status_code=403)
        return PlainTextResponse(params.get("hub.challenge", ""))

    async def whatsapp_webhook(request: Request) -> Response:
        channel = runtime.whatsapp
        if channel is None:
            return _status(404, "not found")
        header = request.headers.get("x-hub-signature-256")
        if not header:
            log.warning("whatsapp webhook refused: no signature")
            return _status(401, "unauthorized")
        try:
            body = await _body(request)
        except _TooLarge:
            return _status(413, "too large")
        if not channel.signature_valid(body, header):
            log.warning("whatsapp webhook refused: bad signature")
            return _status(403, "forbidden")
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            log.warning("whatsapp webhook refused: malformed JSON")
            return _status(400, "bad request")
        batch = parse_webhook(payload)
        try:
            await channel.process(batch)
        except Exception:
            log.exception("whatsapp webhook failed messages=%d", len(batch.messages))
            return _status(500, "error")
        return _status(200, "ok")

    return Starlette(routes=[
        Route("/healthz", healthz, methods=["GET"]),
        Route("/webhooks/telegram", telegram_webhook, methods=["POST"]),
        Route("/webhooks/whatsapp", whatsapp_verify, methods=["GET"]),
        Route("/webhooks/whatsapp", whatsapp_webhook, methods=["POST"]),
    ])
