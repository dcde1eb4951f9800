"""The order lifecycle beyond the happy path, through the handlers with the events AWS would
deliver, against moto: the payment deadline (with an injected clock), a payment racing it, the
customer's cancel in each state, refunds under triple delivery, and BOLA on cancel."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from generated import models as m
from handlers import cancel_order, payment_deadline, refund
from ordering import bootstrap
from ordering.adapters.fake_payment_gateway import FakePaymentGateway
from ordering.domain.recorded import parse_timestamp
from ordering.ports.payment_gateway import Charge, ChargeResult
from tests.functional.invoke import USER_A, USER_B, Context, api_request, body, sqs_batch
from tests.functional.steps import failed_ids, notify, pay, place, settle, the, types_of
from tests.support.ses_outbox import SentMail, ses_outbox

pytestmark = pytest.mark.moto

MISSING = "0d9c8b7a-6f5e-4d3c-8b2a-1f0e9d8c7b6a"


@pytest.fixture
def gateway(aws) -> FakePaymentGateway:
    """One fake gateway for every function of a test, so that its ledger can be read."""
    fake = FakePaymentGateway()
    bootstrap.override(payment_gateway=fake)
    return fake


def at_deadline(order_id: str, seconds: float = 0) -> None:
    """Set the clock of every function to the order's payment deadline, plus `seconds`."""
    deadline = parse_timestamp(the(order_id, "OrderPlaced").data.payment_deadline)
    moment = deadline + timedelta(seconds=seconds)
    bootstrap.override(clock=lambda: moment)


def expire(order_id: str) -> dict:
    """What the payment-deadline queue delivers at the deadline: the order's OrderPlaced."""
    return payment_deadline.handler(
        sqs_batch([the(order_id, "OrderPlaced")]), Context("orders-payment_deadline")
    )


def refund_once(order_id: str) -> dict:
    return refund.handler(sqs_batch([the(order_id, "RefundRequested")]), Context("orders-refund"))


def cancel(order_id: str, user=USER_A, key: str | None = None) -> dict:
    event = api_request("apigateway_cancel_order", {}, user=user, headers={"Idempotency-Key": key})
    event["path"] = f"/orders/{order_id}/cancel"
    event["pathParameters"] = {"order_id": order_id}
    event["requestContext"]["path"] = f"/v1/orders/{order_id}/cancel"
    return cancel_order.handler(event, Context("orders-cancel_order"))


def stock(sku: str = "MUG-01") -> tuple[int, int, int]:
    head = bootstrap.event_store().read_heads([sku])[sku]
    return head.available, head.reserved, head.committed


def mails_to(address: str) -> list[SentMail]:
    return [mail for mail in ses_outbox() if mail.to == address]


# --- the payment deadline -----------------------------------------------------------------------


def test_placing_an_order_sets_its_payment_deadline_from_the_topology(stocked):
    now = parse_timestamp("2026-12-01T10:00:00Z")
    bootstrap.override(clock=lambda: now)
    order_id = place()
    placed = the(order_id, "OrderPlaced")
    deadline = parse_timestamp(placed.data.payment_deadline)
    assert deadline - placed.occurred_at == timedelta(seconds=900)


def test_the_deadline_cancels_a_stuck_order_releases_its_stock_and_mails_once(stocked, gateway):
    order_id = place()  # its payment message never comes back (e.g. parked in payment-dlq)
    assert stock() == (8, 2, 0)
    at_deadline(order_id)

    responses = [expire(order_id) for _ in range(3)]

    assert all(failed_ids(r) == [] for r in responses)
    assert types_of(order_id) == ["OrderPlaced", "OrderCancelled"]
    assert the(order_id, "OrderCancelled").data.reason == "payment_timeout"
    assert stock() == (10, 0, 0)
    for _ in range(3):
        notify(the(order_id, "OrderCancelled"))
    [mail] = mails_to(USER_A[1])
    assert "cancelled" in mail.subject
    assert "not receive payment" in mail.text
    assert "Nothing was charged" in mail.text
    assert gateway.approved_charges == 0


def test_a_deadline_message_that_comes_early_fails_and_changes_nothing(stocked):
    order_id = place()
    at_deadline(order_id, -5)
    with pytest.raises(BatchProcessingError, match="All records failed"):
        expire(order_id)  # a batch of one that failed: SQS redelivers it after the visibility timeout
    assert types_of(order_id) == ["OrderPlaced"]


def test_the_deadline_of_a_paid_order_changes_nothing(stocked, gateway):
    order_id = place()
    pay(the(order_id, "OrderPlaced"))
    settle(the(order_id, "PaymentSucceeded"))
    at_deadline(order_id, 60)
    expire(order_id)
    assert types_of(order_id) == ["OrderPlaced", "PaymentSucceeded", "OrderFulfilled"]
    assert stock() == (8, 0, 2)


def test_a_payment_message_after_the_deadline_is_refused_before_the_gateway_is_called(stocked, gateway):
    order_id = place()
    at_deadline(order_id)
    expire(order_id)
    pay(the(order_id, "OrderPlaced"))  # the payment queue's message, redelivered late
    assert gateway.approved_charges == 0
    assert types_of(order_id) == ["OrderPlaced", "OrderCancelled"]


def test_a_charge_whose_answer_was_lost_before_the_deadline_is_refunded_on_redelivery(stocked, gateway):
    lost = ("6b5a4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d", "di+timeout@example.org")  # charged, answer lost
    order_id = place(user=lost)
    with pytest.raises(BatchProcessingError):
        pay(the(order_id, "OrderPlaced"))  # the gateway charged; the message comes back later
    at_deadline(order_id)
    expire(order_id)
    assert stock() == (10, 0, 0)

    assert failed_ids(pay(the(order_id, "OrderPlaced"))) == []  # the redelivery asks again
    for _ in range(3):
        refund_once(order_id)

    assert types_of(order_id) == [
        "OrderPlaced",
        "ChargeUnanswered",
        "OrderCancelled",
        "RefundRequested",
        "PaymentRefunded",
    ]
    assert (gateway.approved_charges, gateway.refunds_made) == (1, 1)


class RacingGateway(FakePaymentGateway):
    """A charge during which the order's deadline passes: the deadline function runs between the
    payment function's read of the order (PENDING) and its recording of the charge."""

    def __init__(self, order_id: str) -> None:
        super().__init__()
        self.order_id = order_id

    def charge(self, charge: Charge) -> ChargeResult:
        result = super().charge(charge)
        at_deadline(self.order_id)
        assert failed_ids(expire(self.order_id)) == []
        return result


def test_a_charge_that_raced_the_deadline_is_refunded_once(stocked):
    order_id = place()
    racing = RacingGateway(order_id)
    bootstrap.override(payment_gateway=racing)

    assert failed_ids(pay(the(order_id, "OrderPlaced"))) == []

    assert types_of(order_id) == ["OrderPlaced", "OrderCancelled", "RefundRequested"]
    requested = the(order_id, "RefundRequested").data
    assert (requested.reason, requested.amount) == ("late_payment", "19.20")
    for _ in range(3):
        assert failed_ids(refund_once(order_id)) == []
    assert types_of(order_id) == ["OrderPlaced", "OrderCancelled", "RefundRequested", "PaymentRefunded"]
    assert (racing.approved_charges, racing.refunds_made) == (1, 1)
    assert stock() == (10, 0, 0)  # released once, by the deadline


# --- the customer's cancel ------------------------------------------------------------------------


def test_cancelling_a_pending_order_releases_its_stock_and_nothing_is_charged(stocked, gateway):
    order_id = place()

    response = cancel(order_id)

    assert response["statusCode"] == 200, response["body"]
    assert body(response) == {
        "order_id": order_id,
        "status": "CANCELLED",
        "refund": False,
        "url": f"/v1/orders/{order_id}",
    }
    assert stock() == (10, 0, 0)
    pay(the(order_id, "OrderPlaced"))  # the payment message already in flight
    assert gateway.approved_charges == 0
    assert types_of(order_id) == ["OrderPlaced", "OrderCancelled"]
    notify(the(order_id, "OrderCancelled"))
    [mail] = mails_to(USER_A[1])
    assert "as you asked" in mail.text
    assert "Nothing was charged" in mail.text


def test_cancelling_a_paid_order_refunds_it_once_under_triple_delivery_then_cancels_it(stocked, gateway):
    order_id = place()
    pay(the(order_id, "OrderPlaced"))  # paid; the inventory function has not settled it yet

    response = cancel(order_id)

    assert response["statusCode"] == 202, response["body"]
    assert body(response)["status"] == "REFUND_PENDING"
    assert body(response)["refund"] is True
    settle(the(order_id, "PaymentSucceeded"))  # arrives after the cancel: not fulfilled
    assert stock() == (8, 2, 0)
    for _ in range(3):
        assert failed_ids(refund_once(order_id)) == []
    assert types_of(order_id) == [
        "OrderPlaced",
        "PaymentSucceeded",
        "RefundRequested",
        "PaymentRefunded",
        "OrderCancelled",
    ]
    assert gateway.refunds_made == 1
    assert stock() == (10, 0, 0)
    for _ in range(3):
        notify(the(order_id, "OrderCancelled"))
    [mail] = [sent for sent in mails_to(USER_A[1]) if "cancelled" in sent.subject]
    assert "was refunded" in mail.text


def test_a_refund_whose_answer_is_lost_is_retried_with_the_same_key_and_made_once(stocked, gateway):
    lost = ("7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d", "cy+refund-timeout@example.org")
    order_id = place(user=lost)
    pay(the(order_id, "OrderPlaced"))
    assert cancel(order_id, user=lost)["statusCode"] == 202

    with pytest.raises(BatchProcessingError):
        refund_once(order_id)  # refunded, but the answer was lost: SQS redelivers it
    assert failed_ids(refund_once(order_id)) == []

    assert gateway.refunds_made == 1
    assert types_of(order_id)[-2:] == ["PaymentRefunded", "OrderCancelled"]


def test_a_fulfilled_order_cannot_be_cancelled(stocked, gateway):
    order_id = place()
    pay(the(order_id, "OrderPlaced"))
    settle(the(order_id, "PaymentSucceeded"))

    response = cancel(order_id)

    assert response["statusCode"] == 409
    assert body(response)["code"] == "not_cancellable"
    assert "FULFILLED" in body(response)["message"]
    assert stock() == (8, 0, 2)


def test_a_repeated_cancel_is_answered_as_the_first_with_its_key_and_409_without(stocked, gateway):
    order_id = place()
    first = cancel(order_id, key="cancel-1")
    again = cancel(order_id, key="cancel-1")
    assert (first["statusCode"], body(first)) == (again["statusCode"], body(again))
    assert types_of(order_id) == ["OrderPlaced", "OrderCancelled"]

    keyless = cancel(order_id)
    assert keyless["statusCode"] == 409
    assert body(keyless)["code"] == "not_cancellable"


def test_the_same_key_for_another_order_is_refused(stocked, gateway):
    first, second = place(), place()
    assert cancel(first, key="cancel-2")["statusCode"] == 200
    reused = cancel(second, key="cancel-2")
    assert reused["statusCode"] == 422
    assert body(reused)["code"] == "idempotency_key_reused"
    assert types_of(second) == ["OrderPlaced"]


def test_another_users_order_is_not_found_exactly_like_a_missing_one(stocked, gateway):
    order_id = place()

    theirs, missing = cancel(order_id, user=USER_B), cancel(MISSING, user=USER_B)

    assert theirs["statusCode"] == missing["statusCode"] == 404
    shape = {key: value for key, value in body(theirs).items() if key != "correlation_id"}
    assert shape == {
        key: value.replace(MISSING, order_id)
        for key, value in body(missing).items()
        if key != "correlation_id"
    }
    assert types_of(order_id) == ["OrderPlaced"]
    assert stock() == (8, 2, 0)


def test_a_cancel_with_a_body_that_is_not_the_schema_is_a_400(stocked):
    order_id = place()
    event = api_request("apigateway_cancel_order", {"reason": "x"}, headers={"Idempotency-Key": None})
    event["path"] = f"/orders/{order_id}/cancel"
    response = cancel_order.handler(event, Context("orders-cancel_order"))
    assert response["statusCode"] == 400
    assert types_of(order_id) == ["OrderPlaced"]


def test_the_cancellation_event_is_the_envelope_the_bus_carries(stocked, gateway):
    order_id = place()
    cancel(order_id)
    assert isinstance(the(order_id, "OrderCancelled").data, m.OrderCancelled)
