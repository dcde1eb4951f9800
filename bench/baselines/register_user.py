"""Bare Cognito post-confirmation: UserRegistered, unless the user's stream already has it."""

from __future__ import annotations

from typing import Any

import boto3

from bench.baselines import common

dynamodb = boto3.client("dynamodb")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    attributes = event["request"]["userAttributes"]
    stream = f"USER#{attributes['sub']}"
    if not common.read_stream(dynamodb, stream):
        put = common.event_put(
            stream, 1, "UserRegistered", {"user_id": attributes["sub"], "email": attributes["email"]},
            context.aws_request_id, None,
        )["Put"]  # fmt: skip
        dynamodb.put_item(**put)
    return event
