"""The payment deadline fired: an order still unpaid is cancelled (payment_timeout) and its
stock released. Anything else (paid, declined, cancelled, a redelivery) changes nothing."""

from __future__ import annotations

from datetime import datetime

from ordering.domain.order import ExpirePayment
from ordering.domain.recorded import Recorded
from ordering.ports.event_store import EventStore
from ordering.services.recording import DEFAULT, Recorder
from ordering.services.settlement import record_cancelling
from ordering.services.stamp import Cause


def expire_payment(
    store: EventStore, order_id: str, now: datetime, cause: Cause, *, recorder: Recorder = DEFAULT
) -> list[Recorded]:
    """The events written: OrderCancelled and a StockReleased per line, or []."""
    return record_cancelling(store, order_id, ExpirePayment(order_id, now), cause, recorder=recorder)
