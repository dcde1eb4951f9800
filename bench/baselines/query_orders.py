"""Bare GET /orders/{id}/events: the order's events from the log, for its owner only."""

from __future__ import annotations

from typing import Any

import boto3

from bench.baselines import common

dynamodb = boto3.client("dynamodb")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    correlation_id = event["requestContext"]["requestId"]
    caller = event["requestContext"]["authorizer"]["claims"]["sub"]
    order_id = event["pathParameters"]["order_id"]
    events = [common.envelope(item) for item in common.read_stream(dynamodb, f"ORDER#{order_id}")]
    if not events or events[0]["data"]["user_id"] != caller:
        return common.api_answer(404, {"code": "not_found"}, correlation_id)
    return common.api_answer(200, {"order_id": order_id, "events": events}, correlation_id)
