"""The network between a function and AWS, for `orders dev --aws-latency MS`.

moto answers a request in about a millisecond of this machine's CPU; DynamoDB answers a Lambda
function in several, over the network. A race between two containers (two placements reading
the same SKU head before either writes it) lasts as long as that round trip, so without one a
local run sees far fewer races than AWS does. With a round trip set, every AWS request waits
half of it before moto reads it and half before its answer leaves, so a read sees the table as
it is mid-way, as it would on AWS. The wait is a sleep in the request's own thread of moto's
server (which answers many at once): it costs time, not CPU.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

MAX_MILLISECONDS = 1000.0  # `orders dev --aws-latency`'s upper bound: a second per round trip


class NetworkLatency:
    """`app` (a WSGI app) answering each request `round_trip_ms` later than it would."""

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        round_trip_ms: float,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not 0 < round_trip_ms <= MAX_MILLISECONDS:
            limit = f"{MAX_MILLISECONDS:g}"
            raise ValueError(f"a round trip is more than 0 and at most {limit} ms, not {round_trip_ms}")
        self._app = app
        self._half_seconds = round_trip_ms / 2000
        self._sleep = sleep

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        self._sleep(self._half_seconds)  # the request on its way
        answer = self._app(environ, start_response)
        self._sleep(self._half_seconds)  # the answer on its way back: sent once this returns
        return answer
