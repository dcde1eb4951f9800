"""Read an aggregate's stream and fold it; read a SKU's heads."""

from __future__ import annotations

from collections.abc import Iterable

from ordering.domain import order, user
from ordering.domain.fold import fold
from ordering.domain.inventory import InventoryItem, other_shards
from ordering.domain.order import Order
from ordering.domain.streams import order_stream, user_stream
from ordering.domain.user import User
from ordering.ports.event_store import EventStore


def load_order(store: EventStore, order_id: str) -> Order | None:
    return fold(order.evolve, store.read(order_stream(order_id)))


def load_user(store: EventStore, user_id: str) -> User | None:
    return fold(user.evolve, store.read(user_stream(user_id)))


def load_heads(store: EventStore, skus: Iterable[str]) -> dict[str, InventoryItem]:
    """The head of every shard of the SKUs, by InventoryItem.head: the catalog heads first
    (they say how many shards there are), then, for sharded SKUs only, the other shards."""
    catalog = store.read_heads(skus)
    shards = other_shards(catalog)
    return {**catalog, **store.read_heads(shards)} if shards else catalog
