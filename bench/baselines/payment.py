"""Bare payment: per SQS message, read the order, charge (approved, as the fake gateway), record it."""

from __future__ import annotations

import json
from typing import Any

import boto3

from bench.baselines import common

dynamodb = boto3.client("dynamodb")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    failures = []
    for record in event["Records"]:
        try:
            placed = json.loads(record["body"])
            order_id = placed["data"]["order_id"]
            stream = f"ORDER#{order_id}"
            events = common.read_stream(dynamodb, stream)
            if len(events) != 1:
                continue  # already paid
            reference = f"fake_{order_id}"  # the charge
            paid = {
                "order_id": order_id,
                "amount": placed["data"]["total"],
                "currency": placed["data"]["currency"],
                "payment_reference": reference,
            }
            version = len(events)
            dynamodb.transact_write_items(
                TransactItems=[
                    common.event_put(
                        stream,
                        version + 1,
                        "PaymentSucceeded",
                        paid,
                        placed["correlation_id"],
                        placed["event_id"],
                    ),
                    common.stream_exists_check(stream, version),
                ]
            )
        except Exception:
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
