"""The order lifecycle over HTTP against the local runtime with the real functions: the payment
deadline cancelling an order whose payment is parked in payment-dlq, the customer's cancel of a
pending order (and its payment message, redelivered after the cancel, charging nothing), a
fulfilled order refused, and another user's order answered as missing.

The runtime runs in this process with a 3 s payment deadline, its own Postgres, and payment
and refund going through the Stripe stub (so that a test can take the gateway down).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from infra.dev.client import DevClient
from infra.dev.runtime import LocalRuntime, Options
from tests.e2e.conftest import embedded_postgres, eventually, paying_through, runtime_on
from tests.e2e.shop import Customer, Shop, new_sku, order_events
from tests.support.stripe_stub import StripeStub

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.moto,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.xdist_group("e2e"),
]

DEADLINE_SECONDS = 3


@pytest.fixture(scope="module")
def stripe() -> Iterator[StripeStub]:
    with StripeStub() as stub:
        yield stub


@pytest.fixture(scope="module")
def runtime(stripe: StripeStub, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    options = Options(
        port=0,
        state_file=tmp_path_factory.mktemp("lifecycle") / "dev.json",
        retry_delay=0.01,
        redelivery_delay=0,  # five failed payments reach payment-dlq within seconds
        payment_deadline_seconds=DEADLINE_SECONDS,
    )
    with (
        embedded_postgres("lifecycle") as postgres,
        runtime_on(postgres, options, paying_through(stripe)) as local,
    ):
        yield local


@pytest.fixture(scope="module")
def shop(runtime: LocalRuntime) -> Shop:
    assert runtime.state is not None
    return Shop(DevClient(runtime.state))


def cancel(shop: Shop, customer: Customer, order_id: str, key: str | None = None):
    headers = {"Idempotency-Key": key} if key else {}
    return shop.dev.api("POST", f"/orders/{order_id}/cancel", customer.token, json={}, headers=headers)


def cancellation_mails(shop: Shop, customer: Customer, order_id: str):
    return [m for m in shop.emails_to(customer.email) if "cancelled" in m.subject and order_id in m.body]


def test_the_deadline_cancels_an_order_whose_payment_is_parked_and_releases_its_stock(shop: Shop, stripe):
    sku = new_sku()
    shop.restock(sku, 5, "6.00")
    ada = shop.customer("ada")
    stripe.unavailable = True
    try:
        order_id = shop.place(ada, {sku: 2}).json()["order_id"]
        order = shop.wait_for_status(ada, order_id, timeout=60)
    finally:
        stripe.unavailable = False

    assert order["status"] == "CANCELLED"
    assert shop.dev.wait_idle()
    assert order_events(shop, order_id)[:2] == ["OrderPlaced", "OrderCancelled"]
    assert shop.head(sku) == {"available": 5, "reserved": 0, "committed": 0}
    assert stripe.charges == []
    [mail] = cancellation_mails(shop, ada, order_id)
    assert "did not receive payment" in mail.body
    assert "Nothing was charged" in mail.body


def test_a_pending_order_cancelled_by_its_customer_is_never_charged(shop: Shop, stripe):
    sku = new_sku()
    shop.restock(sku, 5, "6.00")
    bo = shop.customer("bo")
    stripe.unavailable = True  # its payment message fails, and comes back after the cancel
    try:
        order_id = shop.place(bo, {sku: 1}).json()["order_id"]
        answer = cancel(shop, bo, order_id, key="bo-cancel-1")
        again = cancel(shop, bo, order_id, key="bo-cancel-1")
    finally:
        stripe.unavailable = False

    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "CANCELLED"
    assert answer.json()["refund"] is False
    assert (again.status_code, again.json()) == (answer.status_code, answer.json())
    assert shop.head(sku) == {"available": 5, "reserved": 0, "committed": 0}
    assert shop.dev.wait_idle()
    # The redelivered payment message found the order cancelled and charged nothing.
    assert [c for c in stripe.charges if c.get("metadata", {}).get("order_id") == order_id] == []
    assert not any(order_id in json.dumps(d.body) for d in shop.dev.dead_letters()["payment-dlq"])
    assert order_events(shop, order_id).count("OrderCancelled") == 1
    refused = cancel(shop, bo, order_id)
    assert refused.status_code == 409
    assert refused.json()["code"] == "not_cancellable"
    eventually(lambda: len(cancellation_mails(shop, bo, order_id)) == 1)
    assert len(cancellation_mails(shop, bo, order_id)) == 1


def test_a_fulfilled_order_is_refused_and_another_users_order_is_not_found(shop: Shop):
    sku = new_sku()
    shop.restock(sku, 5, "6.00")
    cy, dee = shop.customer("cy"), shop.customer("dee")
    order_id = shop.place(cy, {sku: 1}).json()["order_id"]
    assert shop.wait_for_status(cy, order_id)["status"] == "FULFILLED"

    theirs = cancel(shop, dee, order_id)
    missing = cancel(shop, dee, "0d9c8b7a-6f5e-4d3c-8b2a-1f0e9d8c7b6a")
    assert theirs.status_code == missing.status_code == 404
    refused = cancel(shop, cy, order_id)
    assert refused.status_code == 409
    assert refused.json()["code"] == "not_cancellable"
    assert shop.head(sku) == {"available": 4, "reserved": 0, "committed": 1}
