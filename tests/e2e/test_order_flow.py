"""The business end to end, over real HTTP to `orders dev` with the real functions:
placed -> paid -> fulfilled, a declined payment, stock running out, and privacy between users."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from infra.emulator.request_counter import difference
from tests.e2e.conftest import eventually
from tests.e2e.shop import Shop, new_sku

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.slow, pytest.mark.xdist_group("e2e")]


def test_a_paid_order_is_fulfilled_its_stock_committed_and_confirmed_by_one_email(shop: Shop):
    mug, tee = new_sku(), new_sku()
    shop.restock(mug, 10, "12.50")
    shop.restock(tee, 5, "3.00")
    ada = shop.customer("ada")

    answer = shop.place(ada, {mug: 2, tee: 1})
    assert answer.status_code == 202, answer.text
    accepted = answer.json()
    assert accepted["status"] == "PENDING"
    assert answer.headers["X-Correlation-Id"]

    order = shop.wait_for_status(ada, accepted["order_id"])
    assert order["status"] == "FULFILLED"
    assert Decimal(order["total"]) == Decimal("28.00")
    assert shop.dev.wait_idle()

    types = shop.events_of(ada, accepted["order_id"])
    assert types[:2] == ["OrderPlaced", "PaymentSucceeded"]
    assert "OrderFulfilled" in types
    assert shop.head(mug) == {"available": 8, "reserved": 0, "committed": 2}
    assert shop.head(tee) == {"available": 4, "reserved": 0, "committed": 1}
    assert shop.stock_in_read_model(mug) == shop.head(mug)
    (email,) = shop.emails_to(ada.email)
    assert email.source == shop.dev.resources.sender_email
    assert accepted["order_id"] in email.subject + email.body
    # The publisher's payment request carries its invocation's trace: payment continues it.
    trail = shop.dev.invocations(traced=answer.headers["X-Correlation-Id"])
    # So does its payment outcome event: the bus's rule targets continue the publisher's trace.
    continued = [i["trace_id"] for i in trail if i["function"] in ("payment", "inventory", "notification")]
    assert {i["function"] for i in trail} >= {"payment", "inventory", "notification"}
    for trace_id in continued:
        functions = [i["function"] for i in shop.dev.invocations(trace_id=trace_id)]
        assert functions[0] == "publisher", functions
        assert len(functions) > 1, functions


def test_a_declined_payment_cancels_the_order_releases_its_stock_and_says_so_by_email(shop: Shop):
    lamp = new_sku()
    shop.restock(lamp, 3, "49.90")
    bob = shop.customer("bob", tag="decline")

    answer = shop.place(bob, {lamp: 2})
    assert answer.status_code == 202, answer.text
    order = shop.wait_for_status(bob, answer.json()["order_id"])
    assert order["status"] == "CANCELLED"
    assert shop.dev.wait_idle()

    types = shop.events_of(bob, order["id"])
    assert types[:2] == ["OrderPlaced", "PaymentFailed"]
    assert "OrderCancelled" in types
    assert shop.head(lamp) == {"available": 3, "reserved": 0, "committed": 0}
    assert shop.stock_in_read_model(lamp) == shop.head(lamp)
    (email,) = shop.emails_to(bob.email)
    assert order["id"] in email.subject + email.body


def test_an_order_beyond_the_stock_is_refused_with_422_naming_the_sku_and_reserves_nothing(shop: Shop):
    rare, common = new_sku(), new_sku()
    shop.restock(rare, 1, "5.00")
    shop.restock(common, 10, "1.00")
    cleo = shop.customer("cleo")

    answer = shop.place(cleo, {common: 1, rare: 2})
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "out_of_stock"
    assert rare in answer.json()["message"] + str(answer.json().get("errors"))
    assert shop.head(rare) == {"available": 1, "reserved": 0, "committed": 0}
    assert shop.head(common) == {"available": 10, "reserved": 0, "committed": 0}


def test_one_user_cannot_see_anothers_order_it_is_404_like_a_missing_one(shop: Shop):
    sku = new_sku()
    shop.restock(sku, 5)
    alice, mallory = shop.customer("alice"), shop.customer("mallory")
    order_id = shop.place(alice, {sku: 1}).json()["order_id"]
    shop.wait_for_status(alice, order_id)

    theirs = shop.order(mallory, order_id)
    missing = shop.order(mallory, str(uuid.uuid4()))
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["code"] == missing.json()["code"] == "not_found"
    assert shop.dev.api("GET", f"/orders/{order_id}/events", mallory.token).status_code == 404
    listed = shop.dev.api("GET", "/orders", mallory.token).json()["orders"]
    assert order_id not in [order["id"] for order in listed]
    assert shop.order(alice, order_id).status_code == 200


def test_the_pipeline_makes_few_aws_requests_per_order_and_none_lost_to_a_race(shop: Shop):
    """Requests per order of one line, counted on moto by caller, from POST to e-mailed: the
    functions' 11 (place_order 2, payment 2, inventory 3, notification 4: the lease, the order's
    load, SES, ConfirmationSent) with little to spare, and
    the rule pump deleting in batches, never one message at a time. (When notification followed
    the payment outcome it raced inventory's append to the order, about 1.2 requests per order
    under load; at this small load that race is rare, so tests/infra keeps it out by design.)"""
    orders = 16
    skus = [new_sku() for _ in range(orders)]  # one each: orders of one hot SKU race on its head
    for sku in skus:
        shop.restock(sku, 1, "4.00")
        time.sleep(0.25)  # within the restock route's throttle
    buyer = shop.customer("counted")
    assert shop.dev.wait_idle()
    before = shop.dev.requests()

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda sku: shop.place(buyer, {sku: 1}), skus))
    assert [answer.status_code for answer in answers] == [202] * orders
    eventually(lambda: len(shop.emails_to(buyer.email)) >= orders, timeout=120, interval=0.5)
    assert shop.dev.wait_idle()
    counted = difference(shop.dev.requests(), before)["callers"]

    assert len(shop.emails_to(buyer.email)) == orders  # one e-mail each: none lost, none twice
    notification = counted["notification"]["operations"]
    assert notification["dynamodb.Query"] <= orders * 1.1, notification
    assert notification["dynamodb.TransactWriteItems"] <= orders * 1.1, notification
    assert "dynamodb.UpdateItem" not in notification, notification  # no record to complete
    assert counted["notification"]["total"] <= orders * 4.3, notification
    functions = sum(counted[f]["total"] for f in ("place_order", "payment", "inventory", "notification"))
    assert functions <= orders * 11.6, counted  # 13.4 when notification raced inventory and kept
    # an idempotency record (written in progress, then completed)
    rule_pump = counted["rule-pump"]["operations"]
    assert "sqs.DeleteMessage" not in rule_pump, rule_pump
    assert rule_pump["sqs.DeleteMessageBatch"] <= 2 * orders, rule_pump  # two events per order
