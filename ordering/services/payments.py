"""Charge a placed order once and record the outcome on the order's stream.

A redelivered message finds the outcome already recorded and charges nothing. If the charge
went through but recording it failed, the redelivery charges again with the same
idempotency key and the gateway returns the first charge.

A gateway that does not answer (PaymentTimeout) may have charged: ChargeUnanswered is
recorded before the message is redelivered. An order cancelled (deadline, customer) before
its charge is refused before the gateway is called, unless a charge of it went unanswered:
then the gateway is asked again with the same key, and a charge it returns is refunded
(RefundRequested, late_payment). So no cancelled order keeps money, and none is charged anew.
"""

from __future__ import annotations

from dataclasses import dataclass

from ordering.domain.errors import NotFound
from ordering.domain.order import RecordChargeUnanswered, RecordPayment, Status
from ordering.ports.event_store import EventStore
from ordering.ports.payment_gateway import Charge, ChargeResult, PaymentGateway, PaymentTimeout
from ordering.services.loading import load_order
from ordering.services.order_commands import record_on_order
from ordering.services.recording import DEFAULT, Recorder
from ordering.services.stamp import Cause


@dataclass(frozen=True)
class RecordedPayment:
    order_id: str
    approved: bool
    recorded_now: bool  # False when the outcome was already recorded (by a redelivery, or a concurrent one)


def record_payment(
    store: EventStore,
    gateway: PaymentGateway,
    order_id: str,
    cause: Cause,
    *,
    recorder: Recorder = DEFAULT,
) -> RecordedPayment:
    """Raises PaymentError (no decision from the gateway) for the message to be redelivered."""
    current = load_order(store, order_id)
    if current is None:
        raise NotFound(f"order {order_id}")
    may_have_charged = (
        current.charge_unanswered and current.status is Status.CANCELLED and not current.refund_requested
    )
    if current.status is not Status.PENDING and not may_have_charged:
        approved = current.status in (Status.PAID, Status.FULFILLED)
        return RecordedPayment(order_id, approved, recorded_now=False)

    try:
        result: ChargeResult = gateway.charge(
            Charge(
                idempotency_key=order_id,
                order_id=order_id,
                amount=current.total,
                currency=current.currency,
                customer_email=current.email,
                placed_at=current.created_at,
            )
        )
    except PaymentTimeout as error:
        record_on_order(
            store, current, RecordChargeUnanswered(order_id, str(error)), cause, recorder=recorder
        )
        raise
    command = RecordPayment(
        order_id, result.approved, payment_reference=result.reference, reason=result.reason
    )

    recorded = record_on_order(store, current, command, cause, recorder=recorder)
    return RecordedPayment(order_id, result.approved, recorded_now=bool(recorded))
