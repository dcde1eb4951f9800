"""An admin adds stock to a SKU and sets its price: StockAdded and, if the price changes, PriceChanged."""

from __future__ import annotations

from decimal import Decimal

from ordering.domain import inventory
from ordering.domain.inventory import AddStock, ChangePrice, InventoryItem
from ordering.ports.event_store import EventStore
from ordering.services.recording import DEFAULT, Decision, Recorder, SkuChange
from ordering.services.stamp import Cause


def restock(
    store: EventStore,
    sku: str,
    quantity: int,
    price: Decimal,
    currency: str,
    cause: Cause,
    *,
    recorder: Recorder = DEFAULT,
) -> InventoryItem:
    """The SKU after the restock (unchanged when there was nothing to change)."""

    def load() -> InventoryItem:
        return store.read_heads([sku]).get(sku) or InventoryItem(sku=sku)

    def decide(current: InventoryItem) -> Decision:
        events = inventory.decide(current, AddStock(sku, quantity)) + inventory.decide(
            current, ChangePrice(sku, price, currency)
        )
        return Decision(skus=[SkuChange(current, events)])

    return recorder.record(store, cause, load, decide).items[sku]
