"""Read an aggregate's stream and fold it."""

from __future__ import annotations

from ordering.domain import order, user
from ordering.domain.fold import fold
from ordering.domain.order import Order
from ordering.domain.streams import order_stream, user_stream
from ordering.domain.user import User
from ordering.ports.event_store import EventStore


def load_order(store: EventStore, order_id: str) -> Order | None:
    return fold(order.evolve, store.read(order_stream(order_id)))


def load_user(store: EventStore, user_id: str) -> User | None:
    return fold(user.evolve, store.read(user_stream(user_id)))
