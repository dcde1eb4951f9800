"""Two patches of moto's SQS.

moto's SendMessageBatch drops each entry's MessageSystemAttributes (SendMessage keeps them):
the publisher's payment requests then lost their `AWSTraceHeader`, and the payment invocation
could not continue the publisher's trace, as it does on AWS. `keep_batch_system_attributes`
gives each message of a batch its entry's system attributes.

moto's ReceiveMessage checks each message it hands out against the queue's retention period,
which it reads by building every attribute of the queue three times over, the approximate
counts included, each a pass over all the queue's messages: a receive cost the square of
the queue's length. `read_retention_directly` reads the one attribute.
"""

from __future__ import annotations

import functools
from typing import Any

from moto.core.utils import unix_time
from moto.sqs.models import Message, SQSBackend


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


def read_retention_directly() -> None:
    """Idempotent: replaces moto's retention check by one that reads the queue's period."""
    if getattr(SQSBackend.is_message_valid_based_on_retention_period, "_reads_directly", False):
        return

    def is_message_valid_based_on_retention_period(
        self: SQSBackend, queue_name: str, message: Message
    ) -> bool:
        retention_period = self.get_queue(queue_name).message_retention_period
        return bool(retention_period + message.sent_timestamp / 1000 > unix_time())  # type: ignore[operator]

    is_message_valid_based_on_retention_period._reads_directly = True  # type: ignore[attr-defined]
    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period  # type: ignore[method-assign]
