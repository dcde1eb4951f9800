"""Reading one SQS message the publisher queued: an event's envelope, with the correlation id
and event id repeated as message attributes for whoever looks at the queue."""

from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from ordering.domain.events import DomainEvent, InvalidEvent
from ordering.domain.recorded import Recorded, from_envelope


def queued_event(record: SQSRecord, expected: type[DomainEvent], logger: Logger) -> Recorded:
    """The recorded event, with the log's keys following it; raises (the message is redelivered
    and parked in the queue's DLQ) when the body is not an envelope of `expected`."""
    logger.remove_keys(["order_id"])  # nothing of the previous record on this one's lines
    attributes = record.message_attributes
    correlation, event = attributes["correlation_id"], attributes["event_id"]
    logger.set_correlation_id(correlation.string_value if correlation else None)
    logger.append_keys(message_id=record.message_id, event_id=event.string_value if event else None)
    try:
        recorded = from_envelope(record.json_body)
        if not isinstance(recorded.data, expected):
            raise InvalidEvent(f"this queue carries {expected.__name__}, not {recorded.type}")
    except (ValueError, TypeError) as error:
        logger.error("Unreadable message", extra={"reason": str(error)[:500]})
        raise
    logger.set_correlation_id(recorded.correlation_id)
    logger.append_keys(order_id=getattr(recorded.data, "order_id", None))
    return recorded
