"""Assemble an engine from a config: the one place that wires store, clock, flows and policies."""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.config import Config
from bot.engine.core import Engine
from bot.engine.guard import Guard
from bot.engine.scheduler import Scheduler
from bot.store import Store, open_store


@dataclass
class App:
    config: Config
    engine: Engine
    scheduler: Scheduler

    def close(self) -> None:
        self.engine.store.close()


def build_app(
    config: Config,
    clock: Clock,
    guard: Guard | None = None,
    *,
    store: Store | None = None,
    exclusive: bool = True,
) -> App:
    """The engine and its scheduler. `exclusive`: this process serves the conversations
    (an embedded store refuses a second such process)."""
    store = store or open_store(config, exclusive=exclusive)
    try:
        engine = Engine(config, store, clock, guard=guard)
        return App(config=config, engine=engine, scheduler=Scheduler(engine))
    except BaseException:
        store.close()
        raise
