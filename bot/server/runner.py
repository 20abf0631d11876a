"""`mentorbot run`: the HTTP server, the enabled transports, the outbox and the scheduler.

On SIGINT/SIGTERM: stop taking new work (the poller abandons its long poll, uvicorn stops
accepting connections and finishes the requests in flight), let running deliveries finish
(bounded), and leave whatever is unsent in the outbox for the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Generator, Iterator
from datetime import datetime, timedelta

import httpx
import uvicorn
from telegram import Bot

from bot.app import App, build_app
from bot.clock import RealClock
from bot.config import Config
from bot.errors import FlowError, UserError
from bot.flows.validate import check_catalogs
from bot.messages import Outbound
from bot.ops import metrics
from bot.ops.probes import outbox_stats
from bot.server.app import create_server
from bot.server.lease import run_leased
from bot.transports.outbox import Dispatcher
from bot.transports.shared_rate import WHATSAPP_RATE, shared_rate, telegram_limiter
from bot.transports.telegram import TelegramChannel, TelegramPoller
from bot.transports.whatsapp import WhatsAppChannel

log = logging.getLogger("mentorbot.run")

SCHEDULER_CAP = 60.0  # seconds: the scheduler looks again at least this often
SWEEP_EVERY = 10.0  # seconds: the lease holder delivers what dead workers left unsent


class Runtime:
    """Everything `run` keeps alive, without the HTTP server (tests drive it directly)."""

    def __init__(
        self,
        app: App,
        *,
        telegram_bot: Bot | None = None,
        whatsapp_http: httpx.AsyncClient | None = None,
        retry_interval: float = 30.0,
    ) -> None:
        self.app = app
        self.background: set[asyncio.Task[None]] = set()  # kept referenced until done
        config, clock = app.config, app.engine.clock
        self.dispatcher = Dispatcher(app.engine, retry_interval=retry_interval)
        self.telegram: TelegramChannel | None = None
        self.poller: TelegramPoller | None = None
        self.whatsapp: WhatsAppChannel | None = None
        if config.transports.telegram.enabled:
            self.telegram = TelegramChannel(
                config.transports.telegram,
                self.dispatcher,
                app.engine.clock,
                public_url=config.server.public_url,
                bot=telegram_bot,
                limiter=telegram_limiter(
                    app.engine.store,
                    config.transports.telegram.chat_interval,
                    config.transports.telegram.global_rate,
                ),
            )
            self.dispatcher.register(self.telegram)
            if not self.telegram.webhook_mode:
                self.poller = TelegramPoller(self.telegram, app.engine)
        if config.transports.whatsapp.enabled:
            self.whatsapp = WhatsAppChannel(
                config.transports.whatsapp, app.engine, self.dispatcher, http=whatsapp_http
            )
            self.whatsapp.rate = shared_rate(
                app.engine.store,
                f"whatsapp:{config.transports.whatsapp.phone_number_id}",
                WHATSAPP_RATE,
            )
            self.dispatcher.register(self.whatsapp)
        app.engine.outbox_channels = frozenset(self.dispatcher.channels)
        metrics.set_outbox_probe(lambda: outbox_stats(app.engine.store, clock.now()))

    async def start(self) -> None:
        """Check the platforms, then resend what a previous run left unsent."""
        if self.telegram is not None:
            await self.telegram.start()
        if self.whatsapp is not None:
            await self.whatsapp.start()
        await self.dispatcher.start()

    async def stop(self) -> None:
        await self.dispatcher.close()
        if self.telegram is not None:
            await self.telegram.stop()
        if self.whatsapp is not None:
            await self.whatsapp.stop()

    async def tick(self, now: datetime | None = None) -> int:
        """Run the jobs due up to `now` (digests, purge) and send what they produce."""
        until = now or self.app.engine.clock.now()
        jobs: Iterator[tuple[datetime, list[Outbound]]] = self.app.scheduler.run_due(until)
        sent = 0
        while True:
            item = await asyncio.to_thread(next, jobs, None)
            if item is None:
                return sent
            when, outs = item
            log.info("job ran at=%s messages=%d", when.isoformat(), len(outs))
            await self.dispatcher.submit(outs)
            sent += len(outs)

    async def scheduler_loop(self, stop: asyncio.Event) -> None:
        """Sleep until the next job is due (at most `SCHEDULER_CAP`), run it, repeat."""
        clock = self.app.engine.clock
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:
                log.exception("scheduled job failed")
            now = clock.now()
            due = await asyncio.to_thread(self.app.scheduler.next_due, now)
            delay = SCHEDULER_CAP
            if due is not None:
                delay = min(SCHEDULER_CAP, max((due - now) / timedelta(seconds=1), 0.0) + 0.01)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)


    async def lead(self, until: asyncio.Event) -> None:
        """What the holder of the scheduler lease runs: the scheduler, from the last runs the
        store holds now (another worker may have run jobs since this one started), and the
        sweep of what workers that died left unsent."""
        metrics.lease_held(True)
        await asyncio.to_thread(self.app.scheduler.reload)
        sweep = asyncio.create_task(self.sweep_loop(until), name="outbox sweep")
        try:
            await self.scheduler_loop(until)
        finally:
            metrics.lease_held(False)
            until.set()
            await sweep

    async def sweep_loop(self, stop: asyncio.Event) -> None:
        """Every `SWEEP_EVERY` seconds, deliver the outbox of everyone with pending messages:
        a worker killed between its commit and its sends leaves them there (with one worker,
        its own restart does it)."""
        channels = list(self.dispatcher.channels)
        while not stop.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=SWEEP_EVERY)
            if stop.is_set() or not channels:
                return
            try:
                waiting = await asyncio.to_thread(self.dispatcher.outbox.waiting, channels)
            except Exception:
                log.exception("outbox sweep failed")
                continue
            for pid in waiting:
                self.dispatcher.kick(pid)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: `serve` stops everything in order itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def serve(config: Config) -> None:
    """Run until SIGINT/SIGTERM. Refuses to start with a missing or fuzzy translation: people
    would silently read the French source instead (`mentorbot flows validate` lists them)."""
    problems = check_catalogs(config.paths.flows, config.paths.locales)
    if problems:
        raise FlowError([*problems, "mentorbot: not started: translate the texts above "
                         "(scripts/i18n.sh, then the catalogs), or remove the language"])
    # httpx logs every request URL at INFO, and a Bot API URL carries the bot's token.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger(name).level))
    asyncio.run(_serve(config))


def _listen(host: str, port: int) -> socket.socket:
    try:
        return socket.create_server((host, port))
    except OSError as exc:
        raise UserError(f"server: cannot listen on {host}:{port}: {exc.strerror or exc}") from None


async def _serve(config: Config) -> None:
    app = build_app(config, RealClock())
    app.engine.guard.prepare()  # a broken lexicon is a start-up error, not a runtime one
    # The language model loads in the background, so that the first name is not a wait.
    warm_up = asyncio.create_task(asyncio.to_thread(app.engine.guard.prepare, True))
    runtime = Runtime(app)
    runtime.background.add(warm_up)
    sock = _listen(config.server.host, config.server.port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    server = _Server(
        uvicorn.Config(
            create_server(runtime),
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=15,
        )
    )
    try:
        await runtime.start()
    except BaseException:
        sock.close()
        await runtime.stop()
        raise
    # Webhooks in every worker; the scheduler and Telegram polling in the lease holder only.
    lease = app.engine.store.lease("scheduler")
    tasks = [
        asyncio.create_task(server.serve(sockets=[sock]), name="http"),
        asyncio.create_task(
            run_leased(lease, "scheduler", stop, runtime.lead), name="scheduler"
        ),
    ]
    if runtime.poller is not None:
        tasks.append(asyncio.create_task(
            run_leased(lease, "telegram polling", stop, runtime.poller.run),
            name="telegram poller"))
    stopper = asyncio.create_task(stop.wait())
    host, port = sock.getsockname()[:2]
    log.info(
        "running host=%s port=%s telegram=%s whatsapp=%s",
        host,
        port,
        runtime.telegram is not None,
        runtime.whatsapp is not None,
    )
    failure: BaseException | None = None
    try:
        done, _ = await asyncio.wait([stopper, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not stopper:
                failure = task.exception() or UserError(f"{task.get_name()} stopped unexpectedly")
    finally:
        log.info("stopping")
        stop.set()
        server.should_exit = True
        results = await asyncio.gather(*tasks, return_exceptions=True)
        stopper.cancel()
        await asyncio.to_thread(lease.release)
        await runtime.stop()
        sock.close()
        loop.remove_signal_handler(signal.SIGINT)
        loop.remove_signal_handler(signal.SIGTERM)
    for result in results:
        if failure is None and isinstance(result, Exception):
            failure = result
    if failure is not None:
        raise failure
    log.info("stopped")
