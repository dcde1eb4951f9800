"""What the DynamoDB event store sends, through the client it is given (moto, and botocore's Stubber)."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import boto3
import pytest
from botocore.stub import Stubber

from ordering.adapters.dynamodb_event_store import DynamoDBEventStore
from ordering.domain.placement import PlaceOrder, RequestedLine
from ordering.ports.event_store import StoreUnavailable
from ordering.services.place_order import place_order
from ordering.services.restock import restock
from ordering.services.stamp import Cause
from tests.support import backends
from tests.support.builders import new_event, new_id, order_fulfilled, stock_added

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
