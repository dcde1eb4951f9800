"""Bare POST /orders: read the SKU heads, price, one transaction (order, reservations, heads)."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

import boto3

from bench.baselines import common

dynamodb = boto3.client("dynamodb")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    claims = event["requestContext"]["authorizer"]["claims"]
    correlation_id = event["requestContext"]["requestId"]
    lines = json.loads(event["body"])["lines"]
    heads = common.read_heads(dynamodb, [line["sku"] for line in lines])
    order_id = str(uuid.uuid4())
    priced, total, currency, writes = [], Decimal("0.00"), None, []
    for line in lines:
        head = heads[line["sku"]]
        if head["available"] < line["quantity"]:
            return common.api_answer(409, {"code": "out_of_stock"}, correlation_id)
        price = Decimal(head["price"])
        line_total = price * line["quantity"]
        total += line_total
        currency = head["currency"]
        priced.append(
            {
                "sku": line["sku"],
                "quantity": line["quantity"],
                "unit_price": f"{price:.2f}",
                "line_total": f"{line_total:.2f}",
            }
        )
        reserved = {"sku": line["sku"], "quantity": line["quantity"], "order_id": order_id}
        seen = head["version"]
        writes.append(
            common.event_put(f"SKU#{line['sku']}", seen + 1, "StockReserved", reserved, correlation_id, None)
        )
        after = dict(
            head,
            available=head["available"] - line["quantity"],
            reserved=head["reserved"] + line["quantity"],
            version=seen + 1,
        )
        writes.append(common.head_put(after, seen, line["quantity"]))
    placed = {
        "order_id": order_id,
        "user_id": claims["sub"],
        "email": claims["email"],
        "lines": priced,
        "total": f"{total:.2f}",
        "currency": currency,
    }
    order = common.event_put(f"ORDER#{order_id}", 1, "OrderPlaced", placed, correlation_id, None)
    dynamodb.transact_write_items(TransactItems=[order, *writes])
    url = f"/orders/{order_id}"
    return common.api_answer(202, {"order_id": order_id, "status": "PENDING", "url": url}, correlation_id)
