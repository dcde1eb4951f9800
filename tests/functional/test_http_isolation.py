"""Every HTTP handler, one warm container, two callers: the second knows nothing of the first.

The first request is authenticated, so the handler appends the caller's `user_id` to its logs;
the second has no claims and is refused with 401 before any caller is known. Without
`clear_state` on the handler's Logger, the first caller's keys would still be on the second's
log lines (Powertools keeps appended keys for the life of the container).
"""

from __future__ import annotations

import importlib
import json

import pytest

from infra import topology
from tests.functional.invoke import USER_A, Context, api_request

pytestmark = pytest.mark.moto

# One AWS-shaped request per HTTP function (tests/events/); every API function must be here.
REQUESTS = {
    "place_order": ("apigateway_place_order", {"lines": [{"sku": "MUG-01", "quantity": 1}]}),
    "query_orders": ("apigateway_list_order_events", None),
    "cancel_order": ("apigateway_cancel_order", {}),
    "restock": ("apigateway_restock", {"sku": "MUG-01", "quantity": 1, "price": "7.50", "currency": "EUR"}),
}


def test_every_http_function_is_covered():
    assert set(REQUESTS) == {route.function for route in topology.routes()}


@pytest.mark.parametrize("function", sorted(REQUESTS))
def test_a_refused_caller_after_another_sees_nothing_of_the_first(function, stocked, logs):
    module, _, attribute = topology.function(function).handler.rpartition(".")
    handler = getattr(importlib.import_module(module), attribute)
    fixture_name, body = REQUESTS[function]
    context = Context(f"orders-{function}")
    first = api_request(
        fixture_name,
        body if body is not None else api_request(fixture_name)["body"],
        user=USER_A,
        headers={"X-Correlation-Id": "corr-of-ada", "Idempotency-Key": None},
    )
    handler(first, context)
    assert USER_A[0] in logs.text, "the first invocation logs its caller"
    logs.clear()

    second = api_request(
        fixture_name,
        body if body is not None else api_request(fixture_name)["body"],
        user=None,
        headers={"X-Correlation-Id": "corr-of-nobody", "Idempotency-Key": None},
    )
    answer = handler(second, context)

    assert answer["statusCode"] == 401
    records = logs.records()
    assert records, "the refusal is logged"
    assert {r["correlation_id"] for r in records} == {"corr-of-nobody"}
    assert all("user_id" not in r for r in records), records
    for trace_of_first in (USER_A[0], USER_A[1], "corr-of-ada"):
        assert trace_of_first not in json.dumps(answer) + logs.text
