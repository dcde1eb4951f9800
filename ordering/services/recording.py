"""Decide and record: the one path every command takes from the log back to the log.

load (through the ports) -> decide (pure, in the domain) -> stamp -> one transaction -> on a
lost race, load again and decide again. A command service says only what to load and which
domain decision to make; a Decision says which events go on which stream, at the version
they were decided on. SKU streams carry their head: the runner folds each SKU's new events
into the head it writes with them, under the condition that nobody moved it meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

from ordering.domain import inventory
from ordering.domain.events import DomainEvent
from ordering.domain.fold import fold
from ordering.domain.inventory import InventoryItem
from ordering.domain.recorded import Recorded
from ordering.domain.streams import sku_stream
from ordering.ports.event_store import Append, EventStore, HeadWrite
from ordering.services.retry import RetryPolicy
from ordering.services.stamp import Cause, Stamp

State = TypeVar("State")


@dataclass(frozen=True)
class StreamChange:
    """New events for a stream without a head, decided on it at `version` (0: a new stream)."""

    stream: str
    version: int
    events: Sequence[DomainEvent]


@dataclass(frozen=True)
class SkuChange:
    """New events for a SKU shard, decided on `item` (version 0: no head yet). With
    `require_available`, the head must still have that many units when it is written."""

    item: InventoryItem
    events: Sequence[DomainEvent]
    require_available: int = 0


@dataclass(frozen=True)
class Decision:
    """What one command decided; nothing of it is written yet."""

    streams: Sequence[StreamChange] = ()
    skus: Sequence[SkuChange] = ()

    @property
    def changes_nothing(self) -> bool:
        return not any(change.events for change in self.streams) and not any(
            change.events for change in self.skus
        )


@dataclass(frozen=True)
class Written:
    """What a command recorded: the events, and every SKU shard of its decision as it left it
    (by InventoryItem.head)."""

    events: list[Recorded]
    items: dict[str, InventoryItem]
    attempts: int = 1  # 2 or more: it lost that many races less one, and decided again


@dataclass(frozen=True)
class Recorder:
    """How commands are recorded: the stamp (ids, clock) and the retry after a lost race."""

    stamp: Stamp = field(default_factory=Stamp)
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def record(
        self,
        store: EventStore,
        cause: Cause,
        load: Callable[[], State],
        decide: Callable[[State], Decision],
        *,
        known: State | None = None,
    ) -> Written:
        """Decide on `known` (the state the caller has just read) or else on `load()`; after a
        lost race, on `load()` again. Raises ConflictRetriesExhausted when every attempt lost."""
        pending, attempts = known, 0

        def attempt() -> Written:
            nonlocal pending, attempts
            attempts += 1
            state, pending = (load() if pending is None else pending), None
            return self.write(store, decide(state), cause)

        return replace(self.retry.run(attempt), attempts=attempts)

    def write(self, store: EventStore, decision: Decision, cause: Cause) -> Written:
        """Stamp the decision's events and write them, with the SKU heads, in one transaction."""
        items = {change.item.head: change.item for change in decision.skus}
        if decision.changes_nothing:
            return Written([], items)
        appends = [
            Append(change.stream, change.version, self.stamp.events(change.events, cause))
            for change in decision.streams
            if change.events
        ]
        heads = []
        for change in decision.skus:
            if not change.events:
                continue
            stream, version = sku_stream(change.item.sku, change.item.shard), change.item.version
            append = Append(stream, version, self.stamp.events(change.events, cause))
            after = fold(inventory.evolve, append.recorded(), change.item)
            assert after is not None
            appends.append(append)
            heads.append(HeadWrite(after, version, change.require_available))
            items[after.head] = after
        return Written(store.transact(appends, heads), items)


DEFAULT = Recorder()  # what a service records with unless told otherwise
