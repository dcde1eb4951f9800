"""DynamoDB Streams to the stream consumers, as Lambda's event source mappings deliver them.

One reader follows the table's stream and hands each record to every consumer of the
topology (two: the projector and the publisher), each with its own position, so one slow or
failing consumer never holds the other back.

Shards: a table's stream on AWS has several shards, a partition key's records all in one of
them, in order; the event source mapping processes one batch per shard at a time, the shards
concurrently. moto's stream has one shard, so each consumer splits it into `shards` virtual
shards by a hash of the partition key (`shard_of`): one worker thread, one batch in flight,
one position, one retry and bisect state per shard. So two orders' events are processed at
the same time, as on AWS, while one order's events stay in order. A virtual shard's id is
moto's shard id plus `.<k>of<shards>` (`virtual_shard_id`), which the on-failure pointer
carries and the redrive reads back (`shard_member`).

Per consumer and shard, as the event source mapping does:
  - records that do not match the filter pattern are skipped (only INSERTs of `EV#` items);
  - batches of up to `batch_size`, in stream order, shaped as Lambda's DynamoDB event;
  - a partial batch response checkpoints at the lowest failed sequence number: records before
    it are done, the rest are retried;
  - on an error, with bisect on, a batch that made no progress is split in two halves and each
    is retried on its own, so a poison record ends up alone;
  - after `maximum_retry_attempts` retries (or past `maximum_record_age_seconds`) a pointer to
    the records, in AWS's on-failure format, goes to the on-failure queue and the consumer
    moves on.
"""

from __future__ import annotations

import base64
import collections
import json
import re
import threading
import time
import uuid
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from infra import topology
from infra.emulator import logs
from infra.emulator.background import Background
from infra.emulator.event_filter import check_pattern, matches
from infra.emulator.functions import Invocation
from infra.emulator.retry import backoff

Invoke = Callable[[str, dict[str, Any]], Invocation]
PARTITION_KEY = "PK"  # the table's hash key (ordering/adapters/dynamodb_table.py)
DEFAULT_SHARDS = 2
IDLE_POLL_SECONDS = 0.25
# After a read that found records: as Lambda reads a shard, four times a second, so that a
# busy table is read in pages of what accumulated, not one GetRecords per write (ten reads a
# second cost about one GetRecords per order, and smaller batches for the publisher). A full
# page is followed at once.
BUSY_POLL_SECONDS = 0.25
PAGE_RECORDS = 1000


def lambda_record(record: dict[str, Any], *, stream_arn: str, region: str) -> dict[str, Any]:
    """A GetRecords record as Lambda passes it: plus eventSourceARN, times as epoch seconds."""
    shaped = json.loads(json.dumps(record, default=_json_value))
    shaped["awsRegion"] = region
    shaped["eventVersion"] = "1.1"
    shaped["eventSourceARN"] = stream_arn
    created = record.get("dynamodb", {}).get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        shaped["dynamodb"]["ApproximateCreationDateTime"] = int(created.timestamp())
    return shaped


def _json_value(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, set):
        return sorted(value)
    raise TypeError(type(value).__name__)


def sequence_number(record: dict[str, Any]) -> str:
    return record["dynamodb"]["SequenceNumber"]


def shard_of(record: dict[str, Any], shards: int) -> int:
    """The virtual shard of a record: a stable hash of its partition key (the same every run)."""
    key = record.get("dynamodb", {}).get("Keys", {}).get(PARTITION_KEY)
    return zlib.crc32(json.dumps(key, sort_keys=True).encode()) % shards


def virtual_shard_id(real: str, index: int, shards: int) -> str:
    return real if shards == 1 else f"{real}.{index}of{shards}"


def shard_member(shard_id: str) -> tuple[str, Callable[[dict[str, Any]], bool]]:
    """moto's shard that holds a (virtual) shard's records, and which of its records are the
    virtual shard's: how a redrive reads an on-failure pointer's records again."""
    real, _, part = shard_id.rpartition(".")
    match = re.fullmatch(r"(\d+)of(\d+)", part) if real else None
    if match is None:
        return shard_id, lambda record: True
    index, shards = int(match[1]), int(match[2])
    return real, lambda record: shard_of(record, shards) == index


def first_failure(batch: list[dict[str, Any]], invocation: Invocation) -> int | None:
    """Index of the checkpoint to retry from; None when the whole batch succeeded."""
    if not invocation.ok:
        return 0
    result = invocation.result
    failures = result.get("batchItemFailures") if isinstance(result, dict) else None
    if not failures:
        return None
    positions = {sequence_number(record): index for index, record in enumerate(batch)}
    indexes = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if identifier not in positions:
            return 0  # an empty or unknown identifier fails the whole batch, as on AWS
        indexes.append(positions[identifier])
    return min(indexes)


class StreamConsumerPump(Background):
    """One event source mapping: a consumer's own queue of records, delivered in order."""

    def __init__(
        self,
        settings: topology.StreamConsumer,
        *,
        invoke: Invoke,
        send_failure: Callable[[dict[str, Any]], None],
        function_arn: str,
        stream_arn: str,
        shard_id: str,
        retry_delay: float,
        shards: int = 1,
        on_batch: Callable[[str, list[dict[str, Any]]], None] | None = None,
    ) -> None:
        """`shards` virtual shards of moto's one; `on_batch` sees each batch before it is
        delivered (for Lambda's IteratorAge metric)."""
        check_pattern(settings.filter_pattern)
        if shards < 1:
            raise ValueError("a stream has at least one shard")
        self.on_batch = on_batch
        self.settings = settings
        self.invoke, self.send_failure = invoke, send_failure
        self.function_arn, self.stream_arn = function_arn, stream_arn
        self.shards = shards
        self.shard_ids = [virtual_shard_id(shard_id, index, shards) for index in range(shards)]
        self.retry_delay = retry_delay
        self._pending: list[collections.deque[dict[str, Any]]] = [collections.deque() for _ in range(shards)]
        self._busy_shards: set[int] = set()
        self._changed = threading.Condition()
        self._counting = threading.Lock()
        self.delivered = 0
        self.retries = 0
        self.dead_lettered = 0
        super().__init__(name=f"stream-{settings.function}")

    @property
    def name(self) -> str:
        return self.settings.function

    def _wake(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def offer(self, records: list[dict[str, Any]]) -> None:
        wanted = [record for record in records if matches(self.settings.filter_pattern, record)]
        if wanted:
            with self._changed:
                for record in wanted:
                    self._pending[shard_of(record, self.shards)].append(record)
                self._changed.notify_all()

    @property
    def idle(self) -> bool:
        with self._changed:
            return not any(self._pending) and not self._busy_shards

    @property
    def busy(self) -> bool:
        with self._changed:
            return bool(self._busy_shards)

    def _count(self, **increments: int) -> None:
        with self._counting:
            for name, value in increments.items():
                setattr(self, name, getattr(self, name) + value)

    def _run(self) -> None:
        """Shard 0 on this thread, each other shard on one of its own: a batch per shard at a time."""
        others = [
            threading.Thread(target=self._run_shard, args=(index,), daemon=True, name=f"{self.name}-{index}")
            for index in range(1, self.shards)
        ]
        for thread in others:
            thread.start()
        self._run_shard(0)
        for thread in others:
            thread.join()

    def _run_shard(self, shard: int) -> None:
        pending = self._pending[shard]
        while not self._stopping.is_set():
            with self._changed:
                while not pending and not self._stopping.is_set():
                    self._changed.wait(timeout=1)
                if self._stopping.is_set():
                    return
                count = min(self.settings.batch_size, len(pending))
                batch = [pending.popleft() for _ in range(count)]
                self._busy_shards.add(shard)
            try:
                self._deliver(batch, attempts=0, shard=shard)
            except Exception as error:  # a bug of ours must not stop the stream silently
                logs.log(
                    "stream", "delivery loop failed", level="ERROR", function=self.name, error=repr(error)
                )
                self._dead_letter(batch, "LocalRuntimeError", None, attempts=0, shard=shard)
            finally:
                with self._changed:
                    self._busy_shards.discard(shard)

    def _deliver(self, batch: list[dict[str, Any]], attempts: int, shard: int = 0) -> None:
        while batch and not self._stopping.is_set():
            if attempts and self._stopping.wait(backoff(self.retry_delay, attempts)):
                return
            if self.on_batch is not None:
                self.on_batch(self.name, batch)
            invocation = self.invoke(self.name, {"Records": batch})
            failed_at = first_failure(batch, invocation)
            if failed_at is None:
                self._count(delivered=len(batch))
                return
            self._count(delivered=failed_at)
            progressed = failed_at > 0
            batch = batch[failed_at:]
            attempts += 1
            too_old = self._too_old(batch[0])
            if too_old or attempts > self.settings.maximum_retry_attempts:
                condition = "RecordAgeExceeded" if too_old else "RetryAttemptsExhausted"
                self._dead_letter(batch, condition, invocation, attempts, shard=shard)
                return
            self._count(retries=1)
            logs.log(
                "stream",
                "batch failed; retrying",
                level="WARNING",
                function=self.name,
                shard=self.shard_ids[shard],
                records=len(batch),
                attempt=attempts,
                first_sequence_number=sequence_number(batch[0]),
            )
            if self.settings.bisect_on_error and not progressed and len(batch) > 1:
                half = len(batch) // 2
                self._deliver(batch[:half], attempts, shard)
                self._deliver(batch[half:], attempts, shard)
                return

    def _too_old(self, record: dict[str, Any]) -> bool:
        created = record["dynamodb"].get("ApproximateCreationDateTime")
        return (
            isinstance(created, int | float)
            and time.time() - created > self.settings.maximum_record_age_seconds
        )

    def _dead_letter(
        self,
        batch: list[dict[str, Any]],
        condition: str,
        invocation: Invocation | None,
        attempts: int,
        *,
        shard: int = 0,
    ) -> None:
        """What Lambda sends to a stream mapping's on-failure destination: a pointer, not the records."""
        created = [record["dynamodb"].get("ApproximateCreationDateTime") for record in batch]
        pointer = {
            "requestContext": {
                "requestId": invocation.request_id if invocation else str(uuid.uuid4()),
                "functionArn": self.function_arn,
                "condition": condition,
                "approximateInvokeCount": attempts,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": None if invocation is None or invocation.ok else "Unhandled",
            },
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "DDBStreamBatchInfo": {
                "shardId": self.shard_ids[shard],
                "startSequenceNumber": sequence_number(batch[0]),
                "endSequenceNumber": sequence_number(batch[-1]),
                "approximateArrivalOfFirstRecord": _iso(created[0]),
                "approximateArrivalOfLastRecord": _iso(created[-1]),
                "batchSize": len(batch),
                "streamArn": self.stream_arn,
            },
        }
        self.send_failure(pointer)
        self._count(dead_lettered=len(batch))
        logs.log(
            "stream",
            "records sent to the on-failure queue",
            level="ERROR",
            function=self.name,
            queue=self.settings.on_failure,
            condition=condition,
            records=len(batch),
            first_sequence_number=sequence_number(batch[0]),
        )


def _iso(epoch: Any) -> str | None:
    if not isinstance(epoch, int | float):
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


class StreamReader(Background):
    """Follows the table's stream and offers every record, in order, to each consumer."""

    def __init__(
        self,
        streams_client: Any,
        *,
        stream_arn: str,
        region: str,
        consumers: list[StreamConsumerPump],
        shard_id: str,
        start_after: str | None = None,
    ) -> None:
        self.client = streams_client
        self.stream_arn, self.region, self.shard_id = stream_arn, region, shard_id
        self.consumers = consumers
        self.start_after = start_after
        self.last_read: str | None = start_after
        self.caught_up = threading.Event()
        super().__init__(name="stream-reader")

    @staticmethod
    def shard_of(streams_client: Any, stream_arn: str) -> str:
        shards = streams_client.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
        return shards[0]["ShardId"]

    @staticmethod
    def latest_sequence_number(streams_client: Any, stream_arn: str, shard_id: str) -> str | None:
        """The last record in the stream now, so that a reader can start after it (a restored table)."""
        iterator = streams_client.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        last = None
        while True:
            answer = streams_client.get_records(ShardIterator=iterator, Limit=1000)
            if not answer["Records"]:
                return last
            last = answer["Records"][-1]["dynamodb"]["SequenceNumber"]
            iterator = answer["NextShardIterator"]

    def _iterator(self) -> str:
        if self.last_read is None:
            kind = {"ShardIteratorType": "TRIM_HORIZON"}
        else:
            kind = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": self.last_read}
        return self.client.get_shard_iterator(StreamArn=self.stream_arn, ShardId=self.shard_id, **kind)[
            "ShardIterator"
        ]

    def _run(self) -> None:
        iterator = None
        while not self._stopping.is_set():
            if not self._hold():
                break
            try:
                if iterator is None:
                    iterator = self._iterator()
                answer = self.client.get_records(ShardIterator=iterator, Limit=PAGE_RECORDS)
            except Exception as error:  # moto is in this process; an error here is transient or the end
                logs.log("stream", "reading the stream failed", level="WARNING", error=repr(error))
                iterator = None
                self._stopping.wait(1)
                continue
            iterator = answer.get("NextShardIterator")
            records = [
                lambda_record(record, stream_arn=self.stream_arn, region=self.region)
                for record in answer["Records"]
            ]
            if records:
                self.caught_up.clear()
                self.last_read = sequence_number(records[-1])
                for consumer in self.consumers:
                    consumer.offer(records)
                if len(records) < PAGE_RECORDS:
                    self._stopping.wait(BUSY_POLL_SECONDS)
            else:
                self.caught_up.set()
                self._stopping.wait(IDLE_POLL_SECONDS)

    @property
    def idle(self) -> bool:
        """True when the last poll found nothing new and every consumer has delivered all it got."""
        return self.caught_up.is_set() and all(consumer.idle for consumer in self.consumers)
