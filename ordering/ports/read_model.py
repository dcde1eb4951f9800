"""The read model: every aggregate's current state, derived from the log, for the queries.

Two ports. `ReadModel` is the live model: the projector changes one aggregate at a time
under a lock, the API reads. `Rebuilds` builds a second model beside the live one (replay)
and swaps it in atomically. Both hold domain states (Order, InventoryItem, User); how they
are stored is the adapter's business (ordering/adapters/read_model_tables/rows.py for Postgres).
"""

from __future__ import annotations

import abc
import re
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime

from ordering.domain.inventory import InventoryItem
from ordering.domain.order import Order, Status
from ordering.domain.streams import order_stream, sku_stream, user_stream
from ordering.domain.user import User

# The port's errors live apart so that a function can answer them without importing the port.
from ordering.ports.read_model_errors import ReadModelError as ReadModelError
from ordering.ports.read_model_errors import ReadModelUnavailable as ReadModelUnavailable

Aggregate = Order | InventoryItem | User

REPLAY_ID = re.compile(r"^[a-z0-9_]{1,24}$")


def stream_of(state: Aggregate) -> str:
    """The stream (table partition key) whose events fold into `state`."""
    match state:
        case Order():
            return order_stream(state.id)
        case InventoryItem():
            return sku_stream(state.sku, state.shard)
        case User():
            return user_stream(state.id)
    raise TypeError(f"not an aggregate: {state!r}")


@dataclass(frozen=True)
class ParkedEvent:
    """An event that could not be projected: its key in the log, and why. The event stays in
    the log; parking only keeps it from holding up every other aggregate."""

    stream: str
    version: int
    event_id: str | None
    error: str


def printable_error(error: object, limit: int = 500) -> str:
    """An error's text as any store can hold it (no NUL, no lone surrogate), and short."""
    text = str(error).replace("\x00", "\\x00")
    return text.encode("utf-8", "backslashreplace").decode("utf-8")[:limit]


# --- the live model -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderCursor:
    """Where a page of a user's orders ended: newest first, ties broken by the order id."""

    created_at: datetime
    order_id: str


@dataclass(frozen=True)
class OrderPage:
    orders: list[Order]
    next: OrderCursor | None  # None: this was the last page


# An order in one of these states still has events to come: the rest (FULFILLED, CANCELLED) are
# final. Migration 006's partial index lists the same states.
UNFINISHED = (Status.PENDING, Status.PAID, Status.REFUND_PENDING, Status.PAYMENT_FAILED)


@dataclass(frozen=True)
class VersionPage:
    """A page of unfinished orders, by order id: the version held of each (by stream)."""

    versions: dict[str, int]
    next: str | None  # the order id to continue after; None: this was the last page


class Change:
    """One aggregate inside a `ReadModel.changing` block: its state, locked until the block ends.

    `save` only notes the state; the adapter writes it when the block ends without error.
    """

    def __init__(self, current: Aggregate | None) -> None:
        self.current = current
        self.saved: Aggregate | None = None

    def save(self, state: Aggregate) -> None:
        """Write `state` (a later version of the same aggregate) when the block ends without error."""
        self.saved = state


class ReadModel(abc.ABC):
    @abc.abstractmethod
    def changing(self, stream: str) -> AbstractContextManager[Change]:
        """A transaction over one aggregate. Another `changing` of the same aggregate, once the
        model holds it, waits until this one ends (two first writes of a new aggregate race, and
        the lower version loses: a write never moves an aggregate back). Leaving the block with
        an exception writes nothing."""

    @abc.abstractmethod
    def get(self, stream: str) -> Aggregate | None:
        """The aggregate's state, or None when the read model has no row for it."""

    @abc.abstractmethod
    def orders_of(self, user_id: str, limit: int, after: OrderCursor | None = None) -> OrderPage:
        """The user's orders, newest first, `limit` at a time, starting after `after`."""

    @abc.abstractmethod
    def order_versions(self, updated_since: datetime, limit: int) -> dict[str, int]:
        """The version held of each order updated at or after `updated_since` (by the stream),
        the most recently updated `limit` of them: what reconciliation compares with the log."""

    @abc.abstractmethod
    def unfinished_orders(
        self, updated_before: datetime, limit: int, after: str | None = None
    ) -> VersionPage:
        """The version held of each order in an UNFINISHED state last updated before
        `updated_before`, `limit` at a time by order id, starting after the order id `after`:
        reconciliation checks every one of them, however many orders the window holds."""

    @abc.abstractmethod
    def sweep_position(self) -> str | None:
        """The order id after which the next reconciliation run goes on with the unfinished
        orders (None: from the first)."""

    @abc.abstractmethod
    def save_sweep_position(self, after: str | None) -> None:
        """Note where this run's sweep of the unfinished orders stopped (None: it finished)."""

    @abc.abstractmethod
    def park(self, event: ParkedEvent) -> None:
        """Note an event that could not be applied (again: the latest error wins)."""

    @abc.abstractmethod
    def parked(self) -> list[ParkedEvent]:
        """Every parked event, by stream and version."""

    @abc.abstractmethod
    def unpark(self, stream: str) -> None:
        """Forget the stream's parked events: it is projected up to its last event in the log."""

    def order_of(self, user_id: str, order_id: str) -> Order | None:
        """The order if it exists AND belongs to the user: another user's order is None, like a
        missing one, so that callers cannot tell the two apart."""
        found = self.get(order_stream(order_id))
        return found if isinstance(found, Order) and found.user_id == user_id else None


# --- rebuilding beside the live model -----------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    """Per table: the row count and the sum of the rows' hashes. The sum does not depend on the
    order of the rows, so tallies of segments loaded apart add up to the tally of the whole."""

    counts: Mapping[str, int] = field(default_factory=dict)
    sums: Mapping[str, int] = field(default_factory=dict)

    def __add__(self, other: Tally) -> Tally:
        tables = set(self.counts) | set(other.counts)
        return Tally(
            {t: self.counts.get(t, 0) + other.counts.get(t, 0) for t in tables},
            {t: self.sums.get(t, 0) + other.sums.get(t, 0) for t in tables},
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Tally):
            return NotImplemented
        tables = set(self.counts) | set(other.counts) | set(self.sums) | set(other.sums)
        return all(
            self.counts.get(t, 0) == other.counts.get(t, 0) and self.sums.get(t, 0) == other.sums.get(t, 0)
            for t in tables
        )

    __hash__ = None  # type: ignore[assignment]

    def to_json(self) -> dict[str, dict[str, str]]:
        """JSON-safe (the sums outgrow a JSON number)."""
        return {t: {"rows": str(self.counts.get(t, 0)), "sum": str(self.sums.get(t, 0))} for t in self.counts}

    @classmethod
    def from_json(cls, data: Mapping[str, Mapping[str, str]]) -> Tally:
        return cls({t: int(v["rows"]) for t, v in data.items()}, {t: int(v["sum"]) for t, v in data.items()})


@dataclass(frozen=True)
class SegmentLoad:
    """What one replay worker loaded: its segment of the log, how many events, which rows."""

    segment: int
    total_segments: int
    events: int
    tally: Tally


@dataclass(frozen=True)
class TableDifference:
    """How one table of a rebuilt model differs from the live one (keys as text)."""

    table: str
    only_live: int
    only_rebuilt: int
    changed: int
    examples: tuple[str, ...] = ()

    @property
    def any(self) -> bool:
        return bool(self.only_live or self.only_rebuilt or self.changed)


# Reads the log for some streams and returns their folded states (None: no events).
Refresh = Callable[[list[str]], Iterable[Aggregate]]


class Rebuilds(abc.ABC):
    """Read models built beside the live one, each named by a replay id (REPLAY_ID)."""

    # Whether a segment loaded from a worker process lands where finish() sees it (a database
    # does; a model held in this process's memory does not).
    shared_between_processes = True

    @abc.abstractmethod
    def begin(self, replay_id: str) -> None:
        """An empty model, ready to load; a leftover of the same id is dropped first."""

    @abc.abstractmethod
    def load(
        self, replay_id: str, segment: int, total_segments: int, events: int, states: Iterable[Aggregate]
    ) -> SegmentLoad:
        """Bulk-load one segment's states (not in the model yet) and record the segment, in one
        transaction: a segment is loaded wholly or not at all, and only once."""

    @abc.abstractmethod
    def recorded(self, replay_id: str) -> list[SegmentLoad]:
        """The segments recorded so far, by segment number."""

    @abc.abstractmethod
    def tally(self, replay_id: str) -> Tally:
        """The tally of the rows the model holds now, computed from the stored rows."""

    @abc.abstractmethod
    def lagging(self, replay_id: str) -> list[str]:
        """Streams that the live model holds at a later version than this one, or that it lacks."""

    @abc.abstractmethod
    def put(self, replay_id: str, states: Iterable[Aggregate]) -> int:
        """Write states over the model's (a later version only); how many rows changed."""

    @abc.abstractmethod
    def differences(self, replay_id: str) -> list[TableDifference]:
        """Per table, how this model differs from the live one."""

    @abc.abstractmethod
    def swap(self, replay_id: str, refresh: Refresh) -> list[str]:
        """Make this model the live one, atomically, and drop the old one. While the live model is
        locked against change, the streams still `lagging` are re-read with `refresh` and written
        here first, so that nothing the live model saw is lost. The streams so refreshed."""

    @abc.abstractmethod
    def discard(self, replay_id: str) -> None:
        """Drop the model (nothing if it does not exist)."""

    @abc.abstractmethod
    def park(self, replay_id: str, events: Iterable[ParkedEvent]) -> None:
        """Note events this replay could not project; after a swap they are the live model's."""

    @abc.abstractmethod
    def parked(self, replay_id: str) -> list[ParkedEvent]:
        """The events this replay could not project, by stream and version."""


def check_replay_id(replay_id: str) -> str:
    if not REPLAY_ID.match(replay_id):
        raise ValueError(f"a replay id is 1 to 24 of a-z, 0-9 and _: {replay_id!r}")
    return replay_id
