"""Small builders of domain objects, so that tests say only what matters to them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from itertools import count

from generated import models as m
from ordering.domain.placement import chosen_shard
from ordering.domain.recorded import NewEvent, Recorded
from ordering.domain.streams import order_stream

T0 = datetime(2026, 11, 27, 10, 0, 0, tzinfo=UTC)
_ticks = count()


def new_id() -> str:
    return str(uuid.uuid4())


def order_for_shard(shard: int, shards: int) -> str:
    """An order id that the hash sends to `shard` (of `shards`) first."""
    while chosen_shard(order_id := new_id(), shards) != shard:
        pass
    return order_id


def at(seconds: float = 0) -> datetime:
    return T0 + timedelta(seconds=seconds)


def new_event(data, *, correlation_id: str = "test-correlation", causation_id: str | None = None) -> NewEvent:
    return NewEvent(
        data=data,
        event_id=new_id(),
        occurred_at=at(next(_ticks)),
        correlation_id=correlation_id,
        causation_id=causation_id,
    )


def stock_added(sku: str = "MUG-01", quantity: int = 10) -> m.StockAdded:
    return m.StockAdded(sku=sku, quantity=quantity)


def order_fulfilled(order_id: str | None = None) -> m.OrderFulfilled:
    return m.OrderFulfilled(order_id=order_id or new_id())


def placed(order_id: str | None = None) -> Recorded:
    """A recorded OrderPlaced (version 1 of its order's stream): one mug, 7.50 EUR."""
    order_id = order_id or new_id()
    data = m.OrderPlaced(
        order_id=order_id,
        user_id=new_id(),
        email="ada@example.com",
        lines=[m.PricedLine(sku="MUG-01", quantity=1, unit_price="7.50", line_total="7.50")],
        total="7.50",
        currency="EUR",
    )
    return Recorded.of(order_stream(order_id), 1, new_event(data, correlation_id=f"checkout-{order_id[:8]}"))
