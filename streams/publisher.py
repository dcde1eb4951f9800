"""Stream consumer 2 of 2: pass events from the log on to the rest of the system.

  OrderPlaced                      -> the payment queue (SQS)
  PaymentSucceeded / PaymentFailed -> the event bus (EventBridge), detail-type Payment.Success / .Failed
  anything else                    -> nothing: it stays in the log

Records go out in waves: the first record of every aggregate in the batch, then the second...
so that entries are batched 10 at a time across aggregates while a failed record still holds
back the later records of its own aggregate. Failures are reported as the projector does.
It needs no VPC: a read-model outage cannot stop payments.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import zip_longest
from typing import Any

from aws_lambda_powertools import Logger

from ordering import bootstrap
from ordering.domain.recorded import Recorded
from ordering.messaging import TO_EVENT_BUS, TO_PAYMENT_QUEUE
from ordering.ports.publisher import Publisher
from streams.records import StreamRecord, batch_response, decode

logger = Logger(service="orders")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = decode(event)
    failed = publish_records(records, bootstrap.publisher())
    logger.info("published", extra={"records": len(records), "failed": len(failed)})
    return batch_response(failed)


def publish_records(records: Sequence[StreamRecord], publisher: Publisher) -> list[StreamRecord]:
    """Publish what is to be published; the records to report failed."""
    by_stream: dict[str, list[StreamRecord]] = {}
    for record in records:
        by_stream.setdefault(record.stream, []).append(record)
    failed: list[StreamRecord] = []
    blocked: set[str] = set()
    for wave in zip_longest(*by_stream.values()):
        to_queue, to_bus = [], []
        for record in wave:
            if record is None:
                continue
            if record.stream in blocked:
                failed.append(record)
            elif record.event is None:
                logger.error(
                    "poison record",
                    extra={"sequence_number": record.sequence_number, "problem": record.problem},
                )
                blocked.add(record.stream)
                failed.append(record)
            elif record.event.type in TO_PAYMENT_QUEUE:
                to_queue.append(record)
            elif record.event.type in TO_EVENT_BUS:
                to_bus.append(record)
        refused: set[int] = set()
        if to_queue:
            refused |= {id(event) for event in publisher.to_payment_queue(_events(to_queue))}
        if to_bus:
            refused |= {id(event) for event in publisher.to_event_bus(_events(to_bus))}
        for record in to_queue + to_bus:
            if id(record.event) in refused:
                blocked.add(record.stream)
                failed.append(record)
    return failed


def _events(records: list[StreamRecord]) -> list[Recorded]:
    return [record.event for record in records if record.event is not None]
