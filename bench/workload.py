"""A reproducible day of business written through the real services: the log replay reads.

Users register, SKUs are stocked, and every order goes its whole way (placed, paid or
declined, settled, e-mailed), so the log holds every kind of event in the proportions the
system produces them. One customer in five is declined by the fake gateway.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from generated.models import EmailKind
from ordering.adapters.fake_payment_gateway import FakePaymentGateway
from ordering.adapters.memory_leases import InMemoryLeases
from ordering.adapters.memory_mailer import InMemoryMailer
from ordering.domain.placement import PlaceOrder, RequestedLine
from ordering.domain.user import RegisterUser
from ordering.ports.event_store import EventStore
from ordering.services.notifications import notify_customer
from ordering.services.payments import record_payment
from ordering.services.place_order import place_order
from ordering.services.recording import DEFAULT, Recorder
from ordering.services.restock import restock
from ordering.services.settlement import settle_order
from ordering.services.stamp import Cause
from ordering.services.users import register_user

SKUS = 20
USERS = 200
STOCK = 1_000_000


def generate(store: EventStore, events: int, *, seed: int = 8, recorder: Recorder = DEFAULT) -> int:
    """Write at least `events` events (whole orders only) into `store`; how many were written.
    With a recorder whose stamp is fixed (ids, clock), the log is the same on every run."""
    rng = random.Random(seed)
    gateway, mailer, leases = FakePaymentGateway(), InMemoryMailer(), InMemoryLeases()
    skus = [f"SKU-{n:03d}" for n in range(SKUS)]
    written = 0
    for n, sku in enumerate(skus):
        price = Decimal(f"{1 + n}.{n % 100:02d}")
        stocked = restock(store, sku, STOCK, price, "EUR", Cause("seed"), recorder=recorder)
        written += stocked[0].version  # StockAdded and PriceChanged (one shard)
    users = []
    for n in range(USERS):
        user_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        email = f"user{n}+decline@example.com" if n % 5 == 4 else f"user{n}@example.com"
        written += len(register_user(store, RegisterUser(user_id, email), Cause("signup"), recorder=recorder))
        users.append((user_id, email))
    while written < events:
        user_id, email = rng.choice(users)
        order_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        lines = tuple(RequestedLine(sku, rng.randint(1, 3)) for sku in rng.sample(skus, rng.randint(1, 3)))
        cause = Cause(f"req-{order_id[:8]}")
        placed = place_order(store, PlaceOrder(order_id, user_id, email, lines), cause, recorder=recorder)
        outcome = record_payment(store, gateway, order_id, cause, recorder=recorder)
        settle_order(store, order_id, outcome.approved, cause, recorder=recorder)
        kind = EmailKind.order_confirmation if outcome.approved else EmailKind.payment_failed
        notify_customer(
            store,
            mailer,
            leases,
            order_id,
            kind,
            cause,
            until=datetime.now(UTC) + timedelta(hours=1),
            recorder=recorder,
        )
        # OrderPlaced, a reservation per line, the payment outcome, a commit or release per line,
        # OrderFulfilled or OrderCancelled, ConfirmationSent.
        written += len(placed.event_ids) + 1 + len(lines) + 2
    return written
