"""What the event bus delivers to the functions: the payment outcome to the inventory function,
the order's outcome (fulfilled or cancelled) to the notification function.

The publisher puts each PaymentSucceeded / PaymentFailed / OrderFulfilled / OrderCancelled on
the bus with detail-type "Payment.Success" / "Payment.Failed" / "Order.Fulfilled" /
"Order.Cancelled" and the event's envelope as `detail`. The envelope is the authority: its type
decides, and it carries the correlation id from the original request.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent

from generated import models as m
from ordering.domain.events import InvalidEvent
from ordering.domain.recorded import from_envelope
from ordering.services.stamp import Cause


@dataclass(frozen=True)
class PaymentOutcome:
    order_id: str
    paid: bool
    event_id: str
    correlation_id: str

    @property
    def cause(self) -> Cause:
        """What the events written in reaction carry: the request's correlation, caused by this event."""
        return Cause(self.correlation_id, causation_id=self.event_id)


def payment_outcome(event: EventBridgeEvent) -> PaymentOutcome:
    """Raises InvalidEvent when the detail is not a payment outcome's envelope."""
    detail = event.detail
    if not isinstance(detail, dict):
        raise InvalidEvent(f"detail of {event.detail_type!r} is not an event envelope")
    recorded = from_envelope(detail)
    if not isinstance(recorded.data, m.PaymentSucceeded | m.PaymentFailed):
        raise InvalidEvent(f"{event.detail_type!r} carries {recorded.type}, not a payment outcome")
    return PaymentOutcome(
        order_id=recorded.data.order_id,
        paid=isinstance(recorded.data, m.PaymentSucceeded),
        event_id=recorded.event_id,
        correlation_id=recorded.correlation_id,
    )


@dataclass(frozen=True)
class OrderOutcome:
    """The order's last word after its payment: fulfilled, or cancelled (declined, not paid in
    time, or cancelled by its customer)."""

    order_id: str
    fulfilled: bool
    event_id: str
    correlation_id: str

    @property
    def cause(self) -> Cause:
        return Cause(self.correlation_id, causation_id=self.event_id)


def received_order_outcome(event: EventBridgeEvent, logger: Logger) -> OrderOutcome:
    """The OrderFulfilled or OrderCancelled the bus delivered; raises InvalidEvent for anything else."""
    logger.append_keys(bus_event_id=event.get_id, detail_type=event.detail_type)
    detail = event.detail
    if not isinstance(detail, dict):
        raise InvalidEvent(f"detail of {event.detail_type!r} is not an event envelope")
    recorded = from_envelope(detail)
    if not isinstance(recorded.data, m.OrderFulfilled | m.OrderCancelled):
        raise InvalidEvent(
            f"{event.detail_type!r} carries {recorded.type}, not OrderFulfilled or OrderCancelled"
        )
    logger.set_correlation_id(recorded.correlation_id)
    logger.append_keys(order_id=recorded.data.order_id)
    return OrderOutcome(
        recorded.data.order_id,
        fulfilled=isinstance(recorded.data, m.OrderFulfilled),
        event_id=recorded.event_id,
        correlation_id=recorded.correlation_id,
    )


def received(event: EventBridgeEvent, logger: Logger) -> PaymentOutcome:
    """The outcome, with the log's keys following it: the bus event, the correlation id, the order."""
    logger.append_keys(bus_event_id=event.get_id, detail_type=event.detail_type)
    outcome = payment_outcome(event)
    logger.set_correlation_id(outcome.correlation_id)
    logger.append_keys(order_id=outcome.order_id)
    return outcome
