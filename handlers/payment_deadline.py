"""The payment deadline: each placed order's OrderPlaced, held back in the payment-deadline
queue until the order's deadline (SQS DelaySeconds), then delivered here.

An order still PENDING is cancelled (payment_timeout) and its stock released, in one
transaction; the cancellation e-mail follows from OrderCancelled on the bus. An order paid,
declined or cancelled meanwhile changes nothing, nor does a redelivery. This covers an order
whose payment message is parked in payment-dlq: its deadline message is a separate one.
A message that arrives before its deadline (a clock ahead of SQS's) fails, and comes back
after the queue's visibility timeout.
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
from ordering.domain.recorded import parse_timestamp
from ordering.services.deadline import expire_payment
from ordering.services.stamp import Cause

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


class NotYetDue(Exception):
    """The deadline has not passed yet: the message comes back after the visibility timeout."""


def expire(record: SQSRecord) -> None:
    placed = queued_event(record, m.OrderPlaced, logger)
    assert isinstance(placed.data, m.OrderPlaced)
    now = bootstrap.clock()()
    deadline = placed.data.payment_deadline
    if isinstance(deadline, str) and now < parse_timestamp(deadline):
        raise NotYetDue(f"order {placed.data.order_id}: deadline {deadline}, now {now.isoformat()}")
    written = expire_payment(
        bootstrap.event_store(),
        placed.data.order_id,
        now,
        Cause(placed.correlation_id, causation_id=placed.event_id),
    )
    if written:
        metrics.add_metric(name="OrdersTimedOut", unit=MetricUnit.Count, value=1)
    logger.info(
        "Unpaid order cancelled at its deadline" if written else "Order had moved on; nothing to cancel",
        extra={"events": [event.type for event in written]},
    )


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=expire, processor=processor, context=context)
