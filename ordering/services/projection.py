"""Project one event into the read model: the version guard, and gap healing from the log.

The read model keeps, per aggregate, the version of the last event it applied. An event at or
below it is a duplicate (a redelivery, or a replay that got there first) and is skipped. An
event beyond version + 1 means earlier ones have not been applied (delivered out of order,
or held back by a failed batch): they are read from the log and applied first. So
redelivery, reordering and replay all converge on the same rows. The log is read only then,
so `project` takes just the store's read: the projector builds its DynamoDB client on the
first gap, and a batch without one makes no AWS client at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import Any, cast

from ordering.domain import inventory, order, user
from ordering.domain.fold import fold
from ordering.domain.recorded import Recorded
from ordering.domain.streams import ORDER, SKU, USER, split_stream
from ordering.ports.event_store import EventStore
from ordering.ports.read_model import (
    Aggregate,
    ParkedEvent,
    ReadModel,
    ReadModelUnavailable,
    printable_error,
)

ReadLog = Callable[[str, int], list[Recorded]]  # EventStore.read: a stream's events from a version on

# Each kind of aggregate's evolve, by the prefix of its streams.
EVOLVE: dict[str, Callable[[Any, Recorded], Any]] = {
    ORDER: order.evolve,
    SKU: inventory.evolve,
    USER: user.evolve,
}


class Outcome(StrEnum):
    APPLIED = "applied"
    SKIPPED = "skipped"  # at or below the version the read model holds
    HEALED = "healed"  # missing events were read from the log and applied with it


class GapNotHealed(Exception):
    """The log does not hold the events between the read model's version and this event."""


def fold_stream(stream: str, events: Iterable[Recorded], state: Aggregate | None = None) -> Aggregate | None:
    """The state of the aggregate `stream` names after `events`, by its kind's evolve."""
    return cast("Aggregate | None", fold(evolve_of(stream), events, state))


def evolve_of(stream: str) -> Callable[[Any, Recorded], Any]:
    """The evolve of the kind of aggregate `stream` names."""
    kind, _ = split_stream(stream)
    return EVOLVE[kind]


def project(read_model: ReadModel, read_log: ReadLog, event: Recorded) -> Outcome:
    """Apply `event` to its aggregate's row(s) in one read-model transaction; `read_log` (the
    event store's `read`) is called only to fill a gap."""
    split_stream(event.stream)  # refuses a stream of no known kind before anything is locked
    with read_model.changing(event.stream) as change:
        current = change.current
        seen = current.version if current is not None else 0
        if event.version <= seen:
            return Outcome.SKIPPED
        if event.version == seen + 1:
            change.save(_folded(event.stream, [event], current))
            return Outcome.APPLIED
        missing = read_log(event.stream, seen + 1)[: event.version - seen]
        if [e.version for e in missing] != list(range(seen + 1, event.version + 1)) or (
            missing[-1].event_id != event.event_id
        ):
            raise GapNotHealed(
                f"{event.stream}: the read model is at v{seen}; the log does not hold "
                f"v{seen + 1}..v{event.version} ending in event {event.event_id}"
            )
        change.save(_folded(event.stream, missing, current))
        return Outcome.HEALED


def _folded(stream: str, events: list[Recorded], current: Aggregate | None) -> Aggregate:
    state = fold_stream(stream, events, current)
    if state is None:
        raise ValueError(f"{stream}: events {[e.type for e in events]} leave no state")
    return state


def redrive(read_model: ReadModel, store: EventStore) -> dict[str, Any]:
    """Project every parked aggregate again, up to its last event in the log (gap healing applies
    the parked events in order). An aggregate that now projects is unparked; one that still
    fails stays parked with the new error. Run it once the cause is fixed."""
    redriven, still_parked = [], []
    for stream in sorted({event.stream for event in read_model.parked()}):
        events: list[Recorded] = []
        try:
            events = list(store.read(stream))
            if not events:
                raise GapNotHealed(f"{stream}: the log holds no event of this stream")
            project(read_model, store.read, events[-1])
        except ReadModelUnavailable:
            raise
        except Exception as error:
            version = events[-1].version if events else 0
            read_model.park(
                ParkedEvent(stream, version, None, printable_error(f"{type(error).__name__}: {error}"))
            )
            still_parked.append(stream)
            continue
        read_model.unpark(stream)
        redriven.append(stream)
    return {"redriven": redriven, "still_parked": still_parked}
