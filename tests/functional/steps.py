"""The steps of an order's life, each through its handler with the event AWS would deliver.

They stand in for the stream publisher (OrderPlaced -> SQS, payment outcomes -> EventBridge):
the envelope a step delivers is read back from the event log, as the publisher would.
"""

from __future__ import annotations

from handlers import inventory, notification, payment, place_order
from ordering import bootstrap
from ordering.domain.recorded import Recorded
from ordering.domain.streams import order_stream
from tests.functional.invoke import USER_A, Context, api_request, body, eventbridge, sqs_batch

LINES = [{"sku": "MUG-01", "quantity": 2}, {"sku": "TEA-EARL", "quantity": 1}]


def place(user=USER_A, lines=LINES, correlation_id: str = "corr-flow") -> str:
    response = place_order.handler(
        api_request(
            "apigateway_place_order",
            {"lines": lines},
            user=user,
            headers={"Idempotency-Key": None, "X-Correlation-Id": correlation_id},
        ),
        Context("orders-place_order"),
    )
    assert response["statusCode"] == 202, response["body"]
    return body(response)["order_id"]


def events_of(order_id: str) -> list[Recorded]:
    return bootstrap.event_store().read(order_stream(order_id))


def types_of(order_id: str) -> list[str]:
    return [event.type for event in events_of(order_id)]


def the(order_id: str, type_: str) -> Recorded:
    [event] = [event for event in events_of(order_id) if event.type == type_]
    return event


def pay(*messages: Recorded | str) -> dict:
    """Deliver one SQS batch to the payment function; its partial batch response."""
    return payment.handler(sqs_batch(messages), Context("orders-payment"))


def settle(outcome: Recorded) -> dict:
    return inventory.handler(eventbridge(outcome), Context("orders-inventory"))


def notify(outcome: Recorded) -> dict:
    """The order's outcome (OrderFulfilled or OrderCancelled) delivered to the notification function."""
    return notification.handler(eventbridge(outcome), Context("orders-notification"))


def failed_ids(response: dict) -> list[str]:
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]
