"""streams/publisher.py, driven with DynamoDB Streams events as Lambda delivers them.

Against moto through the production wiring (PAYMENT_QUEUE_URL, EVENT_BUS_NAME), and, for the
partial failures that moto cannot produce, with botocore's Stubber on the boto3 clients: it
answers each call as SQS or EventBridge would and checks that the call was the expected one.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from generated import models as m
from infra import topology
from ordering import bootstrap, messaging
from ordering.adapters.sqs_eventbridge_publisher import SqsEventBridgePublisher
from ordering.domain.recorded import Recorded, to_envelope
from ordering.domain.streams import order_stream
from streams import publisher
from tests.functional.invoke import Context
from tests.support.builders import new_event, new_id, placed
from tests.support.stream_records import poisoned, record_of, sequence_of, stream_event

pytestmark = pytest.mark.moto
QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/payment"


def paid(order_id: str, version: int = 2) -> Recorded:
    data = m.PaymentSucceeded(order_id=order_id, amount="7.50", currency="EUR", payment_reference="fake_1")
    return Recorded.of(order_stream(order_id), version, new_event(data))


def declined(order_id: str) -> Recorded:
    data = m.PaymentFailed(order_id=order_id, amount="7.50", currency="EUR", reason="card_declined")
    return Recorded.of(order_stream(order_id), 2, new_event(data))


def deliver(records) -> list[str]:
    response = publisher.handler(stream_event(records), Context(function_name="publisher"))
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def sqs_entry(entry_id: str, event: Recorded) -> dict:
    return {
        "Id": entry_id,
        "MessageBody": json.dumps(to_envelope(event)),
        "MessageAttributes": {
            "correlation_id": {"DataType": "String", "StringValue": event.correlation_id},
            "event_id": {"DataType": "String", "StringValue": event.event_id},
        },
    }


def bus_entry(event: Recorded) -> dict:
    return {
        "Source": "orders",
        "DetailType": messaging.DETAIL_TYPES[event.type],
        "Detail": json.dumps(to_envelope(event)),
        "EventBusName": "orders",
    }


@pytest.fixture
def stubbed():
    """The publisher on stubbed clients, wired in as the handler's publisher; no real pauses."""
    sqs = boto3.client("sqs", region_name="eu-west-1")
    events = boto3.client("events", region_name="eu-west-1")
    pauses: list[float] = []
    with Stubber(sqs) as sqs_stub, Stubber(events) as events_stub:
        bootstrap.reset()
        bootstrap.override(
            publisher=SqsEventBridgePublisher(
                sqs, events, queue_url=QUEUE_URL, bus_name="orders", sleep=pauses.append
            )
        )
        yield sqs_stub, events_stub, pauses
        sqs_stub.assert_no_pending_responses()
        events_stub.assert_no_pending_responses()
    bootstrap.reset()


def test_the_rules_route_what_the_publisher_puts():
    assert {rule.source for rule in topology.EVENT_RULES} == {messaging.EVENT_SOURCE}
    assert {t for rule in topology.EVENT_RULES for t in rule.detail_types} == set(
        messaging.DETAIL_TYPES.values()
    )


def test_through_the_wiring_each_event_reaches_its_destination_and_others_none(monkeypatch):
    with mock_aws():
        sqs, events = boto3.client("sqs"), boto3.client("events")
        queue_url = sqs.create_queue(QueueName="payment")["QueueUrl"]
        events.create_event_bus(Name="orders")
        observer = sqs.create_queue(QueueName="observer")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=observer, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(Name="all", EventBusName="orders", EventPattern=json.dumps({"source": ["orders"]}))
        events.put_targets(Rule="all", EventBusName="orders", Targets=[{"Id": "observer", "Arn": arn}])
        monkeypatch.setenv("PAYMENT_QUEUE_URL", queue_url)
        monkeypatch.setenv("EVENT_BUS_NAME", "orders")
        bootstrap.reset()

        order = placed()
        reserved = Recorded.of(
            "SKU#MUG-01",
            2,
            new_event(m.StockReserved(sku="MUG-01", order_id=order.data.order_id, quantity=1)),
        )
        outcomes = [paid(order.data.order_id), declined(new_id())]
        assert deliver([record_of(e) for e in (order, reserved, *outcomes)]) == []

        (message,) = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        )["Messages"]
        assert json.loads(message["Body"]) == to_envelope(order)
        assert message["MessageAttributes"]["event_id"]["StringValue"] == order.event_id
        put = sqs.receive_message(QueueUrl=observer, MaxNumberOfMessages=10)["Messages"]
        delivered = sorted((json.loads(x["Body"]) for x in put), key=lambda e: e["detail"]["event_id"])
        expected = sorted(outcomes, key=lambda e: e.event_id)
        assert [(e["source"], e["detail-type"], e["detail"]) for e in delivered] == [
            ("orders", messaging.DETAIL_TYPES[e.type], to_envelope(e)) for e in expected
        ]
        bootstrap.reset()


def test_put_events_resends_only_the_entries_that_failed(stubbed):
    _, events_stub, pauses = stubbed
    outcomes = [paid(new_id()), declined(new_id()), paid(new_id())]
    events_stub.add_response(
        "put_events",
        {
            "FailedEntryCount": 2,
            "Entries": [
                {"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"},
                {"EventId": "e-2"},
                {"ErrorCode": "InternalFailure", "ErrorMessage": "try again"},
            ],
        },
        {"Entries": [bus_entry(e) for e in outcomes]},
    )
    events_stub.add_response(
        "put_events",
        {"FailedEntryCount": 0, "Entries": [{"EventId": "e-1"}, {"EventId": "e-3"}]},
        {"Entries": [bus_entry(outcomes[0]), bus_entry(outcomes[2])]},
    )
    assert deliver([record_of(e) for e in outcomes]) == []
    assert pauses == [0.1]


def test_a_send_message_batch_resends_only_the_entries_that_failed(stubbed):
    sqs_stub, _, _ = stubbed
    orders = [placed() for _ in range(12)]  # two calls: 10, then 2
    first = [sqs_entry(str(n), e) for n, e in enumerate(orders[:10])]
    sqs_stub.add_response(
        "send_message_batch",
        {
            "Successful": [
                {"Id": str(n), "MessageId": f"m{n}", "MD5OfMessageBody": "x"}
                for n in range(10)
                if n not in (3, 7)
            ],
            "Failed": [
                {"Id": "3", "SenderFault": False, "Code": "InternalError"},
                {"Id": "7", "SenderFault": False, "Code": "ServiceUnavailable"},
            ],
        },
        {"QueueUrl": QUEUE_URL, "Entries": first},
    )
    sqs_stub.add_response(
        "send_message_batch",
        {
            "Successful": [{"Id": n, "MessageId": "m", "MD5OfMessageBody": "x"} for n in ("3", "7")],
            "Failed": [],
        },
        {"QueueUrl": QUEUE_URL, "Entries": [first[3], first[7]]},
    )
    sqs_stub.add_response(
        "send_message_batch",
        {
            "Successful": [{"Id": n, "MessageId": "m", "MD5OfMessageBody": "x"} for n in ("0", "1")],
            "Failed": [],
        },
        {"QueueUrl": QUEUE_URL, "Entries": [sqs_entry(str(n), e) for n, e in enumerate(orders[10:])]},
    )
    assert deliver([record_of(e) for e in orders]) == []


def test_an_entry_that_keeps_failing_is_reported_with_the_later_records_of_its_order(stubbed):
    sqs_stub, events_stub, pauses = stubbed
    stuck, fine = placed(), placed()
    stuck_paid = paid(stuck.data.order_id)  # must not go out before its OrderPlaced did
    fine_paid = paid(fine.data.order_id)
    entries = [sqs_entry("0", stuck), sqs_entry("1", fine)]
    sqs_stub.add_response(
        "send_message_batch",
        {
            "Successful": [{"Id": "1", "MessageId": "m", "MD5OfMessageBody": "x"}],
            "Failed": [{"Id": "0", "SenderFault": False, "Code": "InternalError"}],
        },
        {"QueueUrl": QUEUE_URL, "Entries": entries},
    )
    for _ in range(2):  # two more attempts, then it gives up
        sqs_stub.add_response(
            "send_message_batch",
            {"Successful": [], "Failed": [{"Id": "0", "SenderFault": False, "Code": "InternalError"}]},
            {"QueueUrl": QUEUE_URL, "Entries": [entries[0]]},
        )
    events_stub.add_response(
        "put_events",
        {"FailedEntryCount": 0, "Entries": [{"EventId": "e"}]},
        {"Entries": [bus_entry(fine_paid)]},
    )
    records = [record_of(e) for e in (stuck, fine, stuck_paid, fine_paid)]
    assert deliver(records) == [sequence_of(records[0]), sequence_of(records[2])]
    assert pauses == [0.1, 0.2]


def test_an_entry_refused_as_our_fault_is_not_resent(stubbed):
    sqs_stub, _, pauses = stubbed
    order = placed()
    sqs_stub.add_response(
        "send_message_batch",
        {"Successful": [], "Failed": [{"Id": "0", "SenderFault": True, "Code": "InvalidParameterValue"}]},
        {"QueueUrl": QUEUE_URL, "Entries": [sqs_entry("0", order)]},
    )
    record = record_of(order)
    assert deliver([record]) == [sequence_of(record)]
    assert pauses == []


def test_a_call_that_fails_as_a_whole_is_made_again(stubbed):
    _, events_stub, _ = stubbed
    outcome = paid(new_id())
    events_stub.add_client_error("put_events", service_error_code="ServiceUnavailable", http_status_code=503)
    events_stub.add_response(
        "put_events",
        {"FailedEntryCount": 0, "Entries": [{"EventId": "e"}]},
        {"Entries": [bus_entry(outcome)]},
    )
    assert deliver([record_of(outcome)]) == []


def test_a_poison_record_holds_back_its_order_only(stubbed):
    _, events_stub, _ = stubbed
    order_id, other = new_id(), paid(new_id())
    poison = poisoned(record_of(placed(order_id)), type={"S": "OrderTeleported"})
    later = record_of(paid(order_id))
    events_stub.add_response(
        "put_events", {"FailedEntryCount": 0, "Entries": [{"EventId": "e"}]}, {"Entries": [bus_entry(other)]}
    )
    assert deliver([poison, record_of(other), later]) == [sequence_of(poison), sequence_of(later)]


TRACE = "Root=1-6753a1b2-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1"


def test_messages_and_bus_events_carry_the_publishing_invocations_trace_header(monkeypatch):
    """So that payment, inventory and notification join the publisher's X-Ray trace.

    Read from the calls as botocore validated them against the services' models (moto keeps
    no system attributes of a batch, nor a bus event's trace header).
    """
    with mock_aws():
        sqs, events = boto3.client("sqs"), boto3.client("events")
        queue_url = sqs.create_queue(QueueName="payment")["QueueUrl"]
        events.create_event_bus(Name="orders")
        monkeypatch.setenv("PAYMENT_QUEUE_URL", queue_url)
        monkeypatch.setenv("EVENT_BUS_NAME", "orders")
        monkeypatch.setenv("_X_AMZN_TRACE_ID", TRACE)  # Lambda sets it for each invocation
        bootstrap.reset()
        put: list[dict] = []
        sent: list[dict] = []
        bootstrap.aws_client("events").meta.events.register(
            "provide-client-params.events.PutEvents", lambda params, **_: put.append(params)
        )
        bootstrap.aws_client("sqs").meta.events.register(
            "provide-client-params.sqs.SendMessageBatch", lambda params, **_: sent.append(params)
        )

        order = placed()
        assert deliver([record_of(order), record_of(paid(order.data.order_id))]) == []

        assert [entry["MessageSystemAttributes"] for call in sent for entry in call["Entries"]] == [
            {"AWSTraceHeader": {"DataType": "String", "StringValue": TRACE}}
        ]
        (message,) = sqs.receive_message(QueueUrl=queue_url)["Messages"]  # and SQS accepted it
        assert json.loads(message["Body"]) == to_envelope(order)
        assert [entry["TraceHeader"] for call in put for entry in call["Entries"]] == [TRACE]
        bootstrap.reset()


def test_without_a_trace_header_nothing_is_attached(monkeypatch):
    with mock_aws():
        queue_url = boto3.client("sqs").create_queue(QueueName="payment")["QueueUrl"]
        boto3.client("events").create_event_bus(Name="orders")
        monkeypatch.setenv("PAYMENT_QUEUE_URL", queue_url)
        monkeypatch.setenv("EVENT_BUS_NAME", "orders")
        monkeypatch.delenv("_X_AMZN_TRACE_ID", raising=False)
        bootstrap.reset()
        sent: list[dict] = []
        bootstrap.aws_client("sqs").meta.events.register(
            "provide-client-params.sqs.SendMessageBatch", lambda params, **_: sent.append(params)
        )

        assert deliver([record_of(placed())]) == []

        assert [sorted(entry) for call in sent for entry in call["Entries"]] == [
            ["Id", "MessageAttributes", "MessageBody"]
        ]
        bootstrap.reset()


def test_an_order_placed_with_a_deadline_also_goes_to_the_deadline_queue_and_refunds_to_theirs(monkeypatch):
    with mock_aws():
        sqs = boto3.client("sqs")
        urls = {
            name: sqs.create_queue(QueueName=name)["QueueUrl"] for name in ("payment", "deadline", "refund")
        }
        boto3.client("events").create_event_bus(Name="orders")
        monkeypatch.setenv("PAYMENT_QUEUE_URL", urls["payment"])
        monkeypatch.setenv("DEADLINE_QUEUE_URL", urls["deadline"])
        monkeypatch.setenv("REFUND_QUEUE_URL", urls["refund"])
        monkeypatch.setenv("EVENT_BUS_NAME", "orders")
        bootstrap.reset()
        order = placed()
        due = order.data.model_copy(update={"payment_deadline": "2020-01-01T00:00:00Z"})  # passed: no delay
        order = Recorded.of(order.stream, 1, new_event(due))
        refund = m.RefundRequested(
            order_id=due.order_id,
            refund_id=new_id(),
            amount="7.50",
            currency="EUR",
            payment_reference="fake_1",
            reason="customer_cancelled",
        )
        requested = Recorded.of(order.stream, 3, new_event(refund))

        assert deliver([record_of(order), record_of(requested)]) == []

        def bodies(name):
            return [
                json.loads(x["Body"]) for x in sqs.receive_message(QueueUrl=urls[name]).get("Messages", [])
            ]

        assert bodies("payment") == bodies("deadline") == [to_envelope(order)]
        assert bodies("refund") == [to_envelope(requested)]
        bootstrap.reset()
