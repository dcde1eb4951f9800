"""The domain on its own: pure functions, no store."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from generated import models as m
from ordering.domain import inventory, order, placement, settlement
from ordering.domain.errors import (
    CurrencyMismatch,
    DuplicateSku,
    InvalidTransition,
    NotFound,
    OutOfStock,
    UnknownSku,
)
from ordering.domain.fold import fold
from ordering.domain.inventory import CommitStock, InventoryItem, ReleaseStock
from ordering.domain.order import CancelOrder, FulfilOrder, RecordConfirmationSent, RecordPayment, Status
from ordering.domain.placement import PlaceOrder, RequestedLine
from ordering.domain.recorded import Recorded, from_envelope, to_envelope
from tests.support.builders import at, new_id

ORDER_ID, USER_ID = new_id(), new_id()
CATALOG = {
    "MUG-01": InventoryItem("MUG-01", available=5, price=Decimal("7.50"), currency="EUR", version=2),
    "CAP-01": InventoryItem("CAP-01", available=3, price=Decimal("0.10"), currency="EUR", version=2),
    "USD-01": InventoryItem("USD-01", available=9, price=Decimal("1.00"), currency="USD", version=2),
    "NEW-01": InventoryItem("NEW-01", available=9, version=1),  # stocked, never priced
}


def place(*lines: tuple[str, int]) -> placement.Placement:
    command = PlaceOrder(ORDER_ID, USER_ID, "ada@example.com", tuple(RequestedLine(s, q) for s, q in lines))
    return placement.decide(CATALOG, command)


def recorded(stream: str, events: list) -> list[Recorded]:
    return [Recorded(stream, n, data, new_id(), at(n), "c-1") for n, data in enumerate(events, start=1)]


def order_after(*events) -> order.Order:
    placed = place(("MUG-01", 2), ("CAP-01", 1)).order_placed
    state = fold(order.evolve, recorded(f"ORDER#{ORDER_ID}", [placed, *events]))
    assert state is not None
    return state


def test_placement_prices_every_line_from_the_catalog():
    decision = place(("MUG-01", 2), ("CAP-01", 3))
    assert [(line.unit_price, line.line_total) for line in decision.order_placed.lines] == [
        ("7.50", "15.00"),
        ("0.10", "0.30"),
    ]
    assert decision.order_placed.total == "15.30"
    assert decision.order_placed.currency == "EUR"
    assert decision.reservations["CAP-01"] == m.StockReserved(sku="CAP-01", order_id=ORDER_ID, quantity=3)


@pytest.mark.parametrize(
    ("lines", "error", "detail"),
    [
        (
            (("MUG-01", 6), ("CAP-01", 4)),
            OutOfStock,
            "MUG-01 (asked 6, available 5), CAP-01 (asked 4, available 3)",
        ),
        ((("MUG-01", 1), ("NOPE-01", 1), ("NEW-01", 1)), UnknownSku, "NOPE-01, NEW-01"),
        ((("MUG-01", 1), ("CAP-01", 1), ("MUG-01", 1)), DuplicateSku, "MUG-01"),
        ((("MUG-01", 1), ("USD-01", 1)), CurrencyMismatch, "MUG-01 in EUR, USD-01 in USD"),
    ],
)
def test_placement_refusals_name_everything_wrong(lines, error, detail):
    with pytest.raises(error) as raised:
        place(*lines)
    assert detail in str(raised.value)


def test_duplicate_sku_names_the_repeated_line():
    with pytest.raises(DuplicateSku) as raised:
        place(("MUG-01", 1), ("CAP-01", 1), ("MUG-01", 1))
    assert raised.value.lines == {2: "MUG-01"}


def test_the_happy_lifecycle():
    paid = m.PaymentSucceeded(order_id=ORDER_ID, amount="15.10", currency="EUR", payment_reference="p1")
    state = order_after(paid)
    assert state.status is Status.PAID
    assert order.decide(state, FulfilOrder(ORDER_ID)) == [m.OrderFulfilled(order_id=ORDER_ID)]
    fulfilled = order_after(paid, m.OrderFulfilled(order_id=ORDER_ID))
    assert (fulfilled.status, fulfilled.version, fulfilled.payment_reference) == (Status.FULFILLED, 3, "p1")


def test_the_failed_payment_lifecycle():
    declined = m.PaymentFailed(order_id=ORDER_ID, amount="15.10", currency="EUR", reason="card_declined")
    state = order_after(declined)
    assert state.status is Status.PAYMENT_FAILED
    assert order.decide(state, CancelOrder(ORDER_ID, "payment_failed")) == [
        m.OrderCancelled(order_id=ORDER_ID, reason="payment_failed")
    ]


PAID = m.PaymentSucceeded(order_id=ORDER_ID, amount="15.10", currency="EUR", payment_reference="p1")
FAILED = m.PaymentFailed(order_id=ORDER_ID, amount="15.10", currency="EUR", reason="card_declined")
FULFILLED = m.OrderFulfilled(order_id=ORDER_ID)
CANCELLED = m.OrderCancelled(order_id=ORDER_ID, reason="payment_failed")


@pytest.mark.parametrize(
    ("history", "command"),
    [
        ((), FulfilOrder(ORDER_ID)),  # PENDING -> FULFILLED skips payment
        ((), CancelOrder(ORDER_ID, "x")),  # only a failed payment cancels
        ((PAID,), CancelOrder(ORDER_ID, "x")),
        ((PAID,), RecordPayment(ORDER_ID, succeeded=False, reason="late")),
        ((FAILED,), FulfilOrder(ORDER_ID)),
        ((FAILED,), RecordPayment(ORDER_ID, succeeded=True, payment_reference="p2")),
        ((PAID, FULFILLED), CancelOrder(ORDER_ID, "x")),
        ((FAILED, CANCELLED), FulfilOrder(ORDER_ID)),
        ((), RecordConfirmationSent(ORDER_ID, m.EmailKind.order_confirmation, "a@b.co", "m1")),
        ((PAID,), RecordConfirmationSent(ORDER_ID, m.EmailKind.payment_failed, "a@b.co", "m1")),
    ],
)
def test_every_other_transition_is_refused(history, command):
    with pytest.raises(InvalidTransition):
        order.decide(order_after(*history), command)


@pytest.mark.parametrize(
    ("history", "command"),
    [
        ((PAID,), RecordPayment(ORDER_ID, succeeded=True, payment_reference="p1")),
        ((PAID, FULFILLED), RecordPayment(ORDER_ID, succeeded=True, payment_reference="p1")),
        ((FAILED,), RecordPayment(ORDER_ID, succeeded=False, reason="card_declined")),
        ((PAID, FULFILLED), FulfilOrder(ORDER_ID)),
        ((FAILED, CANCELLED), CancelOrder(ORDER_ID, "x")),
    ],
)
def test_asking_for_the_state_the_order_is_in_decides_nothing(history, command):
    assert order.decide(order_after(*history), command) == []


def test_an_email_is_recorded_once():
    sent = m.ConfirmationSent(
        order_id=ORDER_ID, kind="order_confirmation", recipient="ada@example.com", message_id="m"
    )
    state = order_after(PAID, sent)
    again = RecordConfirmationSent(ORDER_ID, m.EmailKind.order_confirmation, "ada@example.com", "m2")
    assert order.decide(state, again) == []


def test_a_missing_order_is_not_found():
    with pytest.raises(NotFound):
        order.decide(None, FulfilOrder(ORDER_ID))


def test_stock_cannot_be_committed_or_released_beyond_what_is_reserved():
    item = InventoryItem("MUG-01", available=5, reserved=2, version=3)
    assert inventory.decide(item, CommitStock("MUG-01", ORDER_ID, 2))
    for command in (CommitStock("MUG-01", ORDER_ID, 3), ReleaseStock("MUG-01", ORDER_ID, 3)):
        with pytest.raises(InvalidTransition):
            inventory.decide(item, command)


def test_envelopes_round_trip_and_refuse_poison():
    event = recorded(f"ORDER#{ORDER_ID}", [PAID])[0]
    assert from_envelope(to_envelope(event)) == event
    from ordering.domain.events import InvalidEvent

    broken = to_envelope(event) | {"type": "OrderShipped"}
    with pytest.raises(InvalidEvent):
        from_envelope(broken)
    wrong_data = to_envelope(event) | {"data": {"order_id": ORDER_ID}}
    with pytest.raises(InvalidEvent, match="PaymentSucceeded v1 data is invalid"):
        from_envelope(wrong_data)


# --- settlement and the e-mail question, decided in the domain ------------------------------------


def test_settling_a_paid_order_fulfils_it_and_commits_each_line():
    paid = order_after(
        m.PaymentSucceeded(order_id=ORDER_ID, amount="15.10", currency="EUR", payment_reference="p")
    )
    catalog = {sku: replace(item, reserved=5) for sku, item in CATALOG.items()}
    decided = settlement.decide(paid, catalog, paid=True)
    assert decided.order_events == [m.OrderFulfilled(order_id=ORDER_ID)]
    assert decided.stock_events == {
        "MUG-01": [m.StockCommitted(sku="MUG-01", order_id=ORDER_ID, quantity=2)],
        "CAP-01": [m.StockCommitted(sku="CAP-01", order_id=ORDER_ID, quantity=1)],
    }


def test_settling_a_declined_order_cancels_it_and_releases_each_line():
    failed = order_after(
        m.PaymentFailed(order_id=ORDER_ID, amount="15.10", currency="EUR", reason="card_declined")
    )
    catalog = {sku: replace(item, reserved=5) for sku, item in CATALOG.items()}
    decided = settlement.decide(failed, catalog, paid=False)
    assert decided.order_events == [m.OrderCancelled(order_id=ORDER_ID, reason="card_declined")]
    assert decided.stock_events["MUG-01"] == [m.StockReleased(sku="MUG-01", order_id=ORDER_ID, quantity=2)]


def test_a_settled_order_settles_to_nothing_and_the_wrong_outcome_is_refused():
    paid = order_after(
        m.PaymentSucceeded(order_id=ORDER_ID, amount="15.10", currency="EUR", payment_reference="p")
    )
    fulfilled = order_after(
        m.PaymentSucceeded(order_id=ORDER_ID, amount="15.10", currency="EUR", payment_reference="p"),
        m.OrderFulfilled(order_id=ORDER_ID),
    )
    assert settlement.decide(fulfilled, CATALOG, paid=True) == settlement.Settlement()
    with pytest.raises(InvalidTransition, match="settle after PAYMENT_FAILED"):
        settlement.decide(paid, CATALOG, paid=False)
    with pytest.raises(InvalidTransition, match="settle after PAID"):
        settlement.decide(order_after(), CATALOG, paid=True)


def test_the_order_says_whether_an_email_is_due_without_a_dry_run():
    pending = order_after()
    paid = order_after(
        m.PaymentSucceeded(order_id=ORDER_ID, amount="15.10", currency="EUR", payment_reference="p")
    )
    mailed = order_after(
        m.PaymentSucceeded(order_id=ORDER_ID, amount="15.10", currency="EUR", payment_reference="p"),
        m.ConfirmationSent(
            order_id=ORDER_ID,
            kind=m.EmailKind.order_confirmation,
            recipient="ada@example.com",
            message_id="x",
        ),
    )
    assert order.email_due(paid, m.EmailKind.order_confirmation) is True
    assert order.email_due(mailed, m.EmailKind.order_confirmation) is False
    with pytest.raises(InvalidTransition, match="RecordConfirmationSent"):
        order.email_due(pending, m.EmailKind.order_confirmation)
    with pytest.raises(InvalidTransition):
        order.email_due(paid, m.EmailKind.payment_failed)
