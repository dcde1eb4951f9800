"""After the payment outcome: commit the reserved stock and fulfil the order, or release it and
cancel the order. Order and SKU streams change in one transaction; a redelivery changes nothing."""

from __future__ import annotations

from ordering.domain import inventory, order
from ordering.domain.errors import InvalidTransition, NotFound
from ordering.domain.inventory import CommitStock, ReleaseStock
from ordering.domain.order import CancelOrder, FulfilOrder, Status
from ordering.domain.recorded import Recorded
from ordering.domain.streams import order_stream
from ordering.ports.event_store import Append, EventStore
from ordering.services.loading import load_order
from ordering.services.retry import RetryPolicy
from ordering.services.sku_changes import item_of, sku_writes
from ordering.services.stamp import Cause, Stamp


def settle_order(
    store: EventStore,
    order_id: str,
    paid: bool,
    cause: Cause,
    *,
    stamp: Stamp | None = None,
    retry: RetryPolicy | None = None,
) -> list[Recorded]:
    """The events written; [] when the order was already settled."""
    stamp = stamp or Stamp()

    def attempt() -> list[Recorded]:
        current = load_order(store, order_id)
        if current is None:
            raise NotFound(f"order {order_id}")
        expected = Status.PAID if paid else Status.PAYMENT_FAILED
        if current.status in (Status.FULFILLED, Status.CANCELLED):
            return []
        if current.status is not expected:
            raise InvalidTransition(
                f"order {order_id}", current.status.value, "settle after " + expected.value
            )
        if paid:
            order_events = order.decide(current, FulfilOrder(order_id))
        else:
            order_events = order.decide(
                current, CancelOrder(order_id, current.failure_reason or "payment_failed")
            )
        heads = store.read_heads(line.sku for line in current.lines)
        sku_events = {}
        for line in current.lines:
            command = (CommitStock if paid else ReleaseStock)(line.sku, order_id, line.quantity)
            sku_events[line.sku] = stamp.events(inventory.decide(item_of(heads[line.sku]), command), cause)
        appends, writes = sku_writes(heads, sku_events)
        order_append = Append(order_stream(order_id), current.version, stamp.events(order_events, cause))
        return store.transact([order_append, *appends], writes)

    return (retry or RetryPolicy()).run(attempt)
