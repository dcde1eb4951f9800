"""Leases in a dict, on a clock the caller may set: for tests and benchmarks."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from ordering.ports.leases import Lease, Leases


class InMemoryLeases(Leases):
    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.clock = clock
        self.held: dict[str, Lease] = {}
        self._lock = threading.Lock()

    def claim(self, key: str, *, until: datetime) -> Lease | None:
        with self._lock:
            current = self.held.get(key)
            if current is not None and current.until > self.clock():
                return None
            lease = Lease(key, uuid.uuid4().hex, until)
            self.held[key] = lease
            return lease

    def release(self, lease: Lease) -> None:
        with self._lock:
            if self.held.get(lease.key) == lease:
                del self.held[lease.key]
