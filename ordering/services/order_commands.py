"""Record a command's events on an order's stream, re-deciding after a lost race.

The first attempt decides on the state the caller has just read, so the common case reads the
stream once; only when another writer got there first is the stream read again.
"""

from __future__ import annotations

from ordering.domain import order
from ordering.domain.errors import NotFound
from ordering.domain.order import Order, OrderCommand
from ordering.domain.recorded import Recorded
from ordering.domain.streams import order_stream
from ordering.ports.event_store import EventStore
from ordering.services.loading import load_order
from ordering.services.recording import Decision, Recorder, StreamChange
from ordering.services.stamp import Cause


def record_on_order(
    store: EventStore, known: Order, command: OrderCommand, cause: Cause, *, recorder: Recorder
) -> list[Recorded]:
    """The events appended; [] when the order already reflects the command."""

    def load() -> Order:
        latest = load_order(store, known.id)
        if latest is None:
            raise NotFound(f"order {known.id}")
        return latest

    def decide(current: Order) -> Decision:
        return Decision(
            [StreamChange(order_stream(current.id), current.version, order.decide(current, command))]
        )

    return recorder.record(store, cause, load, decide, known=known).events
