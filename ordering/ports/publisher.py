"""Publishing events from the log to the rest of the system: the log is the outbox.

Handlers only append events; the stream publisher passes some of them on. Delivery is at
least once (a failed batch is sent again), so every consumer is idempotent.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Sequence
from datetime import datetime

from generated import models as m
from ordering.domain.recorded import Recorded, parse_timestamp
from ordering.messaging import MAX_DELAY_SECONDS


class Publisher(abc.ABC):
    @abc.abstractmethod
    def to_payment_queue(self, events: Sequence[Recorded]) -> list[Recorded]:
        """Queue each OrderPlaced for payment: the envelope as the body, the correlation id and
        event id as message attributes. The events that could not be sent, after resending."""

    @abc.abstractmethod
    def to_deadline_queue(self, events: Sequence[Recorded]) -> list[Recorded]:
        """Queue each OrderPlaced again, held back until its payment deadline (`deadline_delay`),
        the same body and attributes as a payment request. The events that could not be sent."""

    @abc.abstractmethod
    def to_refund_queue(self, events: Sequence[Recorded]) -> list[Recorded]:
        """Queue each RefundRequested for the refund function, the same body and attributes as a
        payment request. The events that could not be sent, after resending."""

    @abc.abstractmethod
    def to_event_bus(self, events: Sequence[Recorded]) -> list[Recorded]:
        """Put each payment outcome and cancellation on the event bus (source "orders", detail-type from
        ordering.messaging, detail the envelope). The events that could not be put, after resending."""


def has_deadline(event: Recorded) -> bool:
    """An OrderPlaced with a payment deadline (orders placed before deadlines existed have none)."""
    return isinstance(event.data, m.OrderPlaced) and isinstance(event.data.payment_deadline, str)


def deadline_delay(placed: Recorded, now: datetime) -> int:
    """Seconds from `now` to the order's payment deadline, within what SQS can delay (0 to
    MAX_DELAY_SECONDS); 0 for an order without a deadline, or one already past it."""
    data = placed.data
    if not isinstance(data, m.OrderPlaced) or not isinstance(data.payment_deadline, str):
        return 0
    seconds = (parse_timestamp(data.payment_deadline) - now).total_seconds()
    return max(0, min(MAX_DELAY_SECONDS, math.ceil(seconds)))
