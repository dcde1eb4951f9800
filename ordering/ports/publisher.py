"""Publishing events from the log to the rest of the system: the log is the outbox.

Handlers only append events; the stream publisher passes some of them on. Delivery is at
least once (a failed batch is sent again), so every consumer is idempotent.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from ordering.domain.recorded import Recorded


class Publisher(abc.ABC):
    @abc.abstractmethod
    def to_payment_queue(self, events: Sequence[Recorded]) -> list[Recorded]:
        """Queue each OrderPlaced for payment: the envelope as the body, the correlation id and
        event id as message attributes. The events that could not be sent, after resending."""

    @abc.abstractmethod
    def to_event_bus(self, events: Sequence[Recorded]) -> list[Recorded]:
        """Put each payment outcome on the event bus (source "orders", detail-type from
        ordering.messaging, detail the envelope). The events that could not be put, after resending."""
