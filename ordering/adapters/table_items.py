"""The single table's item layout (docs/architecture.md), shared by every event store adapter.

  event             PK = ORDER#<uuid> | SKU#<sku> | USER#<sub>   SK = EV#<version, 10 digits>
  SKU head          PK = SKU#<sku> | SKU#<sku>#<shard>           SK = HEAD
  idempotency       written by Powertools' idempotency layer, PK = idempotency#<function>
  lease             written by dynamodb_leases.py, PK = lease#<key>, SK = LEASE

The in-memory adapter builds the same items so that size limits are enforced identically.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from ordering.adapters.dynamodb_table import HEAD_KEY, event_key
from ordering.domain.events import SCHEMA_VERSIONS, InvalidEvent, parse_event_json, type_name
from ordering.domain.inventory import InventoryItem
from ordering.domain.money import format_money
from ordering.domain.recorded import NewEvent, Recorded, format_timestamp, parse_timestamp
from ordering.domain.streams import sku_stream
from ordering.ports.event_store import (
    MAX_ITEM_BYTES,
    MAX_TRANSACTION_BYTES,
    MAX_TRANSACTION_ITEMS,
    Append,
    HeadWrite,
    ItemTooLarge,
    TransactionTooLarge,
    Unreadable,
)

NUMBER_BYTES = 21  # DynamoDB stores a number in at most 21 bytes


def event_item(stream: str, version: int, event: NewEvent) -> dict[str, Any]:
    return {
        "PK": stream,
        "SK": event_key(version),
        "stream": stream,
        "version": version,
        "event_id": event.event_id,
        "type": type_name(event.data),
        "schema_version": SCHEMA_VERSIONS[type_name(event.data)],
        "occurred_at": format_timestamp(event.occurred_at),
        "correlation_id": event.correlation_id,
        "causation_id": event.causation_id,
        # JSON text, not a map: numbers stay JSON numbers and money stays a string.
        "data": event.data.model_dump_json(),
    }


def scanned_from_item(item: Mapping[str, Any]) -> Recorded | Unreadable:
    """The event, or what is known of an item that does not decode (for a scan)."""
    try:
        return recorded_from_item(item)
    except (InvalidEvent, KeyError, TypeError, ValueError) as error:
        version = item.get("version")
        return Unreadable(
            str(item.get("PK") or item.get("stream")),
            int(version) if version is not None else 0,
            f"{type(error).__name__}: {error}",
        )


def recorded_from_item(item: Mapping[str, Any]) -> Recorded:
    """Raises InvalidEvent when the stored data no longer matches its schema."""
    return Recorded(  # stream, version, data, event_id, occurred_at, correlation_id, causation_id
        item["stream"],
        int(item["version"]),
        parse_event_json(item["type"], int(item["schema_version"]), item["data"]),
        item["event_id"],
        parse_timestamp(item["occurred_at"]),
        item["correlation_id"],
        item.get("causation_id"),
    )


def head_item(head: InventoryItem) -> dict[str, Any]:
    return {
        "PK": sku_stream(head.sku, head.shard),
        "SK": HEAD_KEY,
        "sku": head.sku,
        "shard": head.shard,
        "shards": head.shards,
        "span": head.span,
        "available": head.available,
        "reserved": head.reserved,
        "committed": head.committed,
        "price": None if head.price is None else format_money(head.price),
        "currency": head.currency,
        "version": head.version,
    }


def head_from_item(item: Mapping[str, Any]) -> InventoryItem:
    price = item.get("price")
    return InventoryItem(
        sku=item["sku"],
        available=int(item["available"]),
        reserved=int(item["reserved"]),
        committed=int(item["committed"]),
        price=None if price is None else Decimal(price),
        currency=item.get("currency"),
        version=int(item["version"]),
        shard=int(item.get("shard", 0)),  # heads written before sharding have none of these
        shards=int(item.get("shards", 1)),
        span=int(item.get("span", 1)),
    )


def item_size(item: Mapping[str, Any]) -> int:
    """An upper bound of DynamoDB's size of an item: names plus UTF-8 values."""
    size = 0
    for name, value in item.items():
        size += len(name.encode())
        if isinstance(value, str):
            size += len(value.encode())
        elif isinstance(value, bool) or value is None:
            size += 1
        else:
            size += NUMBER_BYTES
    return size


def transaction_items(
    appends: Sequence[Append], heads: Sequence[HeadWrite]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The event items and the head items (in the order of `heads`) a transaction writes,
    after checking DynamoDB's limits."""
    events = [
        event_item(append.stream, append.expected_version + offset, event)
        for append in appends
        for offset, event in enumerate(append.events, start=1)
    ]
    head_items = [head_item(write.head) for write in heads]
    total = 0
    for item in events + head_items:
        size = item_size(item)
        if size > MAX_ITEM_BYTES:
            raise ItemTooLarge(item["PK"], int(item.get("version", 0)), size, MAX_ITEM_BYTES)
        total += size
    count = len(events) + len(head_items)
    if count > MAX_TRANSACTION_ITEMS or total > MAX_TRANSACTION_BYTES:
        raise TransactionTooLarge(count, total, MAX_TRANSACTION_ITEMS, MAX_TRANSACTION_BYTES)
    return events, head_items
