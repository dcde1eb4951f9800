"""The stream pump's virtual shards: a key's records in one shard and in order, one batch in
flight per shard, the shards concurrently, and on-failure pointers a redrive can read back."""

from __future__ import annotations

import threading
import time
from typing import Any

from infra import topology
from infra.emulator.functions import Invocation
from infra.emulator.stream_pump import StreamConsumerPump, shard_member, shard_of, virtual_shard_id
from tests.e2e.conftest import eventually

SHARDS = 2
CONSUMER = topology.STREAM_CONSUMERS[0]


def record(key: str, number: int, *, poison: bool = False) -> dict[str, Any]:
    return {
        "eventName": "INSERT",
        "dynamodb": {
            "Keys": {"PK": {"S": key}, "SK": {"S": f"EV#{number:010d}"}},
            "SequenceNumber": str(number),
            "NewImage": {"PK": {"S": key}, "SK": {"S": f"EV#{number:010d}"}, "poison": {"BOOL": poison}},
            "ApproximateCreationDateTime": int(time.time()),
        },
    }


def keys_in_each_shard() -> tuple[str, str]:
    """Two partition keys that hash to different shards."""
    keys = [f"ORDER#{n}" for n in range(50)]
    first = keys[0]
    other = next(k for k in keys if shard_of(record(k, 1), SHARDS) != shard_of(record(first, 1), SHARDS))
    return first, other


def pump(invoke: Any, parked: list[dict[str, Any]]) -> StreamConsumerPump:
    return StreamConsumerPump(
        CONSUMER,
        invoke=invoke,
        send_failure=parked.append,
        function_arn="arn:aws:lambda:eu-west-1:123456789012:function:projector",
        stream_arn="arn:stream",
        shard_id="shardId-1",
        retry_delay=0,
        shards=SHARDS,
    )


def test_a_key_always_falls_in_the_same_shard_and_keys_spread_over_the_shards():
    keys = [f"ORDER#{n}" for n in range(50)]
    assert all(shard_of(record(k, 1), SHARDS) == shard_of(record(k, 9), SHARDS) for k in keys)
    assert {shard_of(record(k, 1), SHARDS) for k in keys} == set(range(SHARDS))


def test_a_virtual_shard_id_names_moto_s_shard_and_selects_its_own_records():
    first, other = keys_in_each_shard()
    index = shard_of(record(first, 1), SHARDS)
    real, member = shard_member(virtual_shard_id("shardId-1", index, SHARDS))
    assert real == "shardId-1"
    assert member(record(first, 1))
    assert not member(record(other, 1))
    assert shard_member("shardId-1")[0] == "shardId-1"  # one shard: moto's own id, every record


def test_two_keys_batches_are_in_flight_at_once_and_each_key_stays_in_order():
    first, other = keys_in_each_shard()
    both_in_flight = threading.Barrier(2, timeout=20)
    seen: dict[str, list[int]] = {first: [], other: []}
    lock = threading.Lock()

    def invoke(name: str, event: dict[str, Any]) -> Invocation:
        records = event["Records"]
        key = records[0]["dynamodb"]["Keys"]["PK"]["S"]
        if records[0]["dynamodb"]["SequenceNumber"] in ("1", "2"):  # the first batch of each shard
            both_in_flight.wait()  # broken (an error) unless the other shard's batch runs meanwhile
        with lock:
            seen[key] += [int(r["dynamodb"]["SequenceNumber"]) for r in records]
        return Invocation(name, "id", "stream", None, False, result={"batchItemFailures": []})

    parked: list[dict[str, Any]] = []
    consumer = pump(invoke, parked)
    consumer.start()
    try:
        consumer.offer([record(first, 1), record(other, 2)])
        numbers = range(3, 43)
        for number in numbers:
            consumer.offer([record(first if number % 2 else other, number)])
        eventually(lambda: consumer.idle and sum(map(len, seen.values())) == 42)
    finally:
        consumer.stop()
    assert not both_in_flight.broken
    assert seen[first] == sorted(seen[first])
    assert seen[other] == sorted(seen[other])
    assert parked == []
    assert consumer.delivered == 42


def test_a_poison_record_is_parked_with_its_shard_and_the_other_shard_flows():
    first, other = keys_in_each_shard()
    delivered: list[int] = []

    def invoke(name: str, event: dict[str, Any]) -> Invocation:
        records = event["Records"]
        if any(r["dynamodb"]["NewImage"]["poison"]["BOOL"] for r in records):
            return Invocation(name, "id", "stream", None, False, error={"errorType": "ValueError"})
        delivered.extend(int(r["dynamodb"]["SequenceNumber"]) for r in records)
        return Invocation(name, "id", "stream", None, False, result={"batchItemFailures": []})

    parked: list[dict[str, Any]] = []
    consumer = pump(invoke, parked)
    consumer.start()
    try:
        consumer.offer([record(first, 1, poison=True), record(other, 2), record(other, 3)])
        eventually(lambda: consumer.idle and parked)
    finally:
        consumer.stop()
    (pointer,) = parked
    info = pointer["DDBStreamBatchInfo"]
    assert info["shardId"] == virtual_shard_id("shardId-1", shard_of(record(first, 1), SHARDS), SHARDS)
    assert (info["startSequenceNumber"], info["endSequenceNumber"]) == ("1", "1")
    assert sorted(delivered) == [2, 3]
