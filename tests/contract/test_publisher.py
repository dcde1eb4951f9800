"""One contract for every Publisher adapter: in memory, and SQS + EventBridge (moto)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from generated import models as m
from ordering.adapters.memory_publisher import InMemoryPublisher
from ordering.adapters.sqs_eventbridge_publisher import SqsEventBridgePublisher
from ordering.domain.recorded import Recorded, format_timestamp, to_envelope
from ordering.domain.streams import order_stream
from tests.support.builders import new_event, new_id, placed

pytestmark = pytest.mark.moto


class Observed:
    """What left the publisher: payment messages (body, attributes), bus events (source, type, detail)."""

    def __init__(self, messages, events, due_deadlines=lambda: [], refunds=lambda: []) -> None:
        self.messages, self.events = messages, events
        self.due_deadlines, self.refunds = due_deadlines, refunds  # envelopes receivable now


@contextlib.contextmanager
def memory() -> Iterator[tuple[InMemoryPublisher, Observed]]:
    publisher = InMemoryPublisher()
    yield (
        publisher,
        Observed(
            lambda: [(json.loads(x["body"]), x["attributes"]) for x in publisher.queue],
            lambda: [(x["source"], x["detail_type"], json.loads(x["detail"])) for x in publisher.bus],
            lambda: [json.loads(x["body"]) for x in publisher.deadlines if x["delay_seconds"] == 0],
            lambda: [json.loads(x["body"]) for x in publisher.refunds],
        ),
    )


@contextlib.contextmanager
def sqs_eventbridge() -> Iterator[tuple[SqsEventBridgePublisher, Observed]]:
    with mock_aws():
        sqs, events = boto3.client("sqs"), boto3.client("events")
        queue_url = sqs.create_queue(QueueName="payment")["QueueUrl"]
        deadline_url = sqs.create_queue(QueueName="payment-deadline")["QueueUrl"]
        refund_url = sqs.create_queue(QueueName="refund")["QueueUrl"]
        # A rule that copies everything on the bus to a queue, to see what was put.
        events.create_event_bus(Name="orders")
        observer = sqs.create_queue(QueueName="observer")["QueueUrl"]
        observer_arn = sqs.get_queue_attributes(QueueUrl=observer, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(Name="all", EventBusName="orders", EventPattern=json.dumps({"source": ["orders"]}))
        events.put_targets(
            Rule="all", EventBusName="orders", Targets=[{"Id": "observer", "Arn": observer_arn}]
        )

        def drain(url):
            found = []
            while batch := sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
            ).get("Messages"):
                found += batch
                sqs.delete_message_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": x["ReceiptHandle"]} for i, x in enumerate(batch)
                    ],
                )
            return found

        messages: list = []
        bus: list = []

        def observed_messages():
            for x in drain(queue_url):
                attributes = {k: v["StringValue"] for k, v in x.get("MessageAttributes", {}).items()}
                messages.append((json.loads(x["Body"]), attributes))
            return messages

        def observed_events():
            for x in drain(observer):
                event = json.loads(x["Body"])
                bus.append((event["source"], event["detail-type"], event["detail"]))
            return bus

        yield (
            SqsEventBridgePublisher(
                sqs,
                events,
                queue_url=queue_url,
                bus_name="orders",
                deadline_queue_url=deadline_url,
                refund_queue_url=refund_url,
            ),
            Observed(
                observed_messages,
                observed_events,
                lambda: [json.loads(x["Body"]) for x in drain(deadline_url)],
                lambda: [json.loads(x["Body"]) for x in drain(refund_url)],
            ),
        )


@pytest.fixture(params=["memory", "sqs_eventbridge"])
def publisher(request):
    with {"memory": memory, "sqs_eventbridge": sqs_eventbridge}[request.param]() as pair:
        yield pair


def outcome(succeeded: bool) -> Recorded:
    order_id = new_id()
    if succeeded:
        data = m.PaymentSucceeded(
            order_id=order_id, amount="7.50", currency="EUR", payment_reference="fake_1"
        )
    else:
        data = m.PaymentFailed(order_id=order_id, amount="7.50", currency="EUR", reason="card_declined")
    return Recorded.of(order_stream(order_id), 2, new_event(data, causation_id=new_id()))


def test_each_order_placed_is_queued_with_its_envelope_and_ids(publisher):
    adapter, observed = publisher
    events = [placed() for _ in range(23)]  # three batches of at most 10
    assert adapter.to_payment_queue(events) == []
    messages = observed.messages()
    assert sorted(body["event_id"] for body, _ in messages) == sorted(e.event_id for e in events)
    by_id = {e.event_id: e for e in events}
    for body, attributes in messages:
        event = by_id[body["event_id"]]
        assert body == to_envelope(event)
        assert attributes == {"correlation_id": event.correlation_id, "event_id": event.event_id}


def test_payment_outcomes_go_on_the_bus_with_their_detail_types(publisher):
    adapter, observed = publisher
    events = [outcome(n % 2 == 0) for n in range(12)]
    assert adapter.to_event_bus(events) == []
    found = {
        detail["event_id"]: (source, detail_type, detail) for source, detail_type, detail in observed.events()
    }
    assert len(found) == 12
    for event in events:
        source, detail_type, detail = found[event.event_id]
        assert source == "orders"
        assert detail_type == ("Payment.Success" if event.type == "PaymentSucceeded" else "Payment.Failed")
        assert detail == to_envelope(event)


def test_events_of_another_kind_are_refused_before_anything_is_sent(publisher):
    adapter, observed = publisher
    with pytest.raises(ValueError, match="not published"):
        adapter.to_payment_queue([placed(), outcome(True)])
    with pytest.raises(ValueError, match="not published"):
        adapter.to_event_bus([outcome(True), placed()])
    assert observed.messages() == []
    assert observed.events() == []


def placed_with_deadline(seconds_from_now: float) -> Recorded:
    event = placed()
    deadline = datetime.now(UTC) + timedelta(seconds=seconds_from_now)
    data = event.data.model_copy(update={"payment_deadline": format_timestamp(deadline)})
    return replace(event, data=data)


def test_an_order_placed_waits_in_the_deadline_queue_until_its_deadline(publisher):
    adapter, observed = publisher
    due, later = placed_with_deadline(-1), placed_with_deadline(600)
    assert adapter.to_deadline_queue([due, later]) == []
    assert [body["event_id"] for body in observed.due_deadlines()] == [due.event_id]


def test_a_refund_request_is_queued_with_its_envelope(publisher):
    adapter, observed = publisher
    order_id = new_id()
    data = m.RefundRequested(
        order_id=order_id,
        refund_id=new_id(),
        amount="7.50",
        currency="EUR",
        payment_reference="fake_1",
        reason="customer_cancelled",
    )
    requested = Recorded.of(order_stream(order_id), 3, new_event(data))
    assert adapter.to_refund_queue([requested]) == []
    assert observed.refunds() == [to_envelope(requested)]


def test_a_cancellation_goes_on_the_bus_as_order_cancelled(publisher):
    adapter, observed = publisher
    order_id = new_id()
    cancelled = Recorded.of(
        order_stream(order_id), 2, new_event(m.OrderCancelled(order_id=order_id, reason="payment_timeout"))
    )
    assert adapter.to_event_bus([cancelled]) == []
    assert observed.events() == [("orders", "Order.Cancelled", to_envelope(cancelled))]
