"""DynamoDB Streams records -> events, and the partial batch response both consumers give.

Lambda hands a consumer a shard's records in order. When one record fails, the later records
of the same aggregate must not be applied before it, so they are reported failed with it and
Lambda delivers them again (from the lowest failed sequence number on); records of other
aggregates go ahead. A record that cannot be decoded (unknown type, data its schema refuses)
is such a failure: the projector parks it; the publisher reports it, and after the event
source mapping's retries it lands in the on-failure queue.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecordEventName,
    DynamoDBStreamEvent,
)

from ordering.adapters.dynamodb_table import EVENT_PREFIX, event_key
from ordering.adapters.table_items import recorded_from_item
from ordering.domain.events import InvalidEvent
from ordering.domain.recorded import Recorded

UNKNOWN_STREAM = "?"


@dataclass(frozen=True)
class StreamRecord:
    """One event item from the stream, decoded, or the reason it could not be."""

    sequence_number: str
    stream: str  # the aggregate: the item's partition key
    event: Recorded | None
    problem: str | None = None
    sort_key: str | None = None  # the item's SK (EV#<version>), kept for a record that does not decode


def decode(lambda_event: dict[str, Any]) -> list[StreamRecord]:
    """The batch's event items, in order. Anything else (a SKU head, a removal) is not an event
    and is left out: the event filter keeps those away on AWS and in the local runtime alike."""
    decoded = []
    for record in DynamoDBStreamEvent(lambda_event).records:
        image = record.dynamodb
        if image is None or record.event_name is not DynamoDBRecordEventName.INSERT:
            continue
        sequence_number = image.sequence_number or ""
        try:
            keys = image.keys
            stream, sort_key = str(keys["PK"]), str(keys["SK"])
        except (KeyError, TypeError) as error:
            decoded.append(StreamRecord(sequence_number, UNKNOWN_STREAM, None, f"no key: {error!r}"))
            continue
        if not sort_key.startswith(EVENT_PREFIX):
            continue
        try:
            event = recorded_from_item(image.new_image)
            if event.stream != stream or event_key(event.version) != sort_key:
                raise InvalidEvent(f"item {stream}/{sort_key} holds {event.stream} v{event.version}")
        except (InvalidEvent, KeyError, TypeError, ValueError) as error:
            problem = f"{type(error).__name__}: {error}"
            decoded.append(StreamRecord(sequence_number, stream, None, problem, sort_key))
            continue
        decoded.append(StreamRecord(sequence_number, stream, event))
    return decoded


def batch_response(failed: Iterable[StreamRecord]) -> dict[str, list[dict[str, str]]]:
    """Lambda's partial batch response, in stream order."""
    numbers = sorted({record.sequence_number for record in failed}, key=_sequence_order)
    return {"batchItemFailures": [{"itemIdentifier": number} for number in numbers]}


def _sequence_order(number: str) -> tuple[int, str]:
    return (int(number), number) if number.isdigit() else (0, number)
