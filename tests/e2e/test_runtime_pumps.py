"""The local runtime's machinery with stand-in handlers: what each pump delivers, in AWS's shapes,
with the topology's batch, retry and dead-letter settings; and how function containers behave.

The runtime runs in this process (moto in server mode, an embedded Postgres, the pumps), and
each function in its own container process running tests/e2e/stand_ins.py.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest

from infra import topology
from infra.dev.client import DevClient
from infra.dev.runtime import LocalRuntime, Options
from infra.dev.state import DevState
from infra.emulator.aws import client
from infra.emulator.functions import CODE_ROOT
from infra.emulator.request_counter import difference
from infra.emulator.stream_pump import DEFAULT_SHARDS, shard_of
from tests.e2e.conftest import STAND_IN_API_TIMEOUT, STAND_INS, eventually, recorded, stand_in_functions

pytestmark = [pytest.mark.e2e, pytest.mark.moto, pytest.mark.postgres, pytest.mark.xdist_group("e2e")]

MAX_STREAM_ATTEMPTS = topology.STREAM_CONSUMERS[0].maximum_retry_attempts + 1
RULE_TARGET = topology.EVENT_RULES[0].targets[0]
ONE_LINE = {"lines": [{"sku": "MUG-01", "quantity": 1}]}


@pytest.fixture(scope="module")
def record_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("records")


@pytest.fixture(scope="module")
def runtime(record_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    os.environ["ORDERS_TEST_SHELL_ONLY"] = "must not reach a function"
    options = Options(
        port=0,
        state_file=tmp_path_factory.mktemp("state") / "dev.json",
        retry_delay=0.01,
        redelivery_delay=0,
    )
    local = LocalRuntime(options, functions=stand_in_functions(record_dir))
    local.start()
    try:
        yield local
    finally:
        local.stop(save=False)
        os.environ.pop("ORDERS_TEST_SHELL_ONLY", None)


@pytest.fixture(scope="module")
def state(runtime: LocalRuntime) -> DevState:
    assert runtime.state is not None
    return runtime.state


@pytest.fixture(scope="module")
def dev(state: DevState) -> DevClient:
    return DevClient(state)


@pytest.fixture(scope="module")
def token(dev: DevClient) -> str:
    return dev.token(f"pumps-{uuid.uuid4().hex[:8]}")


def aws(state: DevState, service: str) -> Any:
    return client(service, state.moto_url)


def put_event_item(state: DevState, stream: str, version: int, **extra: str) -> None:
    item = {"PK": {"S": stream}, "SK": {"S": f"EV#{version:010d}"}, "version": {"N": str(version)}}
    item.update({name: {"S": value} for name, value in extra.items()})
    aws(state, "dynamodb").put_item(TableName=state.resources.table_name, Item=item)


def drain(state: DevState, queue: str) -> list[dict[str, Any]]:
    sqs, url = aws(state, "sqs"), state.resources.queue_urls[queue]
    found = []
    while messages := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], AttributeNames=["All"]
    ).get("Messages"):
        found += messages
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def delivered_keys(record_dir: Path, function: str, stream: str) -> list[str]:
    """SKs of `stream` the stand-in processed successfully, in the order it processed them."""
    keys = []
    for entry in recorded(record_dir, function):
        for record in entry["event"]["Records"]:
            if record["dynamodb"]["Keys"]["PK"]["S"] == stream and (
                record["dynamodb"]["SequenceNumber"] in entry["processed"]
            ):
                keys.append(record["dynamodb"]["Keys"]["SK"]["S"])
    return keys


# --- DynamoDB Streams -> projector and publisher ----------------------------------------------------


def test_both_stream_consumers_get_each_event_insert_once_in_order_in_lambdas_shape(state, record_dir):
    stream = f"ORDER#{uuid.uuid4()}"
    for version in (1, 2, 3):
        put_event_item(state, stream, version)
    # Not events, or not inserts: the filter keeps them from both consumers.
    table = aws(state, "dynamodb")
    table.put_item(TableName="orders", Item={"PK": {"S": stream}, "SK": {"S": "HEAD"}, "version": {"N": "3"}})
    table.put_item(
        TableName="orders", Item={"PK": {"S": stream}, "SK": {"S": "EV#0000000003"}, "note": {"S": "x"}}
    )
    put_event_item(state, stream, 4)

    expected = [f"EV#{version:010d}" for version in (1, 2, 3, 4)]
    for consumer in ("projector", "publisher"):
        eventually(lambda consumer=consumer: delivered_keys(record_dir, consumer, stream) == expected)

    record = next(
        record
        for entry in recorded(record_dir, "projector")
        for record in entry["event"]["Records"]
        if record["dynamodb"]["Keys"]["PK"]["S"] == stream
    )
    assert record["eventName"] == "INSERT"
    assert record["eventSource"] == "aws:dynamodb"
    assert record["eventSourceARN"] == state.resources.stream_arn
    assert record["awsRegion"] == state.resources.region
    assert record["dynamodb"]["StreamViewType"] == "NEW_IMAGE"
    assert record["dynamodb"]["NewImage"]["version"] == {"N": "1"}
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)


def test_two_keys_batches_overlap_in_time_while_each_key_stays_in_order(state, record_dir):
    """One batch per shard at a time, the shards at once: the stream has several shards, as on AWS."""
    tag = uuid.uuid4().hex[:8]
    keys = [f"ORDER#{tag}-{n}" for n in range(50)]
    shard = {key: shard_of({"dynamodb": {"Keys": {"PK": {"S": key}}}}, DEFAULT_SHARDS) for key in keys}
    first = keys[0]
    other = next(key for key in keys if shard[key] != shard[first])
    for version in (1, 2, 3):
        for key in (first, other):
            put_event_item(state, key, version, note="slow")
    for function in ("projector", "publisher"):
        eventually(lambda f=function: len(delivered_keys(record_dir, f, first)) == 3, timeout=60)
        eventually(lambda f=function: len(delivered_keys(record_dir, f, other)) == 3, timeout=60)
        for key in (first, other):
            assert delivered_keys(record_dir, function, key) == [f"EV#{v:010d}" for v in (1, 2, 3)]

        def spans(key: str, f: str = function) -> list[tuple[float, float]]:
            return [
                (entry["started"], entry["ended"])
                for entry in recorded(record_dir, f)
                if any(r["dynamodb"]["Keys"]["PK"]["S"] == key for r in entry["event"]["Records"])
            ]

        assert all(
            {r["dynamodb"]["Keys"]["PK"]["S"] for r in entry["event"]["Records"]} <= {first}
            or {r["dynamodb"]["Keys"]["PK"]["S"] for r in entry["event"]["Records"]} <= {other}
            for entry in recorded(record_dir, function)
            if first in json.dumps(entry["event"]) or other in json.dumps(entry["event"])
        ), "a batch mixed two shards' keys"
        overlapping = [(a, b) for a in spans(first) for b in spans(other) if a[0] < b[1] and b[0] < a[1]]
        assert overlapping, f"{function}: no batch of {first} ran while one of {other} did"


def test_a_poison_record_ends_alone_in_each_on_failure_queue_and_the_rest_flow(state, record_dir):
    stream = f"ORDER#{uuid.uuid4()}"
    for version in (1, 2):
        put_event_item(state, stream, version)
    put_event_item(state, stream, 3, payload="poison")
    for version in (4, 5):
        put_event_item(state, stream, version)

    good = [f"EV#{version:010d}" for version in (1, 2, 4, 5)]
    for consumer, queue in (("projector", "projector-failures"), ("publisher", "publisher-failures")):
        eventually(lambda c=consumer: [k for k in good if k in delivered_keys(record_dir, c, stream)] == good)
        poison_numbers = {
            record["dynamodb"]["SequenceNumber"]
            for entry in recorded(record_dir, consumer)
            for record in entry["event"]["Records"]
            if record["dynamodb"]["Keys"] == {"PK": {"S": stream}, "SK": {"S": "EV#0000000003"}}
        }
        (poison,) = poison_numbers
        pointers = eventually(
            lambda q=queue, p=poison: [
                body
                for body in (json.loads(m["Body"]) for m in drain(state, q))
                if body["DDBStreamBatchInfo"]["startSequenceNumber"] == p
            ]
        )
        (pointer,) = pointers
        info = pointer["DDBStreamBatchInfo"]
        assert info["endSequenceNumber"] == poison
        assert info["batchSize"] == 1
        assert info["streamArn"] == state.resources.stream_arn
        assert pointer["requestContext"]["condition"] == "RetryAttemptsExhausted"
        assert pointer["requestContext"]["functionArn"].endswith(f":function:{consumer}")
        attempts = [entry for entry in recorded(record_dir, consumer) if poison in entry["failed"]]
        assert len(attempts) == MAX_STREAM_ATTEMPTS
        assert all(poison not in entry["processed"] for entry in recorded(record_dir, consumer))


# --- SQS -> payment ----------------------------------------------------------------------------------


def test_sqs_batches_delete_what_succeeded_and_redrive_the_poison_after_max_receives(state, record_dir):
    sqs = aws(state, "sqs")
    tag = uuid.uuid4().hex
    bodies = [f"good-1 {tag}", f"poison {tag}", f"good-2 {tag}"]
    for body in bodies:
        sqs.send_message(
            QueueUrl=state.resources.queue_urls["payment"],
            MessageBody=body,
            MessageAttributes={"correlation_id": {"DataType": "String", "StringValue": tag}},
        )
    dead = eventually(lambda: [m for m in drain(state, "payment-dlq") if tag in m["Body"]])
    assert [message["Body"] for message in dead] == [f"poison {tag}"]

    received = [
        record
        for entry in recorded(record_dir, "payment")
        for record in entry["event"]["Records"]
        if tag in record["body"]
    ]
    receives_of = {body: [r for r in received if r["body"] == body] for body in bodies}
    assert len(receives_of[f"good-1 {tag}"]) == 1
    assert len(receives_of[f"good-2 {tag}"]) == 1
    max_receives = topology.queue("payment").max_receive_count
    assert [r["attributes"]["ApproximateReceiveCount"] for r in receives_of[f"poison {tag}"]] == [
        str(count) for count in range(1, max_receives + 1)
    ]
    record = receives_of[f"good-1 {tag}"][0]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == state.resources.queue_arns["payment"]
    assert record["messageAttributes"]["correlation_id"]["stringValue"] == tag
    assert record["messageAttributes"]["correlation_id"]["dataType"] == "String"
    assert record["receiptHandle"]
    assert record["md5OfBody"]


# --- EventBridge -> inventory and notification ---------------------------------------------------------


def put_payment_event(
    state: DevState, detail: dict[str, Any], detail_type: str = topology.PAYMENT_SUCCEEDED
) -> None:
    answer = aws(state, "events").put_events(
        Entries=[
            {
                "Source": topology.EVENT_SOURCE,
                "DetailType": detail_type,
                "Detail": json.dumps(detail),
                "EventBusName": topology.EVENT_BUS,
            }
        ]
    )
    assert answer["FailedEntryCount"] == 0


def events_for(record_dir: Path, function: str, tag: str) -> list[dict[str, Any]]:
    return [entry["event"] for entry in recorded(record_dir, function) if tag in json.dumps(entry["event"])]


# Each rule target's function, and a detail type its rule routes.
ROUTED = {target.function: rule.detail_types[0] for rule in topology.EVENT_RULES for target in rule.targets}


def test_rules_deliver_matching_eventbridge_events_to_every_target(state, record_dir):
    tag = uuid.uuid4().hex
    put_payment_event(state, {"tag": tag, "kind": "ignored"}, detail_type="Something.Else")
    for detail_type in set(ROUTED.values()):
        put_payment_event(state, {"tag": tag, "kind": detail_type}, detail_type=detail_type)
    for function, detail_type in ROUTED.items():
        (event,) = eventually(lambda f=function: events_for(record_dir, f, tag))
        assert event["detail"] == {"tag": tag, "kind": detail_type}
        assert event["detail-type"] == detail_type
        assert event["source"] == topology.EVENT_SOURCE
        assert {"version", "id", "account", "time", "region", "resources"} <= set(event)


def test_an_event_the_function_fails_on_is_retried_by_lambda_then_parked_with_lambdas_attributes(
    state, record_dir
):
    """On AWS a rule invokes its function asynchronously: EventBridge's retry policy (8) covers
    delivery only, and a function error is Lambda's to retry (2), then its dead-letter queue's."""
    tag = uuid.uuid4().hex
    for detail_type in set(ROUTED.values()):
        put_payment_event(state, {"tag": tag, "kind": "poison"}, detail_type=detail_type)
    for function, dlq in (("inventory", "inventory-dlq"), ("notification", "notification-dlq")):
        (dead,) = eventually(lambda q=dlq: [m for m in drain(state, q) if tag in m["Body"]])
        attributes = {name: value["StringValue"] for name, value in dead["MessageAttributes"].items()}
        assert set(attributes) == {"RequestID", "ErrorCode", "ErrorMessage"}
        assert attributes["ErrorCode"] == "200"
        assert "poison" in attributes["ErrorMessage"]
        assert json.loads(dead["Body"])["detail"] == {"tag": tag, "kind": "poison"}
        assert len(events_for(record_dir, function, tag)) == topology.ASYNC_RETRY_ATTEMPTS + 1
        assert RULE_TARGET.maximum_retry_attempts > topology.ASYNC_RETRY_ATTEMPTS  # not the rule's retries


# --- containers ----------------------------------------------------------------------------------------


def call(dev: DevClient, token: str, path: str = "/orders", **kwargs: Any) -> dict[str, Any]:
    answer = dev.api("GET", path, token, **kwargs)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_each_function_sees_its_own_topology_environment_and_nothing_of_the_shell(dev, token, state):
    query = call(dev, token)["environment"]
    place = dev.api("POST", "/orders", token, json={"lines": [{"sku": "MUG-01", "quantity": 1}]}).json()
    place = place["environment"]
    assert query["AWS_LAMBDA_FUNCTION_NAME"] == "query_orders"
    assert place["AWS_LAMBDA_FUNCTION_NAME"] == "place_order"
    assert query["DATABASE_URL"] == state.database_url
    assert "DATABASE_URL" not in place
    assert query["TABLE_NAME"] == place["TABLE_NAME"] == state.resources.table_name
    assert place["AWS_ENDPOINT_URL"] == state.moto_url
    # Lambda's reserved variables, as bench coldstart sets them too (infra/emulator/environment.py).
    assert place["LAMBDA_TASK_ROOT"] == str(CODE_ROOT)
    assert place["_HANDLER"] == STAND_INS["api"]  # the handler this container runs
    # place_order runs with SnapStart on AWS: its containers are restored from a snapshot here too
    assert topology.function("place_order").snap_start
    assert place["AWS_LAMBDA_INITIALIZATION_TYPE"] == "snap-start"
    assert place["_X_AMZN_TRACE_ID"].startswith("Root=1-")
    assert place["POWERTOOLS_SERVICE_NAME"] == topology.SERVICE
    assert place["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == str(topology.function("place_order").memory_mb)
    assert "ORDERS_TEST_SHELL_ONLY" not in place
    assert "ORDERS_TEST_SHELL_ONLY" not in query


def test_each_invocation_runs_in_a_trace_of_its_own_and_an_sqs_message_s_trace_is_continued(
    dev, token, state, record_dir
):
    from infra.emulator.traces import root_of

    answers = [call(dev, token) for _ in range(2)]
    headers = [a["environment"]["_X_AMZN_TRACE_ID"] for a in answers]
    assert root_of(headers[0]) != root_of(headers[1])  # set anew per invocation, as Lambda does
    for answer, header in zip(answers, headers, strict=True):
        (invocation,) = dev.invocations(request_id=answer["request_id"])
        assert invocation["trace_id"] == root_of(header)
    header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    tag = uuid.uuid4().hex
    aws(state, "sqs").send_message(
        QueueUrl=state.resources.queue_urls["payment"],
        MessageBody=json.dumps({"tag": tag}),
        MessageSystemAttributes={"AWSTraceHeader": {"StringValue": header, "DataType": "String"}},
    )
    eventually(lambda: any(tag in json.dumps(e["event"]) for e in recorded(record_dir, "payment")))
    traced = eventually(lambda: dev.invocations(function="payment", trace_id=root_of(header)))
    assert all(i["source"] == "sqs" for i in traced)


def test_a_warm_container_keeps_its_globals_and_a_timeout_kills_it(dev, token):
    first, second = call(dev, token), call(dev, token)
    assert second["pid"] == first["pid"]
    assert second["invocations_in_this_container"] == first["invocations_in_this_container"] + 1
    assert 0 < second["remaining_ms"] <= STAND_IN_API_TIMEOUT * 1000

    timed_out = dev.api("GET", "/orders", token, params={"sleep": STAND_IN_API_TIMEOUT + 1})
    assert timed_out.status_code == 502
    assert timed_out.json()["code"] == "internal_error"
    after = call(dev, token)
    assert after["pid"] != first["pid"]  # a new container: a cold start
    assert after["invocations_in_this_container"] == 1


def test_the_proxy_event_is_shaped_as_api_gateway_builds_it(dev, token, state):
    order_id = str(uuid.uuid4())
    answer = dev.api(
        "GET",
        f"/orders/{order_id}/events",
        token,
        params=[("limit", "5"), ("limit", "6")],
        headers={"X-Correlation-Id": "corr-123", "X-Custom": "yes"},
    )
    assert answer.status_code == 200
    assert answer.headers["X-Correlation-Id"] == "corr-123"
    event = answer.json()["event"]
    assert event["resource"] == "/orders/{order_id}/events"
    assert event["path"] == f"/orders/{order_id}/events"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"order_id": order_id}
    assert event["queryStringParameters"] == {"limit": "6"}
    assert event["multiValueQueryStringParameters"] == {"limit": ["5", "6"]}
    assert event["headers"]["X-Custom"] == "yes"
    assert event["multiValueHeaders"]["X-Custom"] == ["yes"]
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["stage"] == topology.API.stage
    assert context["path"] == f"/{topology.API.stage}/orders/{order_id}/events"
    assert context["resourcePath"] == "/orders/{order_id}/events"
    assert context["requestId"] == answer.headers["x-amzn-RequestId"]
    claims = context["authorizer"]["claims"]
    assert claims["token_use"] == "id"
    assert claims["aud"] == state.resources.app_client_id
    assert claims["iss"] == state.resources.issuer
    assert claims["email"].endswith("@example.com")
    assert all(isinstance(value, str) for value in claims.values())
    assert claims["exp"].endswith(claims["exp"][-4:])
    assert " UTC " in claims["exp"]


def test_the_request_counter_counts_what_moto_received_per_function_and_operation(dev, token, state):
    """Each caller's own requests, exactly: a function's (by its name), the test's (a client
    with an application id of its own), and none of the paused pumps'."""
    dev.pause_pumps()
    try:
        assert dev.status()["paused"] is True
        time.sleep(2)  # a receive under way when the pumps were paused ends (1 s long polls)
        before = dev.requests()
        answer = dev.api("POST", "/orders", token, params={"describe_table": "3"}, json=ONE_LINE)
        assert answer.status_code == 200, answer.text
        mine = client("dynamodb", state.moto_url, caller="counter-test")
        for _ in range(2):
            mine.list_tables()
        time.sleep(1)  # a paused pump would have polled by now
        counted = difference(dev.requests(), before)["callers"]
    finally:
        dev.pause_pumps(False)
    assert counted["place_order"] == {"total": 3, "operations": {"dynamodb.DescribeTable": 3}}
    assert counted["counter-test"] == {"total": 2, "operations": {"dynamodb.ListTables": 2}}
    polls = [
        (caller, operation)
        for caller in ("stream-pump", "sqs-pump", "rule-pump", "schedule-pump")
        for operation in counted.get(caller, {}).get("operations", {})
        if operation in ("sqs.ReceiveMessage", "dynamodb.GetRecords")
    ]
    assert polls == [], counted
    assert dev.status()["paused"] is False
    # Resumed: the pumps poll again.
    eventually(lambda: "rule-pump" in difference(dev.requests(), before)["callers"], timeout=10)


def test_a_post_body_reaches_the_function_as_the_client_sent_it(dev, token):
    body = '{"lines": [{"sku": "MUG-01", "quantity": 2}], "client_reference": "r\\u00e9f"}'
    answer = dev.api("POST", "/orders", token, content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text
    event = answer.json()["event"]
    assert event["body"] == body
    assert event["isBase64Encoded"] is False


def test_the_cognito_trigger_got_the_post_confirmation_event(dev, record_dir, state):
    username = f"trigger-{uuid.uuid4().hex[:8]}"
    claims = jwt.decode(dev.token(username), options={"verify_signature": False})
    (event,) = [
        entry["event"]
        for entry in recorded(record_dir, "register_user")
        if entry["event"]["request"]["userAttributes"]["email"] == f"{username}@example.com"
    ]
    assert event["triggerSource"] == "PostConfirmation_ConfirmSignUp"
    assert event["userPoolId"] == state.resources.user_pool_id
    assert event["userName"] == claims["sub"]  # with e-mail sign-in, the username is the sub
    attributes = event["request"]["userAttributes"]
    assert attributes["sub"] == claims["sub"]
    assert attributes["cognito:user_status"] == "CONFIRMED"


# --- the same set as the topology ---------------------------------------------------------------------


def test_the_runtime_wires_exactly_what_the_topology_names(runtime, state):
    sqs, events = aws(state, "sqs"), aws(state, "events")
    queues = {url.rsplit("/", 1)[1] for url in sqs.list_queues()["QueueUrls"]}
    delivery = {target.delivery_queue_url.rsplit("/", 1)[1] for target in state.resources.rule_targets}
    assert queues - delivery == {queue.name for queue in topology.QUEUES}
    payment = sqs.get_queue_attributes(QueueUrl=state.resources.queue_urls["payment"], AttributeNames=["All"])
    redrive = json.loads(payment["Attributes"]["RedrivePolicy"])
    assert redrive["maxReceiveCount"] == topology.queue("payment").max_receive_count
    assert redrive["deadLetterTargetArn"] == state.resources.queue_arns["payment-dlq"]
    assert payment["Attributes"]["VisibilityTimeout"] == str(
        topology.queue("payment").visibility_timeout_seconds
    )

    rules = events.list_rules(EventBusName=topology.EVENT_BUS)["Rules"]
    assert {rule["Name"] for rule in rules} == {rule.name for rule in topology.EVENT_RULES}
    for rule in topology.EVENT_RULES:
        (listed,) = [r for r in rules if r["Name"] == rule.name]
        assert json.loads(listed["EventPattern"]) == rule.pattern
        targets = events.list_targets_by_rule(Rule=rule.name, EventBusName=topology.EVENT_BUS)["Targets"]
        assert [t["Id"] for t in targets] == [target.function for target in rule.targets]
        assert [t["DeadLetterConfig"]["Arn"] for t in targets] == [
            state.resources.queue_arns[target.dead_letter] for target in rule.targets
        ]

    assert sorted(runtime.functions.names()) == sorted(function.name for function in topology.FUNCTIONS)
    assert {consumer.name for consumer in runtime._stream_pumps} == {
        c.function for c in topology.STREAM_CONSUMERS
    }
    pool = aws(state, "cognito-idp").describe_user_pool(UserPoolId=state.resources.user_pool_id)["UserPool"]
    register = next(f for f in topology.FUNCTIONS if f.trigger == "cognito")
    assert pool["LambdaConfig"]["PostConfirmation"].endswith(f":function:{register.name}")
    groups = aws(state, "cognito-idp").list_groups(UserPoolId=state.resources.user_pool_id)["Groups"]
    assert [group["GroupName"] for group in groups] == [topology.ADMIN_GROUP]
    identities = aws(state, "ses").list_identities()["Identities"]
    assert state.resources.sender_email in identities


BODIES = {
    "PlaceOrderRequest": {"lines": [{"sku": "MUG-01", "quantity": 1}]},
    "Restock": {"sku": "MUG-01", "quantity": 1, "price": "1.00", "currency": "EUR"},
    "CancelOrderRequest": {},
}


@pytest.mark.parametrize("route", topology.routes(), ids=lambda route: route.operation_id)
def test_every_route_of_the_topology_reaches_its_function(dev, token, route):
    correlation_id = f"route-{uuid.uuid4().hex}"
    path = route.path.replace("{order_id}", str(uuid.uuid4()))
    body = {"json": BODIES[route.request_model]} if route.request_model else {}
    answer = dev.api(route.method, path, token, headers={"X-Correlation-Id": correlation_id}, **body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["event"]["resource"] == route.path
    assert [i["function"] for i in dev.invocations(correlation_id=correlation_id)] == [route.function]
