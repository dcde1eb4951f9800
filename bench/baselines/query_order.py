"""Bare GET /orders/{id}: the order and its lines from the read model, for its owner only."""

from __future__ import annotations

import json
import os
from typing import Any

import psycopg

SCHEMA = os.environ.get("READ_MODEL_SCHEMA", "read_model")
connection = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True, prepare_threshold=None)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    correlation_id = event["requestContext"]["requestId"]
    caller = event["requestContext"]["authorizer"]["claims"]["sub"]
    order_id = event["pathParameters"]["order_id"]
    order = connection.execute(
        f'SELECT order_id, user_id, status, total, currency, created_at, updated_at FROM "{SCHEMA}".orders'
        " WHERE order_id = %s",
        [order_id],
    ).fetchone()
    headers = {"Content-Type": "application/json", "X-Correlation-Id": correlation_id}
    if order is None or str(order[1]) != caller:
        return {"statusCode": 404, "headers": headers, "body": json.dumps({"code": "not_found"})}
    lines = connection.execute(
        f'SELECT sku, quantity, unit_price, line_total FROM "{SCHEMA}".order_items WHERE order_id = %s'
        " ORDER BY line_no",
        [order_id],
    ).fetchall()
    body = {
        "id": str(order[0]),
        "status": order[2],
        "total": str(order[3]),
        "currency": order[4],
        "created_at": order[5].isoformat(),
        "updated_at": order[6].isoformat(),
        "lines": [
            {"sku": sku, "quantity": quantity, "unit_price": str(price), "line_total": str(total)}
            for sku, quantity, price, total in lines
        ],
    }
    return {"statusCode": 200, "headers": headers, "body": json.dumps(body)}
