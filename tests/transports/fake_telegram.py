"""A fake Telegram Bot API: a real HTTP server on 127.0.0.1 (random port), in a thread.

It answers what the bot uses (getMe, getUpdates with real offset semantics and long polling,
sendMessage, sendDocument as a multipart upload, answerCallbackQuery, setWebhook,
deleteWebhook), records every call, and can be
told to fail. Any other method (getFile...) is recorded and refused, so that a test can assert
that nothing was downloaded.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from tests.transports.multipart import Upload, parse_multipart
from tests.transports.quiet_server import QuietServer, reply_json

TOKEN = "123456:TEST-token"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Mentor", "username": "mentorbot_test_bot"}
LONG_POLL_CAP = 2.0  # seconds: the fake never holds a getUpdates longer than this
JSON_FIELDS = {"chat_id", "offset", "timeout", "limit", "reply_markup", "allowed_updates",
               "message_id", "drop_pending_updates"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float
    ok: bool = True


@dataclass
class _Failure:
    status: int
    body: dict[str, Any]
    times: int  # -1: always


@dataclass
class FakeTelegram:
    token: str = TOKEN
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Condition()
        self._failures: dict[str, list[_Failure]] = {}
        self._next_update = 5000
        self._next_message = 1
        self._replay = False
        self.replayed_at: int | None = None  # index in `calls` of the getUpdates that replayed
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle -----------------------------------------------------------------------

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                fake._serve(self)

            def do_GET(self) -> None:
                fake._serve(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = QuietServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/bot"
        return self.url

    def stop(self) -> None:
        with self._lock:
            self._lock.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # -- scripting ------------------------------------------------------------------------

    def fail(self, method: str, status: int = 500, times: int = 1,
             body: dict[str, Any] | None = None) -> None:
        """The next `times` calls of `method` fail (-1: until `heal`)."""
        body = body or {"ok": False, "error_code": status, "description": "Internal Server Error"}
        with self._lock:
            self._failures.setdefault(method, []).append(_Failure(status, body, times))

    def flood(self, retry_after: int = 1) -> None:
        self.fail("sendMessage", 429, 1, {"ok": False, "error_code": 429,
                                          "description": f"Too Many Requests: retry after "
                                                         f"{retry_after}",
                                          "parameters": {"retry_after": retry_after}})

    def heal(self) -> None:
        with self._lock:
            self._failures.clear()

    def replay(self) -> None:
        """The next getUpdates returns every update again, as if confirmations were lost."""
        with self._lock:
            self._replay = True

    def _push(self, body: dict[str, Any]) -> int:
        with self._lock:
            self._next_update += 1
            update = {"update_id": self._next_update, **body}
            self.updates.append(update)
            self._lock.notify_all()
            return self._next_update

    @staticmethod
    def _chat(chat_id: int) -> dict[str, Any]:
        return {"id": chat_id, "type": "private", "first_name": "Test"}

    def _message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        with self._lock:
            self._next_message += 1
            number = self._next_message
        return {"message_id": number, "date": int(time.time()), "chat": self._chat(chat_id),
                "from": {"id": chat_id, "is_bot": False, "first_name": "Test"}, **content}

    def push_text(self, chat_id: int, text: str) -> int:
        return self._push({"message": self._message(chat_id, text=text)})

    def push_content(self, chat_id: int, **content: Any) -> int:
        """A message with any content fields (photo, document, voice...)."""
        return self._push({"message": self._message(chat_id, **content)})

    def push_press(self, chat_id: int, data: str) -> int:
        message = self._message(chat_id, text="…")
        message["from"] = BOT_USER
        return self._push({"callback_query": {
            "id": f"cq{self._next_update + 1}", "chat_instance": "ci",
            "from": {"id": chat_id, "is_bot": False, "first_name": "Test"},
            "message": message, "data": data}})

    def push_group_text(self, chat_id: int, text: str) -> int:
        message = self._message(chat_id, text=text)
        message["chat"] = {"id": chat_id, "type": "group", "title": "G"}
        return self._push({"message": message})

    # -- reading --------------------------------------------------------------------------

    def of(self, method: str, ok: bool | None = True) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method and (ok is None or c.ok is ok)]

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Messages accepted (sendMessage answered ok), in order."""
        return [c.params for c in self.of("sendMessage")
                if chat_id is None or c.params.get("chat_id") == chat_id]

    def documents(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Documents accepted (sendDocument answered ok), in order: `document` is an `Upload`."""
        return [c.params for c in self.of("sendDocument")
                if chat_id is None or int(c.params.get("chat_id", 0)) == chat_id]

    def texts(self, chat_id: int) -> list[str]:
        return [str(p["text"]) for p in self.sent(chat_id)]

    def methods(self) -> set[str]:
        with self._lock:
            return {c.method for c in self.calls}

    def polls_after_replay(self) -> int:
        """getUpdates calls made after the replayed batch (the bot polls again once it has
        handled a batch)."""
        with self._lock:
            if self.replayed_at is None:
                return 0
            return len([c for c in self.calls[self.replayed_at + 1:] if c.method == "getUpdates"])

    def last_offset(self) -> int | None:
        calls = self.of("getUpdates", ok=None)
        for call in reversed(calls):
            if "offset" in call.params:
                return int(call.params["offset"])
        return None

    # -- serving --------------------------------------------------------------------------

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        prefix = f"/bot{self.token}/"
        path = handler.path.split("?", 1)[0]
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        params = self._params(handler.headers.get("Content-Type", ""), raw)
        if not path.startswith(prefix):
            reply_json(handler, 401, {"ok": False, "error_code": 401,
                                       "description": "Unauthorized"})
            return
        method = path[len(prefix):]
        call = Call(method, params, time.monotonic())
        failure = self._failure(method)
        with self._lock:
            self.calls.append(call)
        if failure is not None:
            call.ok = False
            reply_json(handler, failure.status, failure.body)
            return
        result = self._result(method, params)
        if result is None:
            call.ok = False
            reply_json(handler, 400, {"ok": False, "error_code": 400,
                                       "description": f"Bad Request: method {method} refused "
                                                      "by the fake"})
            return
        reply_json(handler, 200, {"ok": True, "result": result})

    def _failure(self, method: str) -> _Failure | None:
        with self._lock:
            queue = self._failures.get(method) or []
            if not queue:
                return None
            failure = queue[0]
            if failure.times > 0:
                failure.times -= 1
                if failure.times == 0:
                    queue.pop(0)
            return failure

    @staticmethod
    def _params(content_type: str, raw: bytes) -> dict[str, Any]:
        if not raw:
            return {}
        if content_type.startswith("application/json"):
            decoded = json.loads(raw)
            return decoded if isinstance(decoded, dict) else {}
        if content_type.startswith("multipart/form-data"):  # an upload (sendDocument)
            fields = parse_multipart(content_type, raw)
            for key in JSON_FIELDS & set(fields):
                with contextlib.suppress(ValueError, TypeError):
                    fields[key] = json.loads(fields[key])
            return fields
        params: dict[str, Any] = {}
        for key, values in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items():
            value: Any = values[-1]
            if key in JSON_FIELDS:
                with contextlib.suppress(ValueError):
                    value = json.loads(value)
            params[key] = value
        return params

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method in ("setWebhook", "deleteWebhook", "answerCallbackQuery"):
            return True
        if method == "getUpdates":
            return self._get_updates(params)
        if method == "sendMessage":
            chat_id = int(params["chat_id"])
            with self._lock:
                self._next_message += 1
                number = self._next_message
            message = {"message_id": number, "date": int(time.time()),
                       "chat": self._chat(chat_id), "from": BOT_USER, "text": params["text"]}
            if "reply_markup" in params:
                message["reply_markup"] = params["reply_markup"]
            return message
        if method == "sendDocument":
            upload = params.get("document")
            if not isinstance(upload, Upload):
                return None  # only uploads: the bot never sends a link to a file
            chat_id = int(params["chat_id"])
            with self._lock:
                self._next_message += 1
                number = self._next_message
            message = {"message_id": number, "date": int(time.time()),
                       "chat": self._chat(chat_id), "from": BOT_USER,
                       "document": {"file_id": f"doc{number}", "file_unique_id": f"u{number}",
                                    "file_name": upload.filename,
                                    "mime_type": upload.content_type,
                                    "file_size": len(upload.content)}}
            if params.get("caption"):
                message["caption"] = params["caption"]
            return message
        return None

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = params.get("offset")
        timeout = min(float(params.get("timeout") or 0), LONG_POLL_CAP)
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                if self._replay:
                    self._replay = False
                    self.replayed_at = len(self.calls) - 1
                    return list(self.updates)
                ready = [u for u in self.updates if offset is None or u["update_id"] >= offset]
                left = deadline - time.monotonic()
                if ready or left <= 0:
                    return ready
                self._lock.wait(left)

