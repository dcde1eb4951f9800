"""Bare POST /inventory: read the head; StockAdded (and PriceChanged) with the new head in one transaction."""

from __future__ import annotations

import json
from typing import Any

import boto3

from bench.baselines import common

dynamodb = boto3.client("dynamodb")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    correlation_id = event["requestContext"]["requestId"]
    groups = event["requestContext"]["authorizer"]["claims"].get("cognito:groups", "")
    if "admin" not in groups.split(","):
        return common.api_answer(403, {"code": "forbidden"}, correlation_id)
    body = json.loads(event["body"])
    sku = body["sku"]
    new = {"sku": sku, "available": 0, "reserved": 0, "committed": 0, "price": None, "currency": None}
    head = common.read_heads(dynamodb, [sku]).get(sku) or {**new, "version": 0}
    seen = head["version"]
    writes = [
        common.event_put(
            f"SKU#{sku}",
            seen + 1,
            "StockAdded",
            {"sku": sku, "quantity": body["quantity"]},
            correlation_id,
            None,
        )
    ]
    version = seen + 1
    if (head["price"], head["currency"]) != (body["price"], body["currency"]):
        version += 1
        changed = {"sku": sku, "price": body["price"], "currency": body["currency"]}
        writes.append(common.event_put(f"SKU#{sku}", version, "PriceChanged", changed, correlation_id, None))
    after = dict(
        head,
        available=head["available"] + body["quantity"],
        price=body["price"],
        currency=body["currency"],
        version=version,
    )
    writes.append(common.head_put(after, seen))
    dynamodb.transact_write_items(TransactItems=writes)
    return common.api_answer(200, after, correlation_id)
