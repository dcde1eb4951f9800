"""Hypothesis drives random valid command sequences through the services (in-memory store).

After every step: each stream's versions rise by exactly one from 1, stock is never
negative, each SKU head equals the fold of its stream, reserved equals the sum of the open
reservations (orders placed but not yet settled), and no unit appears or vanishes.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from generated.models import EmailKind
from ordering.adapters.fake_payment_gateway import FakePaymentGateway
from ordering.adapters.memory_event_store import InMemoryEventStore
from ordering.adapters.memory_leases import InMemoryLeases
from ordering.adapters.memory_mailer import InMemoryMailer
from ordering.domain import inventory
from ordering.domain.errors import DomainError
from ordering.domain.fold import fold
from ordering.domain.order import Status
from ordering.domain.placement import PlaceOrder, RequestedLine
from ordering.services.loading import load_order
from ordering.services.notifications import notify_customer
from ordering.services.payments import record_payment
from ordering.services.place_order import place_order
from ordering.services.restock import restock
from ordering.services.settlement import settle_order
from ordering.services.stamp import Cause
from tests.support.builders import new_id

SKUS = ["MUG-01", "CAP-01", "TEE-01"]
CAUSE = Cause("property")
OPEN = {Status.PENDING, Status.PAID, Status.PAYMENT_FAILED}


class OrderLifecycle(RuleBasedStateMachine):
    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self.store = InMemoryEventStore()
        self.gateway = FakePaymentGateway(decline_above=Decimal("100.00"))
        self.mailer = InMemoryMailer()
        self.leases = InMemoryLeases()
        self.stocked: Counter[str] = Counter()
        self.order_ids: list[str] = []

    @rule(sku=st.sampled_from(SKUS), quantity=st.integers(0, 20), cents=st.integers(1, 1000))
    def restock(self, sku: str, quantity: int, cents: int) -> None:
        restock(self.store, sku, quantity, Decimal(cents) / 100, "EUR", CAUSE)
        self.stocked[sku] += quantity

    @rule(
        target=orders,
        lines=st.dictionaries(st.sampled_from(SKUS), st.integers(1, 6), min_size=1, max_size=3),
        decline=st.booleans(),
    )
    def place(self, lines: dict[str, int], decline: bool):
        order_id = new_id()
        email = "ada+decline@example.com" if decline else "ada@example.com"
        command = PlaceOrder(order_id, new_id(), email, tuple(RequestedLine(s, q) for s, q in lines.items()))
        try:
            place_order(self.store, command, CAUSE)
        except DomainError as refused:
            event(f"refused: {type(refused).__name__}")
            return None
        event("placed")
        self.order_ids.append(order_id)
        return order_id

    @rule(order_id=orders)
    def pay(self, order_id: str | None) -> None:
        if order_id:
            record_payment(self.store, self.gateway, order_id, CAUSE)

    @rule(order_id=orders)
    def settle(self, order_id: str | None) -> None:
        order = load_order(self.store, order_id) if order_id else None
        if order and order.status in (Status.PAID, Status.PAYMENT_FAILED):
            event(f"settled {order.status.value}")
            settle_order(self.store, order_id, order.status is Status.PAID, CAUSE)

    @rule(order_id=orders)
    def notify(self, order_id: str | None) -> None:
        order = load_order(self.store, order_id) if order_id else None
        if order and order.status is not Status.PENDING:
            paid = order.status in (Status.PAID, Status.FULFILLED)
            kind = EmailKind.order_confirmation if paid else EmailKind.payment_failed
            notify_customer(
                self.store,
                self.mailer,
                self.leases,
                order_id,
                kind,
                CAUSE,
                until=datetime.now(UTC) + timedelta(hours=1),
            )

    def streams(self) -> list[str]:
        return [f"SKU#{sku}" for sku in SKUS] + [f"ORDER#{order_id}" for order_id in self.order_ids]

    @invariant()
    def versions_rise_by_exactly_one(self) -> None:
        for stream in self.streams():
            versions = [event.version for event in self.store.read(stream)]
            assert versions == list(range(1, len(versions) + 1)), stream

    @invariant()
    def stock_adds_up_and_matches_open_reservations(self) -> None:
        orders = [load_order(self.store, order_id) for order_id in self.order_ids]
        open_reservations: Counter[str] = Counter()
        for order in orders:
            if order and order.status in OPEN:
                for line in order.lines:
                    open_reservations[line.sku] += line.quantity
        heads = self.store.read_heads(SKUS)
        for sku in SKUS:
            folded = fold(inventory.evolve, self.store.read(f"SKU#{sku}"))
            if folded is None:
                assert sku not in heads
                continue
            head = heads[sku]
            assert (head.available, head.reserved, head.committed, head.version) == (
                folded.available,
                folded.reserved,
                folded.committed,
                folded.version,
            )
            assert min(folded.available, folded.reserved, folded.committed) >= 0
            assert folded.reserved == open_reservations[sku]
            assert folded.available + folded.reserved + folded.committed == self.stocked[sku]

    @invariant()
    def one_email_per_settled_outcome(self) -> None:
        sent = Counter(email.to + email.subject for _, email in self.mailer.sent)
        assert all(count == 1 for count in sent.values())


OrderLifecycle.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
TestOrderLifecycle = OrderLifecycle.TestCase
