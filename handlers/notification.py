"""After the payment outcome (EventBridge "Payment.Success" / "Payment.Failed"): e-mail the customer.

A confirmation with the lines and total, or a payment-failed notice, sent through SES with the
request's correlation id in its headers; then ConfirmationSent is appended to the order. A
redelivered event finds ConfirmationSent and sends nothing. Two deliveries of the same event
at the same moment are kept apart by Powertools idempotency on the envelope's event id: the
second finds the first in progress and fails, and Lambda's retry of it later gets the first's
result. An SES error raises. Either way the rule invoked this function asynchronously, so
Lambda retries the event (twice) and then parks it in the function's dead-letter queue;
EventBridge's own retry policy covers only delivering the event to Lambda.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError
from aws_lambda_powertools.utilities.typing import LambdaContext

from generated.models import EmailKind
from handlers.once import run_once
from handlers.payment_outcome import PaymentOutcome, received
from ordering import bootstrap
from ordering.services.notifications import notify_customer

logger = Logger()
metrics = Metrics()


def send_notice(payload: PaymentOutcome) -> dict[str, Any]:
    """Runs once per payment outcome event."""
    kind = EmailKind.order_confirmation if payload.paid else EmailKind.payment_failed
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
    outcome = received(event, logger)
    try:
        return run_once(send_notice, payload=outcome, key="event_id", context=context)
    except IdempotencyAlreadyInProgressError:
        logger.warning("The same event is being handled by another invocation; Lambda will retry")
        raise
