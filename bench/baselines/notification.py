"""Bare notification: a lease on the order's notice, the order read, e-mail, then ConfirmationSent."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import boto3

from bench.baselines import common

dynamodb = boto3.client("dynamodb")
ses = boto3.client("sesv2")
SENDER = __import__("os").environ["SENDER_EMAIL"]


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    outcome = event["detail"]
    order_id = outcome["data"]["order_id"]
    key = {"PK": {"S": f"lease#notice#{order_id}#order_confirmation"}, "SK": {"S": "LEASE"}}
    now_ms = int(time.time() * 1000)
    until_ms = now_ms + context.get_remaining_time_in_millis()
    dynamodb.put_item(
        TableName=common.TABLE,
        Item={
            **key,
            "token": {"S": uuid.uuid4().hex},
            "until_ms": {"N": str(until_ms)},
            "expiration": {"N": str(until_ms // 1000 + 1)},
        },
        ConditionExpression="attribute_not_exists(PK) OR until_ms <= :now",
        ExpressionAttributeValues={":now": {"N": str(now_ms)}},
    )
    stream = f"ORDER#{order_id}"
    events = common.read_stream(dynamodb, stream)
    placed = json.loads(events[0]["data"])
    text = f"Thank you for your order {order_id}.\n\nTotal {placed['total']} {placed['currency']}\n"
    sent = ses.send_email(
        FromEmailAddress=SENDER,
        Destination={"ToAddresses": [placed["email"]]},
        Content={
            "Simple": {
                "Subject": {"Data": f"Your order {order_id[:8]} is confirmed"},
                "Body": {"Text": {"Data": text}},
            }
        },
    )
    confirmed = {
        "order_id": order_id,
        "kind": "order_confirmation",
        "recipient": placed["email"],
        "message_id": sent["MessageId"],
    }
    cause = (outcome["correlation_id"], outcome["event_id"])
    dynamodb.transact_write_items(
        TransactItems=[
            common.event_put(stream, len(events) + 1, "ConfirmationSent", confirmed, *cause),
            common.stream_exists_check(stream, len(events)),
        ]
    )
    return {"order_id": order_id, "kind": "order_confirmation", "message_id": sent["MessageId"]}
