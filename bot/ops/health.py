"""`/readyz`: the store answers, the transports are configured, the language model is loaded.

Each check is a small function returning `(ok, detail)`; the report is cached for a few
seconds so that a probe every second does not turn into a store query every second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.ops.version import package_version, schema_version

if TYPE_CHECKING:
    from bot.server.runner import Runtime

CheckFn = Callable[[], tuple[bool, str]]
CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class Report:
    ready: bool
    checks: dict[str, dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {"status": "ready" if self.ready else "not ready", "version": package_version(),
                "schema": schema_version(), "checks": self.checks}


@dataclass
class Readiness:
    """Runs the checks at most once per `ttl` seconds (monotonic clock); thread-safe."""

    checks: dict[str, CheckFn]
    ttl: float = CACHE_SECONDS
    now: Callable[[], float] = time.monotonic
    _cached: tuple[float, Report] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def report(self) -> Report:
        with self._lock:
            at = self.now()
            if self._cached is not None and at - self._cached[0] < self.ttl:
                return self._cached[1]
            results: dict[str, dict[str, Any]] = {}
            for name, check in self.checks.items():
                try:
                    ok, detail = check()
                except Exception as exc:  # a failing check is a "not ready", never a 500
                    ok, detail = False, type(exc).__name__
                results[name] = {"ok": ok, "detail": detail}
            report = Report(all(r["ok"] for r in results.values()), results)
            self._cached = (at, report)
            return report


def runtime_checks(runtime: Runtime) -> dict[str, CheckFn]:
    """The checks of a running service."""
    engine = runtime.app.engine
    config = runtime.app.config

    def store() -> tuple[bool, str]:
        return True, f"reachable, schema {engine.store.schema_version}"  # one query

    def transports() -> tuple[bool, str]:
        enabled = [name for name in ("telegram", "whatsapp")
                   if getattr(config.transports, name).enabled]
        if not enabled:
            return False, "no transport enabled"
        missing = [name for name in enabled if name not in runtime.dispatcher.channels]
        if missing:
            return False, "not configured: " + ", ".join(missing)
        return True, ", ".join(enabled)

    def model() -> tuple[bool, str]:
        if not config.confidentiality.use_model:
            return True, "disabled"
        from bot.policies.identifying.model import is_loaded

        return (True, "loaded") if is_loaded() else (False, "loading")

    return {"store": store, "transports": transports, "identifying_model": model}
