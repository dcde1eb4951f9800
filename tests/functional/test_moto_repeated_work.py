"""The patches that spare moto's process work it repeated for every request
(infra/emulator/moto_dispatch.py, moto_serialize.py, moto_sqs.py, moto_events.py): moto answers as before,
without doing that work again."""

from __future__ import annotations

import json

import boto3
import jsonpath_ng.ext
import moto.backends
import pytest
from moto import mock_aws
from moto.core.serialize import BaseJSONSerializer, JSONSerializer, XFormedAttributePicker
from moto.core.utils import get_service_model
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.sqs.models import Queue, sqs_backends

from infra.emulator.moto_dispatch import remember_backends
from infra.emulator.moto_events import parse_paths_once
from infra.emulator.moto_serialize import write_attribute_values_directly
from infra.emulator.moto_sqs import _attributes_but_counts, read_retention_directly, send_without_counting

pytestmark = pytest.mark.moto

HOSTS = [
    "dynamodb",
    "dynamodbstreams",
    "sesv2",
    "sqs.eu-west-1.amazonaws.com",
    "events.eu-west-1.amazonaws.com",
    "monitoring.eu-west-1.amazonaws.com",
    "cognito-idp.eu-west-1.amazonaws.com",
    None,
]


def test_the_backend_of_a_host_is_looked_up_once_and_is_the_one_moto_finds(monkeypatch):
    original = DomainDispatcherApplication.get_backend_for_host
    original = getattr(original, "__wrapped__", original)
    remember_backends()
    dispatcher = DomainDispatcherApplication(create_backend_app)
    assert [dispatcher.get_backend_for_host(host) for host in HOSTS] == [
        original(dispatcher, host) for host in HOSTS
    ]
    listings = []
    listing = moto.backends.list_of_moto_modules
    monkeypatch.setattr(moto.backends, "list_of_moto_modules", lambda: listings.append(1) or listing())

    first = dispatcher.get_backend_for_host("acm")
    looked = len(listings)
    again = [dispatcher.get_backend_for_host("acm") for _ in range(3)]

    assert first == "acm"
    assert again == ["acm"] * 3
    assert len(listings) == looked <= 1  # moto's directory listed at most for the first lookup


@pytest.fixture
def sqs():
    read_retention_directly()
    send_without_counting()
    with mock_aws():
        yield boto3.client("sqs", region_name="eu-west-1")


def test_a_receive_does_not_build_the_queue_s_attributes(sqs, monkeypatch):
    url = sqs.create_queue(QueueName="long")["QueueUrl"]
    for n in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=str(n))
    built = []
    attributes = Queue.attributes
    monkeypatch.setattr(
        Queue, "attributes", property(lambda queue: built.append(1) or attributes.fget(queue))
    )

    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]

    assert sorted(m["Body"] for m in received) == ["0", "1", "2", "3", "4"]
    assert built == []


def test_a_send_does_not_count_the_queue_s_messages(sqs, monkeypatch):
    url = sqs.create_queue(QueueName="counted")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="first")
    counted = []
    count = Queue.approximate_number_of_messages
    monkeypatch.setattr(
        Queue,
        "approximate_number_of_messages",
        property(lambda queue: counted.append(1) or count.fget(queue)),
    )

    sqs.send_message(QueueUrl=url, MessageBody="second")
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "third"}])

    assert counted == []
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "3"  # a reader still gets the counts
    assert counted


def test_the_attributes_a_send_reads_are_moto_s_but_the_counts(sqs):
    dead = sqs.create_queue(QueueName="dead")["QueueUrl"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.create_queue(
        QueueName="plain",
        Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": "5"}),
            "Policy": json.dumps({"Version": "2012-10-17", "Statement": []}),
            "KmsMasterKeyId": "alias/aws/sqs",
        },
    )
    sqs.create_queue(
        QueueName="ordered.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    )
    backend = sqs_backends["123456789012"]["eu-west-1"]
    for name in ("dead", "plain", "ordered.fifo"):
        queue = backend.queues[name]
        everything = type(queue).attributes.fget(queue)
        counts = {key for key in everything if key.startswith("ApproximateNumberOf")}
        assert len(counts) == 3
        assert _attributes_but_counts(queue) == {k: v for k, v in everything.items() if k not in counts}


def test_a_fifo_queue_still_drops_a_duplicate_by_its_content(sqs):
    url = sqs.create_queue(
        QueueName="dedup.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    )["QueueUrl"]
    for _ in range(2):
        sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")

    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]

    assert [m["Body"] for m in received] == ["same"]


def test_a_message_older_than_the_retention_period_is_still_not_received(sqs):
    """(moto stops a receive at the first such message, as it did before.)"""
    url = sqs.create_queue(QueueName="short", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="new")
    sqs.send_message(QueueUrl=url, MessageBody="old")
    backend = sqs_backends["123456789012"]["eu-west-1"]
    old = next(m for m in backend.queues["short"]._messages if m.body == "old")
    old.sent_timestamp -= 61_000  # sent 61 s earlier than it was

    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])

    assert [m["Body"] for m in received] == ["new"]


def test_a_rule_s_target_receives_the_event_as_before_and_each_path_is_parsed_once():
    parse_paths_once()
    assert jsonpath_ng.ext.parse("$.detail-type") is jsonpath_ng.ext.parse("$.detail-type")
    with mock_aws():
        events = boto3.client("events", region_name="eu-west-1")
        sqs = boto3.client("sqs", region_name="eu-west-1")
        url = sqs.create_queue(QueueName="target")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="placed", EventPattern=json.dumps({"detail-type": ["OrderPlaced"]}))
        events.put_targets(Rule="placed", Targets=[{"Id": "queue", "Arn": arn}])
        for n in range(2):
            events.put_events(
                Entries=[{"Source": "orders", "DetailType": "OrderPlaced", "Detail": json.dumps({"n": n})}]
            )
        bodies = [
            json.loads(m["Body"])
            for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        ]

    assert sorted(body["detail"]["n"] for body in bodies) == [0, 1]
    assert {body["detail-type"] for body in bodies} == {"OrderPlaced"}
    assert {body["source"] for body in bodies} == {"orders"}
    assert all(body["region"] == "eu-west-1" and body["id"] for body in bodies)


ITEM = {
    "PK": {"S": "ORDER#1"},
    "SK": {"S": "EVENT#0001"},
    "n": {"N": "12.5"},
    "b": {"B": b"\x00\x01"},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2"]},
    "bs": {"BS": [b"x"]},
    "m": {"M": {"x": {"S": "y"}, "l": {"L": [{"N": "1"}, {"NULL": True}, {"BOOL": False}]}}},
    "t": {"BOOL": True},
}


def _body(service: str, operation: str, result: dict) -> str:
    model = get_service_model(service).operation_model(operation)
    return JSONSerializer(model, value_picker=XFormedAttributePicker()).serialize(result)["body"]


RESPONSES = [
    ("dynamodb", "Query", {"Items": [ITEM, ITEM], "Count": 2, "ScannedCount": 2}),
    ("dynamodb", "BatchGetItem", {"Responses": {"t": [ITEM]}, "UnprocessedKeys": {}}),
    ("dynamodb", "GetItem", {"Item": ITEM}),
    (
        "dynamodbstreams",
        "GetRecords",
        {
            "Records": [
                {
                    "eventID": "1",
                    "eventName": "INSERT",
                    "dynamodb": {
                        "ApproximateCreationDateTime": 1700000000.0,
                        "Keys": {"PK": ITEM["PK"], "SK": ITEM["SK"]},
                        "NewImage": ITEM,
                        "SequenceNumber": "100",
                        "StreamViewType": "NEW_IMAGE",
                    },
                }
            ],
            "NextShardIterator": "next",
        },
    ),
]


@pytest.mark.parametrize(("service", "operation", "result"), RESPONSES, ids=[r[1] for r in RESPONSES])
def test_a_dynamodb_response_is_written_as_moto_writes_it(monkeypatch, service, operation, result):
    write_attribute_values_directly()
    ours = _body(service, operation, result)
    monkeypatch.setattr(
        BaseJSONSerializer,
        "_serialize_type_structure",
        BaseJSONSerializer._serialize_type_structure.__wrapped__,
    )

    assert ours == _body(service, operation, result)


def test_an_attribute_value_s_members_are_not_searched_for(monkeypatch):
    write_attribute_values_directly()
    searches = []
    pick = XFormedAttributePicker.__call__
    monkeypatch.setattr(
        XFormedAttributePicker, "__call__", lambda self, c: searches.append(1) or pick(self, c)
    )

    def searched(items: int) -> int:
        searches.clear()
        _body("dynamodb", "Query", {"Items": [ITEM] * items, "Count": items})
        return len(searches)

    assert searched(10) == searched(1)  # the response's own members only, however many items
