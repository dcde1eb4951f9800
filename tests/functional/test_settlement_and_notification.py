"""The inventory function, driven by EventBridge events of the payment outcome, and the
notification function, driven by the order's outcome that the inventory function records."""

from __future__ import annotations

import threading

import boto3
import pytest

from handlers import inventory, notification
from ordering import bootstrap
from ordering.domain.events import InvalidEvent
from ordering.domain.streams import sku_stream
from ordering.services.notifications import NoticeInProgress
from tests.functional.conftest import SENDER
from tests.functional.invoke import Context, eventbridge, fixture
from tests.functional.steps import notify, pay, place, settle, the, types_of
from tests.support.ses_outbox import ses_outbox

pytestmark = pytest.mark.moto

DECLINED = ("1c7a9f3b-2d4e-4f6a-8b8c-9d0e1f2a3b4c", "bob+decline@example.net")


def paid_order(**options):
    order_id = place(**options)
    pay(the(order_id, "OrderPlaced"))
    return order_id


def fulfilled_order(**options):
    order_id = paid_order(**options)
    settle(the(order_id, "PaymentSucceeded"))
    return order_id


def declined_order():
    order_id = paid_order(user=DECLINED)
    settle(the(order_id, "PaymentFailed"))
    return order_id


def head(sku):
    return bootstrap.event_store().read_heads([sku])[sku]


def sku_types(sku):
    return [e.type for e in bootstrap.event_store().read(sku_stream(sku))]


# --- inventory ----------------------------------------------------------------------------------


def test_a_paid_order_commits_its_stock_and_is_fulfilled_once_however_often_delivered(stocked):
    order_id = paid_order()
    outcome = the(order_id, "PaymentSucceeded")

    results = [settle(outcome) for _ in range(3)]

    assert results[0]["events"] == ["OrderFulfilled", "StockCommitted", "StockCommitted"]
    assert results[1]["events"] == results[2]["events"] == []
    assert types_of(order_id) == ["OrderPlaced", "PaymentSucceeded", "OrderFulfilled"]
    assert (head("MUG-01").available, head("MUG-01").reserved, head("MUG-01").committed) == (8, 0, 2)
    assert sku_types("TEA-EARL").count("StockCommitted") == 1
    fulfilled = the(order_id, "OrderFulfilled")
    assert fulfilled.correlation_id == "corr-flow"
    assert fulfilled.causation_id == outcome.event_id


def test_a_failed_payment_releases_the_stock_and_cancels_the_order(stocked):
    order_id = paid_order(user=DECLINED)

    for _ in range(3):
        settle(the(order_id, "PaymentFailed"))

    assert types_of(order_id) == ["OrderPlaced", "PaymentFailed", "OrderCancelled"]
    assert the(order_id, "OrderCancelled").data.reason == "card_declined"
    assert (head("MUG-01").available, head("MUG-01").reserved, head("MUG-01").committed) == (10, 0, 0)
    assert sku_types("MUG-01").count("StockReleased") == 1


def test_an_event_that_is_not_a_payment_outcome_raises_for_retry_and_dead_letter(stocked):
    event = fixture("eventbridge_payment_succeeded")
    event["detail"] = {"event_id": "garbage"}
    with pytest.raises(InvalidEvent):
        inventory.handler(event, Context("orders-inventory"))


def test_an_order_the_log_does_not_know_raises(aws):
    """The fixture event as delivered, for an order that was never placed here."""
    with pytest.raises(Exception, match="does not exist"):
        inventory.handler(fixture("eventbridge_payment_succeeded"), Context("orders-inventory"))


# --- notification -------------------------------------------------------------------------------


def test_a_fulfilled_order_is_confirmed_by_one_email_however_often_delivered(stocked):
    order_id = fulfilled_order(correlation_id="corr-mail")
    outcome = the(order_id, "OrderFulfilled")

    results = [notify(outcome) for _ in range(3)]

    [mail] = ses_outbox()
    assert results[0]["message_id"] == mail.message_id
    assert [result["message_id"] for result in results[1:]] == [None, None]  # had been sent
    assert mail.to == "ada@example.com"
    assert mail.sender == SENDER
    assert mail.correlation_id == "corr-mail"
    assert "MUG-01" in mail.text
    assert "TEA-EARL" in mail.text
    assert "19.20 EUR" in mail.text
    sent = the(order_id, "ConfirmationSent")
    assert sent.data.message_id == mail.message_id
    assert sent.correlation_id == "corr-mail"


def expire_leases(table):
    """What DynamoDB's TTL does to the leases once `expiration` has passed."""
    client = boto3.client("dynamodb")
    for item in client.scan(TableName=table)["Items"]:
        if item["PK"]["S"].startswith("lease#"):
            client.delete_item(TableName=table, Key={"PK": item["PK"], "SK": item["SK"]})


def test_a_redelivery_after_the_lease_expired_still_sends_nothing(stocked, aws):
    """The order's own log is the guard: ConfirmationSent is there."""
    order_id = fulfilled_order()
    notify(the(order_id, "OrderFulfilled"))
    expire_leases(aws.table)

    result = notify(the(order_id, "OrderFulfilled"))

    assert result["message_id"] is None
    assert len(ses_outbox()) == 1


def test_a_failed_payment_is_announced_once_when_the_declined_order_is_cancelled(stocked):
    order_id = declined_order()
    for _ in range(3):
        notify(the(order_id, "OrderCancelled"))
    [mail] = ses_outbox()
    assert mail.to == DECLINED[1]
    assert "failed" in mail.subject
    assert "card_declined" in mail.text
    assert types_of(order_id).count("ConfirmationSent") == 1


def test_an_ses_error_raises_records_nothing_and_the_retry_sends(stocked):
    order_id = fulfilled_order()
    outcome = the(order_id, "OrderFulfilled")
    boto3.client("sesv2").delete_email_identity(EmailIdentity=SENDER)

    with pytest.raises(Exception, match="MessageRejected"):
        notify(outcome)
    assert "ConfirmationSent" not in types_of(order_id)

    boto3.client("sesv2").create_email_identity(EmailIdentity=SENDER)
    notify(outcome)  # EventBridge's retry
    assert len(ses_outbox()) == 1
    assert types_of(order_id).count("ConfirmationSent") == 1


def test_concurrent_deliveries_of_one_event_send_one_email(stocked):
    order_id = fulfilled_order()
    delivered = eventbridge(the(order_id, "OrderFulfilled"))
    start = threading.Barrier(4)
    outcomes: list[str] = []

    def deliver():
        start.wait()
        try:
            notification.handler(delivered, Context("orders-notification"))
            outcomes.append("done")
        except NoticeInProgress:
            outcomes.append("in progress")  # Lambda retries this one later

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    retried = outcomes.count("in progress")
    for _ in range(retried):
        notification.handler(delivered, Context("orders-notification"))

    assert len(outcomes) == 4
    assert len(ses_outbox()) == 1
    assert types_of(order_id).count("ConfirmationSent") == 1


def test_metrics_count_emails_sent(stocked, emitted_metrics):
    order_id = fulfilled_order()
    emitted_metrics()
    for _ in range(2):
        notify(the(order_id, "OrderFulfilled"))
    assert sum(v for n, _, v in emitted_metrics() if n == "EmailsSent") == 1


def test_an_email_costs_a_lease_a_read_the_email_and_one_transaction_and_a_redelivery_two_calls(stocked):
    """No idempotency record written and then completed: the lease and the order's log do it."""
    outcome = the(fulfilled_order(), "OrderFulfilled")
    calls: list[str] = []
    for service in ("dynamodb", "sesv2"):
        bootstrap.aws_client(service).meta.events.register(
            f"before-call.{service}", lambda model, **_: calls.append(model.name)
        )

    notify(outcome)
    first, calls[:] = list(calls), []
    notify(outcome)

    assert first == ["PutItem", "Query", "SendEmail", "TransactWriteItems"]
    assert calls == ["PutItem", "Query"]
