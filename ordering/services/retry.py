"""Retry a read-decide-write step that lost an optimistic-concurrency race.

Exponential backoff with full jitter (a random wait up to the doubled cap), so that the
writers that collided spread out instead of colliding again.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from ordering.ports.event_store import ConcurrencyError

T = TypeVar("T")


class ConflictRetriesExhausted(Exception):
    """Every attempt lost a race; the caller should answer 409 and let the client retry."""

    def __init__(self, attempts: int, last: ConcurrencyError) -> None:
        self.attempts, self.last = attempts, last
        super().__init__(f"gave up after {attempts} attempts: {last}")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 16
    base_seconds: float = 0.005
    cap_seconds: float = 0.25
    sleep: Callable[[float], None] = field(default=time.sleep)
    rng: random.Random = field(default_factory=random.Random)

    def run(self, step: Callable[[], T]) -> T:
        """Run `step` until it does not raise ConcurrencyError, at most `attempts` times."""
        for attempt in range(1, self.attempts + 1):
            try:
                return step()
            except ConcurrencyError as conflict:
                if attempt == self.attempts:
                    raise ConflictRetriesExhausted(attempt, conflict) from conflict
                ceiling = min(self.cap_seconds, self.base_seconds * 2**attempt)
                self.sleep(self.rng.uniform(0, ceiling))
        raise AssertionError("unreachable")
