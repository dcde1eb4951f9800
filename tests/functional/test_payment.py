"""The payment function: SQS batches of OrderPlaced envelopes, partial batch responses, one charge."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from handlers import payment
from ordering import bootstrap
from ordering.adapters.fake_payment_gateway import FakePaymentGateway
from ordering.ports.payment_gateway import Charge, ChargeResult
from ordering.services.payments import record_payment
from ordering.services.stamp import Cause
from tests.functional.invoke import USER_A, Context, fixture, sqs_batch
from tests.functional.steps import failed_ids, pay, place, the, types_of

pytestmark = pytest.mark.moto

TIMES_OUT = ("0b6f8e2a-1c3d-4e5f-9a7b-8c9d0e1f2a3b", "ada+timeout@example.com")
DECLINED = ("1c7a9f3b-2d4e-4f6a-8b8c-9d0e1f2a3b4c", "bob+decline@example.net")


def test_an_order_delivered_three_times_is_charged_once_and_paid_once(stocked):
    order_id = place()
    placed = the(order_id, "OrderPlaced")

    responses = [pay(placed) for _ in range(3)]

    assert all(r == {"batchItemFailures": []} for r in responses)
    gateway = bootstrap.payment_gateway()
    assert gateway.approved_charges == 1
    assert list(gateway.charges) == [order_id]  # idempotency key = the order id
    assert types_of(order_id) == ["OrderPlaced", "PaymentSucceeded"]
    paid = the(order_id, "PaymentSucceeded")
    assert paid.data.amount == "19.20"
    assert paid.correlation_id == placed.correlation_id == "corr-flow"
    assert paid.causation_id == placed.event_id


class AnswersWhenBothAsked(FakePaymentGateway):
    """Answers once two deliveries have asked: both loaded the order while it was PENDING."""

    def __init__(self) -> None:
        super().__init__()
        self._both = threading.Barrier(2, timeout=10)

    def charge(self, charge: Charge) -> ChargeResult:
        self._both.wait()
        return super().charge(charge)


def test_two_concurrent_deliveries_record_the_payment_once_and_count_it_once(stocked):
    """SQS may hand the same message to two consumers at once (a visibility timeout ran out)."""
    order_id = place()
    store, gateway = bootstrap.event_store(), AnswersWhenBothAsked()
    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(lambda _: record_payment(store, gateway, order_id, Cause("c")), range(2)))
    assert sorted(outcome.recorded_now for outcome in outcomes) == [False, True]
    assert types_of(order_id) == ["OrderPlaced", "PaymentSucceeded"]


def test_one_unparseable_message_fails_alone(stocked):
    first, second = place(), place()
    batch = sqs_batch([the(first, "OrderPlaced"), "{this is not json", the(second, "OrderPlaced")])
    ids = [record["messageId"] for record in batch["Records"]]

    response = payment.handler(batch, Context("orders-payment"))

    assert failed_ids(response) == [ids[1]]
    assert types_of(first) == types_of(second) == ["OrderPlaced", "PaymentSucceeded"]


@pytest.mark.parametrize(
    "poison",
    [
        json.dumps({"event_id": "not-an-envelope"}),
        "",
        "[]",
    ],
)
def test_messages_that_are_not_order_placed_envelopes_fail_alone(stocked, poison):
    order_id = place()
    batch = sqs_batch([poison, the(order_id, "OrderPlaced")])
    response = payment.handler(batch, Context("orders-payment"))
    assert failed_ids(response) == [batch["Records"][0]["messageId"]]
    assert types_of(order_id)[-1] == "PaymentSucceeded"


def test_another_event_type_on_the_payment_queue_fails_alone(stocked):
    order_id = place()
    pay(the(order_id, "OrderPlaced"))
    batch = sqs_batch([the(order_id, "PaymentSucceeded")])
    # A batch whose every record fails raises, so that the whole batch is retried.
    with pytest.raises(BatchProcessingError, match="All records failed"):
        payment.handler(batch, Context("orders-payment"))


def test_a_timeout_fails_the_record_and_the_redelivery_charges_nothing_more(stocked):
    order_id = place(user=TIMES_OUT)
    placed = the(order_id, "OrderPlaced")
    other = the(place(), "OrderPlaced")
    batch = sqs_batch([placed, other])

    first = payment.handler(batch, Context("orders-payment"))
    assert failed_ids(first) == [batch["Records"][0]["messageId"]]  # only the one that timed out
    assert types_of(order_id) == ["OrderPlaced", "ChargeUnanswered"]

    assert pay(placed) == {"batchItemFailures": []}  # SQS redelivers it

    gateway = bootstrap.payment_gateway()
    assert gateway.attempts[order_id] == 2  # the redelivery asked again, with the same key
    assert gateway.approved_charges == 2  # this order once, the other order once
    assert types_of(order_id) == ["OrderPlaced", "ChargeUnanswered", "PaymentSucceeded"]


def test_a_declined_card_records_payment_failed(stocked):
    order_id = place(user=DECLINED)
    assert pay(the(order_id, "OrderPlaced")) == {"batchItemFailures": []}
    failed = the(order_id, "PaymentFailed")
    assert failed.data.reason == "card_declined"
    assert pay(the(order_id, "OrderPlaced")) == {"batchItemFailures": []}
    assert types_of(order_id) == ["OrderPlaced", "PaymentFailed"]


def test_logs_carry_the_correlation_id_of_each_message_and_nothing_of_the_previous(stocked, logs):
    a = the(place(user=USER_A, correlation_id="corr-a"), "OrderPlaced")
    b = the(place(user=DECLINED, correlation_id="corr-b"), "OrderPlaced")
    logs.clear()

    payment.handler(sqs_batch([a, "garbage", b]), Context("orders-payment"))

    lines = [(r.get("correlation_id"), r.get("order_id"), r["message"]) for r in logs.records()]
    assert ("corr-a", a.data.order_id, "Payment recorded") in lines
    assert ("corr-b", b.data.order_id, "Payment recorded") in lines
    [garbage] = [line for line in lines if line[2] == "Unreadable payment message"]
    assert garbage[1] is None  # the order id of the message before it is gone
    assert garbage[0] == "checkout-2026-11-27-0001"  # from its message attributes (the fixture's)


def test_metrics_count_payments_once(stocked, emitted_metrics):
    ok, declined = the(place(), "OrderPlaced"), the(place(user=DECLINED), "OrderPlaced")
    emitted_metrics()
    pay(ok, declined)
    pay(ok, declined)
    found = emitted_metrics()
    assert sum(v for n, _, v in found if n == "PaymentsSucceeded") == 1
    assert sum(v for n, _, v in found if n == "PaymentsFailed") == 1


def test_the_fixture_batch_for_an_order_this_log_does_not_know_fails_for_redelivery(aws):
    """tests/events/sqs_order_placed.json as SQS delivers it; the order was never placed here."""
    with pytest.raises(BatchProcessingError, match="All records failed"):
        payment.handler(fixture("sqs_order_placed"), Context("orders-payment"))
    assert bootstrap.payment_gateway().attempts == {}  # nothing was charged
