"""The order lifecycle in the template: the payment-deadline and refund queues with their DLQs
and alarms, their consumers, who may send to them, the cancel route, and the deadline setting."""

from __future__ import annotations

import json

import pytest

from infra import topology
from tests.infra.conftest import Synthesized, arn_of
from tests.infra.test_least_privilege import _as_list, statements_by_function

pytestmark = pytest.mark.infra


@pytest.mark.parametrize(("queue", "dead_letter", "consumer"), [
    ("payment-deadline", "payment-deadline-dlq", "payment_deadline"),
    ("refund", "refund-dlq", "refund"),
])  # fmt: skip
def test_each_lifecycle_queue_parks_in_its_dlq_feeds_its_function_and_is_alarmed(
    synthesized: Synthesized, queue: str, dead_letter: str, consumer: str
) -> None:
    queues = synthesized.queues()
    assert synthesized.props(queues[queue])["RedrivePolicy"] == {
        "deadLetterTargetArn": arn_of(queues[dead_letter]),
        "maxReceiveCount": 5,
    }
    (mapping,) = [
        m["Properties"]
        for m in synthesized.of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"].get("EventSourceArn") == arn_of(queues[queue])
    ]
    assert mapping["FunctionName"] == {"Ref": synthesized.functions()[consumer]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    alarms = {r["Properties"]["AlarmName"] for r in synthesized.of_type("AWS::CloudWatch::Alarm").values()}
    assert f"{synthesized.stack_name}-{dead_letter}-not-empty" in alarms


def test_only_the_publisher_sends_to_the_deadline_and_refund_queues(synthesized: Synthesized) -> None:
    for queue in ("payment-deadline", "refund"):
        arn = json.dumps(arn_of(synthesized.queues()[queue]))
        senders = {
            name
            for name, statements in statements_by_function(synthesized).items()
            for s in statements
            if "sqs:SendMessage" in _as_list(s["Action"]) and arn in json.dumps(s["Resource"])
        }
        assert senders == {"publisher"}, queue


def test_the_cancel_route_is_served_by_cancel_order_with_its_request_model(synthesized: Synthesized) -> None:
    (route,) = [r for r in topology.routes() if r.operation_id == "cancelOrder"]
    assert (route.method, route.path, route.function, route.request_model) == (
        "POST",
        "/orders/{order_id}/cancel",
        "cancel_order",
        "CancelOrderRequest",
    )
    resources = synthesized.of_type("AWS::ApiGateway::Resource")
    assert any(r["Properties"]["PathPart"] == "cancel" for r in resources.values())


def test_orders_are_placed_with_the_topologys_payment_deadline(synthesized: Synthesized) -> None:
    variables = synthesized.props(synthesized.functions()["place_order"])["Environment"]["Variables"]
    assert variables["PAYMENT_DEADLINE_SECONDS"] == str(topology.PAYMENT_DEADLINE_SECONDS) == "900"


def bus_routes(synthesized: Synthesized) -> dict[str, set[str]]:
    """detail-type -> the functions the template's rules invoke with it."""
    names = {logical_id: name for name, logical_id in synthesized.functions().items()}
    routes: dict[str, set[str]] = {}
    for rule in synthesized.of_type("AWS::Events::Rule").values():
        props = rule["Properties"]
        if "EventPattern" not in props:
            continue  # a schedule
        targets = {names[target["Arn"]["Fn::GetAtt"][0]] for target in props["Targets"]}
        for detail_type in props["EventPattern"]["detail-type"]:
            routes.setdefault(detail_type, set()).update(targets)
    return routes


def test_the_notification_function_mails_about_the_orders_outcome(synthesized: Synthesized) -> None:
    """Fulfilled or cancelled (a declined order is cancelled too): not the payment's outcome."""
    mailed = {detail for detail, functions in bus_routes(synthesized).items() if "notification" in functions}
    assert mailed == {"Order.Fulfilled", "Order.Cancelled"}


def test_no_bus_event_sends_two_functions_to_write_to_the_table_at_once(synthesized: Synthesized) -> None:
    """Two writers woken by one event append to the same order at the same moment, and one loses
    the race (a reload and a second transaction): as notification and inventory did on Payment.Success."""
    writers = {f.name for f in topology.FUNCTIONS if "table" in f.uses and f.table_access == "read_write"}
    for detail_type, functions in bus_routes(synthesized).items():
        assert len(functions & writers) <= 1, (detail_type, functions)
