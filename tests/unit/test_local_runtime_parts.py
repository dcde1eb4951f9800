"""The local runtime's pure parts: event filters, the token bucket, claims as API Gateway renders
them, the backoff, and the stream consumer's checkpoint and bisect rules (with a stand-in
function, the boundary Lambda would be)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from infra import topology
from infra.emulator.event_filter import check_pattern, matches
from infra.emulator.functions import Invocation
from infra.emulator.proxy_event import claim_strings
from infra.emulator.retry import backoff
from infra.emulator.stream_pump import StreamConsumerPump
from infra.emulator.throttle import TokenBucket

EVENTS_ONLY = topology.STREAM_CONSUMERS[0].filter_pattern


def stream_record(sk: str, name: str = "INSERT") -> dict[str, Any]:
    return {"eventName": name, "dynamodb": {"Keys": {"PK": {"S": "ORDER#1"}, "SK": {"S": sk}}}}


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (stream_record("EV#0000000001"), True),
        (stream_record("HEAD"), False),
        (stream_record("EV#0000000001", "MODIFY"), False),
        (stream_record("ev#0000000001"), False),
        ({"eventName": "INSERT", "dynamodb": {"Keys": {"PK": {"S": "x"}}}}, False),
    ],
)
def test_the_topologys_filter_lets_only_event_inserts_through(record, expected):
    assert matches(EVENTS_ONLY, record) is expected


def test_filter_operators_exists_and_anything_but():
    assert matches({"a": [{"exists": False}]}, {}) is True
    assert matches({"a": [{"exists": True}]}, {}) is False
    assert matches({"a": [{"anything-but": ["x"]}]}, {"a": "y"}) is True
    assert matches({"a": [{"anything-but": ["x"]}]}, {"a": "x"}) is False
    assert matches({"a": ["x"]}, {"a": ["y", "x"]}) is True


def test_an_unsupported_filter_operator_is_refused_rather_than_ignored():
    with pytest.raises(ValueError, match="numeric"):
        check_pattern({"a": [{"numeric": [">", 1]}]})


def test_the_bucket_allows_a_burst_then_the_rate():
    now = [0.0]
    bucket = TokenBucket(rate=2, burst=3, clock=lambda: now[0])
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    now[0] += 0.5  # one token back
    assert [bucket.take() for _ in range(2)] == [True, False]
    now[0] += 100  # never more than the burst
    assert sum(bucket.take() for _ in range(10)) == 3


def test_claims_are_strings_as_the_cognito_authorizer_renders_them():
    claims = {"sub": "u", "exp": 1680633579, "iat": 1680629979, "auth_time": 1680629979}
    rendered = claim_strings({**claims, "cognito:groups": ["admin", "ops"], "email_verified": True})
    assert rendered == {
        "sub": "u",
        "exp": "Tue Apr 04 18:39:39 UTC 2023",
        "iat": "Tue Apr 04 17:39:39 UTC 2023",
        "auth_time": "1680629979",
        "cognito:groups": "admin,ops",
        "email_verified": "true",
    }


def test_backoff_doubles_up_to_a_ceiling():
    assert [backoff(1.0, n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 32, 32]


# --- the stream consumer's delivery rules --------------------------------------------------------------


def record(number: int, poison: bool = False) -> dict[str, Any]:
    image = {"poison": {"BOOL": True}} if poison else {}
    return {
        "dynamodb": {
            "SequenceNumber": str(number),
            "NewImage": image,
            "ApproximateCreationDateTime": int(time.time()),
        }
    }


class StandInFunction:
    """What the function does with a batch: fail by error or by partial response on a poison record."""

    def __init__(self, *, by: str) -> None:
        self.by = by
        self.batches: list[list[str]] = []
        self.done: list[str] = []

    def __call__(self, name: str, event: dict[str, Any]) -> Invocation:
        numbers = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
        self.batches.append(numbers)
        bad = [i for i, r in enumerate(event["Records"]) if r["dynamodb"]["NewImage"]]
        first_bad = bad[0] if bad else len(numbers)
        if self.by == "error" and bad:
            return Invocation(name, "id", "stream", None, False, error={"errorType": "ValueError"})
        self.done += numbers[:first_bad]
        failures = [{"itemIdentifier": n} for n in numbers[first_bad:]]
        return Invocation(name, "id", "stream", None, False, result={"batchItemFailures": failures})


def deliver(batch: list[dict[str, Any]], function: StandInFunction) -> list[dict[str, Any]]:
    parked: list[dict[str, Any]] = []
    pump = StreamConsumerPump(
        topology.STREAM_CONSUMERS[0],
        invoke=function,
        send_failure=parked.append,
        function_arn="arn:aws:lambda:eu-west-1:123456789012:function:projector",
        stream_arn="arn:stream",
        shard_id="shard-1",
        retry_delay=0,
    )
    pump._deliver(batch, attempts=0)
    return parked


@pytest.mark.parametrize("by", ["error", "partial"])
def test_a_poison_record_is_isolated_and_parked_and_every_other_record_is_done(by):
    batch = [record(n, poison=(n == 5)) for n in range(1, 9)]
    function = StandInFunction(by=by)
    (pointer,) = deliver(batch, function)
    info = pointer["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == ("5", "5", 1)
    assert pointer["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert set(function.done) == {str(n) for n in range(1, 9)} - {"5"}
    attempts_with_poison = [b for b in function.batches if "5" in b]
    assert len(attempts_with_poison) == topology.STREAM_CONSUMERS[0].maximum_retry_attempts + 1


def test_a_partial_failure_checkpoints_at_the_lowest_failed_sequence_number():
    calls: list[list[str]] = []

    def function(name: str, event: dict[str, Any]) -> Invocation:
        numbers = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
        calls.append(numbers)
        failures = [{"itemIdentifier": n} for n in ("4", "3") if n in numbers and len(calls) == 1]
        return Invocation(name, "id", "stream", None, False, result={"batchItemFailures": failures})

    assert deliver([record(n) for n in range(1, 6)], function) == []
    assert calls == [["1", "2", "3", "4", "5"], ["3", "4", "5"]]


def test_an_unknown_item_identifier_fails_the_whole_batch():
    calls: list[list[str]] = []

    def function(name: str, event: dict[str, Any]) -> Invocation:
        calls.append([r["dynamodb"]["SequenceNumber"] for r in event["Records"]])
        failures = [{"itemIdentifier": ""}] if len(calls) == 1 else []
        return Invocation(name, "id", "stream", None, False, result={"batchItemFailures": failures})

    deliver([record(n) for n in range(1, 3)], function)
    assert calls[1] in (["1", "2"], ["1"])  # retried from the start (bisected: the first half first)


def test_the_routes_the_topology_limits_lower_have_their_own_buckets_unless_lifted():
    from infra.dev.runtime import Options, route_buckets

    limited = route_buckets(Options())
    assert set(limited) == {(limit.method, limit.path) for limit in topology.API.route_limits}
    orders = topology.API.route_limit("POST", "/orders")
    assert orders is not None
    assert limited["POST", "/orders"].rate == orders.rate_limit
    assert route_buckets(Options(route_limits=False)) == {}  # what the throughput benchmark runs


# --- moto's request counter ----------------------------------------------------------------------


def test_the_request_counter_names_the_caller_by_its_app_id_and_the_operation_by_its_target():
    from infra.emulator.request_counter import RequestCounter, difference

    answered: list[str] = []
    scope = "local/20261202/eu-west-1/dynamodb/aws4_request"

    def moto(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        answered.append(environ["PATH_INFO"])
        return [b"{}"]

    def request(user_agent: str, **headers: str) -> dict[str, Any]:
        return {
            "HTTP_USER_AGENT": user_agent,
            "HTTP_AUTHORIZATION": f"AWS4-HMAC-SHA256 Credential={scope}",
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/",
            **headers,
        }

    counter = RequestCounter(moto)
    ua = "Botocore/1.44.8 ua/2.1 lang/python#3.11.7 cfg/retry-mode#standard app/place_order PT/idempotency"
    before = counter.snapshot()
    for _ in range(2):
        counter(request(ua, HTTP_X_AMZ_TARGET="DynamoDB_20120810.PutItem"), None)
    counter(request(ua, HTTP_X_AMZ_TARGET="DynamoDB_20120810.Query"), None)
    counter(request("python-httpx/0.28", PATH_INFO="/v2/email/outbound-emails"), None)
    after = counter.snapshot()
    assert len(answered) == 4  # every request reaches moto
    assert after == {
        "total": 4,
        "callers": {
            "other": {"total": 1, "operations": {"dynamodb.POST /v2/email/outbound-emails": 1}},
            "place_order": {"total": 3, "operations": {"dynamodb.PutItem": 2, "dynamodb.Query": 1}},
        },
    }
    assert difference(after, before) == after
    counter(request(ua, HTTP_X_AMZ_TARGET="DynamoDB_20120810.Query"), None)
    assert difference(counter.snapshot(), after) == {
        "total": 1,
        "callers": {"place_order": {"total": 1, "operations": {"dynamodb.Query": 1}}},
    }
