"""After the payment outcome (EventBridge "Payment.Success" / "Payment.Failed") or a cancellation
("Order.Cancelled"): e-mail the customer.

A confirmation with the lines and total, a payment-failed notice, or a cancellation notice
saying whether money was refunded (none for a declined order: its payment-failed notice said
so), sent through SES with the request's correlation id in its headers; then ConfirmationSent
is appended to the order. A redelivered event finds ConfirmationSent and sends nothing. Two
deliveries of the same event at the same moment are kept apart by Powertools idempotency on the
envelope's event id: the second finds the first in progress and fails, and Lambda's retry of it
later gets the first's result. An SES error raises. Either way the rule invoked this function
asynchronously, so Lambda retries the event (twice) and then parks it in the function's dead-
letter queue; EventBridge's own retry policy covers only delivering the event to Lambda.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError
from aws_lambda_powertools.utilities.typing import LambdaContext

from generated.models import EmailKind
from handlers.once import run_once
from handlers.payment_outcome import received, received_cancellation
from ordering import bootstrap
from ordering.messaging import ORDER_CANCELLED
from ordering.services.notifications import notify_customer
from ordering.services.stamp import Cause

logger = Logger()
metrics = Metrics()


@dataclass(frozen=True)
class Notice:
    """Which e-mail an event on the bus asks for."""

    order_id: str
    kind: EmailKind
    event_id: str
    correlation_id: str

    @property
    def cause(self) -> Cause:
        return Cause(self.correlation_id, causation_id=self.event_id)


def notice_of(event: EventBridgeEvent) -> Notice:
    if event.detail_type == ORDER_CANCELLED:
        cancelled = received_cancellation(event, logger)
        return Notice(
            cancelled.order_id, EmailKind.order_cancelled, cancelled.event_id, cancelled.correlation_id
        )
    outcome = received(event, logger)
    kind = EmailKind.order_confirmation if outcome.paid else EmailKind.payment_failed
    return Notice(outcome.order_id, kind, outcome.event_id, outcome.correlation_id)


def send_notice(payload: Notice) -> dict[str, Any]:
    """Runs once per event."""
    kind = payload.kind
    message_id = notify_customer(
        bootstrap.event_store(), bootstrap.mailer(), payload.order_id, kind, payload.cause
    )
    if message_id is not None:
        metrics.add_metric(name="EmailsSent", unit=MetricUnit.Count, value=1)
    logger.info(
        "E-mail sent" if message_id else "E-mail had been sent already", extra={"message_id": message_id}
    )
    return {"order_id": payload.order_id, "kind": kind.value, "message_id": message_id}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    notice = notice_of(event)
    try:
        return run_once(send_notice, payload=notice, key="event_id", context=context)
    except IdempotencyAlreadyInProgressError:
        logger.warning("The same event is being handled by another invocation; Lambda will retry")
        raise
