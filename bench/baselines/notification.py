"""Bare notification: once per event id (idempotency record), e-mail, then record ConfirmationSent."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import boto3

from bench.baselines import common

dynamodb = boto3.client("dynamodb")
ses = boto3.client("sesv2")
SENDER = __import__("os").environ["SENDER_EMAIL"]


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    outcome = event["detail"]
    order_id = outcome["data"]["order_id"]
    key = {
        "PK": {"S": f"idempotency#{context.function_name}"},
        "SK": {"S": "send#" + hashlib.md5(outcome["event_id"].encode(), usedforsecurity=False).hexdigest()},
    }
    now = int(time.time())
    dynamodb.put_item(
        TableName=common.TABLE,
        Item={**key, "status": {"S": "INPROGRESS"}, "expiration": {"N": str(now + 3600)}},
        ConditionExpression="attribute_not_exists(PK) OR expiration < :now",
        ExpressionAttributeValues={":now": {"N": str(now)}},
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
    result = {"order_id": order_id, "kind": "order_confirmation", "message_id": sent["MessageId"]}
    dynamodb.update_item(
        TableName=common.TABLE,
        Key=key,
        UpdateExpression="SET #s = :done, #d = :data",
        ExpressionAttributeNames={"#s": "status", "#d": "data"},
        ExpressionAttributeValues={":done": {"S": "COMPLETED"}, ":data": {"S": json.dumps(result)}},
    )
    return result
