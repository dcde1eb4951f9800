"""The event log: append with optimistic concurrency, read a stream, scan everything.

Several streams and SKU heads can change in one atomic transaction. A SKU head is the
snapshot of a SKU shard's stream that reservations are decided on: the InventoryItem its
events fold to. Heads are named by `InventoryItem.head`: the SKU for shard 0 (the catalog
head), `<sku>#<n>` for shard n. A head is written only together with its stream's events,
under the condition that nobody moved it since it was read.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from ordering.domain.inventory import InventoryItem
from ordering.domain.recorded import NewEvent, Recorded

# DynamoDB's limits, enforced by every adapter before any call is made.
MAX_TRANSACTION_ITEMS = 100
MAX_TRANSACTION_BYTES = 4 * 1024 * 1024
MAX_ITEM_BYTES = 400 * 1024


@dataclass(frozen=True)
class Append:
    """Append `events` to `stream`, whose last version must still be `expected_version` (0: new)."""

    stream: str
    expected_version: int
    events: Sequence[NewEvent]

    def recorded(self) -> list[Recorded]:
        """The events as the log holds them once this append is written (no read-back needed)."""
        return [
            Recorded.of(self.stream, self.expected_version + offset, event)
            for offset, event in enumerate(self.events, start=1)
        ]


@dataclass(frozen=True)
class HeadWrite:
    """Replace a SKU head, if it is still at `expected_version` (0: absent) and, when
    `require_available` is set, still has at least that many units available."""

    head: InventoryItem
    expected_version: int
    require_available: int = 0


class EventStoreError(Exception):
    """Base of the event store's errors."""


class ConcurrencyError(EventStoreError):
    """Somebody else appended first. Nothing of the transaction was written; re-read and retry."""

    def __init__(self, stream: str, expected: int, found: int | None) -> None:
        self.stream, self.expected, self.found = stream, expected, found
        seen = "unknown" if found is None else str(found)
        super().__init__(f"{stream}: expected version {expected}, found {seen}")


class TransactionTooLarge(EventStoreError):
    def __init__(self, items: int, size: int, max_items: int, max_bytes: int) -> None:
        self.items, self.size = items, size
        super().__init__(
            f"a transaction may hold {max_items} items and {max_bytes} bytes; "
            f"this one has {items} items and {size} bytes"
        )


class ItemTooLarge(EventStoreError):
    def __init__(self, stream: str, version: int, size: int, max_bytes: int) -> None:
        self.stream, self.version, self.size = stream, version, size
        super().__init__(f"{stream} v{version} would be {size} bytes; an item holds at most {max_bytes}")


class StoreUnavailable(EventStoreError):
    """The store could not be reached or throttled us; the operation may be retried as a whole."""


@dataclass(frozen=True)
class Unreadable:
    """An item of the log that no schema accepts any more (written before a schema refused
    what it holds, e.g. a control character): replay reports it instead of failing."""

    stream: str
    version: int
    problem: str


class EventStore(abc.ABC):
    @abc.abstractmethod
    def read(self, stream: str, from_version: int = 1) -> list[Recorded]:
        """The stream's events from `from_version` on, in order; [] for a stream with none."""

    @abc.abstractmethod
    def transact(self, appends: Sequence[Append], heads: Sequence[HeadWrite] = ()) -> list[Recorded]:
        """All appends and head writes, or none of them. Raises ConcurrencyError (which
        stream or head), TransactionTooLarge or ItemTooLarge; the last two before any call."""

    @abc.abstractmethod
    def read_heads(self, heads: Iterable[str]) -> dict[str, InventoryItem]:
        """The heads of those named (InventoryItem.head: a SKU, or `<sku>#<shard>`) that
        exist, by name."""

    @abc.abstractmethod
    def scan(self, segment: int, total_segments: int) -> Iterator[Recorded | Unreadable]:
        """Every event of one segment of the log, for replay. Segments are disjoint and together
        cover the log, so each can run on its own worker; order within a stream is not promised.
        An item that does not decode is yielded as Unreadable, so that one cannot stop a scan."""

    def forked(self) -> None:  # noqa: B027 (a hook: most stores have nothing to drop)
        """Called first in a worker process forked from the one that made this store (replay's
        segments): what it shares with the parent (open connections, locks that the parent's
        other threads held at the fork) is not the worker's to use. Nothing by default."""

    def append(self, stream: str, expected_version: int, events: Sequence[NewEvent]) -> list[Recorded]:
        """Append to one stream."""
        return self.transact([Append(stream, expected_version, events)])

    def version_of(self, stream: str) -> int:
        events = self.read(stream)
        return events[-1].version if events else 0

    def streams_beyond(self, versions: Mapping[str, int]) -> set[str]:
        """The streams whose log holds an event after the version given for each (a reader that
        holds that version is behind). Asks only whether the next event exists, so that an
        adapter can look many streams up in one batched call."""
        return {stream for stream, version in versions.items() if self.read(stream, version + 1)}
