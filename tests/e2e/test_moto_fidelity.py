"""What infra/emulator/moto_atomic.py fixes in moto, so that the local stream behaves as DynamoDB's:
a cancelled transaction leaves no stream records, and an open shard iterator keeps working."""

from __future__ import annotations

import logging
import uuid

import pytest
from moto.server import ThreadedMotoServer

from infra.emulator.aws import client
from infra.emulator.moto_atomic import make_dynamodb_writes_atomic
from ordering.adapters.dynamodb_table import create_table

pytestmark = [pytest.mark.moto]


def put(table: str, key: str) -> dict:
    return {
        "Put": {
            "TableName": table,
            "Item": {"PK": {"S": key}, "SK": {"S": "EV#1"}},
            "ConditionExpression": "attribute_not_exists(PK)",
        }
    }


def read(streams, iterator: str) -> tuple[list[str], str]:
    answer = streams.get_records(ShardIterator=iterator)
    return [record["dynamodb"]["Keys"]["PK"]["S"] for record in answer["Records"]], answer[
        "NextShardIterator"
    ]


def test_a_cancelled_transaction_leaves_no_stream_records_and_open_iterators_keep_reading():
    make_dynamodb_writes_atomic()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        endpoint = "http://{}:{}".format(*server.get_host_and_port())
        dynamodb, streams = client("dynamodb", endpoint), client("dynamodbstreams", endpoint)
        table = f"t{uuid.uuid4().hex[:8]}"
        arn = create_table(dynamodb, table)
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
            "ShardIterator"
        ]
        dynamodb.transact_write_items(TransactItems=[put(table, "a")])
        seen, iterator = read(streams, iterator)
        assert seen == ["a"]

        # "b" is written and "a" updated, then "z" fails its check: the transaction is cancelled.
        update_a = {
            "Update": {
                "TableName": table,
                "Key": {"PK": {"S": "a"}, "SK": {"S": "EV#1"}},
                "UpdateExpression": "SET note = :n",
                "ExpressionAttributeValues": {":n": {"S": "changed"}},
            }
        }
        z_exists = {
            "ConditionCheck": {
                "TableName": table,
                "Key": {"PK": {"S": "z"}, "SK": {"S": "EV#1"}},
                "ConditionExpression": "attribute_exists(PK)",
            }
        }
        with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
            dynamodb.transact_write_items(TransactItems=[put(table, "b"), update_a, z_exists])
        dynamodb.transact_write_items(TransactItems=[put(table, "c")])

        seen, iterator = read(streams, iterator)
        assert seen == ["c"]
        assert "Item" not in dynamodb.get_item(TableName=table, Key={"PK": {"S": "b"}, "SK": {"S": "EV#1"}})
        a = dynamodb.get_item(TableName=table, Key={"PK": {"S": "a"}, "SK": {"S": "EV#1"}})["Item"]
        assert "note" not in a
    finally:
        server.stop()
