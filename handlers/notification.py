"""After the order's outcome (EventBridge "Order.Fulfilled" / "Order.Cancelled"): e-mail the
customer.

A confirmation with the lines and total once the order is fulfilled; once it is cancelled, a
payment-failed notice for a declined order, else a cancellation notice saying whether money
was refunded. Both follow the inventory function's append (fulfilment, or the release of a
declined order's stock), never race it. Sent through SES with the request's correlation id in
its headers; then ConfirmationSent is appended to the order. A redelivered event finds
ConfirmationSent and sends nothing; two deliveries at the same moment are kept apart by a lease
on the order's notice until this invocation's deadline (ordering/services/notifications.py):
the second raises NoticeInProgress. That, or an SES error, raises: the rule invoked this
function asynchronously, so Lambda retries the event (twice) and then parks it in the
function's dead-letter queue; EventBridge's own retry policy covers only delivering the event
to Lambda.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from generated.models import EmailKind
from handlers.payment_outcome import OrderOutcome, received_order_outcome
from ordering import bootstrap
from ordering.services.notifications import NoticeInProgress, notify_cancellation, notify_customer

logger = Logger()
metrics = Metrics()


def send_notice(outcome: OrderOutcome, until: datetime) -> dict[str, Any]:
    store, mailer, leases = bootstrap.event_store(), bootstrap.mailer(), bootstrap.leases()
    if outcome.fulfilled:
        kind = EmailKind.order_confirmation
        message_id = notify_customer(
            store, mailer, leases, outcome.order_id, kind, outcome.cause, until=until
        )
    else:
        kind, message_id = notify_cancellation(
            store, mailer, leases, outcome.order_id, outcome.cause, until=until
        )
    if message_id is not None:
        metrics.add_metric(name="EmailsSent", unit=MetricUnit.Count, value=1)
    logger.info(
        "E-mail sent" if message_id else "E-mail had been sent already", extra={"message_id": message_id}
    )
    return {"order_id": outcome.order_id, "kind": kind.value, "message_id": message_id}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    outcome = received_order_outcome(event, logger)
    # The lease lasts as long as this invocation can: after that Lambda has stopped it.
    until = bootstrap.clock()() + timedelta(milliseconds=context.get_remaining_time_in_millis())
    try:
        return send_notice(outcome, until)
    except NoticeInProgress:
        logger.warning("The same e-mail is being sent by another invocation; Lambda will retry")
        raise
