"""A customer cancels their order: unpaid, it is cancelled and its stock released at once;
paid, a refund is requested (the refund function cancels it once the money is back).

Only the order's owner may cancel it: another user's order is NotFound, exactly like a
missing one, so that order ids cannot be probed.
"""

from __future__ import annotations

from ordering.domain.errors import NotFound
from ordering.domain.order import CustomerCancel, Order
from ordering.ports.event_store import EventStore
from ordering.services.loading import load_order
from ordering.services.recording import DEFAULT, Recorder
from ordering.services.settlement import record_cancelling
from ordering.services.stamp import Cause


def cancel_for_customer(
    store: EventStore, order_id: str, user_id: str, cause: Cause, *, recorder: Recorder = DEFAULT
) -> Order:
    """The order after the cancel. Raises NotFound, or NotCancellable (fulfilled, cancelled)."""
    current = load_order(store, order_id)
    if current is None or current.user_id != user_id:
        raise NotFound(f"order {order_id}")
    record_cancelling(store, order_id, CustomerCancel(order_id), cause, recorder=recorder)
    after = load_order(store, order_id)
    assert after is not None
    return after
