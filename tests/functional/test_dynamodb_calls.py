"""What the DynamoDB event store sends, through the client it is given (moto, and botocore's Stubber)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from decimal import Decimal

import boto3
import pytest
from botocore.stub import Stubber

from ordering.adapters.dynamodb_event_store import DynamoDBEventStore
from ordering.domain.placement import PlaceOrder, RequestedLine
from ordering.ports.event_store import Append, ConcurrencyError, HeadWrite, StoreUnavailable
from ordering.services.place_order import place_order
from ordering.services.recording import Recorder
from ordering.services.restock import restock
from ordering.services.retry import ConflictRetriesExhausted, RetryPolicy
from ordering.services.shard_spans import ShardSpans
from ordering.services.stamp import Cause
from tests.support import backends
from tests.support.builders import new_event, new_id, order_for_shard, order_fulfilled, stock_added

pytestmark = pytest.mark.moto


def calls_of(client) -> list[str]:
    """The operations the client is asked for, in order, from now on."""
    calls: list[str] = []
    client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    return calls


def test_placing_an_order_is_one_read_of_the_heads_and_one_transaction_nothing_read_back():
    with backends.moto_table() as table:
        client = boto3.client("dynamodb", region_name="eu-west-1")
        store = DynamoDBEventStore(client, table)
        restock(store, "MUG-01", 5, Decimal("7.50"), "EUR", Cause("seed"))
        command = PlaceOrder(new_id(), new_id(), "ada@example.com", (RequestedLine("MUG-01", 2),))
        calls = calls_of(client)

        placed = place_order(store, command, Cause("checkout-1"))

        assert calls == ["BatchGetItem", "TransactWriteItems"]
        assert [e.event_id for e in store.read(f"ORDER#{command.order_id}")] == placed.event_ids[:1]


def test_a_stream_longer_than_a_page_is_read_whole_one_query_per_page():
    with backends.moto_table() as table:
        client = boto3.client("dynamodb", region_name="eu-west-1")
        store = DynamoDBEventStore(client, table)
        written = store.append("SKU#MUG-01", 0, [new_event(stock_added(quantity=n)) for n in range(1, 6)])

        def two_a_page(params, **_):  # DynamoDB pages at 1 MB; moto honours Limit the same way
            params["Limit"] = 2

        client.meta.events.register("provide-client-params.dynamodb.Query", two_a_page)
        calls = calls_of(client)

        read = store.read("SKU#MUG-01")

        assert [e.event_id for e in read] == [e.event_id for e in written]
        assert calls == ["Query", "Query", "Query"]
        assert [e.version for e in store.read("SKU#MUG-01", from_version=4)] == [4, 5]


def heads_asked(client) -> list[list[str]]:
    """The heads each BatchGetItem asks for, from now on."""
    asked: list[list[str]] = []

    def record(params, **_):
        for request in params["RequestItems"].values():
            asked.append([key["PK"]["S"].removeprefix("SKU#") for key in request["Keys"]])

    client.meta.events.register("provide-client-params.dynamodb.BatchGetItem", record)
    return asked


def test_a_sharded_placement_reads_its_catalog_head_and_chosen_shard_in_one_batch_get_when_warm():
    with backends.moto_table() as table:
        client = boto3.client("dynamodb", region_name="eu-west-1")
        store = DynamoDBEventStore(client, table)
        restock(store, "MUG-01", 80, Decimal("7.50"), "EUR", Cause("seed"), shards=8)  # 10 a shard
        restock(store, "CAP-01", 5, Decimal("9.00"), "EUR", Cause("seed"))
        calls, asked = calls_of(client), heads_asked(client)

        def place(
            spans: ShardSpans, shard: int, *lines: tuple[str, int]
        ) -> tuple[list[str], list[list[str]]]:
            """The calls an order whose id hashes to `shard` of MUG-01 makes, and the heads it reads."""
            command = PlaceOrder(
                order_for_shard(shard, 8),
                new_id(),
                "ada@example.com",
                tuple(RequestedLine(sku, quantity) for sku, quantity in lines),
            )
            calls.clear()
            asked.clear()
            place_order(store, command, Cause("checkout"), spans=spans)
            return list(calls), list(asked)

        one_read, two_reads = (
            ["BatchGetItem", "TransactWriteItems"],
            ["BatchGetItem", "BatchGetItem", "TransactWriteItems"],
        )
        container = ShardSpans()  # a new container's
        assert place(container, 3, ("MUG-01", 1)) == (
            two_reads,
            [["MUG-01"], ["MUG-01#3"]],
        )  # learns the count
        # The next orders start where the last one reserved, whatever their ids hash to.
        assert place(container, 5, ("MUG-01", 1)) == (one_read, [["MUG-01", "MUG-01#3"]])
        assert place(container, 6, ("CAP-01", 1), ("MUG-01", 2)) == (
            one_read,
            [["CAP-01", "MUG-01", "MUG-01#3"]],
        )
        others = [f"MUG-01#{shard}" for shard in (1, 2, 4, 5, 6, 7)]
        assert place(container, 6, ("MUG-01", 7)) == (
            two_reads,
            [["MUG-01", "MUG-01#3"], others],
        )  # 3 holds 6
        assert place(container, 1, ("MUG-01", 1)) == (one_read, [["MUG-01", "MUG-01#4"]])  # 7 came from 4
        another = ShardSpans()
        assert place(another, 0, ("MUG-01", 1)) == (one_read, [["MUG-01"]])  # shard 0 is the catalog head
        assert place(another, 2, ("MUG-01", 1)) == (one_read, [["MUG-01"]])


class LosingEveryRace(DynamoDBEventStore):
    """The production store, with a competitor that restocks MUG-01 (every shard) after each read."""

    def __init__(self, client, table: str) -> None:
        super().__init__(client, table)
        self.competitor = DynamoDBEventStore(boto3.client("dynamodb", region_name="eu-west-1"), table)

    def read_heads(self, heads):
        found = super().read_heads(heads)
        restock(self.competitor, "MUG-01", 4, Decimal("7.50"), "EUR", Cause("competitor"))
        return found


def test_a_retry_of_a_sharded_placement_reads_its_heads_in_one_batch_get_knowing_the_shard_count():
    """Without a container's spans, the first read learns the shard count and each retry uses it."""
    with backends.moto_table() as table:
        client = boto3.client("dynamodb", region_name="eu-west-1")
        restock(
            DynamoDBEventStore(client, table), "MUG-01", 80, Decimal("7.50"), "EUR", Cause("seed"), shards=4
        )
        store = LosingEveryRace(client, table)
        command = PlaceOrder(
            order_for_shard(1, 4), new_id(), "ada@example.com", (RequestedLine("MUG-01", 1),)
        )
        calls = calls_of(client)

        with pytest.raises(ConflictRetriesExhausted):
            place_order(store, command, Cause("checkout"), recorder=Recorder(retry=RetryPolicy(attempts=3)))

        read, attempt = ["BatchGetItem"], ["BatchGetItem", "TransactWriteItems"]
        # A lost race costs no Query: the moved head comes back in the cancellation reason.
        assert calls == read + attempt + attempt + attempt


def test_a_race_lost_on_a_head_names_the_version_it_moved_to_without_a_query():
    with backends.moto_table() as table:
        client = boto3.client("dynamodb", region_name="eu-west-1")
        store = DynamoDBEventStore(client, table)
        restock(store, "MUG-01", 5, Decimal("7.50"), "EUR", Cause("seed"))
        seen = store.read_heads(["MUG-01"])["MUG-01"]
        restock(store, "MUG-01", 5, Decimal("7.50"), "EUR", Cause("competitor"))
        order_id = new_id()
        calls = calls_of(client)

        with pytest.raises(ConcurrencyError) as raised:
            store.transact(
                [
                    Append(f"ORDER#{order_id}", 0, [new_event(order_fulfilled(order_id))]),
                    Append("SKU#MUG-01", seen.version, [new_event(stock_added())]),
                ],
                [HeadWrite(replace(seen, version=seen.version + 1), seen.version)],
            )

        assert calls == ["TransactWriteItems"]
        assert (raised.value.stream, raised.value.expected, raised.value.found) == (
            "SKU#MUG-01",
            seen.version,
            store.version_of("SKU#MUG-01"),
        )
        assert raised.value.found > seen.version


def test_the_version_of_a_long_stream_is_one_query_of_one_item():
    with backends.moto_table() as table:
        client = boto3.client("dynamodb", region_name="eu-west-1")
        store = DynamoDBEventStore(client, table)
        store.append("SKU#MUG-01", 0, [new_event(stock_added(quantity=n)) for n in range(1, 8)])
        answers: list[int] = []
        client.meta.events.register(
            "after-call.dynamodb.Query", lambda parsed, **_: answers.append(parsed["Count"])
        )
        calls = calls_of(client)

        assert store.version_of("SKU#MUG-01") == 7
        assert store.version_of("SKU#CAP-01") == 0
        assert calls == ["Query", "Query"]
        assert answers == [1, 0]


def test_throttling_is_store_unavailable_for_a_put_and_inside_a_transaction():
    client = boto3.client("dynamodb", region_name="eu-west-1")
    store = DynamoDBEventStore(client, "orders")
    order_id = new_id()
    with Stubber(client) as stub:
        stub.add_client_error("put_item", "ThrottlingException", http_status_code=400)
        with pytest.raises(StoreUnavailable):
            store.append(f"ORDER#{order_id}", 0, [new_event(order_fulfilled(order_id))])
        stub.add_client_error(
            "transact_write_items",
            "TransactionCanceledException",
            http_status_code=400,
            response_meta={},
            modeled_fields={"CancellationReasons": [{"Code": "None"}, {"Code": "ThrottlingError"}]},
        )
        with pytest.raises(StoreUnavailable, match="SKU#MUG-01: ThrottlingError"):
            store.append("SKU#MUG-01", 0, [new_event(stock_added()), new_event(stock_added())])
        stub.assert_no_pending_responses()


def test_the_event_store_writes_and_reads_items_without_importing_boto3():
    """boto3 (and s3transfer with it) would be imported on the first invocation of every
    function that writes events, only to convert three types; botocore's client is enough."""
    check = (
        "import sys\n"
        "from decimal import Decimal\n"
        "from ordering.adapters.dynamodb_event_store import plain_item, wire_item\n"
        "item = {'PK': 'order#1', 'version': 3, 'price': Decimal('2.50'), 'flag': True, 'gone': None}\n"
        "wire = wire_item(item)\n"
        "assert wire == {'PK': {'S': 'order#1'}, 'version': {'N': '3'}, 'price': {'N': '2.50'},"
        " 'flag': {'BOOL': True}}, wire\n"
        "assert plain_item(wire) == {'PK': 'order#1', 'version': 3, 'price': Decimal('2.50'), 'flag': True}\n"
        "try:\n"
        "    wire_item({'data': {'a': 1}})\n"
        "except TypeError as error:\n"
        "    assert 'dict' in str(error), error\n"
        "else:\n"
        "    raise AssertionError('a map is not a value of our items')\n"
        "assert 'boto3' not in sys.modules, 'boto3 was imported'\n"
    )
    completed = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr[-2000:]
