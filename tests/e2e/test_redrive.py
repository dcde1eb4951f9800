"""`orders dlq redrive`: a fault parks work, the fault is fixed, a redrive puts the work back, and
every order ends settled with nothing applied twice, for each kind of parked message:

  - an SQS dead-letter queue (payment-dlq: the payment gateway was down for five deliveries);
  - an EventBridge target's DLQ (notification-dlq: SES refused the sender for a while);
  - a stream consumer's on-failure record (projector-failures: Postgres was down).

A redrive run twice moves nothing the second time, and a parked message redriven twice (put
back into its queue after the first redrive, as an at-least-once move could) changes nothing.

The runtime runs in this process with the real functions, its own Postgres (so that a test
can stop it) and the payment function charging through the Stripe stub (so that a test can
take the gateway down).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infra import topology
from infra.dev.client import DevClient
from infra.dev.runtime import LocalRuntime, Options
from infra.emulator.aws import client
from tests.e2e.conftest import (
    ORDERS,
    ROOT,
    Postgres,
    embedded_postgres,
    eventually,
    paying_through,
    runtime_on,
)
from tests.e2e.shop import Customer, Shop, new_sku, order_events
from tests.support.stripe_stub import StripeStub

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.moto,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.xdist_group("e2e"),
]


@pytest.fixture(scope="module")
def stripe() -> Iterator[StripeStub]:
    with StripeStub() as stub:
        yield stub


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[Postgres]:
    with embedded_postgres("redrive") as server:
        yield server


@pytest.fixture(scope="module")
def runtime(
    stripe: StripeStub, own_postgres: Postgres, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalRuntime]:
    options = Options(
        port=0,
        state_file=tmp_path_factory.mktemp("redrive") / "dev.json",
        retry_delay=0.01,  # give up on a failing delivery within seconds
        redelivery_delay=0,
    )
    with runtime_on(own_postgres, options, paying_through(stripe)) as local:
        yield local


@pytest.fixture(scope="module")
def shop(runtime: LocalRuntime) -> Shop:
    assert runtime.state is not None
    return Shop(DevClient(runtime.state))


def orders(*arguments: str, runtime: LocalRuntime) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ORDERS), *arguments, "--state-file", str(runtime.options.state_file)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def parked(shop: Shop, queue: str, *needles: str) -> list[Any]:
    """The bodies in `queue` that mention any of `needles`."""
    return [
        m.body
        for m in shop.dev.dead_letters()[queue]
        if any(needle in json.dumps(m.body) for needle in needles)
    ]


def park_again(shop: Shop, queue: str, bodies: list[Any]) -> None:
    """Put copies of parked messages back, as a redrive whose deletes were lost would leave them."""
    sqs = client("sqs", shop.dev.state.moto_url)
    for body in bodies:
        sqs.send_message(QueueUrl=shop.dev.resources.queue_urls[queue], MessageBody=json.dumps(body))


def settled_once(shop: Shop, customer: Customer, order_id: str) -> None:
    """Fulfilled, and every step of it once: in the log, in the read model, in the mailbox."""
    assert shop.wait_for_status(customer, order_id)["status"] == "FULFILLED"
    assert shop.dev.wait_idle()  # notification follows the fulfilment: let it finish
    events = order_events(shop, order_id)
    for kind in ("OrderPlaced", "PaymentSucceeded", "OrderFulfilled", "ConfirmationSent"):
        assert events.count(kind) == 1, (kind, events)
    assert len([e for e in shop.emails_to(customer.email) if order_id in e.subject + e.body]) == 1


def test_payments_parked_while_the_gateway_was_down_are_charged_once_after_a_redrive(
    shop: Shop, stripe: StripeStub, runtime: LocalRuntime
) -> None:
    sku = new_sku()
    shop.restock(sku, 10, "4.00")
    ada = shop.customer("ada")
    stripe.unavailable = True
    try:
        placed = [shop.place(ada, {sku: 1}).json()["order_id"] for _ in range(2)]
        eventually(lambda: len(parked(shop, "payment-dlq", *placed)) == 2, timeout=90, interval=0.5)
    finally:
        stripe.unavailable = False
    assert shop.dev.wait_idle()
    # Parked: nothing charged, the orders wait with their stock reserved.
    assert stripe.charges == []
    assert all(shop.order(ada, order_id).json()["status"] == "PENDING" for order_id in placed)
    assert shop.head(sku) == {"available": 8, "reserved": 2, "committed": 0}
    bodies = parked(shop, "payment-dlq", *placed)

    redriven = orders("dlq", "redrive", "payment-dlq", runtime=runtime)
    assert redriven.returncode == 0, redriven.stderr
    assert "payment-dlq: 2 message(s) redriven: messages move back to the `payment` queue" in redriven.stdout

    for order_id in placed:
        settled_once(shop, ada, order_id)
    assert shop.dev.wait_idle()
    assert shop.dev.dead_letters()["payment-dlq"] == []

    again = shop.dev.redrive("payment-dlq")
    assert (again.redriven, again.left) == (0, [])
    park_again(shop, "payment-dlq", bodies)
    assert shop.dev.redrive("payment-dlq").redriven == 2
    assert shop.dev.wait_idle()

    for order_id in placed:
        settled_once(shop, ada, order_id)
        assert len([c for c in stripe.charges if c["metadata"]["order_id"] == order_id]) == 1
    assert shop.head(sku) == {"available": 8, "reserved": 0, "committed": 2}
    assert shop.stock_in_read_model(sku) == shop.head(sku)


def test_an_event_parked_while_ses_refused_the_sender_is_mailed_once_after_a_redrive(shop: Shop) -> None:
    sku = new_sku()
    shop.restock(sku, 5)
    bo = shop.customer("bo")
    ses = client("ses", shop.dev.state.moto_url)
    ses.delete_identity(Identity=shop.dev.resources.sender_email)
    try:
        order_id = shop.place(bo, {sku: 1}).json()["order_id"]
        assert shop.wait_for_status(bo, order_id)["status"] == "FULFILLED"  # inventory needs no SES
        eventually(lambda: parked(shop, "notification-dlq", order_id), timeout=90, interval=0.5)
        # Redriven into the same fault, the event is parked again, with the reason.
        still_refused = shop.dev.redrive("notification-dlq")
        assert still_refused.redriven == 0
        assert [left.reason.split(":")[0] for left in still_refused.left] == ["notification failed again"]
        assert len(parked(shop, "notification-dlq", order_id)) == 1
    finally:
        ses.verify_email_identity(EmailAddress=shop.dev.resources.sender_email)
    assert shop.dev.wait_idle()
    assert shop.emails_to(bo.email) == []
    assert "ConfirmationSent" not in order_events(shop, order_id)
    bodies = parked(shop, "notification-dlq", order_id)
    assert [body["detail-type"] for body in bodies] == [topology.ORDER_FULFILLED]

    report = shop.dev.redrive("notification-dlq")
    assert (report.redriven, report.left) == (1, [])
    invocations = shop.dev.invocations(function="notification", source="redrive")
    # One redrive while SES still refused (failed), one after (succeeded).
    assert sorted(invocation["ok"] for invocation in invocations) == [False, True]
    settled_once(shop, bo, order_id)

    assert shop.dev.redrive("notification-dlq").redriven == 0
    park_again(shop, "notification-dlq", bodies)
    assert shop.dev.redrive("notification-dlq").redriven == 1
    assert shop.dev.wait_idle()
    settled_once(shop, bo, order_id)
    assert shop.dev.dead_letters()["notification-dlq"] == []


def test_records_the_projector_gave_up_on_while_postgres_was_down_are_projected_after_a_redrive(
    shop: Shop, own_postgres: Postgres
) -> None:
    sku = new_sku()
    shop.restock(sku, 6, "3.00")
    cy = shop.customer("cy")
    assert shop.dev.wait_idle()
    own_postgres.stop()
    try:
        order_id = shop.place(cy, {sku: 2}).json()["order_id"]
        # Everything but the read model goes on without Postgres; the projector gives up.
        eventually(lambda: "ConfirmationSent" in order_events(shop, order_id), timeout=90, interval=0.5)
        assert shop.dev.wait_idle(timeout=120)
        pointers = [m.body for m in shop.dev.dead_letters()["projector-failures"]]
        assert pointers
        still_down = shop.dev.redrive("projector-failures")
        assert still_down.redriven == 0
        assert len(still_down.left) == len(pointers)
        assert all(
            left.reason.startswith("projector ") and "failed again" in left.reason for left in still_down.left
        )
        assert len(shop.dev.dead_letters()["projector-failures"]) == len(pointers)
    finally:
        own_postgres.start()
    # The read model never saw the order: it stays behind until something puts the records back.
    assert shop.order(cy, order_id).status_code == 404

    report = shop.dev.redrive("projector-failures")
    assert (report.redriven, report.left) == (len(pointers), [])
    assert report.records >= len(order_events(shop, order_id))
    settled_once(shop, cy, order_id)
    assert shop.stock_in_read_model(sku) == shop.head(sku) == {"available": 4, "reserved": 0, "committed": 2}
    assert shop.replay_differences() == []

    assert shop.dev.redrive("projector-failures").redriven == 0
    park_again(shop, "projector-failures", pointers)
    again = shop.dev.redrive("projector-failures")
    assert (again.redriven, again.records, again.left) == (len(pointers), report.records, [])
    assert shop.stock_in_read_model(sku) == shop.head(sku)
    assert shop.replay_differences() == []


@pytest.mark.parametrize(
    ("queue", "advice"),
    [
        ("projector-failures", "run `orders replay` to rebuild the read model from the log"),
        (
            "publisher-failures",
            "`orders replay` rebuilds only the read model: what publisher would have sent",
        ),
    ],
)
def test_a_record_past_the_streams_retention_stays_parked_and_the_command_points_to_replay(
    shop: Shop, runtime: LocalRuntime, queue: str, advice: str
) -> None:
    sqs = client("sqs", shop.dev.state.moto_url)
    url = shop.dev.resources.queue_urls[queue]
    long_ago = (datetime.now(UTC) - timedelta(hours=25)).isoformat().replace("+00:00", "Z")
    pointer = {
        "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 11},
        "DDBStreamBatchInfo": {
            "shardId": "shardId-old",
            "startSequenceNumber": "100",
            "endSequenceNumber": "100",
            "approximateArrivalOfFirstRecord": long_ago,
            "approximateArrivalOfLastRecord": long_ago,
            "batchSize": 1,
            "streamArn": shop.dev.resources.stream_arn,
        },
    }
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(pointer))
    try:
        answer = orders("dlq", "redrive", queue, runtime=runtime)
        assert answer.returncode == 1
        assert f"{queue}: 0 message(s) redriven (0 stream record(s))" in answer.stdout
        assert f"past the stream's 24 h retention: {advice}" in answer.stdout
        assert [m.body for m in shop.dev.dead_letters()[queue]] == [pointer]
    finally:
        sqs.purge_queue(QueueUrl=url)


def test_redrive_refuses_a_queue_that_holds_no_parked_work(runtime: LocalRuntime) -> None:
    unknown = orders("dlq", "redrive", "payment", runtime=runtime)
    assert unknown.returncode == 1
    assert "'payment' is not a dead-letter queue (known: payment-dlq" in unknown.stderr
