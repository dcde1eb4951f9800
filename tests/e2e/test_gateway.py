"""What the local API Gateway refuses before any function runs, over real HTTP to `orders dev`.

Each request carries its own X-Correlation-Id, and the runtime's invocation record (the
control endpoint) shows whether a function ran for it. A control request per group proves the
check can see an invocation when there is one.
"""

from __future__ import annotations

import concurrent.futures
import json
import socket
import threading
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from moto.utilities.utils import load_resource

from infra.emulator.aws import client
from tests.e2e.conftest import eventually
from tests.e2e.shop import Shop

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.slow, pytest.mark.xdist_group("e2e")]

ERROR_FIELDS = {"code", "message", "correlation_id"}


def correlation() -> str:
    return f"e2e-{uuid.uuid4().hex}"


def get(shop: Shop, path: str, authorization: str | None, correlation_id: str) -> httpx.Response:
    headers = {"X-Correlation-Id": correlation_id}
    if authorization is not None:
        headers["Authorization"] = authorization
    return shop.dev.http.get(f"{shop.dev.state.api_url}{path}", headers=headers)


def assert_error(answer: httpx.Response, status: int, code: str, correlation_id: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) >= ERROR_FIELDS
    assert body["code"] == code
    assert body["correlation_id"] == correlation_id
    assert answer.headers["X-Correlation-Id"] == correlation_id
    return body


# --- tokens ------------------------------------------------------------------------------------------


def moto_signing_key() -> Any:
    """The private key moto's Cognito signs every pool's tokens with (its JWKS publishes the public half)."""
    return jwt.algorithms.RSAAlgorithm.from_jwk(
        json.dumps(load_resource("cognitoidp/resources/jwks-private.json"))
    )


@pytest.fixture(scope="module")
def customer(shop: Shop):
    return shop.customer("gate")


@pytest.fixture(scope="module")
def claims(customer) -> dict[str, Any]:
    return jwt.decode(customer.token, options={"verify_signature": False})


def signed(claims: dict[str, Any], key: Any = None, **changes: Any) -> str:
    return jwt.encode(
        {**claims, **changes}, key or moto_signing_key(), algorithm="RS256", headers={"kid": "dummy"}
    )


def other_client_token(shop: Shop, customer) -> str:
    """A genuine ID token of the same pool, issued to another app client."""
    cognito = client("cognito-idp", shop.dev.state.moto_url)
    pool = shop.dev.resources.user_pool_id
    other = cognito.create_user_pool_client(
        UserPoolId=pool,
        ClientName=f"other-{uuid.uuid4().hex[:6]}",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"],
    )["UserPoolClient"]["ClientId"]
    cognito.admin_set_user_password(
        UserPoolId=pool, Username=customer.email, Password="Other-pass-1!", Permanent=True
    )
    answer = cognito.initiate_auth(
        ClientId=other,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": customer.email, "PASSWORD": "Other-pass-1!"},
    )
    return answer["AuthenticationResult"]["IdToken"]


def access_token(shop: Shop, customer) -> str:
    cognito = client("cognito-idp", shop.dev.state.moto_url)
    pool, app = shop.dev.resources.user_pool_id, shop.dev.resources.app_client_id
    cognito.admin_set_user_password(
        UserPoolId=pool, Username=customer.email, Password="Access-pass-1!", Permanent=True
    )
    answer = cognito.initiate_auth(
        ClientId=app,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": customer.email, "PASSWORD": "Access-pass-1!"},
    )
    return answer["AuthenticationResult"]["AccessToken"]


BAD_TOKENS = {
    "no token": lambda shop, customer, claims: None,
    "empty header": lambda shop, customer, claims: "",
    "not a JWT": lambda shop, customer, claims: "not-a-token",
    "expired": lambda shop, customer, claims: signed(
        claims, exp=int(time.time()) - 60, iat=int(time.time()) - 3660
    ),
    "bad signature": lambda shop, customer, claims: signed(
        claims, rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ),
    "alg none": lambda shop, customer, claims: jwt.encode(
        claims, None, algorithm="none", headers={"kid": "dummy"}
    ),
    "HS256 with the public key as secret": lambda shop, customer, claims: jwt.encode(
        claims, "dummy-secret-of-32-bytes-or-more!!", algorithm="HS256", headers={"kid": "dummy"}
    ),
    "another pool's issuer": lambda shop, customer, claims: signed(
        claims, iss=claims["iss"].rsplit("/", 1)[0] + "/eu-west-1_someoneelse"
    ),
    "another client's token": lambda shop, customer, claims: other_client_token(shop, customer),
    "access token": lambda shop, customer, claims: access_token(shop, customer),
}


@pytest.mark.parametrize("case", list(BAD_TOKENS))
def test_a_request_without_a_valid_id_token_is_401_and_reaches_no_function(shop, customer, claims, case):
    authorization = BAD_TOKENS[case](shop, customer, claims)
    correlation_id = correlation()
    answer = get(shop, "/orders", authorization, correlation_id)
    assert_error(answer, 401, "unauthorized", correlation_id)
    assert shop.invoked(correlation_id) == []


def test_the_control_a_valid_token_or_one_signed_like_it_reaches_the_function(shop, customer, claims):
    for authorization in (customer.token, f"Bearer {customer.token}", signed(claims)):
        correlation_id = correlation()
        answer = get(shop, "/orders", authorization, correlation_id)
        assert answer.status_code == 200, answer.text
        assert [(i["function"], i["source"]) for i in shop.invoked(correlation_id)] == [
            ("query_orders", "api")
        ]


def test_an_unknown_route_is_a_404_as_the_deployed_gateway_answers(shop, customer):
    correlation_id = correlation()
    answer = get(shop, "/nothing-here", customer.token, correlation_id)
    assert_error(answer, 404, "not_found", correlation_id)
    assert answer.json()["message"] == "Missing Authentication Token"


# --- bodies ------------------------------------------------------------------------------------------

VALID = {"lines": [{"sku": "MUG-01", "quantity": 1}]}
INVALID_BODIES = {
    "missing field": ({}, "lines"),
    "wrong type": ({"lines": [{"sku": "MUG-01", "quantity": "1"}]}, "lines[0].quantity"),
    "extra field": ({"lines": [{"sku": "MUG-01", "quantity": 1}], "price": "0.01"}, "price"),
    "extra field in a line": (
        {"lines": [{"sku": "MUG-01", "quantity": 1, "price": "1.00"}]},
        "lines[0].price",
    ),
    "too many": ({"lines": [{"sku": "MUG-01", "quantity": 1001}]}, "lines[0].quantity"),
    "bad pattern": ({"lines": [{"sku": "MUG-01\n", "quantity": 1}]}, "lines[0].sku"),
    "not an object": ([], "$"),
}


def post(shop: Shop, token: str, correlation_id: str, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": token, "X-Correlation-Id": correlation_id, **kwargs.pop("headers", {})}
    return shop.dev.http.post(f"{shop.dev.state.api_url}/orders", headers=headers, **kwargs)


@pytest.mark.parametrize("case", list(INVALID_BODIES))
def test_an_invalid_body_is_400_naming_the_field_and_reaches_no_function(shop, customer, case):
    body, field = INVALID_BODIES[case]
    correlation_id = correlation()
    answer = post(shop, customer.token, correlation_id, json=body)
    error = assert_error(answer, 400, "validation_error", correlation_id)
    assert field in [item["field"] for item in error["errors"]], error
    assert shop.invoked(correlation_id) == []


def test_a_body_that_is_not_json_is_400(shop, customer):
    correlation_id = correlation()
    answer = post(
        shop, customer.token, correlation_id, content=b"{lines:", headers={"Content-Type": "application/json"}
    )
    error = assert_error(answer, 400, "validation_error", correlation_id)
    assert error["errors"][0]["field"] == "$"
    assert shop.invoked(correlation_id) == []


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_valid_body_of_another_content_type_is_400_and_reaches_no_function(shop, customer, content_type):
    """The deployed API maps every other content type to a model nothing satisfies."""
    correlation_id = correlation()
    headers = {"Content-Type": content_type}
    answer = post(shop, customer.token, correlation_id, content=json.dumps(VALID).encode(), headers=headers)
    error = assert_error(answer, 400, "validation_error", correlation_id)
    assert error["errors"][0]["field"] == "Content-Type"
    assert shop.invoked(correlation_id) == []


def test_a_body_without_a_content_type_is_read_as_json(shop, customer):
    """API Gateway's default content type is application/json."""
    correlation_id = correlation()
    unknown_sku = {"lines": [{"sku": "NO-SUCH-SKU", "quantity": 1}]}
    answer = post(shop, customer.token, correlation_id, content=json.dumps(unknown_sku).encode())
    assert answer.status_code == 404, answer.text  # the function ran and found no such SKU


def test_a_one_megabyte_body_is_413_and_reaches_no_function(shop, customer):
    correlation_id = correlation()
    body = {"lines": [{"sku": "MUG-01", "quantity": 1}], "client_reference": "x" * 1_000_000}
    answer = post(shop, customer.token, correlation_id, json=body)
    assert_error(answer, 413, "payload_too_large", correlation_id)
    assert shop.invoked(correlation_id) == []


def test_the_control_a_valid_body_reaches_place_order(shop, customer):
    correlation_id = correlation()
    answer = post(
        shop, customer.token, correlation_id, json={"lines": [{"sku": "NO-SUCH-SKU", "quantity": 1}]}
    )
    assert answer.status_code == 404, answer.text  # the function ran and found no such SKU
    assert [i["function"] for i in shop.invoked(correlation_id)] == ["place_order"]


# --- throttling --------------------------------------------------------------------------------------


def test_a_burst_beyond_the_bucket_is_throttled_with_429(shop):
    """More requests than the burst (100) plus what refills (50/s) meanwhile: some must be 429.
    Unauthenticated, so that every request that passes the throttle stops at the 401."""
    url = f"{shop.dev.state.api_url}/orders"

    def one(_: int) -> tuple[int, str]:
        answer = shop.dev.http.get(url)
        return answer.status_code, answer.json()["code"]

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(one, range(400)))
    assert set(answers) <= {(401, "unauthorized"), (429, "too_many_requests")}
    assert answers.count((429, "too_many_requests")) > 0
    assert answers.count((401, "unauthorized")) >= 100  # the burst itself went through
    deadline = time.monotonic() + 10  # let the bucket refill for the tests after this one
    while shop.dev.http.get(url).status_code == 429 and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2)


def test_placing_orders_has_its_own_lower_limit_that_leaves_reads_alone(shop):
    """90 POST /orders at once: beyond the route's burst (40) they are 429, though the stage's
    bucket (100) still has tokens, as a GET right after shows. Unauthenticated, as above."""
    from infra import topology

    limit = topology.API.route_limit("POST", "/orders")
    assert limit is not None
    assert limit.burst_limit < 90 < topology.API.burst_limit
    url = f"{shop.dev.state.api_url}/orders"

    def one(_: int) -> tuple[int, str]:
        answer = shop.dev.http.post(url, json={"lines": [{"sku": "MUG-01", "quantity": 1}]})
        return answer.status_code, answer.json()["code"]

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(one, range(90)))
    read = shop.dev.http.get(url)
    assert set(answers) <= {(401, "unauthorized"), (429, "too_many_requests")}
    assert answers.count((429, "too_many_requests")) > 0
    assert answers.count((401, "unauthorized")) >= limit.burst_limit
    assert read.status_code == 401, "the stage's bucket was not what throttled the orders"
    time.sleep(90 / limit.rate_limit)  # let both buckets refill for the tests after this one


# --- hostile bodies and clients ----------------------------------------------------------------------


def test_json_nested_ten_thousand_deep_is_a_400_in_the_error_schema(shop, customer):
    correlation_id = correlation()
    deep = b"[" * 10_000 + b"]" * 10_000
    headers = {"Content-Type": "application/json"}
    answer = post(shop, customer.token, correlation_id, content=deep, headers=headers)
    error = assert_error(answer, 400, "validation_error", correlation_id)
    assert error["errors"] == [{"field": "$", "message": "nests deeper than 32 levels"}]
    assert shop.invoked(correlation_id) == []


def test_a_body_of_thousands_of_extra_keys_gets_a_short_400_saying_how_many_more(shop, customer):
    correlation_id = correlation()
    body = {"lines": [{"sku": "MUG-01", "quantity": 1}], **{f"k{n}": 1 for n in range(20_000)}}
    answer = post(shop, customer.token, correlation_id, json=body)
    error = assert_error(answer, 400, "validation_error", correlation_id)
    assert len(error["errors"]) == 20
    assert error["message"].endswith("and 19980 more")
    assert len(answer.content) < 4_000
    assert shop.invoked(correlation_id) == []


def test_a_client_that_stops_sending_its_body_is_cut_off(shop):
    """The server's read timeout (10 s): a slow client cannot hold a thread forever."""
    host, port = shop.dev.state.api_url.split("//")[1].split("/")[0].split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(b"POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        started = time.monotonic()
        answer = b""
        while chunk := conn.recv(65536):  # the headers and the body may come apart; it closes after
            answer += chunk
        waited = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b'"code": "request_timeout"' in answer
    assert waited < 30


def test_an_anonymous_flood_does_not_spend_a_customers_share(shop, customer):
    """Requests without a valid token are throttled per address, apart from the stage's bucket."""
    url = f"{shop.dev.state.api_url}/orders"
    stop = threading.Event()
    flood: list[int] = []

    def anonymous() -> None:
        while not stop.is_set():
            flood.append(shop.dev.http.get(url).status_code)

    flooders = [threading.Thread(target=anonymous) for _ in range(8)]
    for thread in flooders:
        thread.start()
    try:
        eventually(lambda: flood.count(429) > 50, timeout=60)
        mine = [get(shop, "/orders", customer.token, correlation()).status_code for _ in range(30)]
    finally:
        stop.set()
        for thread in flooders:
            thread.join()
    assert 429 in flood
    assert mine == [200] * 30
    deadline = time.monotonic() + 10  # let the address's bucket refill for the tests after this one
    while shop.dev.http.get(url).status_code == 429 and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2)
