"""POST /orders through handlers.place_order.handler, with REST proxy events and DynamoDB on moto."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import boto3
import pytest

from generated import models as m
from handlers import http
from handlers.place_order import handler
from infra import topology
from ordering import bootstrap
from ordering.adapters.dynamodb_event_store import DynamoDBEventStore
from ordering.domain.streams import order_stream
from ordering.services.restock import restock
from ordering.services.stamp import Cause
from tests.functional.invoke import USER_A, USER_B, Context, api_request, body, fixture, header

pytestmark = pytest.mark.moto

ORDER = {"lines": [{"sku": "MUG-01", "quantity": 2}, {"sku": "TEA-EARL", "quantity": 1}]}


def post(order=ORDER, **options):
    return handler(api_request("apigateway_place_order", order, **options), Context("orders-place_order"))


def no_key(**headers):
    return {"Idempotency-Key": None, **headers}


def error_of(response) -> m.Error:
    """The answer must be an Error, carrying the same correlation id as its header."""
    error = m.Error.model_validate_json(response["body"])
    assert error.correlation_id == header(response, "X-Correlation-Id")
    return error


def order_events(order_id):
    return bootstrap.event_store().read(order_stream(order_id))


def head(sku):
    return bootstrap.event_store().read_heads([sku])[sku]


def test_an_order_is_accepted_reserved_and_recorded_with_the_correlation_id(stocked):
    response = post(headers=no_key(**{"X-Correlation-Id": "checkout-42"}))

    assert response["statusCode"] == 202
    accepted = m.OrderAccepted.model_validate_json(response["body"])
    assert accepted.status == "PENDING"
    assert accepted.url == f"/v1/orders/{accepted.order_id}"
    assert header(response, "Location") == accepted.url
    assert header(response, "X-Correlation-Id") == "checkout-42"
    [placed] = order_events(accepted.order_id)
    assert placed.type == "OrderPlaced"
    assert placed.correlation_id == "checkout-42"
    assert placed.data.user_id == USER_A[0]
    assert placed.data.email == USER_A[1]
    assert placed.data.total == "19.20"  # 2 x 7.50 + 4.20, priced from the catalog
    assert (head("MUG-01").available, head("MUG-01").reserved) == (8, 2)
    assert (head("TEA-EARL").available, head("TEA-EARL").reserved) == (9, 1)


def test_without_a_correlation_header_the_request_id_is_the_correlation_id(stocked):
    request_id = str(uuid.uuid4())
    response = post(headers=no_key(**{"X-Correlation-Id": None}), request_id=request_id)
    assert response["statusCode"] == 202
    assert header(response, "X-Correlation-Id") == request_id
    [placed] = order_events(body(response)["order_id"])
    assert placed.correlation_id == request_id


def test_a_malformed_correlation_header_is_refused(stocked):
    response = post(headers=no_key(**{"X-Correlation-Id": "has spaces; and <tags>"}))
    assert response["statusCode"] == 400
    assert error_of(response).errors[0].field == "headers.X-Correlation-Id"


def test_the_fixture_request_as_api_gateway_sends_it_is_accepted(stocked):
    """The event of tests/events/ unchanged: its claims, headers, idempotency key and body."""
    response = handler(fixture("apigateway_place_order"), Context("orders-place_order"))
    assert response["statusCode"] == 202, response["body"]
    assert header(response, "X-Correlation-Id") == "checkout-2026-11-27-0001"
    [placed] = order_events(body(response)["order_id"])
    assert placed.data.client_reference == "basket-17"


def test_missing_claims_are_401_and_nothing_is_written(stocked):
    response = post(user=None, headers=no_key())
    assert response["statusCode"] == 401
    assert error_of(response).code is m.ErrorCode.unauthorized
    assert head("MUG-01").reserved == 0


def test_claims_that_are_not_a_user_are_401(stocked):
    response = post(user=("not-a-uuid", "ada@example.com"), headers=no_key())
    assert response["statusCode"] == 401


@pytest.mark.parametrize(
    ("order", "fields"),
    [
        (
            {"lines": [{"sku": "MUG-01", "quantity": 1}, {"sku": "TEA-EARL", "quantity": 0}]},
            ["lines[1].quantity"],
        ),
        ({"lines": [{"sku": "mug", "quantity": 1}]}, ["lines[0].sku"]),
        ({"lines": []}, ["lines"]),
        ({"lines": [{"sku": "MUG-01", "quantity": 1}], "price": "0.01"}, ["price"]),
        ({"lines": [{"sku": "MUG-01", "quantity": "1"}]}, ["lines[0].quantity"]),
        ("{not json", ["body"]),
        (None, ["body"]),
        ([1, 2], ["body"]),
    ],
)
def test_an_invalid_body_is_400_naming_each_field(stocked, order, fields):
    response = post(order, headers=no_key())
    assert response["statusCode"] == 400
    error = error_of(response)
    assert error.code is m.ErrorCode.validation_error
    assert [e.field for e in error.errors] == fields
    assert head("MUG-01").reserved == 0


def test_a_duplicate_sku_is_400_naming_the_line(stocked):
    order = {
        "lines": [
            {"sku": "MUG-01", "quantity": 1},
            {"sku": "TEA-EARL", "quantity": 1},
            {"sku": "MUG-01", "quantity": 2},
        ]
    }
    response = post(order, headers=no_key())
    assert response["statusCode"] == 400
    error = error_of(response)
    assert [(e.field, e.message) for e in error.errors] == [
        ("lines[2].sku", "MUG-01 is already on an earlier line")
    ]


def test_an_unknown_sku_is_404(stocked):
    response = post({"lines": [{"sku": "NO-SUCH-SKU", "quantity": 1}]}, headers=no_key())
    assert response["statusCode"] == 404
    error = error_of(response)
    assert error.code is m.ErrorCode.unknown_sku
    assert "NO-SUCH-SKU" in error.message


def test_out_of_stock_is_422_naming_every_short_sku_and_reserves_nothing(stocked):
    order = {"lines": [{"sku": "MUG-01", "quantity": 11}, {"sku": "TEA-EARL", "quantity": 12}]}
    response = post(order, headers=no_key())
    assert response["statusCode"] == 422
    error = error_of(response)
    assert error.code is m.ErrorCode.out_of_stock
    assert "MUG-01 (asked 11, available 10)" in error.message
    assert "TEA-EARL (asked 12, available 10)" in error.message
    assert head("MUG-01").reserved == head("TEA-EARL").reserved == 0


def test_an_order_scattered_over_more_shards_than_one_transaction_holds_is_422_and_writes_nothing(stocked):
    for sku in ("MUG-01", "TEA-EARL"):  # one unit a shard, over 25 shards each: 50 reservations
        restock(bootstrap.event_store(), sku, 15, Decimal("7.50"), "EUR", Cause("admin"), shards=25)
    order = {"lines": [{"sku": "MUG-01", "quantity": 25}, {"sku": "TEA-EARL", "quantity": 25}]}
    response = post(order, headers=no_key())
    assert response["statusCode"] == 422
    error = error_of(response)
    assert error.code is m.ErrorCode.validation_error
    assert "from 50 stock shards, more than the 49 one order can" in error.message
    assert head("MUG-01").reserved == head("TEA-EARL").reserved == 0


def test_lines_in_two_currencies_are_422(stocked):
    response = post(
        {"lines": [{"sku": "MUG-01", "quantity": 1}, {"sku": "CUP-US", "quantity": 1}]}, headers=no_key()
    )
    assert response["statusCode"] == 422
    assert error_of(response).code is m.ErrorCode.currency_mismatch


class LosingEveryRace(DynamoDBEventStore):
    """The production store, with a competitor that restocks each SKU right after we read its head.

    Every transaction then finds the head moved and is refused by DynamoDB's condition, as it
    would be on a SKU that other writers keep changing.
    """

    def __init__(self, table: str) -> None:
        super().__init__(boto3.client("dynamodb", region_name="eu-west-1"), table)
        self.competitor = DynamoDBEventStore(boto3.client("dynamodb", region_name="eu-west-1"), table)

    def read_heads(self, skus):
        heads = super().read_heads(skus)
        for sku, seen in heads.items():
            restock(self.competitor, sku, 1, seen.price, seen.currency, Cause("competitor"))
        return heads


def test_a_sku_that_keeps_changing_is_409_after_the_configured_attempts(stocked, aws, monkeypatch):
    monkeypatch.setenv("PLACE_ORDER_MAX_ATTEMPTS", "3")
    bootstrap.reset()  # a new container, reading the new setting
    bootstrap.override(event_store=LosingEveryRace(aws.table))

    response = post(headers=no_key())
    bootstrap.reset()  # read back through the plain production store

    assert response["statusCode"] == 409
    assert error_of(response).code is m.ErrorCode.conflict
    assert head("MUG-01").reserved == 0
    assert head("MUG-01").available == 10 + 3  # the competitor's three restocks, and nothing of ours


def test_an_unexpected_failure_is_500_with_the_correlation_id_and_no_internals(stocked, monkeypatch, logs):
    monkeypatch.setenv("TABLE_NAME", "no-such-table")
    bootstrap.reset()

    response = post(headers=no_key(**{"X-Correlation-Id": "trace-me-500"}))

    assert response["statusCode"] == 500
    error = error_of(response)
    assert error.code is m.ErrorCode.internal_error
    assert error.correlation_id == "trace-me-500"
    assert "no-such-table" not in response["body"]
    assert "Traceback" not in response["body"]
    assert "no-such-table" in logs.text  # the details are in the log, under the same correlation id
    assert {r.get("correlation_id") for r in logs.records()} == {"trace-me-500"}


# --- Idempotency-Key ----------------------------------------------------------------------------


def test_a_retried_request_with_the_same_key_gets_the_first_answer_and_places_one_order(stocked):
    first = post(headers={"Idempotency-Key": "key-1"})
    again = post(headers={"Idempotency-Key": "key-1"})

    assert first["statusCode"] == again["statusCode"] == 202
    assert body(first) == body(again)
    assert head("MUG-01").reserved == 2
    assert len(order_events(body(first)["order_id"])) == 1


def test_the_same_key_with_another_body_is_422_naming_the_key(stocked):
    post(headers={"Idempotency-Key": "key-2"})
    other = {"lines": [{"sku": "MUG-01", "quantity": 5}]}
    response = post(other, headers={"Idempotency-Key": "key-2"})

    assert response["statusCode"] == 422
    error = error_of(response)
    assert error.code is m.ErrorCode.idempotency_key_reused
    assert "'key-2'" in error.message
    assert error.errors[0].field == "headers.Idempotency-Key"
    assert head("MUG-01").reserved == 2


def test_keys_belong_to_their_user(stocked):
    a = post(user=USER_A, headers={"Idempotency-Key": "shared-key"})
    b = post(user=USER_B, headers={"Idempotency-Key": "shared-key"})
    assert a["statusCode"] == b["statusCode"] == 202
    assert body(a)["order_id"] != body(b)["order_id"]
    assert head("MUG-01").reserved == 4


def test_a_refused_request_is_decided_again_on_retry(stocked):
    """Nothing was written the first time, so the retry after a restock succeeds."""
    big = {"lines": [{"sku": "MUG-01", "quantity": 15}]}
    assert post(big, headers={"Idempotency-Key": "key-3"})["statusCode"] == 422
    restock(bootstrap.event_store(), "MUG-01", 10, head("MUG-01").price, "EUR", Cause("restock"))
    assert post(big, headers={"Idempotency-Key": "key-3"})["statusCode"] == 202


def test_a_malformed_idempotency_key_is_400(stocked):
    response = post(headers={"Idempotency-Key": "x" * 129})
    assert response["statusCode"] == 400
    assert error_of(response).errors[0].field == "headers.Idempotency-Key"


# --- isolation, logs and metrics ----------------------------------------------------------------


def test_two_invocations_for_two_users_share_nothing(stocked, logs):
    """One warm container, two callers: the second answer and its logs know nothing of the first."""
    first = post(user=USER_A, headers={"Idempotency-Key": "a-key", "X-Correlation-Id": "corr-of-ada"})
    first_order = body(first)["order_id"]
    logs.clear()

    second = post(user=USER_B, headers=no_key(**{"X-Correlation-Id": "corr-of-bob"}))

    assert second["statusCode"] == 202
    second_text = json.dumps(second) + logs.text
    for trace_of_first in (USER_A[0], USER_A[1], "corr-of-ada", first_order, "a-key"):
        assert trace_of_first not in second_text
    records = logs.records()
    assert records, "the second invocation logs"
    assert {r["correlation_id"] for r in records} == {"corr-of-bob"}
    assert {r.get("user_id") for r in records if "user_id" in r} == {USER_B[0]}


def test_every_log_line_carries_the_correlation_id(stocked, logs):
    post(headers=no_key(**{"X-Correlation-Id": "corr-on-every-line"}))
    post(
        {"lines": [{"sku": "MUG-01", "quantity": 99}]}, headers=no_key(**{"X-Correlation-Id": "corr-refused"})
    )
    by_id = {}
    for record in logs.records():
        by_id.setdefault(record["correlation_id"], []).append(record["message"])
    assert set(by_id) == {"corr-on-every-line", "corr-refused"}
    assert "Order placed" in by_id["corr-on-every-line"]
    assert "Request refused" in by_id["corr-refused"]


def test_metrics_count_placed_orders_and_refusals_by_reason(stocked, emitted_metrics):
    emitted_metrics()
    post(headers=no_key())
    post({"lines": [{"sku": "MUG-01", "quantity": 99}]}, headers=no_key())
    post({"lines": [{"sku": "NO-SUCH-SKU", "quantity": 1}]}, headers=no_key())
    post(user=None, headers=no_key())

    found = emitted_metrics()
    assert sum(v for name, _, v in found if name == "OrdersPlaced") == 1
    reasons = sorted(d["reason"] for name, d, _ in found if name == "OrdersRejected")
    assert reasons == ["out_of_stock", "unauthorized", "unknown_sku"]


def test_the_admin_group_name_agrees_with_the_topology():
    assert http.ADMIN_GROUP == topology.ADMIN_GROUP


def test_a_warm_container_reads_a_sharded_skus_catalog_head_and_chosen_shard_in_one_batch_get(stocked):
    restock(bootstrap.event_store(), "MUG-01", 40, Decimal("7.50"), "EUR", Cause("admin"), shards=8)
    order = {"lines": [{"sku": "MUG-01", "quantity": 1}]}

    def reads_of_posts(posts: int) -> list[list[list[str]]]:
        """The heads each BatchGetItem of each of `posts` POSTs asks for, on this container's client."""
        reads: list[list[str]] = []
        bootstrap.aws_client("dynamodb").meta.events.register(
            "provide-client-params.dynamodb.BatchGetItem",
            lambda params, **_: reads.extend(
                [key["PK"]["S"] for key in request["Keys"]] for request in params["RequestItems"].values()
            ),
        )
        per_post = []
        for _ in range(posts):
            reads.clear()
            assert post(order, headers=no_key())["statusCode"] == 202
            per_post.append(list(reads))
        return per_post

    def learns_the_shard_count(reads: list[list[str]]) -> bool:
        """The catalog head alone, then the chosen shard's, unless the server's order id chose shard 0."""
        return reads[0] == ["SKU#MUG-01"] and (len(reads) == 1 or (len(reads) == 2 and len(reads[1]) == 1))

    def knows_it(reads: list[list[str]]) -> bool:
        """One read: the catalog head and (unless it is shard 0) the chosen shard's, of 8."""
        return len(reads) == 1 and reads[0][0] == "SKU#MUG-01" and len(reads[0]) <= 2

    first, *warm = reads_of_posts(3)
    assert learns_the_shard_count(first), first
    assert all(knows_it(reads) for reads in warm), warm
    bootstrap.reset()  # a new container, which knows no shard count yet
    first, *warm = reads_of_posts(2)
    assert learns_the_shard_count(first), first
    assert all(knows_it(reads) for reads in warm), warm
