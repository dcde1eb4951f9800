"""The stream records the consumers' tests use are the records the table's stream carries.

moto runs the table with its stream; events are written by the real DynamoDB event store
and read back from the stream, and tests/support/stream_records.py must build the same
images. Lambda delivers GetRecords' records plus `eventSourceARN`, as in the fixture.
"""

from __future__ import annotations

from decimal import Decimal

import boto3
import pytest

from ordering.adapters.dynamodb_event_store import DynamoDBEventStore
from ordering.domain.placement import PlaceOrder, RequestedLine
from ordering.domain.recorded import to_envelope
from ordering.services.place_order import place_order
from ordering.services.restock import restock
from ordering.services.stamp import Cause
from streams.records import decode
from tests.support import backends
from tests.support.stream_records import record_of, stream_event, template

pytestmark = pytest.mark.moto


def stream_records(table: str) -> list[dict]:
    # botocore derives an account endpoint from the stream ARN, which moto does not route: name it.
    streams = boto3.client("dynamodbstreams", endpoint_url="https://streams.dynamodb.eu-west-1.amazonaws.com")
    arn = boto3.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    found = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        found += streams.get_records(ShardIterator=iterator)["Records"]
    return found


def test_our_records_carry_the_images_the_table_streams():
    with backends.moto_table() as table:
        store = DynamoDBEventStore(boto3.client("dynamodb", region_name="eu-west-1"), table)
        restock(store, "MUG-01", 5, Decimal("7.50"), "EUR", Cause("seed"))
        command = PlaceOrder(
            "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
            "5f0c7a9e-2b3d-4c1e-8f6a-9d0b1c2e3f4a",
            "ada@example.com",
            (RequestedLine("MUG-01", 2),),
        )
        place_order(store, command, Cause("checkout-1"))
        streamed = [r for r in stream_records(table) if r["dynamodb"]["Keys"]["SK"]["S"].startswith("EV#")]
        events = {
            (e.stream, e.version): e
            for s in ("SKU#MUG-01", f"ORDER#{command.order_id}")
            for e in store.read(s)
        }

    assert len(streamed) == len(events) == 4
    for real in streamed:
        keys = real["dynamodb"]["Keys"]
        ours = record_of(events[(keys["PK"]["S"], int(keys["SK"]["S"][3:]))])
        assert ours["dynamodb"]["NewImage"] == real["dynamodb"]["NewImage"]
        assert ours["dynamodb"]["Keys"] == keys
        assert ours["eventName"] == real["eventName"] == "INSERT"
        assert ours["dynamodb"]["StreamViewType"] == real["dynamodb"]["StreamViewType"] == "NEW_IMAGE"
        assert set(ours) == set(real) | {"eventSourceARN"}
        assert set(ours["dynamodb"]) == set(real["dynamodb"])
        # and what moto streamed decodes to the event the store reads back
        (decoded,) = decode(stream_event([dict(real, eventSourceARN="arn")]))
        assert decoded.event == events[(decoded.stream, decoded.event.version)]


def test_the_fixture_decodes_to_its_event():
    (record,) = decode(template())
    assert record.sequence_number == "4421584500000000017450439091"
    assert record.stream == "ORDER#6f1c2a9e-0b7d-4e7a-9a43-3f7b8e2c5d10"
    envelope = to_envelope(record.event)
    assert envelope["type"] == "OrderPlaced"
    assert envelope["version"] == 1
    assert envelope["causation_id"] is None
    assert envelope["data"]["lines"][0] == {
        "sku": "MUG-01",
        "quantity": 2,
        "unit_price": "7.50",
        "line_total": "15.00",
    }


def test_an_item_whose_keys_disagree_with_its_event_is_poison():
    record = template()
    record["Records"][0]["dynamodb"]["Keys"]["SK"] = {"S": "EV#0000000002"}
    (decoded,) = decode(record)
    assert decoded.event is None
    assert "holds" in decoded.problem
