"""What the bare handlers share: the table's item layout in DynamoDB JSON, with the standard library."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from typing import Any

# The table's layout written out here, not imported: a baseline is a bare handler whose asset
# holds boto3 and this package only (`bench coldstart` checks both make the same AWS calls).
EVENT_PREFIX = "EV#"
HEAD_KEY = "HEAD"


def event_key(version: int) -> str:
    return f"{EVENT_PREFIX}{version:010d}"


TABLE = os.environ["TABLE_NAME"]


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_put(
    stream: str, version: int, kind: str, data: dict[str, Any], correlation_id: str, causation_id: str | None
) -> dict[str, Any]:
    """A TransactWriteItems Put of one event that fails if the version is taken."""
    item = {
        "PK": {"S": stream},
        "SK": {"S": event_key(version)},
        "stream": {"S": stream},
        "version": {"N": str(version)},
        "event_id": {"S": str(uuid.uuid4())},
        "type": {"S": kind},
        "schema_version": {"N": "1"},
        "occurred_at": {"S": now()},
        "correlation_id": {"S": correlation_id},
        "data": {"S": json.dumps(data, separators=(",", ":"))},
    }
    if causation_id:
        item["causation_id"] = {"S": causation_id}
    return {"Put": {"TableName": TABLE, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}}


def stream_exists_check(stream: str, version: int) -> dict[str, Any]:
    """A TransactWriteItems ConditionCheck that the stream's event `version` is there (no gap)."""
    return {
        "ConditionCheck": {
            "TableName": TABLE,
            "Key": {"PK": {"S": stream}, "SK": {"S": event_key(version)}},
            "ConditionExpression": "attribute_exists(PK)",
        }
    }


def head_put(head: dict[str, Any], expected_version: int, require_available: int = 0) -> dict[str, Any]:
    item = {
        "PK": {"S": f"SKU#{head['sku']}"},
        "SK": {"S": HEAD_KEY},
        "sku": {"S": head["sku"]},
        "available": {"N": str(head["available"])},
        "reserved": {"N": str(head["reserved"])},
        "committed": {"N": str(head["committed"])},
        "price": {"S": head["price"]},
        "currency": {"S": head["currency"]},
        "version": {"N": str(head["version"])},
    }
    if expected_version == 0:
        condition, values = "attribute_not_exists(PK)", {}
    else:
        condition, values = "version = :seen", {":seen": {"N": str(expected_version)}}
        if require_available:
            condition += " AND available >= :qty"
            values[":qty"] = {"N": str(require_available)}
    put: dict[str, Any] = {"TableName": TABLE, "Item": item, "ConditionExpression": condition}
    if values:
        put["ExpressionAttributeValues"] = values
    return {"Put": put}


def plain(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB JSON item of strings and numbers as plain Python."""
    return {name: int(value["N"]) if "N" in value else value.get("S") for name, value in item.items()}


def read_stream(dynamodb: Any, stream: str) -> list[dict[str, Any]]:
    answer = dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :ev)",
        ExpressionAttributeValues={":pk": {"S": stream}, ":ev": {"S": EVENT_PREFIX}},
        ConsistentRead=True,
    )
    return [plain(item) for item in answer["Items"]]


def read_heads(dynamodb: Any, skus: list[str]) -> dict[str, dict[str, Any]]:
    keys = [{"PK": {"S": f"SKU#{sku}"}, "SK": {"S": HEAD_KEY}} for sku in skus]
    answer = dynamodb.batch_get_item(RequestItems={TABLE: {"Keys": keys, "ConsistentRead": True}})
    return {item["sku"]: item for item in map(plain, answer["Responses"][TABLE])}


def envelope(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": item["event_id"],
        "stream": item["stream"],
        "version": item["version"],
        "type": item["type"],
        "schema_version": item["schema_version"],
        "occurred_at": item["occurred_at"],
        "correlation_id": item["correlation_id"],
        "causation_id": item.get("causation_id"),
        "data": json.loads(item["data"]),
    }


def api_answer(status: int, body: Any, correlation_id: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", "X-Correlation-Id": correlation_id},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }
