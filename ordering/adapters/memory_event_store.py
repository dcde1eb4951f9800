"""The event store in memory, with DynamoDB's semantics: the default for unit tests and benchmarks.

It keeps the same items the DynamoDB adapter writes (table_items), so serialisation and size
limits behave the same; one lock makes each transaction atomic.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from ordering.adapters.table_items import (
    head_from_item,
    recorded_from_item,
    scanned_from_item,
    transaction_items,
)
from ordering.domain.inventory import InventoryItem
from ordering.domain.recorded import Recorded
from ordering.domain.streams import sku_stream
from ordering.ports.event_store import Append, ConcurrencyError, EventStore, HeadWrite, Unreadable


class InMemoryEventStore(EventStore):
    def __init__(self) -> None:
        self._events: dict[str, list[dict[str, Any]]] = {}
        self._heads: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def read(self, stream: str, from_version: int = 1) -> list[Recorded]:
        with self._lock:
            items = list(self._events.get(stream, ())[max(from_version, 1) - 1 :])
        return [recorded_from_item(item) for item in items]

    def transact(self, appends: Sequence[Append], heads: Sequence[HeadWrite] = ()) -> list[Recorded]:
        event_items, head_items = transaction_items(appends, heads)
        with self._lock:
            for append in appends:
                found = len(self._events.get(append.stream, ()))
                if found != append.expected_version:
                    raise ConcurrencyError(append.stream, append.expected_version, found)
            for write in heads:
                current = self._heads.get(write.head.head)
                found = 0 if current is None else int(current["version"])
                short = write.require_available and (
                    current is None or int(current["available"]) < write.require_available
                )
                if found != write.expected_version or short:
                    raise ConcurrencyError(
                        sku_stream(write.head.sku, write.head.shard), write.expected_version, found
                    )
            for item in event_items:
                self._events.setdefault(item["PK"], []).append(item)
            for write, item in zip(heads, head_items, strict=True):
                self._heads[write.head.head] = item
        return [event for append in appends for event in append.recorded()]

    def read_heads(self, heads: Iterable[str]) -> dict[str, InventoryItem]:
        with self._lock:
            found = {head: self._heads[head] for head in heads if head in self._heads}
        return {head: head_from_item(item) for head, item in found.items()}

    def forked(self) -> None:
        # Another thread of the parent may have held the lock at the fork: it never will be
        # released here. The log itself is this process's copy (replay only reads it).
        self._lock = threading.Lock()

    def scan(self, segment: int, total_segments: int) -> Iterator[Recorded | Unreadable]:
        if not 0 <= segment < total_segments:
            raise ValueError(f"segment {segment} is not in 0..{total_segments - 1}")
        with self._lock:
            items = [
                item
                for stream, events in self._events.items()
                if zlib.crc32(stream.encode()) % total_segments == segment
                for item in events
            ]
        for item in items:
            yield scanned_from_item(item)
