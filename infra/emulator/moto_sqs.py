"""moto's SendMessageBatch drops each entry's MessageSystemAttributes (SendMessage keeps them):
the publisher's payment requests then lost their `AWSTraceHeader`, and the payment invocation
could not continue the publisher's trace, as it does on AWS. `keep_batch_system_attributes`
gives each message of a batch its entry's system attributes."""

from __future__ import annotations

import functools
from typing import Any

from moto.sqs.models import SQSBackend


def keep_batch_system_attributes() -> None:
    """Idempotent: wraps moto's send_message_batch once."""
    original = SQSBackend.send_message_batch
    if getattr(original, "_keeps_system_attributes", False):
        return

    @functools.wraps(original)
    def send_message_batch(self: SQSBackend, queue_name: str, entries: dict[str, dict[str, Any]]) -> Any:
        messages, failed = original(self, queue_name, entries)
        by_id = {entry["Id"]: entry for entry in entries.values()}
        for message in messages:
            entry = by_id.get(getattr(message, "user_id", None), {})
            if entry.get("MessageSystemAttributes"):
                message.system_attributes = entry["MessageSystemAttributes"]
        return messages, failed

    send_message_batch._keeps_system_attributes = True  # type: ignore[attr-defined]
    SQSBackend.send_message_batch = send_message_batch  # type: ignore[method-assign]
