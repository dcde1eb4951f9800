"""Read what sits in the dead-letter queues without taking it out: each message is made visible again."""

from __future__ import annotations

import json
from typing import Any


def peek(sqs: Any, queue_urls: dict[str, str], names: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Per queue, its messages: id, body (JSON when it is JSON) and string attributes."""
    found: dict[str, list[dict[str, Any]]] = {}
    for name in names:
        url = queue_urls[name]
        seen: list[dict[str, Any]] = []
        while True:
            answer = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=30,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            if not answer.get("Messages"):
                break
            seen += answer["Messages"]
        for message in seen:
            sqs.change_message_visibility(
                QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
        found[name] = [
            {
                "queue": name,
                "message_id": message["MessageId"],
                "body": _json_or_text(message["Body"]),
                "attributes": {
                    key: value.get("StringValue", "")
                    for key, value in message.get("MessageAttributes", {}).items()
                },
            }
            for message in seen
        ]
    return found


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text
