"""Rebuild the read model from the log: scan -> fold -> load -> verify -> catch up -> swap.

  1. prepare   an empty model beside the live one (Rebuilds.begin)
  2. segments  each scans its own part of the log (EventStore.scan), folds per aggregate and
               bulk-loads the states; segments are independent, so each can run on its own
               worker: in worker processes here (replay_workers.py), in separate Lambda
               invocations on AWS, or in threads of one process (no faster than one segment:
               they share the interpreter lock, but need nothing shared between processes)
  3. finish    verify: every segment was loaded, and the rows stored add up, count and checksum,
               to what the segments loaded; catch up with the log for streams that the live
               model saw move meanwhile; then swap (where the last such streams are re-read
               with the live model locked), or for a dry run, report the differences and drop it

Queries keep reading the live model throughout. Replay only reads the log and writes the new
model: it never publishes anything (no queue, bus or mail is touched). See docs/replay.md.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ordering.domain.recorded import Recorded
from ordering.ports.event_store import EventStore, Unreadable
from ordering.ports.read_model import (
    Aggregate,
    ParkedEvent,
    Rebuilds,
    Refresh,
    SegmentLoad,
    TableDifference,
    Tally,
    printable_error,
)
from ordering.services.gc_paused import gc_paused
from ordering.services.projection import evolve_of, fold_stream
from ordering.services.replay_workers import load_in_processes

CATCH_UP_PASSES = 3  # before the swap, so that little is left to do while the live model is locked
PROGRESS_EVERY = 500  # events between progress reports


class ReplayProgress:
    """What a replay reports as it goes, for a progress bar. These report nowhere."""

    def scanned(self, segment: int, events: int) -> None:
        """`events` more events of `segment` were read."""

    def phase(self, name: str) -> None:
        """A new step began ("verifying", "catching up", "swapping"...)."""


class UnprojectableEvents(Exception):
    """The log holds events this replay could not project: nothing was swapped."""

    def __init__(self, replay_id: str, events: list[ParkedEvent]) -> None:
        self.events = events
        listed = "; ".join(f"{e.stream} v{e.version}: {e.error}" for e in events[:10])
        more = f"; and {len(events) - 10} more" if len(events) > 10 else ""
        super().__init__(
            f"replay {replay_id}: {len(events)} events could not be projected ({listed}{more}); the live"
            " model is untouched. Fix them, or swap anyway with allow_parked (they are parked)"
        )


class ReplayIncomplete(Exception):
    def __init__(self, replay_id: str, missing: list[int]) -> None:
        self.missing = missing
        super().__init__(f"replay {replay_id}: segments {missing} were not loaded; run them, then finish")


class VerificationFailed(Exception):
    def __init__(self, replay_id: str, expected: Tally, stored: Tally) -> None:
        self.expected, self.stored = expected, stored
        tables = sorted(
            t
            for t in set(expected.counts) | set(stored.counts)
            if (expected.counts.get(t), expected.sums.get(t)) != (stored.counts.get(t), stored.sums.get(t))
        )
        detail = ", ".join(
            f"{t}: loaded {expected.counts.get(t, 0)} rows, stored {stored.counts.get(t, 0)}" for t in tables
        )
        super().__init__(f"replay {replay_id}: stored rows do not match what was loaded ({detail})")


@dataclass(frozen=True)
class ReplayReport:
    replay_id: str
    segments: int
    events: int
    tally: Tally
    refreshed: list[str] = field(default_factory=list)  # streams re-read from the log after the scan
    differences: list[TableDifference] = field(default_factory=list)  # dry run: rebuilt vs live
    swapped: bool = False
    unprojectable: list[ParkedEvent] = field(default_factory=list)  # parked in the rebuilt model

    @property
    def differs(self) -> bool:
        return any(difference.any for difference in self.differences)

    def to_json(self) -> dict[str, Any]:
        return {
            "replay_id": self.replay_id,
            "segments": self.segments,
            "events": self.events,
            "rows": dict(self.tally.counts),
            "refreshed": len(self.refreshed),
            "swapped": self.swapped,
            "unprojectable": [
                {"stream": e.stream, "version": e.version, "event_id": e.event_id, "error": e.error}
                for e in self.unprojectable
            ],
            "differences": [
                {
                    "table": d.table,
                    "only_live": d.only_live,
                    "only_rebuilt": d.only_rebuilt,
                    "changed": d.changed,
                    "examples": list(d.examples),
                }
                for d in self.differences
            ],
        }


def new_replay_id(now: datetime | None = None) -> str:
    """ "r20261127101500_3fa2": when it started, and a little randomness for two at once."""
    return (now or datetime.now(UTC)).strftime("r%Y%m%d%H%M%S_") + secrets.token_hex(2)


def refresher(store: EventStore) -> Refresh:
    """Re-read streams from the log and fold them: what the catch-up and the swap write."""

    def refresh(streams: list[str]) -> list[Aggregate]:
        states = (fold_stream(stream, store.read(stream)) for stream in streams)
        return [state for state in states if state is not None]

    return refresh


@dataclass(frozen=True)
class FoldedSegment:
    states: list[Aggregate]
    events: int  # read by the scan
    unprojectable: list[ParkedEvent]  # events no state could be built from, and why


def fold_segment(
    store: EventStore, events: Iterable[Recorded | Unreadable], progress: ReplayProgress, segment: int
) -> FoldedSegment:
    """Fold a segment's events per stream.

    A scan is not a snapshot: a stream it saw only partly is fine (the catch-up and the
    projector bring it forward), but one whose versions are not 1..n in a row is read again,
    whole, from the log rather than folded with a hole in it. A stream with an event that does
    not decode or does not fold keeps the state before it, as the projector does, and that
    event and every later one of the stream are reported, never projected out of order."""
    by_stream: dict[str, list[Recorded]] = defaultdict(list)
    unreadable: dict[str, list[Unreadable]] = defaultdict(list)
    count = 0
    for event in events:
        if isinstance(event, Unreadable):
            unreadable[event.stream].append(event)
        else:
            by_stream[event.stream].append(event)
        count += 1
        if count % PROGRESS_EVERY == 0:
            progress.scanned(segment, PROGRESS_EVERY)
    progress.scanned(segment, count % PROGRESS_EVERY)
    states: list[Aggregate] = []
    unprojectable: list[ParkedEvent] = []
    for stream in sorted(by_stream.keys() | unreadable.keys()):
        stream_events = sorted(by_stream.get(stream, []), key=lambda e: e.version)
        bad = sorted(unreadable.get(stream, []), key=lambda u: u.version)
        if not bad and [e.version for e in stream_events] != list(range(1, len(stream_events) + 1)):
            stream_events = store.read(stream)
        state, refused = _fold_until_refused(stream, stream_events, bad)
        if state is not None:
            states.append(state)
        unprojectable += refused
    return FoldedSegment(states, count, unprojectable)


def _fold_until_refused(
    stream: str, events: list[Recorded], unreadable: list[Unreadable]
) -> tuple[Aggregate | None, list[ParkedEvent]]:
    """The state folded up to the first event that does not decode or fold (or a hole); that
    event and the later ones, as unprojectable."""
    first_bad = unreadable[0].version if unreadable else None
    evolve = evolve_of(stream)
    state: Aggregate | None = None
    for position, event in enumerate(events):
        if event.version != position + 1 or (first_bad is not None and event.version >= first_bad):
            reason = unreadable[0].problem if unreadable else f"v{position + 1} is missing from the log"
            return state, _refused(stream, events[position:], unreadable, reason)
        try:
            state = evolve(state, event)
        except Exception as error:
            return state, _refused(stream, events[position:], unreadable, f"{type(error).__name__}: {error}")
    if unreadable:
        return state, _refused(stream, [], unreadable, unreadable[0].problem)
    return state, []


def _refused(
    stream: str, events: list[Recorded], unreadable: list[Unreadable], reason: str
) -> list[ParkedEvent]:
    found = {e.version: ParkedEvent(stream, e.version, e.event_id, printable_error(reason)) for e in events}
    for item in unreadable:
        found[item.version] = ParkedEvent(stream, item.version, None, printable_error(item.problem))
    return [found[version] for version in sorted(found)]


def prepare(rebuilds: Rebuilds, replay_id: str) -> None:
    rebuilds.begin(replay_id)


def load_segment(
    store: EventStore,
    rebuilds: Rebuilds,
    replay_id: str,
    segment: int,
    total_segments: int,
    progress: ReplayProgress | None = None,
) -> SegmentLoad:
    """Scan, fold and load one segment, with the garbage collector paused (gc_paused.py).
    Each segment runs once per replay."""
    return load_segments(store, rebuilds, replay_id, [segment], total_segments, progress)[0]


def load_segments(
    store: EventStore,
    rebuilds: Rebuilds,
    replay_id: str,
    segments: list[int],
    total_segments: int,
    progress: ReplayProgress | None = None,
    stopped: Callable[[], bool] = lambda: False,
) -> list[SegmentLoad]:
    """Load `segments` one after another, each one's load into the rebuild (rows, COPY, commit:
    much of it waiting for Postgres) on a thread of its own while the next segment is scanned and
    folded here, so that Postgres and this process work at the same time. At most one load is
    under way; a failure stops the rest, after the load under way has ended. `stopped` is asked
    before each segment (worker processes: another one failed). What was loaded, in order."""
    for segment in segments:
        if not 0 <= segment < total_segments:
            raise ValueError(f"segment {segment} is not in 0..{total_segments - 1}")
    progress = progress or ReplayProgress()
    loads: list[SegmentLoad] = []
    with gc_paused(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="replay-load") as loader:
        loading: Future[SegmentLoad] | None = None
        for segment in segments:
            if stopped():
                break
            folded = fold_segment(store, store.scan(segment, total_segments), progress, segment)
            if loading is not None:
                loads.append(loading.result())
            loading = loader.submit(_load_folded, rebuilds, replay_id, segment, total_segments, folded)
        if loading is not None:
            loads.append(loading.result())
    return loads


def _load_folded(
    rebuilds: Rebuilds, replay_id: str, segment: int, total_segments: int, folded: FoldedSegment
) -> SegmentLoad:
    if folded.unprojectable:
        rebuilds.park(replay_id, folded.unprojectable)
    return rebuilds.load(replay_id, segment, total_segments, folded.events, folded.states)


def finish(
    store: EventStore,
    rebuilds: Rebuilds,
    replay_id: str,
    total_segments: int,
    *,
    dry_run: bool = False,
    allow_parked: bool = False,
    progress: ReplayProgress | None = None,
) -> ReplayReport:
    """Verify, catch up, and swap (or, dry, report the differences and drop the rebuilt model).
    Events that could not be projected stop the swap (UnprojectableEvents, the rebuilt model
    dropped) unless `allow_parked`: then they are swapped in as the live model's parked events."""
    progress = progress or ReplayProgress()
    progress.phase("verifying")
    loads = rebuilds.recorded(replay_id)
    done = {load.segment for load in loads if load.total_segments == total_segments}
    missing = [segment for segment in range(total_segments) if segment not in done]
    if missing or len(loads) != total_segments:
        raise ReplayIncomplete(replay_id, missing)
    expected = sum((load.tally for load in loads), Tally())
    stored = rebuilds.tally(replay_id)
    if stored != expected:
        raise VerificationFailed(replay_id, expected, stored)
    events = sum(load.events for load in loads)
    unprojectable = rebuilds.parked(replay_id)
    if unprojectable and not dry_run and not allow_parked:
        rebuilds.discard(replay_id)
        raise UnprojectableEvents(replay_id, unprojectable)

    progress.phase("catching up")
    refresh = refresher(store)
    refreshed: list[str] = []
    for _ in range(CATCH_UP_PASSES):
        lagging = rebuilds.lagging(replay_id)
        if not lagging:
            break
        rebuilds.put(replay_id, refresh(lagging))
        refreshed += lagging

    if dry_run:
        progress.phase("comparing")
        differences = rebuilds.differences(replay_id)
        rebuilds.discard(replay_id)
        return ReplayReport(
            replay_id, total_segments, events, stored, refreshed, differences, unprojectable=unprojectable
        )

    progress.phase("swapping")
    refreshed += rebuilds.swap(replay_id, refresh)
    return ReplayReport(
        replay_id, total_segments, events, stored, refreshed, swapped=True, unprojectable=unprojectable
    )


def replay(
    store: EventStore,
    rebuilds: Rebuilds,
    *,
    segments: int = 4,
    workers: int = 0,
    dry_run: bool = False,
    allow_parked: bool = False,
    replay_id: str | None = None,
    progress: ReplayProgress | None = None,
) -> ReplayReport:
    """The whole replay from here: the segments on `workers` worker processes (replay_workers.py),
    or with 0, one thread per segment in this process. On any failure the rebuilt model is
    dropped and the live one is left as it was."""
    if segments < 1:
        raise ValueError("segments must be at least 1")
    if workers < 0:
        raise ValueError("workers must be 0 (threads) or more")
    replay_id = replay_id or new_replay_id()
    progress = progress or ReplayProgress()
    progress.phase("scanning")
    prepare(rebuilds, replay_id)
    try:
        if workers:
            load_in_processes(load_segments, store, rebuilds, replay_id, segments, workers, progress)
        else:
            _load_in_threads(store, rebuilds, replay_id, segments, progress)
        return finish(
            store,
            rebuilds,
            replay_id,
            segments,
            dry_run=dry_run,
            allow_parked=allow_parked,
            progress=progress,
        )
    except BaseException:
        rebuilds.discard(replay_id)
        raise


def _load_in_threads(
    store: EventStore, rebuilds: Rebuilds, replay_id: str, segments: int, progress: ReplayProgress
) -> None:
    with ThreadPoolExecutor(max_workers=segments, thread_name_prefix="replay") as pool:
        futures = [
            pool.submit(load_segment, store, rebuilds, replay_id, segment, segments, progress)
            for segment in range(segments)
        ]
        for future in futures:
            future.result()
