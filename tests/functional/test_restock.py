"""POST /inventory through handlers.restock.handler: admins only, StockAdded and PriceChanged,
and the shard count of a hot SKU."""

from __future__ import annotations

import pytest

from generated import models as m
from handlers import http
from handlers.restock import handler
from ordering import bootstrap
from ordering.domain.streams import sku_stream
from tests.functional.invoke import USER_B, Context, api_request, fixture, header

pytestmark = pytest.mark.moto

ADMIN = ("b7e1d2c3-4f5a-4b6c-9d7e-8f9a0b1c2d3e", "grace@example.com")
RESTOCK = {"sku": "LAMP-02", "quantity": 5, "price": "19.90", "currency": "EUR"}


def post(body=RESTOCK, *, user=ADMIN, groups="admin", **options):
    return handler(
        api_request("apigateway_restock", body, user=user, groups=groups, **options),
        Context("orders-restock"),
    )


def types_of(sku):
    return [event.type for event in bootstrap.event_store().read(sku_stream(sku))]


def test_the_fixture_request_restocks_and_answers_the_item(aws):
    response = handler(fixture("apigateway_restock"), Context("orders-restock"))

    assert response["statusCode"] == 200, response["body"]
    item = m.InventoryItem.model_validate_json(response["body"])
    assert item == m.InventoryItem(
        sku="MUG-01", available=25, reserved=0, committed=0, price="7.50", currency="EUR", shards=1, version=2
    )
    assert types_of("MUG-01") == ["StockAdded", "PriceChanged"]
    assert header(response, "X-Correlation-Id") == "9c0d1e2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f"  # the request id


def test_a_second_restock_at_the_same_price_adds_stock_only(aws):
    post()
    response = post({**RESTOCK, "quantity": 3})
    item = m.InventoryItem.model_validate_json(response["body"])
    assert (item.available, item.price, item.version) == (8, "19.90", 3)
    assert types_of("LAMP-02") == ["StockAdded", "PriceChanged", "StockAdded"]


def test_a_new_price_alone_is_price_changed(aws):
    post()
    response = post({**RESTOCK, "quantity": 0, "price": "17.00"})
    assert m.InventoryItem.model_validate_json(response["body"]).price == "17.00"
    assert types_of("LAMP-02") == ["StockAdded", "PriceChanged", "PriceChanged"]


def test_shards_split_the_stock_into_heads_that_add_up_to_the_sku(aws):
    response = post({**RESTOCK, "quantity": 10, "shards": 4})
    item = m.InventoryItem.model_validate_json(response["body"])
    assert (item.available, item.shards) == (10, 4)
    heads = bootstrap.event_store().read_heads(["LAMP-02", "LAMP-02#1", "LAMP-02#2", "LAMP-02#3"])
    assert [heads[name].available for name in sorted(heads)] == [3, 3, 2, 2]
    assert types_of("LAMP-02") == ["StockSharded", "StockAdded", "PriceChanged"]
    assert [e.type for e in bootstrap.event_store().read(sku_stream("LAMP-02", 3))] == ["StockAdded"]


def test_fewer_shards_move_the_units_back_and_nothing_is_lost(aws):
    post({**RESTOCK, "quantity": 10, "shards": 4})
    item = m.InventoryItem.model_validate_json(post({**RESTOCK, "quantity": 0, "shards": 1})["body"])
    assert (item.available, item.shards) == (10, 1)
    assert types_of("LAMP-02")[-4:] == ["StockSharded", "StockMoved", "StockMoved", "StockMoved"]
    heads = bootstrap.event_store().read_heads(["LAMP-02", "LAMP-02#1", "LAMP-02#2", "LAMP-02#3"])
    assert [heads[name].available for name in sorted(heads)] == [10, 0, 0, 0]


def test_the_events_carry_the_correlation_id(aws):
    post(headers={"X-Correlation-Id": "stock-take-7"})
    assert {e.correlation_id for e in bootstrap.event_store().read(sku_stream("LAMP-02"))} == {"stock-take-7"}


@pytest.mark.parametrize(
    "groups",
    [
        "admin",  # REST Cognito authorizer, one group
        "ops,admin",  # REST Cognito authorizer, several groups
        "[ops admin]",  # HTTP API JWT authorizer rendering
        '["ops", "admin"]',  # the token's JSON array, passed through as text
        ["ops", "admin"],  # a direct invocation with a real list
    ],
)
def test_every_rendering_of_the_groups_claim_is_understood(aws, groups):
    assert post(groups=groups)["statusCode"] == 200


@pytest.mark.parametrize("groups", [None, "ops", "administrators", "[ops readers]", "admin-ish,ops", ""])
def test_anyone_not_in_the_admin_group_is_403_and_nothing_is_written(aws, groups):
    response = post(groups=groups)
    assert response["statusCode"] == 403
    error = m.Error.model_validate_json(response["body"])
    assert error.code is m.ErrorCode.forbidden
    assert types_of("LAMP-02") == []


def test_missing_claims_are_401(aws):
    response = post(user=None)
    assert response["statusCode"] == 401
    assert m.Error.model_validate_json(response["body"]).code is m.ErrorCode.unauthorized


def test_a_customer_is_403(aws):
    assert post(user=USER_B, groups=None)["statusCode"] == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**RESTOCK, "price": "19.9"}, "price"),
        ({**RESTOCK, "quantity": -1}, "quantity"),
        ({**RESTOCK, "currency": "euro"}, "currency"),
        ({k: v for k, v in RESTOCK.items() if k != "sku"}, "sku"),
        ({**RESTOCK, "shards": 0}, "shards"),
        ({**RESTOCK, "shards": 26}, "shards"),
    ],
)
def test_an_invalid_body_is_400_naming_the_field(aws, body, field):
    response = post(body)
    assert response["statusCode"] == 400
    error = m.Error.model_validate_json(response["body"])
    assert [e.field for e in error.errors] == [field]


def test_groups_parsing_ignores_quotes_and_spacing():
    assert http.groups_of({"cognito:groups": ' [ "admin" ,  ops ] '}) == {"admin", "ops"}
    assert http.groups_of({}) == frozenset()
