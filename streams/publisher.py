"""Stream consumer 2 of 2: pass events from the log on to the rest of the system.

  OrderPlaced                      -> the payment queue, and the payment-deadline queue held
                                      back until the order's deadline (SQS)
  RefundRequested                  -> the refund queue (SQS)
  PaymentSucceeded / PaymentFailed -> the event bus (EventBridge), detail-type Payment.Success / .Failed
  OrderFulfilled / OrderCancelled  -> the event bus, detail-type Order.Fulfilled / .Cancelled
  anything else                    -> nothing: it stays in the log

Records go out in waves: the first record of every aggregate in the batch, then the second...
so that entries are batched 10 at a time across aggregates while a failed record still holds
back the later records of its own aggregate. Failures are reported as the projector does.
It needs no VPC: a read-model outage cannot stop payments.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import zip_longest
from typing import Any

from aws_lambda_powertools import Logger

from ordering import bootstrap
from ordering.domain.recorded import Recorded
from ordering.messaging import TO_DEADLINE_QUEUE, TO_EVENT_BUS, TO_PAYMENT_QUEUE, TO_REFUND_QUEUE
from ordering.ports.publisher import Publisher, has_deadline
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
    # Where each event goes: (does it go there, the publisher's method). An event may go to more than one.
    destinations: list[tuple[Callable[[Recorded], bool], Callable[[Sequence[Recorded]], list[Recorded]]]] = [
        (lambda event: event.type in TO_PAYMENT_QUEUE, publisher.to_payment_queue),
        # Only an order placed with a deadline has one to wait for.
        (lambda event: event.type in TO_DEADLINE_QUEUE and has_deadline(event), publisher.to_deadline_queue),
        (lambda event: event.type in TO_REFUND_QUEUE, publisher.to_refund_queue),
        (lambda event: event.type in TO_EVENT_BUS, publisher.to_event_bus),
    ]
    for wave in zip_longest(*by_stream.values()):
        publishable: list[StreamRecord] = []
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
            elif any(goes(record.event) for goes, _ in destinations):
                publishable.append(record)
        refused: set[int] = set()
        for goes, send in destinations:
            chosen = [record for record in publishable if record.event and goes(record.event)]
            if chosen:
                refused |= {id(event) for event in send(_events(chosen))}
        for record in publishable:
            if id(record.event) in refused:
                blocked.add(record.stream)
                failed.append(record)
    return failed


def _events(records: list[StreamRecord]) -> list[Recorded]:
    return [record.event for record in records if record.event is not None]
