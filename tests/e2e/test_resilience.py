"""Faults, over real HTTP to `orders dev` with the real functions: poison messages are parked in
their dead-letter queues while everything else flows; a Postgres outage delays the read model
but loses and doubles nothing; many concurrent orders leave the books balanced."""

from __future__ import annotations

import concurrent.futures
import json
import random
import subprocess
import uuid

import pytest

from infra import topology
from infra.emulator.aws import client
from tests.e2e.conftest import ORDERS, ROOT, eventually
from tests.e2e.shop import Shop, new_sku, order_events

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.slow, pytest.mark.xdist_group("e2e")]


def test_poison_messages_land_in_their_dead_letter_queues_while_orders_keep_flowing(shop: Shop, orders_dev):
    tag = uuid.uuid4().hex
    sqs = client("sqs", shop.dev.state.moto_url)
    sqs.send_message(QueueUrl=shop.dev.resources.queue_urls["payment"], MessageBody=f"poison {tag}")
    client("events", shop.dev.state.moto_url).put_events(
        Entries=[  # one for each rule: the inventory function's and the notification function's
            {
                "Source": topology.EVENT_SOURCE,
                "DetailType": detail_type,
                "Detail": json.dumps({"poison": tag}),
                "EventBusName": topology.EVENT_BUS,
            }
            for detail_type in (topology.PAYMENT_SUCCEEDED, topology.ORDER_FULFILLED)
        ]
    )
    sku = new_sku()
    shop.restock(sku, 5)
    dana = shop.customer("dana")
    order_id = shop.place(dana, {sku: 1}).json()["order_id"]
    assert shop.wait_for_status(dana, order_id)["status"] == "FULFILLED"

    def parked() -> dict[str, list[str]]:
        found = {
            queue: [m.message_id for m in messages if tag in json.dumps(m.body)]
            for queue, messages in shop.dev.dead_letters().items()
        }
        wanted = ("payment-dlq", "inventory-dlq", "notification-dlq")
        return found if all(found[queue] for queue in wanted) else {}

    found = eventually(parked, timeout=60, interval=0.5)
    assert all(len(found[queue]) == 1 for queue in ("payment-dlq", "inventory-dlq", "notification-dlq"))

    listed = subprocess.run(
        [str(ORDERS), "dlq", "--json", "--state-file", str(orders_dev.state_file)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    queues = {json.loads(line)["queue"] for line in listed.splitlines() if tag in line}
    assert {"payment-dlq", "inventory-dlq", "notification-dlq"} <= queues


def test_postgres_stopped_and_restarted_mid_run_every_event_is_projected_none_twice(shop: Shop, postgres):
    sku = new_sku()
    shop.restock(sku, 20, "2.00")
    erin = shop.customer("erin")
    before = [shop.place(erin, {sku: 1}).json()["order_id"] for _ in range(2)]
    retries = shop.dev.status()["stream_consumers"]["projector"]["retries"]
    postgres.stop()
    try:
        during = [shop.place(erin, {sku: 2}).json()["order_id"] for _ in range(3)]
        # The projector fails and retries; the rest of the pipeline needs no Postgres and goes on.
        eventually(lambda: shop.dev.status()["stream_consumers"]["projector"]["retries"] > retries)
        eventually(lambda: "PaymentSucceeded" in order_events(shop, during[0]))
    finally:
        postgres.start()
    for order_id in before + during:
        assert shop.wait_for_status(erin, order_id)["status"] == "FULFILLED"
    assert shop.dev.wait_idle()
    assert shop.head(sku) == {"available": 12, "reserved": 0, "committed": 8}
    assert shop.stock_in_read_model(sku) == shop.head(sku)
    assert shop.replay_differences() == []
    assert shop.dev.dead_letters()["projector-failures"] == []


def test_after_concurrent_orders_the_books_balance(shop: Shop):
    stock = {new_sku(): 12, new_sku(): 8, new_sku(): 4}
    for sku, quantity in stock.items():
        shop.restock(sku, quantity, "3.00")
    payers = [shop.customer(f"payer{n}") for n in range(3)]
    decliner = shop.customer("decliner", tag="decline")
    chance = random.Random(7)
    requests = [
        (
            chance.choice([*payers, decliner]),
            {sku: chance.randint(1, 3) for sku in chance.sample(list(stock), 2)},
        )
        for _ in range(24)
    ]
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda request: (request[0], shop.place(*request)), requests))

    statuses = [answer.status_code for _, answer in answers]
    assert set(statuses) <= {202, 422, 409}, statuses
    assert statuses.count(202) > 0
    finals = {
        answer.json()["order_id"]: (
            customer,
            shop.wait_for_status(customer, answer.json()["order_id"])["status"],
        )
        for customer, answer in answers
        if answer.status_code == 202
    }
    assert shop.dev.wait_idle()

    for sku, initial in stock.items():
        head = shop.head(sku)
        assert head["available"] + head["reserved"] + head["committed"] == initial, (sku, head)
        assert head["reserved"] == 0
        assert shop.stock_in_read_model(sku) == head
    paid = [order for order, (customer, status) in finals.items() if status == "FULFILLED"]
    cancelled = [order for order, (customer, status) in finals.items() if status == "CANCELLED"]
    assert len(paid) + len(cancelled) == len(finals)
    assert all(finals[order][0] is decliner for order in cancelled)
    confirmations = [email for payer in payers for email in shop.emails_to(payer.email)]
    assert len(confirmations) == len(paid)
    assert sorted(
        order for order in paid if any(order in e.subject + e.body for e in confirmations)
    ) == sorted(paid)
    assert len(shop.emails_to(decliner.email)) == len(cancelled)
    assert shop.replay_differences() == []
