"""The backends a port's contract suite runs against."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import boto3
from moto import mock_aws

from infra.emulator.moto_atomic import make_dynamodb_writes_atomic
from ordering.adapters.dynamodb_event_store import DynamoDBEventStore
from ordering.adapters.dynamodb_table import create_table
from ordering.adapters.memory_event_store import InMemoryEventStore
from ordering.ports.event_store import EventStore

EVENT_STORES = ["memory", "dynamodb"]


@contextlib.contextmanager
def moto_table() -> Iterator[str]:
    """A fresh table in moto (in-process), with DynamoDB's atomic conditional writes."""
    make_dynamodb_writes_atomic()
    with mock_aws():
        name = f"orders-{uuid.uuid4().hex[:8]}"
        create_table(boto3.client("dynamodb"), name)
        yield name


@contextlib.contextmanager
def event_store(kind: str) -> Iterator[EventStore]:
    if kind == "memory":
        yield InMemoryEventStore()
    elif kind == "dynamodb":
        with moto_table() as table:
            yield DynamoDBEventStore(boto3.client("dynamodb", region_name="eu-west-1"), table)
    else:
        raise ValueError(kind)
