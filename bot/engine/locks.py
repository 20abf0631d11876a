"""One lock per person, so that one person's messages are handled one at a time, in order.

Lock order when a turn touches two people: the mentor's before the mentee's; the shared state's
lock is always taken last.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class PersonLocks:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.RLock] = {}

    def _lock(self, pid: str) -> threading.RLock:
        with self._guard:
            lock = self._locks.get(pid)
            if lock is None:
                lock = self._locks[pid] = threading.RLock()
            return lock

    @contextmanager
    def hold(self, pid: str) -> Iterator[None]:
        lock = self._lock(pid)
        with lock:
            yield
