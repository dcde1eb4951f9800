"""A publisher that keeps what it is given, for tests and the services' own checks.

`refuse` decides, per event and attempt, whether that send fails, standing in for a queue or
bus that rejects some entries; like the real adapter, a refused event is tried `attempts` times.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ordering.domain.recorded import Recorded, to_envelope
from ordering.messaging import (
    CORRELATION_ID_ATTRIBUTE,
    DETAIL_TYPES,
    EVENT_ID_ATTRIBUTE,
    EVENT_SOURCE,
    TO_DEADLINE_QUEUE,
    TO_EVENT_BUS,
    TO_PAYMENT_QUEUE,
    TO_REFUND_QUEUE,
)
from ordering.ports.publisher import Publisher, deadline_delay


@dataclass
class InMemoryPublisher(Publisher):
    refuse: Callable[[Recorded, int], bool] = lambda event, attempt: False
    attempts: int = 3
    queue: list[dict[str, Any]] = field(default_factory=list)  # {"body": ..., "attributes": {...}}
    bus: list[dict[str, Any]] = field(default_factory=list)  # {"source", "detail_type", "detail"}
    deadlines: list[dict[str, Any]] = field(default_factory=list)  # a queue message and "delay_seconds"
    refunds: list[dict[str, Any]] = field(default_factory=list)  # a queue message
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def to_payment_queue(self, events: Sequence[Recorded]) -> list[Recorded]:
        return self._deliver(events, TO_PAYMENT_QUEUE, lambda event: self.queue.append(_message(event)))

    def to_deadline_queue(self, events: Sequence[Recorded]) -> list[Recorded]:
        def send(event: Recorded) -> None:
            self.deadlines.append({**_message(event), "delay_seconds": deadline_delay(event, self.clock())})

        return self._deliver(events, TO_DEADLINE_QUEUE, send)

    def to_refund_queue(self, events: Sequence[Recorded]) -> list[Recorded]:
        return self._deliver(events, TO_REFUND_QUEUE, lambda event: self.refunds.append(_message(event)))

    def to_event_bus(self, events: Sequence[Recorded]) -> list[Recorded]:
        def put(event: Recorded) -> None:
            self.bus.append(
                {
                    "source": EVENT_SOURCE,
                    "detail_type": DETAIL_TYPES[event.type],
                    "detail": json.dumps(to_envelope(event)),
                }
            )

        return self._deliver(events, TO_EVENT_BUS, put)

    def _deliver(
        self, events: Sequence[Recorded], allowed: frozenset[str], deliver: Callable[[Recorded], None]
    ) -> list[Recorded]:
        wrong = [event.type for event in events if event.type not in allowed]
        if wrong:
            raise ValueError(f"not published this way: {wrong}")
        failed = []
        for event in events:
            for attempt in range(1, self.attempts + 1):
                if not self.refuse(event, attempt):
                    deliver(event)
                    break
            else:
                failed.append(event)
        return failed


def _message(event: Recorded) -> dict[str, Any]:
    return {
        "body": json.dumps(to_envelope(event)),
        "attributes": {CORRELATION_ID_ATTRIBUTE: event.correlation_id, EVENT_ID_ATTRIBUTE: event.event_id},
    }
