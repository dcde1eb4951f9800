"""Refund an order's charge: a batch of RefundRequested envelopes from the refund queue.

At least once delivered, exactly once in effect: the refund id is the gateway's idempotency
key, and a redelivery that finds PaymentRefunded recorded calls nothing. A gateway without a
decision (PaymentError) or refusing the refund fails that record alone; SQS redelivers it and
parks it in refund-dlq after five receives (an alarm fires). Recording the refund of an order
the customer cancelled cancels it and releases its stock in the same transaction.
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
from handlers.queued_event import queued_event
from ordering import bootstrap
from ordering.services.refunds import make_refund
from ordering.services.stamp import Cause

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


def refund_order(record: SQSRecord) -> None:
    requested = queued_event(record, m.RefundRequested, logger)
    data = requested.data
    assert isinstance(data, m.RefundRequested)
    outcome = make_refund(
        bootstrap.event_store(),
        bootstrap.payment_gateway(),
        data.order_id,
        data.payment_reference,
        Cause(requested.correlation_id, causation_id=requested.event_id),
    )
    if outcome.events:
        metrics.add_metric(name="Refunds", unit=MetricUnit.Count, value=1)
    logger.info(
        "Refund recorded" if outcome.events else "Refund already recorded",
        extra={"events": [event.type for event in outcome.events], "gateway_called": outcome.gateway_called},
    )


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=refund_order, processor=processor, context=context
    )
