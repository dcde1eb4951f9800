"""Make moto's DynamoDB writes atomic, as DynamoDB's are, and keep its stream intact when they fail.

DynamoDB evaluates a condition and writes in one step. moto evaluates the condition and then
writes in plain Python, so two threads can both pass `attribute_not_exists` and both write:
a lost race would look like a success. Serialising moto's write operations behind one lock
gives the local runtime and the tests DynamoDB's guarantee.

Two more things moto does that DynamoDB does not, both fixed here:
  - `transact_write_items` deep-copies every table it touches before it starts, and when the
    transaction is cancelled it puts the copies in place of the tables. The copy has a new
    stream shard object, so every open shard iterator (the stream pump's) keeps reading the old
    one and never sees another record; and the records of the cancelled writes stay in the old
    one. After a cancelled transaction the table keeps its original shard, without the
    cancelled transaction's records: on DynamoDB a cancelled transaction leaves no trace in
    the stream.
  - Reading an absent key of moto's table (a `defaultdict`) inserts an empty entry, so a read
    running while a transaction deep-copies the table can break the copy ("dictionary changed
    size during iteration"). Reads take the same lock.
  - Stream reads take it too, so that a reader never sees the records of a transaction that is
    still running, and may yet be cancelled: a stream consumer must not act on writes that
    never happened.
  - moto keeps every shard iterator it ever issued (and a reference to each, for its
    dashboard), and a stream pump asks for a new one several times a second. A used iterator
    is dropped once it has been read, so that a long `orders dev` does not grow without end
    (a pump never reads the same iterator twice: it continues with NextShardIterator).
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodbstreams.models import DynamoDBStreamsBackend, ShardIterator

WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")
READS = ("get_item", "query", "scan")
_lock = threading.RLock()


def _keep_stream_shards(method: Any) -> Any:
    """Run a transaction; if it fails, give each table back its own stream shard, as it was."""

    @functools.wraps(method)
    def transact(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        before = {name: (table, _shard_length(table)) for name, table in self.tables.items()}
        try:
            return method(self, *args, **kwargs)
        except BaseException:
            for name, (table, length) in before.items():
                restored = self.tables.get(name)
                shard = table.stream_shard
                if shard is None or length is None:
                    continue
                del shard.items[length:]  # the cancelled writes' records
                if restored is not None and restored is not table:
                    shard.table = restored
                    restored.stream_shard = shard
            raise

    return transact


def _forget_used_iterators(method: Any) -> Any:
    @functools.wraps(method)
    def get_records(self: DynamoDBStreamsBackend, iterator_arn: str, *args: Any, **kwargs: Any) -> Any:
        answer = method(self, iterator_arn, *args, **kwargs)
        self.shard_iterators.pop(iterator_arn, None)
        if len(ShardIterator.instances_tracked) > 1000:  # type: ignore[attr-defined]
            ShardIterator.instances_tracked = []  # type: ignore[attr-defined]
        return answer

    return get_records


def _shard_length(table: Any) -> int | None:
    return None if table.stream_shard is None else len(table.stream_shard.items)


def make_dynamodb_writes_atomic() -> None:
    """Idempotent: wraps each write (and read) method of moto's DynamoDB backends once."""
    targets = [(DynamoDBBackend, name) for name in WRITES + READS] + [(DynamoDBStreamsBackend, "get_records")]
    for backend, name in targets:
        method = getattr(backend, name)
        if getattr(method, "_atomic", False):
            continue
        if name == "transact_write_items":
            method = _keep_stream_shards(method)
        elif name == "get_records":
            method = _forget_used_iterators(method)

        @functools.wraps(method)
        def atomic(self: Any, *args: Any, _method: Any = method, **kwargs: Any) -> Any:
            with _lock:
                return _method(self, *args, **kwargs)

        atomic._atomic = True  # type: ignore[attr-defined]
        setattr(backend, name, atomic)
