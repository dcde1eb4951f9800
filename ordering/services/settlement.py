"""After the payment outcome: commit the reserved stock and fulfil the order, or release it and
cancel the order. Any other command that may cancel an order (the payment deadline, the
customer, a refund made) is recorded here too, so that stock is released on one path. Order
and SKU streams change in one transaction; a redelivery changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ordering.domain import settlement
from ordering.domain.errors import NotFound
from ordering.domain.inventory import InventoryItem, empty_head
from ordering.domain.order import Order, OrderCommand
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
    return _record(
        store, order_id, lambda current, catalog: settlement.decide(current, catalog, paid), cause, recorder
    )


def record_cancelling(
    store: EventStore, order_id: str, command: OrderCommand, cause: Cause, *, recorder: Recorder = DEFAULT
) -> list[Recorded]:
    """A command that may cancel the order, with its stock released when it does; [] when it
    decides nothing (the order had moved on, or a redelivery)."""
    return _record(
        store,
        order_id,
        lambda current, catalog: settlement.cancelling(current, catalog, command),
        cause,
        recorder,
    )


def _record(
    store: EventStore,
    order_id: str,
    settle: Callable[[Order, Mapping[str, InventoryItem]], settlement.Settlement],
    cause: Cause,
    recorder: Recorder,
) -> list[Recorded]:
    def load() -> tuple[Order, Mapping[str, InventoryItem]]:
        current = load_order(store, order_id)
        if current is None:
            raise NotFound(f"order {order_id}")
        return current, store.read_heads(settlement.reserved_heads(current))

    def decide(state: tuple[Order, Mapping[str, InventoryItem]]) -> Decision:
        current, catalog = state
        settled = settle(current, catalog)
        return Decision(
            streams=[StreamChange(order_stream(order_id), current.version, settled.order_events)],
            skus=[
                SkuChange(catalog.get(head) or empty_head(head), events)
                for head, events in settled.stock_events.items()
            ],
        )

    return recorder.record(store, cause, load, decide).events
