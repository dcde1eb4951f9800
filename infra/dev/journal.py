"""`orders dev --data-dir`'s write-ahead journal: every committed write to the table, on disk
before the caller hears "done", so that a SIGKILL loses nothing a client was told was accepted.

The journal runs in moto's process (moto_main.py) and hooks its DynamoDB backend: after a write (put,
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

import functools
import json
import os
import threading
from pathlib import Path
from typing import Any

from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType

from infra.emulator.moto_atomic import WRITES, write_lock

BATCH_WRITES = ("put_item", "update_item", "delete_item")  # what BatchWriteItem calls


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
    """The table's journal in `path`, numbering lines from `first`."""

    def __init__(self, path: Path, *, first: int = 1) -> None:
        self.path = path
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
        Holds moto's write lock, only for a rename: no write falls between the two files."""
        with write_lock():
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


# --- the hook into moto ----------------------------------------------------------------------

_journals: dict[tuple[str, str, str], Journal] = {}  # (account, region, table) -> its journal
_inside = threading.local()  # a transaction calls put_item and delete_item: only it is journaled


def attach(account_id: str, region: str, table_name: str, journal: Journal) -> None:
    _install()
    _journals[(account_id, region, table_name)] = journal


def detach(account_id: str, region: str, table_name: str) -> None:
    _journals.pop((account_id, region, table_name), None)


def _journaled(method: Any) -> Any:
    @functools.wraps(method)
    def write(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        watched = [
            (journal, self.tables[name])
            for (account, region, name), journal in list(_journals.items())
            if account == self.account_id
            and region == self.region_name
            and name in self.tables
            and self.tables[name].stream_shard is not None
        ]
        if not watched or getattr(_inside, "write", False):
            return method(self, *args, **kwargs)
        segments = []
        with write_lock():
            before = [len(table.stream_shard.items) for _, table in watched]
            _inside.write = True
            try:
                answer = method(self, *args, **kwargs)
            finally:
                _inside.write = False
            for (journal, table), start in zip(watched, before, strict=True):
                added = table.stream_shard.items[start:]
                if added:
                    segments.append(journal.append([record.to_json() for record in added]))
        for segment in segments:
            segment.sync()
        return answer

    write._journaled = True  # type: ignore[attr-defined]
    return write


def _install() -> None:
    """Wrap each write method of moto's DynamoDB backend once (outside moto_atomic's lock)."""
    for name in WRITES:
        method = getattr(DynamoDBBackend, name)
        if not getattr(method, "_journaled", False):
            setattr(DynamoDBBackend, name, _journaled(method))


def republish(account_id: str, region: str, table_name: str, keys: list[dict[str, Any]]) -> int:
    """Add an INSERT record for each of these items to the table's stream again, as the stream
    would have published them: after a restart the stream consumers get the events that were in
    flight (they are idempotent). Returns how many were found."""
    table = dynamodb_backends[account_id][region].tables[table_name]
    found = 0
    with write_lock():
        for key in keys:
            item = table.get_item(DynamoType(key[table.hash_key_attr]), DynamoType(key[table.range_key_attr]))
            if item is not None:
                table.stream_shard.add(None, item)
                found += 1
    return found


def last_sequence_number(account_id: str, region: str, table_name: str) -> int | None:
    """The sequence number of the stream's last record (hold the write lock to read it together
    with the journal's `last`)."""
    shard = dynamodb_backends[account_id][region].tables[table_name].stream_shard
    return shard.starting_sequence_number + len(shard.items) - 1 if shard.items else None
