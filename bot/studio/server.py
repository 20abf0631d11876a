"""The studio's ASGI app: the page, its assets, its actions, and a stream of changes (SSE).

Served on 127.0.0.1; another host only with a token, asked of every request (the address
printed carries it once, then a cookie does). Actions are JSON POSTs from the page's own
origin: a form posted by another site is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.clock import RealClock
from bot.config import Config
from bot.errors import UserError
from bot.stories import story_config
from bot.studio import inspect, story
from bot.studio.session import Session

log = logging.getLogger("mentorbot.studio")

STATIC = Path(__file__).parent / "static"
COOKIE = "mentorbot_studio"
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
WATCH_EVERY = 0.5  # seconds between two looks at the flow files


@dataclass
class Options:
    config: Config
    config_path: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8765
    token: str | None = None
    start: datetime | None = None
    stories: Path = Path("stories")


@dataclass
class Replay:
    loaded: story.Loaded
    position: int = 0
    results: list[dict[str, Any]] = field(default_factory=list)


class Studio:
    """The current session (a loaded story starts a fresh one), the flow watcher, the SSE
    subscribers."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.session: Session | None = None
        self.version = 0
        self.problems: list[str] = []
        self.replay: Replay | None = None
        self.saved = ""
        self._subscribers: set[asyncio.Queue[int]] = set()
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._replaying = asyncio.Lock()

    @property
    def current(self) -> Session:
        assert self.session is not None, "the studio is not started"
        return self.session

    def changed(self) -> None:
        self.version += 1
        for queue in self._subscribers:
            queue.put_nowait(self.version)

    async def start(self) -> None:
        config = self.options.config
        start = self.options.start
        resume = start is None
        if start is None:
            start = RealClock().now().replace(second=0, microsecond=0)
        await self._open(Session(config, start, self.changed, resume=resume))
        self._watcher = asyncio.create_task(self._watch(), name="studio flows watcher")

    async def _open(self, session: Session) -> None:
        if self.session is not None:
            await self.session.close()
        self.session = session
        await session.start()
        self.changed()

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        if self.session is not None:
            await self.session.close()
        if self._scratch is not None:
            self._scratch.cleanup()

    # -- flows live -----------------------------------------------------------------------

    def _flow_files(self) -> tuple[tuple[str, int, int], ...]:
        root = self.current.config.paths.flows
        found = []
        for path in sorted(root.rglob("*.yaml")):
            with contextlib.suppress(OSError):
                stat = path.stat()
                found.append((str(path), stat.st_mtime_ns, stat.st_size))
        return tuple(found)

    async def _watch(self) -> None:
        seen = self._flow_files()
        while True:
            await asyncio.sleep(WATCH_EVERY)
            now = self._flow_files()
            if now != seen:
                seen = now
                self.problems = await self.current.reload_flows()
                log.info("flows reloaded problems=%d", len(self.problems))
                self.changed()

    # -- stories ------------------------------------------------------------------------

    def save_story(self, name: str) -> Path:
        path = story.write(self.options.stories, name, self.current.steps,
                           story.deployment(self.options.config_path))
        self.saved = str(path)
        self.changed()
        return path

    def stories(self) -> list[str]:
        directory = self.options.stories
        return sorted(p.name for p in directory.glob("*.yaml")) if directory.is_dir() else []

    async def load_story(self, name: str) -> None:
        path = self.options.stories / Path(name).name
        loaded = story.load(path)
        if self.session is not None:  # its store lives in the scratch directory
            await self.session.close()
            self.session = None
        if self._scratch is not None:
            self._scratch.cleanup()
        self._scratch = tempfile.TemporaryDirectory(prefix="mentorbot-studio-")
        config = story_config(path, loaded.config, self.options.config_path,
                              Path(self._scratch.name) / "data")
        if loaded.config is None:  # the studio's own flows (a trainer's copy under edit)
            config = config.model_copy(update={"paths": self.options.config.paths})
        self.replay = Replay(loaded)
        await self._open(Session(config, loaded.events[0].at, self.changed))

    async def replay_step(self) -> None:
        """The story's next step, judged as `flows test` would; one step at a time."""
        async with self._replaying:
            replay = self.replay
            if replay is None or replay.position >= len(replay.loaded.events):
                return
            number = replay.position + 1
            event = replay.loaded.events[number - 1]
            expect = replay.loaded.expects[number - 1]
            replay.position = number
            session = self.current
            sent = await session.advance_to(event.at)
            if not event.tick and event.sender is not None:
                sent += await session.say(event.sender, event.text or "")
            replay.results.append({"step": number,
                                   "ok": story.check(expect, sent, event.sender)})
            self.changed()

    # -- the page's view ------------------------------------------------------------------

    def state(self, locale: str) -> dict[str, Any]:
        session = self.current
        engine = session.engine
        locale = locale if locale in inspect.locales(engine) else session.config.locale
        now = session.clock.now()
        people = inspect.people(engine)
        views = {p.id: v.to_json() for p in people if (v := inspect.view(engine, p.id))}
        mentors = [p.id for p in people if p.role == "mentor"]
        mentees = [p.id for p in people if p.role == "mentee"]
        replay = self.replay
        return {
            "version": self.version,
            "locale": locale,
            "locales": inspect.locales(engine),
            "texts": inspect.texts(engine, locale),
            "now": now.astimezone(session.tz).isoformat(),
            "now_text": inspect.when(engine, now, locale),
            "open": inspect.is_open(engine, now),
            "people": [{"id": p.id, "role": p.role, "name": p.name, "locale": p.locale}
                       for p in people],
            "views": views,
            "panes": (mentors[:1] + mentees[:2]) or [p.id for p in people[:3]],
            "bubbles": [b.to_json(session.tz, lambda at: inspect.when(engine, at, locale))
                        for b in session.bubbles],
            "problems": self.problems,
            "flows": inspect.flow_names(engine),
            "stories": self.stories(),
            "saved": self.saved,
            "replay": None if replay is None else {
                "name": replay.loaded.name, "position": replay.position,
                "total": len(replay.loaded.events), "results": replay.results},
            "mermaid": (STATIC / "vendor" / "mermaid.min.js").exists(),
        }

    def diagram(self, flow: str, shown: list[str]) -> str:
        engine = self.current.engine
        if flow not in inspect.flow_names(engine):
            raise UserError(f"unknown flow {flow!r}")
        here: dict[str, list[str]] = {}
        for pid in shown:
            view = inspect.view(engine, pid)
            if view is not None and view.flow == flow:
                here.setdefault(view.step, []).append(view.person.name or pid)
        return inspect.diagram(engine, flow, here)

    async def events(self) -> AsyncIterator[str]:
        queue: asyncio.Queue[int] = asyncio.Queue()
        self._subscribers.add(queue)
        try:
            yield f"data: {self.version}\n\n"
            while True:
                version = await queue.get()
                yield f"data: {version}\n\n"
        finally:
            self._subscribers.discard(queue)


# -- HTTP ------------------------------------------------------------------------------


def _local_time(text: str, tz: str) -> datetime:
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=ZoneInfo(tz))


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise UserError("not JSON") from None
    if not isinstance(body, dict):
        raise UserError("a JSON object is expected")
    return body


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise UserError(f"{key!r} must be a string")
    return value


def create_app(studio: Studio) -> Starlette:
    def guarded(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def run(request: Request) -> Response:
            host = urlsplit("//" + request.headers.get("host", "")).hostname or ""
            if not studio.options.token and host not in LOOPBACK:
                # Without a token, only a loopback name: a page of another site whose name
                # was re-pointed at 127.0.0.1 (DNS rebinding) is refused.
                return JSONResponse({"error": "unknown host"}, status_code=421)
            if request.method == "POST":
                origin = request.headers.get("origin")
                if origin and urlsplit(origin).netloc != request.headers.get("host"):
                    return JSONResponse({"error": "cross-origin"}, status_code=403)
                if not request.headers.get("content-type", "").startswith("application/json"):
                    return JSONResponse({"error": "JSON only"}, status_code=415)
            try:
                result: Response = await handler(request)
            except (UserError, ValueError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            return result
        return run

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "studio.html", media_type="text/html; charset=utf-8")

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def state(request: Request) -> Response:
        return JSONResponse(studio.state(request.query_params.get("locale", "")))

    async def diagram(request: Request) -> Response:
        shown = [p for p in request.query_params.get("people", "").split(",") if p]
        return JSONResponse({"text": studio.diagram(request.query_params.get("flow", ""),
                                                    shown)})

    async def events(request: Request) -> Response:
        return StreamingResponse(studio.events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store"})

    async def say(request: Request) -> Response:
        body = await _json(request)
        person = _text(body, "person")
        if inspect.view(studio.current.engine, person) is None:
            raise UserError(f"{person} is not in the roster")
        if "index" in body:
            index = body["index"]
            if not isinstance(index, int) or index < 1:
                raise UserError("'index' must be a choice's number")
            prompt = body.get("prompt")
            if prompt is not None and not (isinstance(prompt, str) and prompt.isascii()
                                           and prompt.isalnum() and len(prompt) <= 32):
                raise UserError("'prompt' must be the key of a prompt")
            await studio.current.press(person, index, prompt or None)
        else:
            await studio.current.say(person, _text(body, "text"))
        return JSONResponse({"version": studio.version})

    async def clock(request: Request) -> Response:
        body = await _json(request)
        session = studio.current
        action = _text(body, "action")
        if action == "hour":
            await session.plus_hour()
        elif action == "opening":
            await session.next_opening()
        elif action == "digest":
            await session.next_digest()
        elif action == "date":
            await session.advance_to(_local_time(_text(body, "at"), session.config.timezone))
        else:
            raise UserError(f"unknown clock action {action!r}")
        return JSONResponse({"version": studio.version})

    async def locale(request: Request) -> Response:
        body = await _json(request)
        await studio.current.set_locale(_text(body, "person"), _text(body, "locale"))
        return JSONResponse({"version": studio.version})

    async def save(request: Request) -> Response:
        body = await _json(request)
        path = studio.save_story(_text(body, "name").strip() or "studio")
        return JSONResponse({"path": str(path)})

    async def load(request: Request) -> Response:
        body = await _json(request)
        await studio.load_story(_text(body, "name"))
        return JSONResponse({"version": studio.version})

    async def step(request: Request) -> Response:
        await studio.replay_step()
        return JSONResponse({"version": studio.version})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await studio.start()
        try:
            yield
        finally:
            await studio.stop()

    routes = [
        Route("/", guarded(page)),
        Route("/healthz", healthz),
        Route("/events", guarded(events)),
        Route("/api/state", guarded(state)),
        Route("/api/diagram", guarded(diagram)),
        Route("/api/say", guarded(say), methods=["POST"]),
        Route("/api/clock", guarded(clock), methods=["POST"]),
        Route("/api/locale", guarded(locale), methods=["POST"]),
        Route("/api/story/save", guarded(save), methods=["POST"]),
        Route("/api/story/load", guarded(load), methods=["POST"]),
        Route("/api/story/step", guarded(step), methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    return app


class TokenGate:
    """Every request carries the token: `?token=` once (it then becomes a cookie), or the
    cookie. Only for a studio served beyond the loopback."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode("utf-8")

    def _given(self, scope: Scope) -> tuple[bytes, bool]:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if query.get("token"):
            return query["token"][0].encode("utf-8"), True
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                cookie: SimpleCookie = SimpleCookie()
                with contextlib.suppress(Exception):
                    cookie.load(value.decode("latin-1"))
                if COOKIE in cookie:
                    return cookie[COOKIE].value.encode("utf-8"), False
        return b"", False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given, in_query = self._given(scope)
        if not hmac.compare_digest(given, self.token):
            await JSONResponse({"error": "token required"}, status_code=401)(scope, receive, send)
            return
        if not in_query:
            await self.app(scope, receive, send)
            return

        async def with_cookie(message: Any) -> None:
            if message["type"] == "http.response.start":
                cookie = (f"{COOKIE}={self.token.decode('utf-8')}; HttpOnly; SameSite=Strict; "
                          "Path=/").encode("latin-1")
                message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie)]
            await send(message)

        await self.app(scope, receive, with_cookie)


def address(options: Options) -> str:
    host = f"[{options.host}]" if ":" in options.host else options.host
    url = f"http://{host}:{options.port}/"
    return f"{url}?token={options.token}" if options.token else url


def build(options: Options) -> ASGIApp:
    """The studio's app; beyond the loopback, only with a token."""
    if options.host not in LOOPBACK and not options.token:
        raise UserError(f"serving the studio on {options.host} needs --token "
                        "(anyone who can reach it could drive the bot)")
    app: ASGIApp = create_app(Studio(options))
    return TokenGate(app, options.token) if options.token else app


def serve(options: Options, echo: Callable[[str], None]) -> None:
    import uvicorn

    app = build(options)
    server = uvicorn.Server(uvicorn.Config(app, host=options.host, port=options.port,
                                           log_level="warning", timeout_graceful_shutdown=1,
                                           lifespan="on"))
    echo(f"mentorbot studio: {address(options)}")
    server.run()
