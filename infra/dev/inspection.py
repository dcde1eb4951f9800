"""What the running system holds, for the control API (and so the console): the log beside the read model.

Each order is shown as the log says it is (its events folded, as the projector and replay
fold them) and as the read model holds it, with whether the two agree. The log is read
straight from the table in moto and the read model through its Postgres adapter: the
console shows what is stored, not what some cache of it says.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from infra.emulator.aws import client
from infra.emulator.resources import Resources
from ordering.adapters.dynamodb_table import EVENT_PREFIX, HEAD_KEY
from ordering.adapters.postgres_connection import CONNECT_OPTIONS, PostgresConnection
from ordering.adapters.postgres_read_model import PostgresReadModel
from ordering.adapters.read_model_tables.rows import rows_of
from ordering.adapters.table_items import head_from_item, recorded_from_item
from ordering.domain.recorded import Recorded, to_envelope
from ordering.domain.streams import ORDER, SKU, order_stream, split_stream
from ordering.services.projection import fold_stream

_deserialize = TypeDeserializer().deserialize


class SystemView:
    def __init__(self, resources: Resources, database_url: str) -> None:
        import psycopg

        self.resources = resources
        self.read_model = PostgresReadModel(
            PostgresConnection(lambda: psycopg.connect(database_url, **CONNECT_OPTIONS))
        )

    def _items(self) -> list[dict[str, Any]]:
        dynamodb = client("dynamodb", self.resources.endpoint)
        items: list[dict[str, Any]] = []
        for page in dynamodb.get_paginator("scan").paginate(TableName=self.resources.table_name):
            items += [{name: _deserialize(value) for name, value in item.items()} for item in page["Items"]]
        return items

    def _streams(self, kind: str) -> dict[str, list[Recorded]]:
        streams: dict[str, list[Recorded]] = defaultdict(list)
        for item in self._items():
            if str(item.get("SK", "")).startswith(EVENT_PREFIX) and str(item["PK"]).startswith(f"{kind}#"):
                streams[item["PK"]].append(recorded_from_item(item))
        for events in streams.values():
            events.sort(key=lambda event: event.version)
        return streams

    def orders(self) -> list[dict[str, Any]]:
        """Every order in the log, newest first: status by the log, by the read model, and if they agree."""
        found = [
            self._order(stream, events, with_events=False) for stream, events in self._streams(ORDER).items()
        ]
        return sorted(found, key=lambda order: order["created_at"] or "", reverse=True)

    def order(self, order_id: str) -> dict[str, Any] | None:
        stream = order_stream(order_id)
        events = self._streams(ORDER).get(stream)
        return None if not events else self._order(stream, events, with_events=True)

    def _order(self, stream: str, events: list[Recorded], *, with_events: bool) -> dict[str, Any]:
        from_log = fold_stream(stream, events)
        in_read_model = self.read_model.get(stream)
        _, order_id = split_stream(stream)
        view = {
            "order_id": order_id,
            "status": getattr(from_log, "status", None),
            "read_model_status": getattr(in_read_model, "status", None),
            # what the read model holds: its rows (the log's state has more, e.g. reserved_from)
            "agrees": in_read_model is not None and rows_of(from_log) == rows_of(in_read_model),
            "created_at": _plain(getattr(from_log, "created_at", None)),
            "email": getattr(from_log, "email", None),
            "total": _plain(getattr(from_log, "total", None)),
            "currency": getattr(from_log, "currency", None),
            "events": len(events),
            "correlation_id": events[0].correlation_id,
        }
        if with_events:
            view["log"] = [to_envelope(event) for event in events]
            view["state_from_log"] = _plain(from_log)
            view["read_model_row"] = _plain(in_read_model)
        return view

    def stock(self) -> list[dict[str, Any]]:
        """Every SKU shard's head (what placing an order checks), with its version."""
        heads = [
            head_from_item(item)
            for item in self._items()
            if item.get("SK") == HEAD_KEY and str(item["PK"]).startswith(f"{SKU}#")
        ]
        return [_plain(head) for head in sorted(heads, key=lambda head: (head.sku, head.shard))]


def _plain(value: Any) -> Any:
    """JSON-ready: dataclasses as objects, Decimals and datetimes as strings, sets as sorted lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, Decimal | datetime):
        return value.isoformat() if isinstance(value, datetime) else str(value)
    if isinstance(value, frozenset | set):
        return sorted(_plain(item) for item in value)
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value
