"""Two patches of moto's SQS.

moto's SendMessageBatch drops each entry's MessageSystemAttributes (SendMessage keeps them):
the publisher's payment requests then lost their `AWSTraceHeader`, and the payment invocation
could not continue the publisher's trace, as it does on AWS. `keep_batch_system_attributes`
gives each message of a batch its entry's system attributes.

moto's ReceiveMessage checks each message it hands out against the queue's retention period,
which it reads by building every attribute of the queue three times over, the approximate
counts included, each a pass over all the queue's messages: a receive cost the square of
the queue's length. `read_retention_directly` reads the one attribute.

moto's SendMessage reads one attribute of the queue (ContentBasedDeduplication) from the dict
of all of them, counts of its messages included, each a pass over the queue: every send cost
the queue's length three times. `send_without_counting` leaves the counts out of that dict
while a send runs in the thread (any other reader, in another thread, gets them all).
"""

from __future__ import annotations

import functools
import json
import threading
from typing import Any

from moto.core.utils import camelcase_to_underscores, unix_time
from moto.sqs.models import Message, Queue, SQSBackend

COUNTS = frozenset(
    {
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesDelayed",
        "ApproximateNumberOfMessagesNotVisible",
    }
)
_sending = threading.local()


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


def _attributes_but_counts(queue: Queue) -> dict[str, Any]:
    """moto's Queue.attributes, the counts of messages left out."""
    names = [name for name in queue.BASE_ATTRIBUTES if name not in COUNTS]
    if queue.fifo_queue:
        names += queue.FIFO_ATTRIBUTES
    if queue.kms_master_key_id:  # type: ignore[attr-defined]
        names += queue.KMS_ATTRIBUTES
    result: dict[str, Any] = {name: getattr(queue, camelcase_to_underscores(name)) for name in names}
    if queue.policy:
        result["Policy"] = queue.policy
    if queue.redrive_policy:
        result["RedrivePolicy"] = json.dumps(queue.redrive_policy)
    return {key: str(value).lower() if isinstance(value, bool) else value for key, value in result.items()}


def send_without_counting() -> None:
    """Idempotent: wraps moto's send_message and Queue.attributes once."""
    original_send = SQSBackend.send_message
    if getattr(original_send, "_sends_without_counting", False):
        return
    all_attributes = Queue.attributes.fget  # type: ignore[attr-defined]

    def attributes(queue: Queue) -> dict[str, Any]:
        return _attributes_but_counts(queue) if getattr(_sending, "on", False) else all_attributes(queue)

    @functools.wraps(original_send)
    def send_message(self: SQSBackend, *args: Any, **kwargs: Any) -> Message:
        outer = getattr(_sending, "on", False)
        _sending.on = True
        try:
            return original_send(self, *args, **kwargs)
        finally:
            _sending.on = outer

    send_message._sends_without_counting = True  # type: ignore[attr-defined]
    Queue.attributes = property(attributes)  # type: ignore[assignment,method-assign]
    SQSBackend.send_message = send_message  # type: ignore[method-assign]
