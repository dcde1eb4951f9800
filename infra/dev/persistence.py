"""`orders dev --data-dir`: the table on disk, safe against a kill at any moment.

The table is kept, because it is the source of truth: the event log, the SKU heads and the
idempotency records, item for item, like a DynamoDB backup. So are the Cognito users, with
their `sub` (moto_cognito.py), so that customers still own their orders. Everything else is
derived and rebuilt: the read model by a replay of the log; the queues by re-driving the events
that were still in flight.

On disk, in the data directory:
  table.jsonl           a snapshot: one DynamoDB-JSON item per line
  journal.jsonl         every write since (journal.py), fsynced before the writer is answered
  journal.sealed.jsonl  the lines a snapshot is being made of (only while one is)
  settled               the journal's last line the pipeline had finished with
  redrive.jsonl         keys of events from before the snapshot the pipeline had not finished
  users.json            the Cognito users
The table is the snapshot with the journal's lines applied in order (each holds the whole new
item, so applying one twice changes nothing): a kill while a snapshot is written leaves a state
that still folds to the same table. The events to re-drive on the next start are those in
redrive.jsonl and those journaled after `settled`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.dev import journal
from ordering.adapters.dynamodb_table import EVENT_PREFIX, LEASE_PREFIX

TABLE_FILE = "table.jsonl"
JOURNAL_FILE = "journal.jsonl"
SEALED_FILE = "journal.sealed.jsonl"
SETTLED_FILE = "settled"
REDRIVE_FILE = "redrive.jsonl"
USERS_FILE = "users.json"
BATCH = 25  # BatchWriteItem's limit


@dataclass
class Folded:
    """The table the files on disk add up to, and the events in flight, in the order written."""

    items: dict[str, dict[str, Any]]
    redrive: dict[str, dict[str, Any]]  # key -> the event's Keys


def _key(keys: dict[str, Any]) -> str:
    return json.dumps(keys, sort_keys=True)


def _keys_of(item: dict[str, Any]) -> dict[str, Any]:
    return {"PK": item["PK"], "SK": item["SK"]}


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def settled(data_dir: Path) -> int:
    path = data_dir / SETTLED_FILE
    return int(path.read_text(encoding="utf-8")) if path.exists() else 0


def fold(data_dir: Path, journals: tuple[str, ...] = (SEALED_FILE, JOURNAL_FILE)) -> Folded:
    """The snapshot with `journals` applied, and the events not known to have been handled."""
    items = {_key(_keys_of(item)): item for item in _jsonl(data_dir / TABLE_FILE)}
    redrive = {_key(keys): keys for keys in _jsonl(data_dir / REDRIVE_FILE)}
    done = settled(data_dir)
    for name in journals:
        for entry in journal.read(data_dir / name):
            key = _key(entry["keys"])
            if entry["new"] is None:
                items.pop(key, None)
                redrive.pop(key, None)
                continue
            items[key] = entry["new"]
            if entry["n"] > done and entry["keys"]["SK"]["S"].startswith(EVENT_PREFIX):
                redrive[key] = entry["keys"]
    return Folded(items, redrive)


def _held_by_the_last_run(item: dict[str, Any]) -> bool:
    """A Powertools idempotency record of an invocation that was running (its layer's
    attributes), or a lease: what only an invocation of the last run could hold."""
    in_progress = item.get("status") == {"S": "INPROGRESS"} and "in_progress_expiration" in item
    return in_progress or item["PK"]["S"].startswith(LEASE_PREFIX)


def _write_atomically(path: Path, lines: Any) -> None:
    scratch = path.with_suffix(".tmp")
    with scratch.open("w", encoding="utf-8") as out:
        for line in lines:
            out.write(json.dumps(line, default=_refuse_binary, sort_keys=True) + "\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(scratch, path)  # a kill while writing leaves the previous file intact


def snapshot(data_dir: Path, folded: Folded, *, journals: tuple[str, ...]) -> None:
    """Write `folded` as the snapshot, then drop the journal files it was folded from."""
    data_dir.mkdir(parents=True, exist_ok=True)
    _write_atomically(data_dir / TABLE_FILE, folded.items.values())
    _write_atomically(data_dir / REDRIVE_FILE, folded.redrive.values())
    if JOURNAL_FILE in journals:  # a new run numbers its journal from 1 again
        (data_dir / SETTLED_FILE).unlink(missing_ok=True)
    for name in journals:
        (data_dir / name).unlink(missing_ok=True)


def compact(data_dir: Path) -> Folded:
    """Fold everything on disk into the snapshot (at start and at a clean stop, with no writer).

    "In progress" idempotency records and leases are dropped: no invocation outlives its run,
    and they would hold up the re-driven events until the dead invocations' deadlines.
    """
    folded = fold(data_dir)
    folded.items = {key: item for key, item in folded.items.items() if not _held_by_the_last_run(item)}
    snapshot(data_dir, folded, journals=(SEALED_FILE, JOURNAL_FILE))
    return folded


def mark_settled(data_dir: Path, last: int) -> None:
    """The pipeline has finished with every event up to journal line `last` (and with every
    event already in redrive.jsonl, all written before it)."""
    scratch = data_dir / (SETTLED_FILE + ".tmp")
    scratch.write_text(str(last), encoding="utf-8")
    os.replace(scratch, data_dir / SETTLED_FILE)
    (data_dir / REDRIVE_FILE).unlink(missing_ok=True)


def load(dynamodb: Any, table_name: str, items: list[dict[str, Any]]) -> int:
    """Put back the items; return how many."""
    for start in range(0, len(items), BATCH):
        pending = {table_name: [{"PutRequest": {"Item": item}} for item in items[start : start + BATCH]]}
        while pending:
            pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    return len(items)


def _refuse_binary(value: Any) -> Any:
    raise TypeError(f"the table holds a {type(value).__name__} attribute, which the local save cannot write")


def save_users(users: list[dict[str, Any]], data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    target = data_dir / USERS_FILE
    scratch = target.with_suffix(".tmp")
    with scratch.open("w", encoding="utf-8") as out:
        out.write(json.dumps(users, indent=1, sort_keys=True))
        out.flush()
        os.fsync(out.fileno())
    os.replace(scratch, target)


def load_users(data_dir: Path) -> list[dict[str, Any]]:
    source = data_dir / USERS_FILE
    return json.loads(source.read_text(encoding="utf-8")) if source.exists() else []
