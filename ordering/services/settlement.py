"""After the payment outcome: commit the reserved stock and fulfil the order, or release it and
cancel the order. Order and SKU streams change in one transaction; a redelivery changes nothing."""

from __future__ import annotations

from collections.abc import Mapping

from ordering.domain import settlement
from ordering.domain.errors import NotFound
from ordering.domain.inventory import InventoryItem, empty_head
from ordering.domain.order import Order
from ordering.domain.recorded import Recorded
from ordering.domain.streams import order_stream
from ordering.ports.event_store import EventStore
from ordering.services.loading import load_order
from ordering.services.recording import DEFAULT, Decision, Recorder, SkuChange, StreamChange
from ordering.services.stamp import Cause


def settle_order(
    store: EventStore, order_id: str, paid: bool, cause: Cause, *, recorder: Recorder = DEFAULT
) -> list[Recorded]:
    """The events written; [] when the order was already settled."""

    def load() -> tuple[Order, Mapping[str, InventoryItem]]:
        current = load_order(store, order_id)
        if current is None:
            raise NotFound(f"order {order_id}")
        return current, store.read_heads(settlement.reserved_heads(current))

    def decide(state: tuple[Order, Mapping[str, InventoryItem]]) -> Decision:
        current, catalog = state
        settled = settlement.decide(current, catalog, paid)
        return Decision(
            streams=[StreamChange(order_stream(order_id), current.version, settled.order_events)],
            skus=[
                SkuChange(catalog.get(head) or empty_head(head), events)
                for head, events in settled.stock_events.items()
            ],
        )

    return recorder.record(store, cause, load, decide).events
