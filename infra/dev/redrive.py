"""`orders dlq redrive NAME`: put what a dead-letter or on-failure queue holds back where it came from.

The topology says where each parked message came from (`topology.parked_sources()`), and each
kind goes back the way the AWS procedure in docs/deploy.md puts it back:
  - an SQS dead-letter queue: its messages move to the source queue, body and attributes as
    they were, as SQS's message-move task does (moto has no StartMessageMoveTask);
  - an EventBridge target's DLQ: each event is delivered again to the target's function, as
    it was (same id, so the consumer's idempotency recognises a repeat);
  - a stream consumer's on-failure queue: each pointer (shard and sequence-number range) is
    resolved by reading those records from the stream again, filtered and shaped as the event
    source mapping does, and delivered to the consumer. A pointer past the stream's 24 h
    retention, or to a stream that is gone, cannot be resolved: it stays, and the report says
    to run `orders replay`.
A message leaves the dead-letter queue only once it is back (moved, or delivered without an
error); anything else stays parked, with its reason in the report. Every consumer is
idempotent, so a redrive run twice, or a message redriven twice, changes nothing the second time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from infra import topology
from infra.emulator.event_filter import matches
from infra.emulator.functions import Invocation
from infra.emulator.resources import Resources
from infra.emulator.stream_pump import first_failure, lambda_record, sequence_number, shard_member

Invoke = Callable[[str, Any], Invocation]
STREAM_RETENTION = timedelta(hours=24)  # DynamoDB Streams keeps a record this long
# Received messages stay invisible this long while a redrive works on them; what is left is
# made visible again at the end, so that `orders dlq` and the next redrive see it.
WORKING_VISIBILITY_SECONDS = 300
REPLAY_ADVICE = "run `orders replay` to rebuild the read model from the log"
NOT_RESENT = "`orders replay` rebuilds only the read model: what {function} would have sent is not sent again"


class UnknownQueue(KeyError):
    """The name is not a dead-letter or on-failure queue of the topology."""


@dataclass(frozen=True)
class Left:
    """A message that stays in the dead-letter queue, and why."""

    message_id: str
    reason: str


@dataclass(frozen=True)
class RedriveReport:
    queue: str
    kind: topology.ParkedKind
    source: str
    redriven: int = 0  # messages that went back (and were deleted from the queue)
    records: int = 0  # stream records delivered again (stream consumers only)
    left: list[Left] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RedriveReport:
        return cls(**{**data, "left": [Left(**left) for left in data["left"]]})


@dataclass(frozen=True)
class StreamRange:
    """What a stream consumer's on-failure message points to (`DDBStreamBatchInfo`)."""

    stream_arn: str
    shard_id: str
    start: str
    end: str
    batch_size: int
    first_arrival: datetime | None

    @classmethod
    def of(cls, pointer: Any) -> StreamRange:
        """ValueError naming what is missing when `pointer` is not an on-failure message."""
        info = pointer.get("DDBStreamBatchInfo") if isinstance(pointer, dict) else None
        if not isinstance(info, dict):
            raise ValueError("not a stream on-failure record: no DDBStreamBatchInfo")
        missing = [
            k for k in ("streamArn", "shardId", "startSequenceNumber", "endSequenceNumber") if not info.get(k)
        ]
        if missing:
            raise ValueError(f"DDBStreamBatchInfo lacks {', '.join(missing)}")
        arrival = info.get("approximateArrivalOfFirstRecord")
        return cls(
            stream_arn=info["streamArn"],
            shard_id=info["shardId"],
            start=info["startSequenceNumber"],
            end=info["endSequenceNumber"],
            batch_size=int(info.get("batchSize") or 0),
            first_arrival=datetime.fromisoformat(arrival.replace("Z", "+00:00")) if arrival else None,
        )

    def past_retention(self, now: datetime) -> bool:
        return self.first_arrival is not None and now - self.first_arrival > STREAM_RETENTION

    def holds(self, number: str) -> bool:
        """Sequence numbers are decimal strings of growing value within a shard."""
        return int(self.start) <= int(number) <= int(self.end)


class Redriver:
    """Redrives the queues of one running system: moto's SQS and stream, and its functions."""

    def __init__(
        self,
        resources: Resources,
        *,
        sqs: Any,
        streams: Any,
        invoke: Invoke,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.resources = resources
        self.sqs, self.streams, self.invoke, self.now = sqs, streams, invoke, now

    def redrive(self, name: str) -> RedriveReport:
        try:
            parked = topology.parked_source(name)
        except KeyError as error:
            raise UnknownQueue(str(error.args[0])) from None
        if parked.kind == "queue":
            return self._move(parked)
        if parked.kind == "rule_target":
            return self._deliver_each(parked, lambda message: self._deliver_event(parked.source, message))
        consumer = next(c for c in topology.STREAM_CONSUMERS if c.function == parked.source)
        return self._deliver_each(parked, lambda message: self._deliver_records(consumer, message))

    # --- SQS: back to the source queue ----------------------------------------------------------

    def _move(self, parked: topology.ParkedSource) -> RedriveReport:
        source_url = self.resources.queue_urls[parked.source]
        moved = 0
        left: list[Left] = []
        held: list[dict[str, Any]] = []
        for batch in self._receive_all(parked.dead_letter):
            entries = [
                {
                    "Id": str(index),
                    "MessageBody": message["Body"],
                    "MessageAttributes": _sendable(message.get("MessageAttributes", {})),
                }
                for index, message in enumerate(batch)
            ]
            answer = self.sqs.send_message_batch(QueueUrl=source_url, Entries=entries)
            sent = {int(entry["Id"]) for entry in answer.get("Successful", [])}
            for failure in answer.get("Failed", []):
                message = batch[int(failure["Id"])]
                left.append(
                    Left(message["MessageId"], f"not sent back: {failure.get('Message', failure['Code'])}")
                )
                held.append(message)
            self._delete(parked.dead_letter, [batch[index] for index in sorted(sent)])
            moved += len(sent)
        self._release(parked.dead_letter, held)
        return RedriveReport(parked.dead_letter, parked.kind, parked.source, redriven=moved, left=left)

    # --- EventBridge target and stream consumer: delivered again, one message at a time ----------

    def _deliver_each(
        self, parked: topology.ParkedSource, deliver: Callable[[dict[str, Any]], tuple[int, str | None]]
    ) -> RedriveReport:
        """`deliver` answers (records delivered, None) or (_, why it stays parked)."""
        redriven = records = 0
        left: list[Left] = []
        held: list[dict[str, Any]] = []
        for batch in self._receive_all(parked.dead_letter):
            for message in batch:
                delivered, problem = deliver(message)
                records += delivered
                if problem is None:
                    self._delete(parked.dead_letter, [message])
                    redriven += 1
                else:
                    left.append(Left(message["MessageId"], problem))
                    held.append(message)
        self._release(parked.dead_letter, held)
        return RedriveReport(
            parked.dead_letter, parked.kind, parked.source, redriven=redriven, records=records, left=left
        )

    def _deliver_event(self, function: str, message: dict[str, Any]) -> tuple[int, str | None]:
        event = _json(message["Body"])
        if not isinstance(event, dict) or "detail-type" not in event:
            return 0, "not an EventBridge event"
        invocation = self.invoke(function, event)
        return (1, None) if invocation.ok else (0, _failure(function, invocation))

    def _deliver_records(
        self, consumer: topology.StreamConsumer, message: dict[str, Any]
    ) -> tuple[int, str | None]:
        try:
            pointed = StreamRange.of(_json(message["Body"]))
        except ValueError as error:
            return 0, str(error)
        advice = _advice(consumer)
        if pointed.stream_arn != self.resources.stream_arn:
            return 0, f"the records are in another stream ({pointed.stream_arn}), gone now: {advice}"
        if pointed.past_retention(self.now()):
            return 0, f"the records are past the stream's 24 h retention: {advice}"
        records = self._read(pointed)
        if not records or sequence_number(records[0]) != pointed.start:
            return 0, f"the records are no longer in the stream: {advice}"
        wanted = [record for record in records if matches(consumer.filter_pattern, record)]
        delivered = 0
        for start in range(0, len(wanted), consumer.batch_size):
            batch = wanted[start : start + consumer.batch_size]
            invocation = self.invoke(consumer.function, {"Records": batch})
            failed_at = first_failure(batch, invocation)
            if failed_at is not None:
                return delivered + failed_at, _failure(consumer.function, invocation)
            delivered += len(batch)
        return delivered, None

    def _read(self, pointed: StreamRange) -> list[dict[str, Any]]:
        """The records from `start` to `end`, in Lambda's shape; [] when the stream no longer has them.
        A virtual shard's records are read from moto's shard, without the other shards' records."""
        real_shard, member = shard_member(pointed.shard_id)
        try:
            iterator = self.streams.get_shard_iterator(
                StreamArn=pointed.stream_arn,
                ShardId=real_shard,
                ShardIteratorType="AT_SEQUENCE_NUMBER",
                SequenceNumber=pointed.start,
            )["ShardIterator"]
        except self.streams.exceptions.ClientError:
            return []  # TrimmedDataAccessException, ResourceNotFoundException: past retention or gone
        found: list[dict[str, Any]] = []
        while iterator:
            answer = self.streams.get_records(ShardIterator=iterator, Limit=1000)
            for record in answer["Records"]:
                if not pointed.holds(record["dynamodb"]["SequenceNumber"]):
                    return found
                shaped = lambda_record(record, stream_arn=pointed.stream_arn, region=self.resources.region)
                if member(shaped):
                    found.append(shaped)
            if not answer["Records"]:
                return found  # the end of an open shard: nothing newer has been written
            iterator = answer.get("NextShardIterator")
        return found

    # --- the dead-letter queue ------------------------------------------------------------------

    def _receive_all(self, name: str) -> Iterator[list[dict[str, Any]]]:
        """Every visible message, in batches of up to 10."""
        url = self.resources.queue_urls[name]
        while True:
            answer = self.sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=WORKING_VISIBILITY_SECONDS,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            batch = answer.get("Messages", [])
            if not batch:
                return
            yield batch

    def _delete(self, name: str, messages: list[dict[str, Any]]) -> None:
        if messages:
            self.sqs.delete_message_batch(
                QueueUrl=self.resources.queue_urls[name],
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )

    def _release(self, name: str, messages: list[dict[str, Any]]) -> None:
        """What stays parked is visible again at once, not after the working visibility timeout."""
        for start in range(0, len(messages), 10):
            self.sqs.change_message_visibility_batch(
                QueueUrl=self.resources.queue_urls[name],
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for i, m in enumerate(messages[start : start + 10])
                ],
            )


def _advice(consumer: topology.StreamConsumer) -> str:
    """What to do about records the stream no longer has: replay heals the read model only."""
    if "database" in topology.function(consumer.function).uses:
        return REPLAY_ADVICE
    return NOT_RESENT.format(function=consumer.function)


def _sendable(attributes: dict[str, Any]) -> dict[str, Any]:
    """Message attributes as SendMessage takes them (ReceiveMessage adds empty list fields)."""
    kept = ("DataType", "StringValue", "BinaryValue")
    return {name: {k: v for k, v in value.items() if k in kept} for name, value in attributes.items()}


def _failure(function: str, invocation: Invocation) -> str:
    if invocation.error:
        error = invocation.error
        return f"{function} failed again: {error.get('errorType')}: {error.get('errorMessage')}"
    return f"{function} reported records failed again"


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
