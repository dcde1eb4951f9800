"""Bare publisher: OrderPlaced stream records to the payment queue (payment outcomes would go to the bus)."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer

sqs = boto3.client("sqs")
QUEUE_URL = os.environ["PAYMENT_QUEUE_URL"]
_deserialize = TypeDeserializer().deserialize


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    entries = []
    for record in event["Records"]:
        image = {name: _deserialize(value) for name, value in record["dynamodb"]["NewImage"].items()}
        if image["type"] != "OrderPlaced":
            continue
        envelope = {
            "event_id": image["event_id"],
            "stream": image["stream"],
            "version": int(image["version"]),
            "type": image["type"],
            "schema_version": int(image["schema_version"]),
            "occurred_at": image["occurred_at"],
            "correlation_id": image["correlation_id"],
            "causation_id": image.get("causation_id"),
            "data": json.loads(image["data"]),
        }
        entries.append(
            {
                "Id": str(len(entries)),
                "MessageBody": json.dumps(envelope),
                "MessageAttributes": {
                    "correlation_id": {"DataType": "String", "StringValue": image["correlation_id"]},
                    "event_id": {"DataType": "String", "StringValue": image["event_id"]},
                },
            }
        )
    failed = sqs.send_message_batch(QueueUrl=QUEUE_URL, Entries=entries).get("Failed", []) if entries else []
    numbers = [event["Records"][int(f["Id"])]["dynamodb"]["SequenceNumber"] for f in failed]
    return {"batchItemFailures": [{"itemIdentifier": n} for n in numbers]}
