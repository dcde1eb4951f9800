"""DynamoDB Streams events as Lambda delivers them to the stream consumers.

Every record starts from tests/events/dynamodb_stream_event_insert.json (the shape AWS
documents: an INSERT with the NEW_IMAGE of an event item) and carries the item the event
store writes (ordering/adapters/table_items.event_item), typed as DynamoDB types it.
tests/functional/test_stream_records.py checks these images against moto's real stream.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterable
from itertools import count
from pathlib import Path
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from ordering.adapters.table_items import event_item
from ordering.domain.recorded import NewEvent, Recorded

FIXTURE = Path(__file__).resolve().parents[1] / "events" / "dynamodb_stream_event_insert.json"
_serializer = TypeSerializer()
_sequence = count(4421584500000000017450439091)


def template() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def image_of(event: Recorded) -> dict[str, Any]:
    """The NEW_IMAGE of the event's item, attribute by attribute as DynamoDB types it. Attributes
    that are None are absent, as they are in the table."""
    new = NewEvent(event.data, event.event_id, event.occurred_at, event.correlation_id, event.causation_id)
    item = event_item(event.stream, event.version, new)
    return {name: _serializer.serialize(value) for name, value in item.items() if value is not None}


def record_of(event: Recorded, sequence_number: str | None = None) -> dict[str, Any]:
    record = copy.deepcopy(template()["Records"][0])
    image = image_of(event)
    record["eventID"] = uuid.uuid4().hex
    record["dynamodb"]["Keys"] = {"PK": image["PK"], "SK": image["SK"]}
    record["dynamodb"]["NewImage"] = image
    record["dynamodb"]["SequenceNumber"] = sequence_number or str(next(_sequence))
    record["dynamodb"]["SizeBytes"] = len(json.dumps(image))
    return record


def stream_event(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """A Lambda event holding these records (from record_of, in stream order)."""
    return {"Records": list(records)}


def records_of(events: Iterable[Recorded]) -> list[dict[str, Any]]:
    """One record per event, with increasing sequence numbers (the log's order)."""
    return [record_of(event) for event in events]


def sequence_of(record: dict[str, Any]) -> str:
    return record["dynamodb"]["SequenceNumber"]


def poisoned(record: dict[str, Any], **image: dict[str, Any]) -> dict[str, Any]:
    """The record with some NEW_IMAGE attributes replaced, e.g. type={"S": "OrderTeleported"}."""
    spoiled = copy.deepcopy(record)
    spoiled["dynamodb"]["NewImage"].update(image)
    return spoiled
