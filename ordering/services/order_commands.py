"""Record a command's events on an order's stream, re-deciding after a lost race.

The first attempt decides on the state the caller has just read, so the common case reads the
stream once; only when another writer got there first is the stream read again.
"""

from __future__ import annotations

from ordering.domain import order
from ordering.domain.order import Order, OrderCommand
from ordering.domain.recorded import Recorded
from ordering.domain.streams import order_stream
from ordering.ports.event_store import EventStore
from ordering.services.loading import load_order
from ordering.services.retry import RetryPolicy
from ordering.services.stamp import Cause, Stamp


def record_on_order(
    store: EventStore,
    known: Order,
    command: OrderCommand,
    cause: Cause,
    *,
    stamp: Stamp,
    retry: RetryPolicy,
) -> list[Recorded]:
    """The events appended; [] when the order already reflects the command."""
    state: list[Order | None] = [known]

    def attempt() -> list[Recorded]:
        latest = state.pop() if state else load_order(store, known.id)
        events = order.decide(latest, command)
        if not events or latest is None:
            return []
        return store.append(order_stream(known.id), latest.version, stamp.events(events, cause))

    return retry.run(attempt)
