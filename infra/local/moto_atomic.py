"""Make moto's DynamoDB writes atomic, as DynamoDB's are.

DynamoDB evaluates a condition and writes in one step. moto evaluates the condition and then
writes in plain Python, so two threads can both pass `attribute_not_exists` and both write:
a lost race would look like a success. Serialising moto's write operations behind one lock
gives the local runtime and the tests DynamoDB's guarantee. It changes nothing else.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from moto.dynamodb.models import DynamoDBBackend

WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")
_lock = threading.RLock()


def make_dynamodb_writes_atomic() -> None:
    """Idempotent: wraps each write method of moto's DynamoDB backend once."""
    for name in WRITES:
        method = getattr(DynamoDBBackend, name)
        if getattr(method, "_atomic", False):
            continue

        @functools.wraps(method)
        def atomic(self: DynamoDBBackend, *args: Any, _method: Any = method, **kwargs: Any) -> Any:
            with _lock:
                return _method(self, *args, **kwargs)

        atomic._atomic = True  # type: ignore[attr-defined]
        setattr(DynamoDBBackend, name, atomic)
