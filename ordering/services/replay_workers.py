"""Replay's segments in worker processes, so that N workers load about N times as fast as one.

Threads share one interpreter lock, and a segment's work (decoding events, folding, building
and hashing rows) is Python: in threads, more segments add no speed. Each worker process has
its own lock. The workers are forked (Linux, as `orders replay` and the benchmarks run), so
they inherit the event store and the rebuilds as the caller made them, an in-memory log
included, without pickling anything; the store is told it was forked (EventStore.forked) so
that it drops what belonged to the parent. Worker w of W loads segments w, w + W, w + 2W...,
one after another, each one's COPY overlapping the scan and fold of the next
(replay.load_segments), and returns what it loaded; the parent verifies, catches up and swaps
as before. When one worker fails, the others load no further segment.

On AWS a segment is an invocation of the replay function of its own (handlers/replay.py,
"action": "segment"): the same load_segment, one Lambda each, scaled by invoking more. Lambda
has no /dev/shm, so multiprocessing cannot run there; its one-invocation "run" uses threads.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from typing import TYPE_CHECKING, Any

from ordering.ports.event_store import EventStore
from ordering.ports.read_model import Rebuilds, SegmentLoad

if TYPE_CHECKING:
    from ordering.services.replay import ReplayProgress

_FORK = multiprocessing.get_context("fork")
Load = Callable[..., list[SegmentLoad]]  # replay.load_segments

_ENDED = None  # the parent's last message to its relay

# In a worker: what load_in_processes handed it at the fork.
_inherited: dict[str, Any] = {}


class _Relay:
    """A worker's progress, sent to the parent (which reports it to the caller's progress).
    Through a pipe with no lock: each message is one write of a few bytes, which a pipe keeps
    whole, so a worker that dies cannot leave a lock held that the parent then waits on."""

    def __init__(self, pipe: Any) -> None:
        self._pipe = pipe

    def scanned(self, segment: int, events: int) -> None:
        self._pipe.send((segment, events))

    def phase(self, name: str) -> None:
        """Phases are the parent's."""


def _start_worker(load: Load, store: EventStore, rebuilds: Rebuilds, pipe: Any, failed: Any) -> None:
    store.forked()
    _inherited.update(load=load, store=store, rebuilds=rebuilds, progress=_Relay(pipe), failed=failed)


def _load(replay_id: str, segments: list[int], total_segments: int) -> list[SegmentLoad]:
    load, store, rebuilds = _inherited["load"], _inherited["store"], _inherited["rebuilds"]
    failed = _inherited["failed"]
    return load(
        store,
        rebuilds,
        replay_id,
        segments,
        total_segments,
        _inherited["progress"],
        lambda: bool(failed.value),
    )


def load_in_processes(
    load: Load,
    store: EventStore,
    rebuilds: Rebuilds,
    replay_id: str,
    total_segments: int,
    workers: int,
    progress: ReplayProgress,
) -> list[SegmentLoad]:
    """`load(store, rebuilds, replay_id, segments, total_segments, progress, stopped)` on
    `workers` forked processes, each with its share of the segments. The first failure is
    raised once the segments already under way have ended (none is left loading behind the
    caller's back); the rest are not started."""
    if not rebuilds.shared_between_processes:
        raise ValueError(f"{type(rebuilds).__name__} keeps its models in this process: use 0 workers")
    reader, writer = _FORK.Pipe(duplex=False)
    # Set here when a worker failed, read by the others: shared memory, no lock (see _Relay).
    failed = _FORK.RawValue("b", 0)
    count = min(workers, total_segments)
    with ProcessPoolExecutor(
        max_workers=count,
        mp_context=_FORK,
        initializer=_start_worker,
        initargs=(load, store, rebuilds, writer, failed),
    ) as pool:
        shares = [list(range(w, total_segments, count)) for w in range(count)]
        futures = [pool.submit(_load, replay_id, share, total_segments) for share in shares]
        # Started once the workers are forked, so that none inherits this thread.
        relay = threading.Thread(target=_relay, args=(reader, progress), name="replay-progress")
        relay.start()
        try:
            wait(futures, return_when=FIRST_EXCEPTION)
            for future in futures:
                if future.done() and future.exception() is not None:
                    failed.value = 1
                    pool.shutdown(wait=True, cancel_futures=True)
                    raise future.exception()  # type: ignore[misc]
            loads = [load for future in futures for load in future.result()]
        finally:
            # The workers' messages are in the pipe before their results reach this process,
            # so this one comes after every one of them and ends the relay at once.
            writer.send(_ENDED)
            relay.join()
            reader.close()
            writer.close()
    return loads


def _relay(reader: Any, progress: ReplayProgress) -> None:
    """Report the workers' progress until the parent says they have ended."""
    while (message := reader.recv()) != _ENDED:
        progress.scanned(*message)
