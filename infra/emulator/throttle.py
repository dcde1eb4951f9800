"""API Gateway's throttle: a token bucket, `rate` tokens a second up to `burst`; no token, a 429.

And a bucket per client (`ClientBuckets`), the local stand-in for a WAF rate-based rule.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class TokenBucket:
    def __init__(self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("the rate must be positive and the burst at least 1")
        self.rate, self.burst = rate, burst
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Spend one token if there is one; False means throttle this request."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            return False


class ClientBuckets:
    """A token bucket per client, so that one client (an anonymous flood from one address, or
    one busy customer) can spend only its own share. The least recently seen clients are
    forgotten beyond `max_clients`, so that a flood of new keys cannot grow memory."""

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        TokenBucket(rate, burst)  # the same checks of the numbers
        self.rate, self.burst, self.max_clients = rate, burst, max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client: str) -> bool:
        """Spend one of `client`'s tokens if it has one; False means throttle this request."""
        with self._lock:
            bucket = self._buckets.pop(client, None) or TokenBucket(self.rate, self.burst, clock=self._clock)
            self._buckets[client] = bucket
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return bucket.take()
