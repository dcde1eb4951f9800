"""Bare inventory: after Payment.Success, commit each line's stock and fulfil the order, in one write."""

from __future__ import annotations

import json
from typing import Any

import boto3

from bench.baselines import common

dynamodb = boto3.client("dynamodb")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    outcome = event["detail"]
    order_id = outcome["data"]["order_id"]
    stream = f"ORDER#{order_id}"
    events = common.read_stream(dynamodb, stream)
    if any(e["type"] in ("OrderFulfilled", "OrderCancelled") for e in events):
        return {"order_id": order_id, "events": []}
    lines = json.loads(events[0]["data"])["lines"]
    heads = common.read_heads(dynamodb, [line["sku"] for line in lines])
    cause = (outcome["correlation_id"], outcome["event_id"])
    writes = [common.event_put(stream, len(events) + 1, "OrderFulfilled", {"order_id": order_id}, *cause)]
    types = ["OrderFulfilled"]
    for line in lines:
        head = heads[line["sku"]]
        seen = head["version"]
        committed = {"sku": line["sku"], "quantity": line["quantity"], "order_id": order_id}
        writes.append(common.event_put(f"SKU#{line['sku']}", seen + 1, "StockCommitted", committed, *cause))
        after = dict(
            head,
            reserved=head["reserved"] - line["quantity"],
            committed=head["committed"] + line["quantity"],
            version=seen + 1,
        )
        writes.append(common.head_put(after, seen))
        types.append("StockCommitted")
    writes.append(common.stream_exists_check(stream, len(events)))
    dynamodb.transact_write_items(TransactItems=writes)
    return {"order_id": order_id, "events": types}
