"""Charge each placed order once: an SQS batch of OrderPlaced envelopes from the publisher.

Each message body is an EventEnvelope; its message attributes repeat the correlation id and
event id for whoever looks at the queue. Records are processed one by one and only the ones
that failed are reported back (partial batch response), so SQS redelivers just those:
  - a message that is not an OrderPlaced envelope fails alone (and reaches the DLQ after five
    receives);
  - a gateway timeout or outage fails that record; the redelivery charges with the same
    idempotency key (the order id), so the customer is charged at most once;
  - a redelivered message whose payment is already recorded charges nothing.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from generated import models as m
from ordering import bootstrap
from ordering.domain.events import InvalidEvent
from ordering.domain.recorded import from_envelope
from ordering.ports.payment_gateway import PaymentError
from ordering.services.payments import record_payment
from ordering.services.stamp import Cause

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


def charge_order(record: SQSRecord) -> None:
    """One message: raise to have it reported failed and redelivered."""
    logger.remove_keys(["order_id"])  # nothing of the previous record on this one's lines
    attributes = record.message_attributes  # the publisher's copy, for a body that cannot be read
    correlation, event = attributes["correlation_id"], attributes["event_id"]
    logger.set_correlation_id(correlation.string_value if correlation else None)
    logger.append_keys(message_id=record.message_id, event_id=event.string_value if event else None)
    try:
        placed = from_envelope(record.json_body)
        if not isinstance(placed.data, m.OrderPlaced):
            raise InvalidEvent(f"the payment queue carries OrderPlaced, not {placed.type}")
    except (ValueError, TypeError) as error:  # JSON or envelope that is not an OrderPlaced
        logger.error("Unreadable payment message", extra={"reason": str(error)[:500]})
        raise
    order_id = placed.data.order_id
    logger.set_correlation_id(placed.correlation_id)
    logger.append_keys(order_id=order_id)
    try:
        outcome = record_payment(
            bootstrap.event_store(),
            bootstrap.payment_gateway(),
            order_id,
            Cause(placed.correlation_id, causation_id=placed.event_id),
        )
    except PaymentError as error:
        logger.warning(
            "No answer from the payment gateway; the message will be redelivered", extra={"error": str(error)}
        )
        raise
    if outcome.recorded_now:
        metrics.add_metric(
            name="PaymentsSucceeded" if outcome.approved else "PaymentsFailed", unit=MetricUnit.Count, value=1
        )
    logger.info(
        "Payment recorded" if outcome.recorded_now else "Payment already recorded",
        extra={"approved": outcome.approved},
    )


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=charge_order, processor=processor, context=context
    )
