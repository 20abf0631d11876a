"""A fake WhatsApp Graph API: a real HTTP server on 127.0.0.1 (random port), in a thread.

`POST /v{version}/{phone_number_id}/messages` accepts a message and answers a new wamid, or an
error when told to fail. `POST /v{version}/{phone_number_id}/media` takes a multipart upload
(`file`, `type`, `messaging_product`) and answers a media id; a document message must name an
uploaded id. Every request is recorded, so that a test can assert that no media was ever
fetched (any other path is answered 404).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.transports.multipart import Upload, parse_multipart
from tests.transports.quiet_server import QuietServer, reply_json

TOKEN = "EAAtest-token"
PHONE_NUMBER_ID = "106540352242922"  # the one of Meta's example payloads (fixtures)
VERSION = "26.0"
# The document types the Cloud API documents for uploads (no text/html among them).
MEDIA_TYPES = frozenset({
    "text/plain", "application/pdf", "application/msword", "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
})


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    ok: bool = True
    wamid: str | None = None


@dataclass
class _Failure:
    status: int
    code: int
    times: int  # -1: always


@dataclass
class FakeGraph:
    token: str = TOKEN
    phone_number_id: str = PHONE_NUMBER_ID
    version: str = VERSION
    url: str = ""
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.media: dict[str, Upload] = {}  # uploaded files by media id
        self.upload_failures = 0  # the next uploads answered 500
        self._lock = threading.Lock()
        self._failures: list[_Failure] = []
        self._next = 0
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                fake._serve(self, "POST")

            def do_GET(self) -> None:
                fake._serve(self, "GET")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = QuietServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # -- scripting ------------------------------------------------------------------------

    def fail(self, code: int, times: int = 1, status: int = 400) -> None:
        """The next `times` messages are refused with Graph error `code` (-1: until `heal`)."""
        with self._lock:
            self._failures.append(_Failure(status, code, times))

    def heal(self) -> None:
        with self._lock:
            self._failures.clear()

    # -- reading --------------------------------------------------------------------------

    def accepted(self, to: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [r.body for r in self.requests if r.ok and r.method == "POST"
                    and r.path.endswith("/messages")
                    and (to is None or r.body.get("to") == to)]

    def uploads(self) -> list[dict[str, Any]]:
        """The accepted `/media` uploads (`file` is an `Upload`), in order."""
        with self._lock:
            return [r.body for r in self.requests if r.ok and r.path.endswith("/media")]

    def attempts(self) -> list[Request]:
        with self._lock:
            return list(self.requests)

    def wamids(self, to: str | None = None) -> list[str]:
        with self._lock:
            return [r.wamid for r in self.requests if r.ok and r.wamid
                    and (to is None or r.body.get("to") == to)]

    # -- serving --------------------------------------------------------------------------

    def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        content_type = handler.headers.get("Content-Type", "")
        body: Any
        if content_type.startswith("multipart/form-data"):
            body = parse_multipart(content_type, raw)
        else:
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
        request = Request(method, handler.path, dict(handler.headers.items()), body)
        with self._lock:
            self.requests.append(request)
        if method == "POST" and handler.path == f"/v{self.version}/{self.phone_number_id}/media":
            self._upload(handler, request)
            return
        expected = f"/v{self.version}/{self.phone_number_id}/messages"
        if method != "POST" or handler.path != expected or not isinstance(body, dict):
            request.ok = False
            reply_json(handler, 404, self._error(100, "Unknown path"))
            return
        if handler.headers.get("Authorization") != f"Bearer {self.token}":
            request.ok = False
            reply_json(handler, 401, self._error(190, "Invalid OAuth access token"))
            return
        failure = self._failure()
        if failure is not None:
            request.ok = False
            reply_json(handler, failure.status, self._error(failure.code, "Failure"))
            return
        document = body.get("document")
        if body.get("type") == "document" and (
                not isinstance(document, dict) or document.get("id") not in self.media):
            request.ok = False  # only uploaded media: never a link the API would fetch
            reply_json(handler, 400, self._error(131053, "Media upload error"))
            return
        with self._lock:
            self._next += 1
            request.wamid = f"wamid.FAKE{self._next:04d}"
        reply_json(handler, 200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
            "messages": [{"id": request.wamid}]})

    def _upload(self, handler: BaseHTTPRequestHandler, request: Request) -> None:
        body = request.body if isinstance(request.body, dict) else {}
        upload = body.get("file")
        if handler.headers.get("Authorization") != f"Bearer {self.token}":
            request.ok = False
            reply_json(handler, 401, self._error(190, "Invalid OAuth access token"))
            return
        if (not isinstance(upload, Upload) or body.get("messaging_product") != "whatsapp"
                or body.get("type") not in MEDIA_TYPES or upload.content_type != body["type"]):
            request.ok = False
            reply_json(handler, 400, self._error(100, "Invalid parameter"))
            return
        if self.upload_failures:
            self.upload_failures -= 1
            request.ok = False
            reply_json(handler, 500, self._error(2, "Service temporarily unavailable"))
            return
        with self._lock:
            self._next += 1
            media_id = f"{9000000 + self._next}"
            self.media[media_id] = upload
        reply_json(handler, 200, {"id": media_id})

    def _failure(self) -> _Failure | None:
        with self._lock:
            if not self._failures:
                return None
            failure = self._failures[0]
            if failure.times > 0:
                failure.times -= 1
                if failure.times == 0:
                    self._failures.pop(0)
            return failure

    @staticmethod
    def _error(code: int, message: str) -> dict[str, Any]:
        return {"error": {"message": message, "type": "OAuthException", "code": code,
                          "fbtrace_id": "FAKE"}}

