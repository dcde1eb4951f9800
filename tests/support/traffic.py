"""Random but reproducible shop traffic, driven through the real services, for read-model tests.

`StreamingEventStore` wraps a real event store and keeps every committed event in commit
order, which is what the table's stream hands the consumers. `Shop` registers users, stocks
SKUs and places orders, then moves orders along (payment, settlement, e-mail) in a random
interleaving, the way concurrent functions would.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from generated.models import EmailKind
from ordering.adapters.fake_payment_gateway import FakePaymentGateway
from ordering.adapters.memory_leases import InMemoryLeases
from ordering.adapters.memory_mailer import InMemoryMailer
from ordering.domain.errors import OutOfStock
from ordering.domain.inventory import InventoryItem
from ordering.domain.order import Status
from ordering.domain.placement import PlaceOrder, RequestedLine
from ordering.domain.recorded import Recorded
from ordering.domain.user import RegisterUser
from ordering.ports.event_store import Append, EventStore, HeadWrite
from ordering.services.loading import load_order
from ordering.services.notifications import notify_customer
from ordering.services.payments import record_payment
from ordering.services.place_order import place_order
from ordering.services.restock import restock
from ordering.services.settlement import settle_order
from ordering.services.stamp import Cause
from ordering.services.users import register_user

SKUS = {"MUG-01": "7.50", "TEA-EARL": "4.20", "CUP-02": "3.00", "POT-XL": "29.90", "SPOON-3": "0.99"}


class StreamingEventStore(EventStore):
    """A real event store, plus `log`: every event committed, in commit order (the stream)."""

    def __init__(self, inner: EventStore) -> None:
        self.inner = inner
        self.log: list[Recorded] = []
        self._lock = threading.Lock()

    def read(self, stream: str, from_version: int = 1) -> list[Recorded]:
        return self.inner.read(stream, from_version)

    def transact(self, appends: Sequence[Append], heads: Sequence[HeadWrite] = ()) -> list[Recorded]:
        with self._lock:  # commit and log in one step, so that the log's order is the commit order
            recorded = self.inner.transact(appends, heads)
            self.log.extend(recorded)
        return recorded

    def read_heads(self, skus: Iterable[str]) -> dict[str, InventoryItem]:
        return self.inner.read_heads(skus)

    def scan(self, segment: int, total_segments: int) -> Iterator[Recorded]:
        return self.inner.scan(segment, total_segments)

    def forked(self) -> None:
        self._lock = threading.Lock()
        self.inner.forked()

    def since(self, position: int) -> list[Recorded]:
        with self._lock:
            return self.log[position:]


@dataclass
class Shop:
    store: EventStore
    seed: int = 7
    users: list[tuple[str, str]] = field(default_factory=list)
    orders: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.gateway = FakePaymentGateway()
        self.mailer = InMemoryMailer()
        self.leases = InMemoryLeases()
        self._open: list[str] = []  # orders not yet settled and mailed

    def open_shop(self, users: int = 8, stock: int = 100_000) -> None:
        for sku, price in SKUS.items():
            restock(self.store, sku, stock, Decimal(price), "EUR", Cause("seed"))
        for n in range(users):
            user_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
            email = f"user{n}+decline@example.com" if n % 4 == 3 else f"user{n}@example.com"
            register_user(self.store, RegisterUser(user_id, email), Cause("signup"))
            self.users.append((user_id, email))

    def place(self, user: tuple[str, str] | None = None) -> str | None:
        user_id, email = user or self.rng.choice(self.users)
        skus = self.rng.sample(sorted(SKUS), self.rng.randint(1, 3))
        order_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        lines = tuple(RequestedLine(sku, self.rng.randint(1, 3)) for sku in skus)
        try:
            place_order(self.store, PlaceOrder(order_id, user_id, email, lines), Cause(f"req-{order_id[:8]}"))
        except OutOfStock:
            return None
        self.orders.append(order_id)
        self._open.append(order_id)
        return order_id

    def advance(self) -> None:
        """One step of one open order: pay it, settle it, or mail the customer."""
        if not self._open:
            return
        order_id = self.rng.choice(self._open)
        current = load_order(self.store, order_id)
        assert current is not None
        cause = Cause(f"step-{order_id[:8]}")
        if current.status is Status.PENDING:
            record_payment(self.store, self.gateway, order_id, cause)
        elif current.status in (Status.PAID, Status.PAYMENT_FAILED):
            settle_order(self.store, order_id, current.status is Status.PAID, cause)
        else:
            kind = (
                EmailKind.order_confirmation
                if current.status is Status.FULFILLED
                else EmailKind.payment_failed
            )
            notify_customer(
                self.store,
                self.mailer,
                self.leases,
                order_id,
                kind,
                cause,
                until=datetime.now(UTC) + timedelta(hours=1),
            )
            self._open.remove(order_id)

    def run(self, orders: int, *, settle_ratio: float = 0.8) -> None:
        """Place `orders` orders while moving earlier ones along; some stay open (pending...)."""
        placed = 0
        while placed < orders:
            if self.rng.random() < 0.45:
                placed += self.place() is not None
            else:
                self.advance()
        for _ in range(int(len(self._open) * settle_ratio)):
            self.advance()
