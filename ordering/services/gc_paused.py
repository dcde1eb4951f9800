"""The garbage collector paused while a replay segment loads.

A segment builds hundreds of thousands of small objects that all stay alive until its COPY
(events, states, rows) and makes no reference cycles, so every collection the allocations
trigger walks a growing heap and frees nothing: profiled, more than half of a load. Frozen
(what already exists is left out of later collections) and disabled while a segment loads,
and restored afterwards, even when the load fails.

Segments can load in parallel threads: the collector is process-wide, so it is paused by
the first load to start and restored by the last to end.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_loads = 0  # loads under way in this process
_was_enabled = True  # the collector's state before the first of them


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    global _loads, _was_enabled
    with _lock:
        if _loads == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
            gc.freeze()
        _loads += 1
    try:
        yield
    finally:
        with _lock:
            _loads -= 1
            if _loads == 0:
                gc.unfreeze()
                if _was_enabled:
                    gc.enable()
