"""The local stream reader against DynamoDB Streams on moto: how often it reads a busy table."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from moto.server import ThreadedMotoServer

from infra.emulator.aws import REGION, client
from infra.emulator.stream_pump import StreamReader
from ordering.adapters.dynamodb_table import create_table

pytestmark = pytest.mark.moto


@pytest.fixture
def table() -> Iterator[tuple[Any, Any, str]]:
    """A table with its stream in a moto server (as `orders dev` reads it: in-process moto does
    not route DynamoDB Streams' JSON requests)."""
    server = ThreadedMotoServer(port=0, verbose=False)
    server.start()
    try:
        url = "http://{}:{}".format(*server.get_host_and_port())
        dynamodb = client("dynamodb", url)
        arn = create_table(dynamodb, "events")  # the system's table: stream NEW_IMAGE
        yield dynamodb, client("dynamodbstreams", url), arn
    finally:
        server.stop()


def test_a_busy_table_is_read_four_times_a_second_as_lambda_reads_a_shard(table):
    """Records come every 20 ms for 2 s: the reader reads what accumulated at Lambda's pace, not
    once per write (and not ten times a second, which cost a GetRecords per order or so)."""
    dynamodb, streams, arn = table
    reads: list[float] = []
    streams.meta.events.register("before-call.dynamodbstreams.GetRecords", lambda **_: reads.append(1))
    reader = StreamReader(
        streams,
        stream_arn=arn,
        region=REGION,
        consumers=[],
        shard_id=StreamReader.shard_of(streams, arn),
    )
    writing = threading.Event()

    def write() -> None:
        n = 0
        while not writing.is_set():
            dynamodb.put_item(TableName="events", Item={"PK": {"S": f"ORDER#{n}"}, "SK": {"S": "EV#1"}})
            n += 1
            time.sleep(0.02)

    writer = threading.Thread(target=write)
    writer.start()
    time.sleep(0.3)  # records are coming before the reader starts
    reader.start()
    try:
        time.sleep(2)
        counted = len(reads)
    finally:
        writing.set()
        writer.join()
        reader.stop()
    assert 4 <= counted <= 10, counted  # about 8 in 2 s; 20 at ten reads a second
