"""An admin adds stock to a SKU and sets its price: StockAdded and, if the price changes, PriceChanged."""

from __future__ import annotations

from decimal import Decimal

from ordering.domain import inventory
from ordering.domain.inventory import AddStock, ChangePrice, InventoryItem
from ordering.ports.event_store import EventStore
from ordering.services.retry import RetryPolicy
from ordering.services.sku_changes import item_of, sku_writes
from ordering.services.stamp import Cause, Stamp


def restock(
    store: EventStore,
    sku: str,
    quantity: int,
    price: Decimal,
    currency: str,
    cause: Cause,
    *,
    stamp: Stamp | None = None,
    retry: RetryPolicy | None = None,
) -> InventoryItem:
    """The SKU after the restock (unchanged when there was nothing to change)."""
    stamp = stamp or Stamp()

    def attempt() -> InventoryItem:
        heads = store.read_heads([sku])
        current = item_of(heads[sku]) if sku in heads else InventoryItem(sku=sku)
        decided = inventory.decide(current, AddStock(sku, quantity)) + inventory.decide(
            current, ChangePrice(sku, price, currency)
        )
        if not decided:
            return current
        appends, writes = sku_writes(heads, {sku: stamp.events(decided, cause)})
        store.transact(appends, writes)
        return item_of(writes[0].head)

    return (retry or RetryPolicy()).run(attempt)
