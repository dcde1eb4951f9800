"""SQS to a function, as Lambda's SQS event source mapping delivers: the payment queue.

Batches of up to `batch_size`, gathered for up to `max_batching_window_seconds`, shaped as
Lambda's SQS event. Messages the function reports in `batchItemFailures` (or every message,
when it raises) are not deleted: they come back after the queue's visibility timeout, and
moto's redrive policy moves a message to the dead-letter queue once it has been received
`maxReceiveCount` times. Only `--redelivery-delay` differs from AWS: when set, a failed message
is made visible again after that many seconds instead of the visibility timeout (211 s for
the payment queue), so that a local retry takes seconds, not minutes.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from infra import topology
from infra.emulator import logs
from infra.emulator.background import Background
from infra.emulator.functions import Invocation

Invoke = Callable[[str, dict[str, Any]], Invocation]
LONG_POLL_SECONDS = 1


def lambda_message(message: dict[str, Any], *, queue_arn: str, region: str) -> dict[str, Any]:
    """A ReceiveMessage message as Lambda passes it in `Records`."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": value.get("StringListValues", []),
                "binaryListValues": value.get("BinaryListValues", []),
                "dataType": value["DataType"],
            }
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


class QueuePump(Background):
    def __init__(
        self,
        consumer: topology.QueueConsumer,
        *,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        region: str,
        invoke: Invoke,
        redelivery_delay: int | None = None,
    ) -> None:
        self.consumer = consumer
        self.sqs, self.queue_url, self.queue_arn, self.region = sqs, queue_url, queue_arn, region
        self.invoke = invoke
        self.redelivery_delay = redelivery_delay
        super().__init__(name=f"sqs-{consumer.queue}")

    def _receive(self) -> list[dict[str, Any]]:
        """Up to batch_size messages, waiting at most the batching window once one has arrived."""
        messages: list[dict[str, Any]] = []
        deadline = None
        while len(messages) < self.consumer.batch_size and not self._stopping.is_set():
            wait = LONG_POLL_SECONDS if deadline is None else max(0, round(deadline - time.monotonic()))
            answer = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(10, self.consumer.batch_size - len(messages)),
                WaitTimeSeconds=wait,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            received = answer.get("Messages", [])
            messages += received
            if deadline is None:
                if not messages:
                    return []
                deadline = time.monotonic() + self.consumer.max_batching_window_seconds
            if time.monotonic() >= deadline or (not received and wait == 0):
                break
        return messages

    def _run(self) -> None:
        while not self._stopping.is_set():
            if not self._hold():
                break
            try:
                messages = self._receive()
                if messages:
                    self._busy = True
                    self._deliver(messages)
            except Exception as error:
                logs.log(
                    "sqs", "polling failed", level="WARNING", queue=self.consumer.queue, error=repr(error)
                )
                self._stopping.wait(1)
            finally:
                self._busy = False

    def _deliver(self, messages: list[dict[str, Any]]) -> None:
        records = [lambda_message(m, queue_arn=self.queue_arn, region=self.region) for m in messages]
        invocation = self.invoke(self.consumer.function, {"Records": records})
        failed = self._failed_ids(records, invocation)
        done = [record for record in records if record["messageId"] not in failed]
        for start in range(0, len(done), 10):
            entries = [
                {"Id": str(index), "ReceiptHandle": record["receiptHandle"]}
                for index, record in enumerate(done[start : start + 10])
            ]
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
        if failed:
            logs.log(
                "sqs",
                "messages failed; they will be redelivered",
                level="WARNING",
                queue=self.consumer.queue,
                function=self.consumer.function,
                failed=len(failed),
                of=len(records),
            )
            if self.redelivery_delay is not None:
                for record in records:
                    if record["messageId"] in failed:
                        self.sqs.change_message_visibility(
                            QueueUrl=self.queue_url,
                            ReceiptHandle=record["receiptHandle"],
                            VisibilityTimeout=self.redelivery_delay,
                        )

    @staticmethod
    def _failed_ids(records: list[dict[str, Any]], invocation: Invocation) -> set[str]:
        every = {record["messageId"] for record in records}
        if not invocation.ok:
            return every
        result = invocation.result
        failures = result.get("batchItemFailures") if isinstance(result, dict) else None
        if not failures:
            return set()
        ids = {failure.get("itemIdentifier") if isinstance(failure, dict) else None for failure in failures}
        if not ids <= every:
            return every  # an empty or unknown identifier fails the whole batch, as on AWS
        return ids  # type: ignore[return-value]
