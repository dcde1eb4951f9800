"""`orders seed`: a small catalog with stock, put in through the restock route like an admin would."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra.dev.client import DevClient

SEED_ADMIN = "catalog-admin"


@dataclass(frozen=True)
class Product:
    sku: str
    quantity: int
    price: str
    currency: str = "EUR"
    shards: int = 1  # >1: a hot SKU, its stock split into that many heads (docs/benchmarks.md §5)

    def body(self) -> dict[str, Any]:
        body = {"sku": self.sku, "quantity": self.quantity, "price": self.price, "currency": self.currency}
        return body | ({"shards": self.shards} if self.shards > 1 else {})


CATALOG = (
    Product("MUG-01", 100, "12.50", shards=4),
    Product("TEE-01", 50, "25.00"),
    Product("POSTER-01", 20, "8.00"),
    Product("LAMP-01", 2, "49.90"),
)


class SeedFailed(RuntimeError):
    pass


def seed(client: DevClient, products: tuple[Product, ...] = CATALOG) -> list[dict[str, Any]]:
    """Restock every product as an admin; the API's answers (InventoryItem), in order."""
    token = client.token(SEED_ADMIN, admin=True)
    items = []
    for product in products:
        answer = client.api("POST", "/inventory", token, json=product.body())
        if answer.status_code != 200:
            raise SeedFailed(f"restocking {product.sku} answered {answer.status_code}: {answer.text}")
        items.append(answer.json())
    return items
