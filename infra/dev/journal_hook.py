"""The journal's hook into moto's DynamoDB backend, in moto's process (moto_main.py).

Kept apart from journal.py, the file format, so that `orders dev`, which reads journals when it
restores a `--data-dir`, does not import moto's DynamoDB models: they live in moto's process.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType

from infra.dev.journal import Journal
from infra.emulator.moto_atomic import WRITES, write_lock

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
