"""handlers/query_orders.py: the order-history API, driven with API Gateway proxy events.

Orders are placed through the services, projected into a real Postgres read model by the
projector handler, and read back through the production wiring (DATABASE_URL,
READ_MODEL_SCHEMA). Every answer is parsed as the generated response type.
"""

from __future__ import annotations

import base64
import urllib.parse
from decimal import Decimal

import pytest

from generated import models as m
from handlers import query_orders
from ordering import bootstrap
from ordering.adapters import postgres_connection
from ordering.domain.placement import PlaceOrder, RequestedLine
from ordering.domain.recorded import to_envelope
from ordering.services.place_order import place_order
from ordering.services.restock import restock
from ordering.services.stamp import Cause
from streams import projector
from tests.functional.invoke import USER_A, USER_B, Context, api_request, body, header
from tests.support.builders import new_id
from tests.support.postgres import connect, wired_read_model
from tests.support.stream_records import records_of, stream_event

pytestmark = pytest.mark.postgres
SQL = "'; DROP TABLE orders; --"


@pytest.fixture
def shop(monkeypatch):
    """An empty read model and log, wired as the function finds them; `place` projects at once."""
    with wired_read_model(monkeypatch) as (store, pg):
        restock(store, "MUG-01", 10_000, Decimal("7.50"), "EUR", Cause("seed"))
        yield Shop(store, pg)


class Shop:
    def __init__(self, store, pg) -> None:
        self.store, self.pg, self._projected = store, pg, 0

    def place(self, user, quantity: int = 1, reference: str | None = None) -> str:
        order_id = new_id()
        command = PlaceOrder(order_id, user[0], user[1], (RequestedLine("MUG-01", quantity),), reference)
        place_order(self.store, command, Cause("checkout-1"))
        new = self.store.since(self._projected)
        self._projected += len(new)
        response = projector.handler(stream_event(records_of(new)), Context(function_name="projector"))
        assert response == {"batchItemFailures": []}
        return order_id


def get(path: str, query: dict[str, str] | None = None, *, user=USER_A, params: dict | None = None):
    name = {"/orders": "apigateway_list_orders"}.get(path)
    if name is None:
        name = "apigateway_list_order_events" if path.endswith("/events") else "apigateway_get_order"
    event = api_request(name, user=user)
    event["path"] = path
    event["requestContext"]["path"] = "/v1" + path
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
    if params is not None:
        event["pathParameters"] = params
    elif path != "/orders":
        event["pathParameters"] = {"order_id": path.split("/")[2]}
    return query_orders.handler(event, Context(function_name="query_orders"))


def list_all(user=USER_A, limit: int = 100) -> list[str]:
    return [
        order.id
        for order in m.OrderPage.model_validate_json(
            get("/orders", {"limit": str(limit)}, user=user)["body"]
        ).orders
    ]


def assert_error(response, status: int, code: str, field: str | None = None) -> m.Error:
    assert response["statusCode"] == status, response["body"]
    error = m.Error.model_validate_json(response["body"])
    assert error.code.value == code
    assert header(response, "X-Correlation-Id") == error.correlation_id
    if field is not None:
        assert [e.field for e in error.errors] == [field]
    return error


def test_a_user_lists_their_own_orders_newest_first(shop):
    mine = [shop.place(USER_A, quantity=n + 1, reference=f"ref-{n}" if n % 2 else None) for n in range(4)]
    theirs = [shop.place(USER_B) for _ in range(2)]
    response = get("/orders")
    assert response["statusCode"] == 200
    page = m.OrderPage.model_validate_json(response["body"])
    assert [order.id for order in page.orders] == mine[::-1]
    assert page.next_cursor is None
    newest = page.orders[0]
    assert (newest.status.value, newest.total, newest.currency, newest.client_reference) == (
        "PENDING",
        "30.00",
        "EUR",
        "ref-3",
    )
    assert newest.lines == [m.PricedLine(sku="MUG-01", quantity=4, unit_price="7.50", line_total="30.00")]
    assert "client_reference" not in body(get(f"/orders/{mine[0]}"))
    assert list_all(USER_B) == theirs[::-1]


def test_a_user_reads_their_order_and_its_history(shop):
    order_id = shop.place(USER_A, quantity=2)
    response = get(f"/orders/{order_id}")
    assert response["statusCode"] == 200
    order = m.Order.model_validate_json(response["body"])
    assert (order.id, order.total, order.status.value) == (order_id, "15.00", "PENDING")

    response = get(f"/orders/{order_id}/events")
    assert response["statusCode"] == 200
    history = m.OrderEventList.model_validate_json(response["body"])
    assert history.order_id == order_id
    assert body(response)["events"] == [to_envelope(e) for e in shop.store.read(f"ORDER#{order_id}")]


def test_another_users_order_is_answered_exactly_like_a_missing_one(shop):
    order_id = shop.place(USER_A)
    assert order_id not in list_all(USER_B)
    for path in (f"/orders/{order_id}", f"/orders/{order_id}/events"):
        theirs = get(path, user=USER_B)
        # The same order id, had it never existed: A's order moved out of the way for a moment.
        missing = get(path.replace(order_id, new_id()), user=USER_B)
        error, nothing = assert_error(theirs, 404, "not_found"), assert_error(missing, 404, "not_found")
        assert error.message == f"order {order_id} does not exist"
        assert nothing.message.replace(nothing.message.split()[1], order_id) == error.message
        assert set(body(theirs)) == set(body(missing))
        assert set(theirs["multiValueHeaders"]) == set(missing["multiValueHeaders"])


def test_pages_return_every_order_exactly_once_while_new_ones_arrive(shop):
    existing = [shop.place(USER_A) for _ in range(23)]
    shop.place(USER_B)
    seen, cursor, arrived = [], None, []
    while True:
        query = {"limit": "5"} | ({"cursor": cursor} if cursor else {})
        page = m.OrderPage.model_validate_json(get("/orders", query)["body"])
        seen += [order.id for order in page.orders]
        arrived += [shop.place(USER_A), shop.place(USER_A)]  # newer than any page still to come
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == existing[::-1]
    assert list_all()[: len(arrived)] == arrived[::-1]


def test_limit_defaults_to_20_and_allows_1_to_100(shop):
    for _ in range(21):
        shop.place(USER_A)
    page = m.OrderPage.model_validate_json(get("/orders", None)["body"])
    assert len(page.orders) == 20
    assert page.next_cursor is not None
    assert len(m.OrderPage.model_validate_json(get("/orders", {"limit": "1"})["body"]).orders) == 1
    assert len(m.OrderPage.model_validate_json(get("/orders", {"limit": "100"})["body"]).orders) == 21


@pytest.mark.parametrize("limit", ["0", "101", "abc", "1.5", "-1", "٣", " 5", SQL])
def test_a_bad_limit_is_a_400_naming_it(shop, limit):
    assert_error(get("/orders", {"limit": limit}), 400, "validation_error", "limit")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        SQL,
        "x' OR '1'='1",
        base64.urlsafe_b64encode(b"2026-11-27T10:00:00.000000Z|' OR 1=1 --").decode(),
        base64.urlsafe_b64encode(b"yesterday|6f1c2a9e-0b7d-4e7a-9a43-3f7b8e2c5d10").decode(),
        "A" * 600,
    ],
)
def test_a_bad_cursor_is_a_400_naming_it(shop, cursor):
    assert_error(get("/orders", {"cursor": cursor}), 400, "validation_error", "cursor")


@pytest.mark.parametrize(
    "order_id", ["not-a-uuid", SQL, "1' OR '1'='1", "6F1C2A9E-0B7D-4E7A-9A43-3F7B8E2C5D10"]
)
def test_an_order_id_that_is_no_uuid_is_a_400_naming_it(shop, order_id):
    for path in (f"/orders/{order_id}", f"/orders/{order_id}/events"):
        assert_error(get(path, params={"order_id": order_id}), 400, "validation_error", "order_id")


def test_sql_in_ids_and_cursors_is_inert(shop):
    order_id = shop.place(USER_A)
    for path in (f"/orders/{urllib.parse.quote(SQL)}", f"/orders/{SQL}", f"/orders/{SQL}/events"):
        assert get(path, params={"order_id": SQL})["statusCode"] == 400
    assert get("/orders", {"cursor": SQL, "limit": "10"})["statusCode"] == 400
    assert assert_error(get("/orders", user=(SQL, "ada@example.com")), 401, "unauthorized")
    assert list_all() == [order_id]  # the table is there, and so is the order
    assert len(shop.pg.rows("orders")) == 1


def test_without_a_user_every_route_is_a_401(shop):
    order_id = shop.place(USER_A)
    for path in ("/orders", f"/orders/{order_id}", f"/orders/{order_id}/events"):
        assert_error(get(path, user=None), 401, "unauthorized")


def test_an_unknown_route_is_a_404_error(shop):
    assert_error(get("/orders/a/b/c", params={}), 404, "not_found")


def assert_unavailable(response) -> None:
    assert response["statusCode"] == 503
    assert header(response, "Retry-After") == "5"
    error = m.Error.model_validate_json(response["body"])
    assert error.code is m.ErrorCode.service_unavailable
    assert error.correlation_id == header(response, "X-Correlation-Id")


def test_a_stopped_read_model_is_a_503_with_retry_after(shop, monkeypatch):
    shop.place(USER_A)
    monkeypatch.setenv("DATABASE_URL", "postgresql://x@127.0.0.1:1/x?connect_timeout=2")
    bootstrap.reset()
    bootstrap.override(event_store=shop.store)
    assert_unavailable(get("/orders"))
    assert_unavailable(get(f"/orders/{new_id()}"))


def test_a_stalled_read_model_is_a_503_within_the_read_timeout(shop, monkeypatch):
    order_id = shop.place(USER_A)
    monkeypatch.setattr(postgres_connection, "READ_TIMEOUT_SECONDS", 0.5)
    bootstrap.reset()
    bootstrap.override(event_store=shop.store)
    with connect() as holder, holder.transaction():
        holder.execute(f'LOCK TABLE "{shop.pg.schema}".orders IN ACCESS EXCLUSIVE MODE')
        assert_unavailable(get("/orders"))
        assert_unavailable(get(f"/orders/{order_id}"))
    assert get(f"/orders/{order_id}")["statusCode"] == 200
    assert get(f"/orders/{order_id}/events")["statusCode"] == 200  # the history comes from the log
