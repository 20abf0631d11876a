"""One Starlette app: health and metrics, the Telegram webhook and the WhatsApp webhook.

A webhook is answered 200 only once everything it carried is durably recorded (the message
handled, the replies in the outbox); before that, an error answer makes the platform retry,
and the message-id dedupe makes the retry harmless. Secrets and signatures are checked before
anything is read: a refused request leaves no trace but a log line.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.ops import metrics
from bot.ops.health import Readiness, runtime_checks
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

    readiness = Readiness(runtime_checks(runtime))

    async def healthz(request: Request) -> Response:  # also /livez: the process answers
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        report = await asyncio.to_thread(readiness.report)
        return JSONResponse(report.as_json(), status_code=200 if report.ready else 503)

    async def prometheus(request: Request) -> Response:
        body = await asyncio.to_thread(metrics.exposition)  # the outbox probe reads the store
        return Response(body, media_type=metrics.CONTENT_TYPE)

    async def telegram_webhook(request: Request) -> Response:
        channel = runtime.telegram
        if channel is None or not channel.webhook_mode:
            return _status(404, "not found")
        expected = (channel.config.webhook_secret or "").encode("utf-8")
        given = request.headers.get("x-telegram-bot-api-secret-token", "").encode("utf-8")
        if not expected or not hmac.compare_digest(given, expected):
            log.warning("webhook refused channel=telegram reason=secret_token")
            return _status(403, "forbidden")
        try:
            body = await _body(request)
        except _TooLarge:
            return _status(413, "too large")
        try:
            update = channel.update_from_json(json.loads(body))
        except (ValueError, RecursionError):
            log.warning("webhook refused channel=telegram reason=not_an_update")
            return _status(400, "bad request")
        try:
            await channel.process(update)
        except MalformedUpdate:
            log.warning("webhook refused channel=telegram reason=malformed_update")
            return _status(400, "bad request")
        except Exception:
            log.exception("webhook failed channel=telegram update=%s", update.update_id)
            return _status(500, "error")
        return _status(200, "ok")

    async def whatsapp_verify(request: Request) -> Response:
        channel = runtime.whatsapp
        if channel is None:
            return _status(404, "not found")
        params = request.query_params
        if not channel.subscription_valid(params.get("hub.mode"), params.get("hub.verify_token")):
            log.warning("subscription refused channel=whatsapp reason=verify_token")
            return PlainTextResponse("forbidden", status_code=403)
        return PlainTextResponse(params.get("hub.challenge", ""))

    async def whatsapp_webhook(request: Request) -> Response:
        channel = runtime.whatsapp
        if channel is None:
            return _status(404, "not found")
        header = request.headers.get("x-hub-signature-256")
        if not header:
            log.warning("webhook refused channel=whatsapp reason=no_signature")
            return _status(401, "unauthorized")
        try:
            body = await _body(request)
        except _TooLarge:
            return _status(413, "too large")
        if not channel.signature_valid(body, header):
            log.warning("webhook refused channel=whatsapp reason=bad_signature")
            return _status(403, "forbidden")
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            log.warning("webhook refused channel=whatsapp reason=malformed_json")
            return _status(400, "bad request")
        batch = parse_webhook(payload)
        try:
            await channel.process(batch)
        except Exception:
            log.exception("webhook failed channel=whatsapp messages=%d", len(batch.messages))
            return _status(500, "error")
        return _status(200, "ok")

    return Starlette(routes=[
        Route("/healthz", healthz, methods=["GET"]),
        Route("/livez", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", prometheus, methods=["GET"]),
        Route("/webhooks/telegram", telegram_webhook, methods=["POST"]),
        Route("/webhooks/whatsapp", whatsapp_verify, methods=["GET"]),
        Route("/webhooks/whatsapp", whatsapp_webhook, methods=["POST"]),
    ])
