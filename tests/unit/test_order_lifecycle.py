"""The order's lifecycle beyond the happy path, on its own: the payment deadline, the customer's
cancel, refunds, and a charge that races a cancellation (pure functions, no store)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from generated import models as m
from ordering.domain import order, placement, settlement
from ordering.domain.errors import InvalidTransition, NotCancellable
from ordering.domain.fold import fold
from ordering.domain.inventory import InventoryItem
from ordering.domain.order import (
    CustomerCancel,
    ExpirePayment,
    FulfilOrder,
    RecordPayment,
    RecordRefund,
    Status,
    email_due,
    refund_id_of,
)
from ordering.domain.placement import PlaceOrder, RequestedLine
from ordering.domain.recorded import Recorded, parse_timestamp
from tests.support.builders import at, new_id

ORDER_ID, USER_ID = new_id(), new_id()
PLACED_AT = at(1)
DEADLINE = PLACED_AT + timedelta(minutes=15)
CATALOG = {
    "MUG-01": InventoryItem("MUG-01", available=5, price=Decimal("7.50"), currency="EUR", version=2),
}
RESERVED = {
    "MUG-01": InventoryItem(
        "MUG-01", available=3, reserved=2, price=Decimal("7.50"), currency="EUR", version=3
    )
}
PAID = m.PaymentSucceeded(order_id=ORDER_ID, amount="15.00", currency="EUR", payment_reference="ch_1")


def placed() -> m.OrderPlaced:
    command = PlaceOrder(
        ORDER_ID, USER_ID, "ada@example.com", (RequestedLine("MUG-01", 2),), payment_deadline=DEADLINE
    )
    return placement.decide(CATALOG, command).order_placed


def after(*events) -> order.Order:
    stream = f"ORDER#{ORDER_ID}"
    history = [Recorded(stream, n, e, new_id(), at(n), "c-1") for n, e in enumerate([placed(), *events], 1)]
    state = fold(order.evolve, history)
    assert state is not None
    return state


def test_an_order_carries_its_payment_deadline_from_placement():
    assert parse_timestamp(placed().payment_deadline) == DEADLINE
    assert after().payment_deadline == DEADLINE


def test_an_unpaid_order_is_cancelled_at_its_deadline_and_not_before():
    assert order.decide(after(), ExpirePayment(ORDER_ID, DEADLINE - timedelta(seconds=1))) == []
    assert order.decide(after(), ExpirePayment(ORDER_ID, DEADLINE)) == [
        m.OrderCancelled(order_id=ORDER_ID, reason="payment_timeout")
    ]


@pytest.mark.parametrize(
    "history",
    [
        [PAID],
        [PAID, m.OrderFulfilled(order_id=ORDER_ID)],
        [m.PaymentFailed(order_id=ORDER_ID, amount="15.00", currency="EUR", reason="card_declined")],
        [m.OrderCancelled(order_id=ORDER_ID, reason="customer_cancelled")],
    ],
    ids=["paid", "fulfilled", "declined", "cancelled"],
)
def test_the_deadline_of_an_order_that_moved_on_decides_nothing(history):
    assert order.decide(after(*history), ExpirePayment(ORDER_ID, DEADLINE + timedelta(hours=1))) == []


def test_the_deadline_cancel_releases_the_reserved_stock_through_the_settlement():
    decided = settlement.cancelling(after(), RESERVED, ExpirePayment(ORDER_ID, DEADLINE))
    assert [type(e).__name__ for e in decided.order_events] == ["OrderCancelled"]
    assert decided.stock_events == {"MUG-01": [m.StockReleased(sku="MUG-01", order_id=ORDER_ID, quantity=2)]}


def test_a_customer_cancels_an_unpaid_order_at_once():
    decided = settlement.cancelling(after(), RESERVED, CustomerCancel(ORDER_ID))
    assert decided.order_events == [m.OrderCancelled(order_id=ORDER_ID, reason="customer_cancelled")]
    assert list(decided.stock_events) == ["MUG-01"]


def test_a_customer_cancelling_a_paid_order_asks_for_a_refund_and_keeps_the_stock_until_it_is_made():
    decided = settlement.cancelling(after(PAID), RESERVED, CustomerCancel(ORDER_ID))
    [requested] = decided.order_events
    assert requested == m.RefundRequested(
        order_id=ORDER_ID,
        refund_id=refund_id_of(ORDER_ID),
        amount="15.00",
        currency="EUR",
        payment_reference="ch_1",
        reason="customer_cancelled",
    )
    assert decided.stock_events == {}
    assert after(PAID, requested).status is Status.REFUND_PENDING


def test_the_refund_made_cancels_the_order_and_releases_its_stock_once():
    requested = order.decide(after(PAID), CustomerCancel(ORDER_ID))[0]
    decided = settlement.cancelling(after(PAID, requested), RESERVED, RecordRefund(ORDER_ID, "re_1"))
    assert [type(e).__name__ for e in decided.order_events] == ["PaymentRefunded", "OrderCancelled"]
    assert list(decided.stock_events) == ["MUG-01"]
    done = after(PAID, requested, *decided.order_events)
    assert (done.status, done.refunded) == (Status.CANCELLED, True)
    assert order.decide(done, RecordRefund(ORDER_ID, "re_1")) == []


def test_a_refund_pending_order_is_not_fulfilled_and_a_repeated_cancel_decides_nothing():
    requested = order.decide(after(PAID), CustomerCancel(ORDER_ID))[0]
    state = after(PAID, requested)
    assert settlement.decide(state, RESERVED, paid=True) == settlement.Settlement()
    assert order.decide(state, CustomerCancel(ORDER_ID)) == []
    with pytest.raises(InvalidTransition):
        order.decide(state, FulfilOrder(ORDER_ID))


@pytest.mark.parametrize(
    ("history", "state"),
    [
        ([PAID, m.OrderFulfilled(order_id=ORDER_ID)], "FULFILLED"),
        ([m.OrderCancelled(order_id=ORDER_ID, reason="payment_timeout")], "CANCELLED"),
    ],
)
def test_a_fulfilled_or_cancelled_order_cannot_be_cancelled(history, state):
    with pytest.raises(NotCancellable, match=state):
        order.decide(after(*history), CustomerCancel(ORDER_ID))


def test_a_charge_that_raced_the_cancellation_is_refunded_once():
    cancelled = after(m.OrderCancelled(order_id=ORDER_ID, reason="payment_timeout"))
    [requested] = order.decide(cancelled, RecordPayment(ORDER_ID, True, payment_reference="ch_late"))
    assert (requested.reason, requested.payment_reference) == ("late_payment", "ch_late")
    again = after(m.OrderCancelled(order_id=ORDER_ID, reason="payment_timeout"), requested)
    assert order.decide(again, RecordPayment(ORDER_ID, True, payment_reference="ch_late")) == []
    refunded = order.decide(again, RecordRefund(ORDER_ID, "re_1"))
    assert [type(e).__name__ for e in refunded] == ["PaymentRefunded"]  # stock was released already


def test_a_declined_charge_after_the_cancellation_decides_nothing():
    cancelled = after(m.OrderCancelled(order_id=ORDER_ID, reason="payment_timeout"))
    assert order.decide(cancelled, RecordPayment(ORDER_ID, False, reason="card_declined")) == []


def test_a_refund_nobody_asked_for_is_refused():
    with pytest.raises(InvalidTransition):
        order.decide(after(PAID), RecordRefund(ORDER_ID, "re_1"))


def test_one_cancellation_email_but_none_for_a_declined_order():
    timed_out = after(m.OrderCancelled(order_id=ORDER_ID, reason="payment_timeout"))
    assert email_due(timed_out, m.EmailKind.order_cancelled)
    declined = after(
        m.PaymentFailed(order_id=ORDER_ID, amount="15.00", currency="EUR", reason="card_declined"),
        m.OrderCancelled(order_id=ORDER_ID, reason="card_declined"),
    )
    assert not email_due(declined, m.EmailKind.order_cancelled)
    with pytest.raises(InvalidTransition):
        email_due(after(), m.EmailKind.order_cancelled)


def test_the_refund_id_follows_from_the_order():
    assert refund_id_of(ORDER_ID) == refund_id_of(ORDER_ID) != refund_id_of(new_id())
