"""An order's whole command-side life with every message delivered three times.

API -> OrderPlaced -> (SQS) payment -> PaymentSucceeded -> (EventBridge) inventory ->
OrderFulfilled -> (EventBridge) notification. Each delivery is repeated, as at-least-once
transports may; the result must be one charge, one stock commit, one e-mail and exactly one of
each event.
"""

from __future__ import annotations

from collections import Counter

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from ordering import bootstrap
from ordering.domain.streams import sku_stream
from tests.functional.steps import notify, pay, place, settle, the, types_of
from tests.support.ses_outbox import ses_outbox
from tests.support.stripe_stub import StripeStub

pytestmark = pytest.mark.moto


def deliver_everything_three_times(order_id: str) -> None:
    placed = the(order_id, "OrderPlaced")
    for _ in range(3):
        assert pay(placed) == {"batchItemFailures": []}
    outcome = the(order_id, "PaymentSucceeded")
    for _ in range(3):
        settle(outcome)
    fulfilled = the(order_id, "OrderFulfilled")
    for _ in range(3):
        notify(fulfilled)


def assert_exactly_once(order_id: str) -> None:
    assert Counter(types_of(order_id)) == Counter(
        {"OrderPlaced": 1, "PaymentSucceeded": 1, "OrderFulfilled": 1, "ConfirmationSent": 1}
    )
    for sku, quantity in (("MUG-01", 2), ("TEA-EARL", 1)):
        events = Counter(e.type for e in bootstrap.event_store().read(sku_stream(sku)))
        assert events["StockReserved"] == events["StockCommitted"] == 1
        head = bootstrap.event_store().read_heads([sku])[sku]
        assert (head.available, head.reserved, head.committed) == (10 - quantity, 0, quantity)
    [mail] = ses_outbox()
    assert mail.correlation_id == "corr-flow"
    # One correlation id from the API request to the last event.
    assert {e.correlation_id for e in bootstrap.event_store().read(f"ORDER#{order_id}")} == {"corr-flow"}


def test_with_the_fake_gateway(stocked):
    order_id = place()
    deliver_everything_three_times(order_id)
    assert_exactly_once(order_id)
    assert bootstrap.payment_gateway().approved_charges == 1


def test_with_stripe(stocked, monkeypatch):
    """The same, with PAYMENT_GATEWAY=stripe against the local Stripe stub."""
    with StripeStub() as stub:
        monkeypatch.setenv("PAYMENT_GATEWAY", "stripe")
        monkeypatch.setenv("STRIPE_API_KEY", stub.api_key)
        monkeypatch.setenv("STRIPE_API_BASE", stub.url)
        bootstrap.reset()

        order_id = place()
        deliver_everything_three_times(order_id)

        assert_exactly_once(order_id)
        [intent] = stub.charges
        assert intent["amount"] == 1920
        assert intent["metadata"]["order_id"] == order_id
        assert the(order_id, "PaymentSucceeded").data.payment_reference == intent["id"]


def test_with_stripe_timing_out_once(stocked, monkeypatch):
    with StripeStub() as stub:
        monkeypatch.setenv("PAYMENT_GATEWAY", "stripe")
        monkeypatch.setenv("STRIPE_API_KEY", stub.api_key)
        monkeypatch.setenv("STRIPE_API_BASE", stub.url)
        monkeypatch.setenv("STRIPE_TIMEOUT_SECONDS", "0.5")
        bootstrap.reset()
        order_id = place(user=("0b6f8e2a-1c3d-4e5f-9a7b-8c9d0e1f2a3b", "ada+timeout@example.com"))
        placed = the(order_id, "OrderPlaced")

        # A batch whose every record failed is failed as a whole: SQS redelivers it.
        with pytest.raises(BatchProcessingError):
            pay(placed)
        assert types_of(order_id) == ["OrderPlaced", "ChargeUnanswered"]
        assert pay(placed) == {"batchItemFailures": []}

        assert len(stub.charges) == 1
        assert [r.idempotency_key for r in stub.received] == [order_id, order_id]
        assert types_of(order_id) == ["OrderPlaced", "ChargeUnanswered", "PaymentSucceeded"]
