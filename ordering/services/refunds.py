"""Refund an order's charge once and record it: at-least-once delivery, exactly-once effect.

The refund id (RefundRequested.refund_id) is the gateway's idempotency key, so a redelivered
message whose refund went through but was not recorded gets the first refund back. A
redelivery that finds PaymentRefunded recorded calls nothing. Recording the refund of an
order the customer cancelled also cancels it and releases its stock (one transaction).
"""

from __future__ import annotations

from dataclasses import dataclass

from ordering.domain.errors import NotFound
from ordering.domain.order import RecordRefund, refund_id_of
from ordering.domain.recorded import Recorded
from ordering.ports.event_store import EventStore
from ordering.ports.payment_gateway import PaymentGateway, Refund
from ordering.services.loading import load_order
from ordering.services.recording import DEFAULT, Recorder
from ordering.services.settlement import record_cancelling
from ordering.services.stamp import Cause


class RefundRefused(Exception):
    """The gateway refused the refund: retried, then parked in refund-dlq for a person to look at."""


@dataclass(frozen=True)
class RecordedRefund:
    order_id: str
    events: list[Recorded]
    gateway_called: bool


def make_refund(
    store: EventStore,
    gateway: PaymentGateway,
    order_id: str,
    payment_reference: str,
    cause: Cause,
    *,
    recorder: Recorder = DEFAULT,
) -> RecordedRefund:
    """Raises PaymentError (no decision) or RefundRefused, for the message to be redelivered."""
    current = load_order(store, order_id)
    if current is None:
        raise NotFound(f"order {order_id}")
    if current.refunded or not current.refund_requested:
        return RecordedRefund(order_id, [], gateway_called=False)
    result = gateway.refund(
        Refund(
            idempotency_key=refund_id_of(order_id),
            order_id=order_id,
            payment_reference=payment_reference,
            amount=current.total,
            currency=current.currency,
        )
    )
    if not result.refunded:
        raise RefundRefused(f"order {order_id}: the gateway refused the refund ({result.reason})")
    command = RecordRefund(order_id, result.reference or refund_id_of(order_id))
    return RecordedRefund(
        order_id, record_cancelling(store, order_id, command, cause, recorder=recorder), True
    )
