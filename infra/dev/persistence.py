"""`orders dev --data-dir`: the table is saved on shutdown and restored on the next start.

The table is kept, because it is the source of truth: the event log, the SKU heads and the
idempotency records, item for item, like a DynamoDB backup. So are the Cognito users, with
their `sub` (moto_cognito.py), so that customers still own their orders. Everything else is
derived and rebuilt: the read model by a replay of the log; queues start empty. A restored table,
like one restored from a backup on AWS, has a fresh stream, so its items are not delivered to
the stream consumers again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

TABLE_FILE = "table.jsonl"
USERS_FILE = "users.json"
BATCH = 25  # BatchWriteItem's limit


def table_file(data_dir: Path) -> Path:
    return data_dir / TABLE_FILE


def _items(dynamodb: Any, table_name: str) -> Iterator[dict[str, Any]]:
    for page in dynamodb.get_paginator("scan").paginate(TableName=table_name, ConsistentRead=True):
        yield from page["Items"]


def save(dynamodb: Any, table_name: str, data_dir: Path) -> int:
    """Write every item of the table, one DynamoDB-JSON item per line; return how many."""
    data_dir.mkdir(parents=True, exist_ok=True)
    target = table_file(data_dir)
    scratch = target.with_suffix(".tmp")
    count = 0
    with scratch.open("w", encoding="utf-8") as out:
        for item in _items(dynamodb, table_name):
            out.write(json.dumps(item, default=_refuse_binary, sort_keys=True) + "\n")
            count += 1
    os.replace(scratch, target)  # a crash while saving leaves the previous save intact
    return count


def load(dynamodb: Any, table_name: str, data_dir: Path) -> int:
    """Put back every saved item; return how many (0 when nothing was saved)."""
    source = table_file(data_dir)
    if not source.exists():
        return 0
    items = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
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
    scratch.write_text(json.dumps(users, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(scratch, target)


def load_users(data_dir: Path) -> list[dict[str, Any]]:
    source = data_dir / USERS_FILE
    return json.loads(source.read_text(encoding="utf-8")) if source.exists() else []
