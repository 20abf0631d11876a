"""Assemble an engine from a config: the one place that wires store, clock, flows and policies."""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.config import Config
from bot.engine.core import Engine
from bot.engine.guard import Guard
from bot.engine.scheduler import Scheduler
from bot.store import TinyStore


@dataclass
class App:
    config: Config
    engine: Engine
    scheduler: Scheduler


def build_app(config: Config, clock: Clock, guard: Guard | None = None) -> App:
    store = TinyStore(config.storage.path)
    engine = Engine(config, store, clock, guard=guard)
    return App(config=config, engine=engine, scheduler=Scheduler(engine))
