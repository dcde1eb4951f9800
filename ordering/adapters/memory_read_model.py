"""The read model in memory, with the Postgres adapter's semantics: for unit tests and the
services' own tests. One lock stands for Postgres's row and table locks: a change holds it,
and a rebuild's swap takes it, so a change is wholly before or wholly after the swap."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator
from datetime import datetime

from ordering.adapters.read_model_tables import rows
from ordering.adapters.read_model_tables.rows import TABLES
from ordering.domain.order import Order
from ordering.domain.streams import order_stream
from ordering.ports.read_model import (
    UNFINISHED,
    Aggregate,
    Change,
    OrderCursor,
    OrderPage,
    ParkedEvent,
    ReadModel,
    ReadModelError,
    Rebuilds,
    Refresh,
    SegmentLoad,
    TableDifference,
    Tally,
    VersionPage,
    check_replay_id,
    stream_of,
)

EXAMPLES = 5


def _newer(state: Aggregate, than: Aggregate | None) -> bool:
    return than is None or than.version < state.version


class InMemoryReadModel(ReadModel):
    def __init__(self) -> None:
        self._states: dict[str, Aggregate] = {}
        self._parked: dict[tuple[str, int], ParkedEvent] = {}
        self._sweep_position: str | None = None
        self.lock = threading.RLock()

    @contextlib.contextmanager
    def changing(self, stream: str) -> Iterator[Change]:
        with self.lock:
            change = Change(self._states.get(stream))
            yield change
            if change.saved is not None:
                if stream_of(change.saved) != stream:
                    raise ValueError(f"a change of {stream} cannot save {stream_of(change.saved)}")
                if _newer(change.saved, self._states.get(stream)):
                    self._states[stream] = change.saved

    def get(self, stream: str) -> Aggregate | None:
        with self.lock:
            return self._states.get(stream)

    def orders_of(self, user_id: str, limit: int, after: OrderCursor | None = None) -> OrderPage:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        with self.lock:
            mine = [s for s in self._states.values() if isinstance(s, Order) and s.user_id == user_id]
        mine.sort(key=lambda o: (o.created_at, o.id), reverse=True)
        if after is not None:
            mine = [o for o in mine if (o.created_at, o.id) < (after.created_at, after.order_id)]
        if len(mine) <= limit:
            return OrderPage(mine, None)
        last = mine[limit - 1]
        return OrderPage(mine[:limit], OrderCursor(last.created_at, last.id))

    def order_versions(self, updated_since: datetime, limit: int) -> dict[str, int]:
        with self.lock:
            recent = [
                s for s in self._states.values() if isinstance(s, Order) and s.updated_at >= updated_since
            ]
        recent.sort(key=lambda o: (o.updated_at, o.id), reverse=True)
        return {order_stream(o.id): o.version for o in recent[:limit]}

    def unfinished_orders(
        self, updated_before: datetime, limit: int, after: str | None = None
    ) -> VersionPage:
        with self.lock:
            unfinished = [
                s
                for s in self._states.values()
                if isinstance(s, Order)
                and s.status in UNFINISHED
                and s.updated_at < updated_before
                and (after is None or s.id > after)
            ]
        unfinished.sort(key=lambda o: o.id)
        page = unfinished[:limit]
        return VersionPage(
            {order_stream(o.id): o.version for o in page},
            page[-1].id if len(unfinished) > limit else None,
        )

    def sweep_position(self) -> str | None:
        with self.lock:
            return self._sweep_position

    def save_sweep_position(self, after: str | None) -> None:
        with self.lock:
            self._sweep_position = after

    def park(self, event: ParkedEvent) -> None:
        with self.lock:
            self._parked[(event.stream, event.version)] = event

    def parked(self) -> list[ParkedEvent]:
        with self.lock:
            return [self._parked[key] for key in sorted(self._parked)]

    def unpark(self, stream: str) -> None:
        with self.lock:
            for key in [k for k in self._parked if k[0] == stream]:
                del self._parked[key]

    def states(self) -> dict[str, Aggregate]:
        with self.lock:
            return dict(self._states)

    def replace_all(self, states: dict[str, Aggregate], parked: Iterable[ParkedEvent] = ()) -> None:
        with self.lock:
            self._states = dict(states)
            self._parked = {(event.stream, event.version): event for event in parked}


def _rows_by_table(states: Iterable[Aggregate]) -> dict[str, list[rows.Row]]:
    by_table: dict[str, list[rows.Row]] = {table.name: [] for table in TABLES}
    for state in states:
        for name, table_rows in rows.rows_of(state).items():
            by_table[name].extend(table_rows)
    return by_table


class InMemoryRebuilds(Rebuilds):
    shared_between_processes = False  # a worker process would load into its own copy

    def __init__(self, live: InMemoryReadModel) -> None:
        self.live = live
        self._models: dict[str, dict[str, Aggregate]] = {}
        self._segments: dict[str, dict[int, SegmentLoad]] = {}
        self._parked: dict[str, dict[tuple[str, int], ParkedEvent]] = {}
        self._lock = threading.Lock()

    def _model(self, replay_id: str) -> dict[str, Aggregate]:
        try:
            return self._models[check_replay_id(replay_id)]
        except KeyError:
            raise ReadModelError(f"no rebuild {replay_id}; begin it first") from None

    def begin(self, replay_id: str) -> None:
        with self._lock:
            self._models[check_replay_id(replay_id)] = {}
            self._segments[replay_id] = {}
            self._parked[replay_id] = {}

    def load(
        self, replay_id: str, segment: int, total_segments: int, events: int, states: Iterable[Aggregate]
    ) -> SegmentLoad:
        states = list(states)
        loaded = SegmentLoad(segment, total_segments, events, rows.tally_of(_rows_by_table(states)))
        with self._lock:
            model = self._model(replay_id)
            if segment in self._segments[replay_id]:
                raise ReadModelError(f"segment {segment} of {replay_id} is loaded already")
            streams = [stream_of(state) for state in states]
            if any(stream in model for stream in streams) or len(set(streams)) != len(streams):
                raise ReadModelError(f"segment {segment} of {replay_id} holds rows that are loaded already")
            model.update(zip(streams, states, strict=True))
            self._segments[replay_id][segment] = loaded
        return loaded

    def recorded(self, replay_id: str) -> list[SegmentLoad]:
        with self._lock:
            self._model(replay_id)
            return [self._segments[replay_id][s] for s in sorted(self._segments[replay_id])]

    def tally(self, replay_id: str) -> Tally:
        with self._lock:
            states = list(self._model(replay_id).values())
        return rows.tally_of(_rows_by_table(states))

    def lagging(self, replay_id: str) -> list[str]:
        live = self.live.states()
        with self._lock:
            model = self._model(replay_id)
            return [stream for stream, state in live.items() if _newer(state, model.get(stream))]

    def put(self, replay_id: str, states: Iterable[Aggregate]) -> int:
        written = 0
        with self._lock:
            model = self._model(replay_id)
            for state in states:
                stream = stream_of(state)
                if _newer(state, model.get(stream)):
                    model[stream] = state
                    written += 1
        return written

    def differences(self, replay_id: str) -> list[TableDifference]:
        live = _rows_by_table(self.live.states().values())
        with self._lock:
            rebuilt = _rows_by_table(list(self._model(replay_id).values()))
        found = []
        for table in TABLES:
            old = {rows.key_of(table, row): rows.canonical(table, row) for row in live[table.name]}
            new = {rows.key_of(table, row): rows.canonical(table, row) for row in rebuilt[table.name]}
            differing = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
            found.append(
                TableDifference(
                    table.name,
                    only_live=len(old.keys() - new.keys()),
                    only_rebuilt=len(new.keys() - old.keys()),
                    changed=sum(1 for k in old.keys() & new.keys() if old[k] != new[k]),
                    examples=tuple(differing[:EXAMPLES]),
                )
            )
        return found

    def swap(self, replay_id: str, refresh: Refresh) -> list[str]:
        with self.live.lock:
            lagging = self.lagging(replay_id)
            self.put(replay_id, refresh(lagging))
            with self._lock:
                model = self._models.pop(replay_id)
                self._segments.pop(replay_id, None)
                parked = self._parked.pop(replay_id, {})
            self.live.replace_all(model, parked.values())
        return lagging

    def discard(self, replay_id: str) -> None:
        with self._lock:
            self._models.pop(check_replay_id(replay_id), None)
            self._segments.pop(replay_id, None)
            self._parked.pop(replay_id, None)

    def park(self, replay_id: str, events: Iterable[ParkedEvent]) -> None:
        with self._lock:
            self._model(replay_id)
            self._parked[replay_id].update({(event.stream, event.version): event for event in events})

    def parked(self, replay_id: str) -> list[ParkedEvent]:
        with self._lock:
            self._model(replay_id)
            return [self._parked[replay_id][key] for key in sorted(self._parked[replay_id])]
