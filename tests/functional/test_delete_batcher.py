"""The deletes of received messages, gathered into DeleteMessageBatch calls (moto's SQS)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from infra.emulator.delete_batcher import DeleteBatcher

pytestmark = pytest.mark.moto


@pytest.fixture
def queue(sqs) -> str:
    return sqs.create_queue(QueueName="deliveries")["QueueUrl"]


def received(sqs, queue: str, count: int) -> list[str]:
    for n in range(count):
        sqs.send_message(QueueUrl=queue, MessageBody=str(n))
    handles: list[str] = []
    while len(handles) < count:
        answer = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
        handles += [message["ReceiptHandle"] for message in answer.get("Messages", [])]
    return handles


def left(sqs, queue: str) -> int:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=names)["Attributes"]
    return sum(int(value) for value in attributes.values())


def counting(sqs) -> list[int]:
    """The number of entries of each DeleteMessageBatch from now on."""
    calls: list[int] = []

    def count(params, **_):
        calls.append(len(params["Entries"]))

    sqs.meta.events.register("provide-client-params.sqs.DeleteMessageBatch", count)
    return calls


def test_deletes_arriving_within_the_gathering_share_one_call(sqs, queue):
    handles = received(sqs, queue, 7)
    calls = counting(sqs)
    batcher = DeleteBatcher(sqs, queue, gather_seconds=0.5, on_failed=pytest.fail, name="test")
    try:
        for handle in handles:
            batcher.add([handle])
        assert calls == []  # waiting for more
        assert batcher.pending == 7
        deadline = time.monotonic() + 5
        while batcher.pending and time.monotonic() < deadline:
            time.sleep(0.05)
        assert calls == [7]
        assert left(sqs, queue) == 0
    finally:
        batcher.close()


def test_a_full_call_goes_at_once_and_close_deletes_the_rest(sqs, queue):
    handles = received(sqs, queue, 25)
    calls = counting(sqs)
    batcher = DeleteBatcher(sqs, queue, gather_seconds=60, on_failed=pytest.fail, name="test")
    batcher.add(handles)
    deadline = time.monotonic() + 5
    while batcher.pending > 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert calls == [10, 10]  # the two full calls, not waiting a minute
    batcher.close()
    assert calls == [10, 10, 5]
    assert left(sqs, queue) == 0


def test_a_failed_delete_is_reported(sqs, queue):
    failures: list[dict[str, Any]] = []
    batcher = DeleteBatcher(sqs, queue, gather_seconds=0.01, on_failed=failures.append, name="test")
    batcher.add(["not-a-receipt-handle"])
    batcher.close()
    assert len(failures) == 1
