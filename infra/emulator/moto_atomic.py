"""Make moto's DynamoDB writes atomic, as DynamoDB's are, and its transactions and stream faithful.

DynamoDB evaluates a condition and writes in one step. moto evaluates the condition and then
writes in plain Python, so two threads can both pass `attribute_not_exists` and both write:
a lost race would look like a success. Serialising moto's write operations behind one lock
gives the local runtime and the tests DynamoDB's guarantee.

What else moto does that DynamoDB does not, and is changed here:
  - `transact_write_items` deep-copies every table it touches before it starts (slower with
    every item: half a second per transaction at 6,000 items), applies the operations one by
    one, and when one fails puts the copies in place of the tables. The copy has a new stream
    shard object, so every open shard iterator (the stream pump's) keeps reading the old one
    and never sees another record; and the cancelled writes' records stay in the stream.
    Here no table is copied: the items the transaction names are saved before it runs and put
    back if it fails, and the stream loses the records of the cancelled writes. On DynamoDB a
    cancelled transaction leaves no trace in the table or the stream.
  - Reading an absent key of moto's table (a `defaultdict`) inserts an empty entry, so reads
    take the same lock as writes.
  - Stream reads take it too, so that a reader never sees the records of a transaction that is
    still running, and may yet be cancelled: a stream consumer must not act on writes that
    never happened.
  - A query on the table's key reads every item of the table, sorted, and keeps those of the
    partition asked for: each query slows down as the log grows (a third of the local
    runtime's time at a few thousand orders). DynamoDB reads one partition. Here a query on
    the table's own key sorts only that partition's items.
  - Each scan page sorts the whole table and walks it from the first item to the page's start
    key (a scan of N items costs N^2 / page size). Here the sort compares keys natively and a
    page starts at its key. The order, and so every page, is the same as moto's.
  - moto keeps every shard iterator it ever issued (and a reference to each, for its
    dashboard), and a stream pump asks for a new one several times a second. A used iterator
    is dropped once it has been read, so that a long `orders dev` does not grow without end
    (a pump never reads the same iterator twice: it continues with NextShardIterator).
"""

from __future__ import annotations

import bisect
import copy
import functools
import inspect
import threading
from typing import Any

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.dynamodbstreams.models import DynamoDBStreamsBackend, ShardIterator

WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")
READS = ("get_item", "query", "scan")
_lock = threading.RLock()
_reading = threading.local()  # what a running base-table query or scan needs (_reads_what_it_needs)


class _CopyButNotTables:
    """The `copy` module as moto's DynamoDB models see it, except that a Table is not copied:
    transactions are undone item by item instead (see _undo_when_cancelled)."""

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def _undo_when_cancelled(method: Any) -> Any:
    """Run a transaction; if it fails, put back every item it named and drop its stream records."""

    @functools.wraps(method)
    def transact(
        self: DynamoDBBackend, transact_items: list[dict[str, Any]], *args: Any, **kwargs: Any
    ) -> Any:
        saved = []
        for entry in transact_items:
            _, operation = next(iter(entry.items()))
            table = self.tables.get(operation.get("TableName"))
            if table is None:
                continue
            if "Item" in operation:
                names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
                key = {name: operation["Item"][name] for name in names if name in operation["Item"]}
            else:
                key = operation.get("Key") or {}
            try:
                hash_value, range_value = self.get_keys_value(table, key)
            except Exception:  # noqa: S112 - moto refuses the malformed key itself, below
                continue
            saved.append(
                (table, hash_value, range_value, copy.deepcopy(table.get_item(hash_value, range_value)))
            )
        stream_lengths = {
            id(t): (t, len(t.stream_shard.items)) for t, *_ in saved if t.stream_shard is not None
        }
        try:
            return method(self, transact_items, *args, **kwargs)
        except BaseException:
            for table, hash_value, range_value, item in reversed(saved):
                table.delete_item(hash_value, range_value)
                if item is not None:
                    table.put_item(item.to_json()["Attributes"])
            for table, length in stream_lengths.values():
                del table.stream_shard.items[length:]  # the cancelled writes', and the undoing's
            raise

    return transact


def _reads_what_it_needs(method: Any, *, name: str) -> Any:
    """Table.query or Table.scan, telling `all_items()` what this read needs of the table.

    A base-table query needs its one partition; a scan page, the items after its start key.
    Index reads are left as they are.
    """
    signature = inspect.signature(method)

    @functools.wraps(method)
    def read(self: Table, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(self, *args, **kwargs).arguments
        if arguments.get("index_name") is None:
            if name == "query":
                _reading.partition = arguments["hash_key"]
            elif arguments.get("exclusive_start_key"):
                _reading.after = arguments["exclusive_start_key"]
        try:
            return method(self, *args, **kwargs)
        finally:
            _reading.partition = _reading.after = None

    return read


def _key_order(item: Any) -> tuple[Any, ...]:
    """moto's order of a table's items (DynamoType.__lt__ compares cast_value), compared natively."""
    if item.range_key is None:
        return (item.hash_key.cast_value,)
    return (item.hash_key.cast_value, item.range_key.cast_value)


def _all_items(self: Table) -> list[Any]:
    """Table.all_items, in moto's order, holding only what the running read needs (see above)."""
    partition = getattr(_reading, "partition", None)
    if partition is None:
        groups = list(self.items.values())
    else:
        found = self.items.get(partition)  # .get: a defaultdict must not grow on a read
        groups = [found] if found else []
    items = [item for group in groups for item in (group.values() if self.range_key_attr else [group])]
    items.sort(key=_key_order)
    after = getattr(_reading, "after", None)
    if after is not None:  # a scan page: moto would walk past every item up to this key
        key = [DynamoType(after[self.hash_key_attr]).cast_value]
        if self.range_key_attr:
            key.append(DynamoType(after[self.range_key_attr]).cast_value)
        items = items[bisect.bisect_right(items, tuple(key), key=_key_order) :]
    return items


def _forget_used_iterators(method: Any) -> Any:
    @functools.wraps(method)
    def get_records(self: DynamoDBStreamsBackend, iterator_arn: str, *args: Any, **kwargs: Any) -> Any:
        answer = method(self, iterator_arn, *args, **kwargs)
        self.shard_iterators.pop(iterator_arn, None)
        if len(ShardIterator.instances_tracked) > 1000:  # type: ignore[attr-defined]
            ShardIterator.instances_tracked = []  # type: ignore[attr-defined]
        return answer

    return get_records


def write_lock() -> threading.RLock:
    """The lock every write (and read) of moto's DynamoDB holds: hold it to see writes in order."""
    return _lock


def make_dynamodb_writes_atomic() -> None:
    """Idempotent: wraps each write (and read) method of moto's DynamoDB backends once."""
    dynamodb_models.copy = _CopyButNotTables()  # type: ignore[assignment]
    if not getattr(Table.all_items, "_reads_what_it_needs", False):
        Table.query = _reads_what_it_needs(Table.query, name="query")  # type: ignore[method-assign]
        Table.scan = _reads_what_it_needs(Table.scan, name="scan")  # type: ignore[method-assign]
        Table.all_items = _all_items  # type: ignore[method-assign]
        Table.all_items._reads_what_it_needs = True  # type: ignore[attr-defined]
    targets = [(DynamoDBBackend, name) for name in WRITES + READS] + [(DynamoDBStreamsBackend, "get_records")]
    for backend, name in targets:
        method = getattr(backend, name)
        if getattr(method, "_atomic", False):
            continue
        if name == "transact_write_items":
            method = _undo_when_cancelled(method)
        elif name == "get_records":
            method = _forget_used_iterators(method)

        @functools.wraps(method)
        def atomic(self: Any, *args: Any, _method: Any = method, **kwargs: Any) -> Any:
            with _lock:
                return _method(self, *args, **kwargs)

        atomic._atomic = True  # type: ignore[attr-defined]
        setattr(backend, name, atomic)
