"""`orders dev --data-dir`'s write-ahead journal: every committed write to the table, on disk
before the caller hears "done", so that a SIGKILL loses nothing a client was told was accepted.

The journal runs in moto's process (moto_main.py) and hooks its DynamoDB backend
(journal_hook.py): after a write (put,
update, delete, transaction; BatchWriteItem is puts and deletes) has succeeded, the stream
records it added to the table's shard are its exact effect (a cancelled transaction leaves
none, see moto_atomic.py), and each becomes one JSON line: the item's keys and new image (none
for a delete). The line is written in one system call while moto's write lock is held (so the
file's order is the order the writes happened in) and fsynced after the lock is released and
before moto answers (so writers share fsyncs instead of queueing for them).

Each line carries a number `n`, counting from 1 in each run; the runtime notes the last `n`
the pipeline had finished with ("settled", see persistence.py), so that a restart knows which
events were still in flight.
"""

from __future__ import annotations

import json
import os
import threading
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any


class Segment:
    """One journal file, appended to by many threads; fsync and close never race."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._lock = threading.Lock()
        self._closed = False

    def write(self, data: bytes) -> None:
        os.write(self._fd, data)  # one call: a kill never leaves half of a write's lines

    def sync(self) -> None:
        with self._lock:
            if not self._closed:  # closed means synced
                os.fsync(self._fd)

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                os.fsync(self._fd)
                os.close(self._fd)
                self._closed = True


class Journal:
    """The table's journal in `path`, numbering lines from `first`. `ordering` is the lock its
    writers hold while they append (moto's write lock, in moto's process): `seal` holds it too."""

    def __init__(
        self, path: Path, *, first: int = 1, ordering: AbstractContextManager[Any] | None = None
    ) -> None:
        self.path = path
        self._ordering = ordering if ordering is not None else threading.RLock()
        self.last = first - 1  # the number of the last line written
        self._segment = Segment(path)

    def append(self, records: list[dict[str, Any]]) -> Segment:
        """Write the records' lines (call with moto's write lock held); sync the returned segment."""
        lines = []
        for record in records:
            self.last += 1
            change = record["dynamodb"]
            lines.append(
                json.dumps(
                    {"n": self.last, "keys": change["Keys"], "new": change.get("NewImage")},
                    separators=(",", ":"),
                    sort_keys=True,
                )
                + "\n"
            )
        segment = self._segment
        segment.write("".join(lines).encode("utf-8"))
        return segment

    def seal(self, sealed: Path) -> int:
        """Move the lines so far to `sealed` and go on in a new file; the last line sealed.
        Holds the writers' lock, only for a rename: no write falls between the two files."""
        with self._ordering:
            self._segment.close()
            os.replace(self.path, sealed)
            self._segment = Segment(self.path)
            return self.last

    def close(self) -> None:
        self._segment.close()


def read(path: Path) -> list[dict[str, Any]]:
    """The lines of a journal file; a last line cut short (a kill in mid-write) is ignored."""
    if not path.exists():
        return []
    entries = []
    for line in path.read_bytes().splitlines():
        try:
            entries.append(json.loads(line))
        except ValueError:
            break
    return entries
