"""EventBridge -> Lambda, as the local rule pump runs it, against SQS on moto.

On AWS a rule invokes its Lambda target asynchronously. EventBridge's retry policy covers the
delivery (Lambda refused the invocation); once delivered, an error inside the function is
Lambda's to retry (2 times) and then to park in the function's dead-letter queue. The pump is
driven one receive at a time here, with a stand-in at the Lambda boundary deciding each outcome.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from infra import topology
from infra.emulator.functions import Invocation
from infra.emulator.resources import RuleTargetQueue
from infra.emulator.rule_pump import DELIVERY_RETRIES, FUNCTION_RETRIES, RulePump

pytestmark = pytest.mark.moto

TARGET = topology.EVENT_RULES[0].targets[0]
FUNCTION_ARN = f"arn:aws:lambda:eu-west-1:123456789012:function:{TARGET.function}"
REFUSED = {"errorType": "TooManyRequestsException", "errorMessage": "all containers stayed busy"}
FAILED = {"errorType": "ValueError", "errorMessage": "the function failed"}


@pytest.fixture
def target(sqs) -> RuleTargetQueue:
    def queue(name: str) -> tuple[str, str]:
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]

    delivery_url, delivery_arn = queue("delivery")
    dlq_url, dlq_arn = queue(TARGET.dead_letter)
    return RuleTargetQueue(
        rule="payment-outcome-to-inventory",
        rule_arn="arn:aws:events:eu-west-1:123456789012:rule/orders/payment-outcome-to-inventory",
        function=TARGET.function,
        delivery_queue_url=delivery_url,
        delivery_queue_arn=delivery_arn,
        dead_letter_url=dlq_url,
        dead_letter_arn=dlq_arn,
        maximum_retry_attempts=TARGET.maximum_retry_attempts,
        maximum_event_age_seconds=TARGET.maximum_event_age_seconds,
    )


class Lambda:
    """The Lambda boundary: answers each invocation with the next outcome (None: success)."""

    def __init__(self, *outcomes: dict[str, str] | None) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0

    def __call__(self, name: str, event: dict[str, Any]) -> Invocation:
        outcome = self.outcomes[min(self.calls, len(self.outcomes) - 1)]
        self.calls += 1
        return Invocation(
            name, f"request-{self.calls}", "eventbridge", None, False, result=None, error=outcome
        )


def run(sqs, target: RuleTargetQueue, function: Lambda) -> list[dict[str, Any]]:
    """Put one event on the delivery queue, pump it until nothing is left; what reached the DLQ."""
    event = {
        "version": "0",
        "id": "3f1d7c2e-1b2a-4c3d-9e8f-0a1b2c3d4e5f",
        "detail-type": topology.PAYMENT_SUCCEEDED,
        "source": topology.EVENT_SOURCE,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "eu-west-1",
        "resources": [],
        "detail": {"order_id": "o-1"},
    }
    sqs.send_message(QueueUrl=target.delivery_queue_url, MessageBody=json.dumps(event))
    pump = RulePump(target, sqs=sqs, invoke=function, function_arn=FUNCTION_ARN, retry_delay=0)
    for _ in range(50):
        messages = sqs.receive_message(
            QueueUrl=target.delivery_queue_url, MessageAttributeNames=[DELIVERY_RETRIES, FUNCTION_RETRIES]
        ).get("Messages", [])
        if not messages:
            break
        pump.deliver(messages)
    parked = sqs.receive_message(
        QueueUrl=target.dead_letter_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages", [])
    return [
        {"body": json.loads(m["Body"]), **{k: v["StringValue"] for k, v in m["MessageAttributes"].items()}}
        for m in parked
    ]


def test_a_function_error_is_retried_twice_by_lambda_then_parked_with_lambdas_attributes(sqs, target):
    function = Lambda(FAILED)
    (parked,) = run(sqs, target, function)
    assert function.calls == topology.ASYNC_RETRY_ATTEMPTS + 1 == 3  # not the rule's 8 retries
    assert parked["ErrorCode"] == "200"
    assert parked["ErrorMessage"] == "the function failed"
    assert parked["RequestID"] == "request-3"
    assert parked["body"]["detail"] == {"order_id": "o-1"}
    assert "EXHAUSTED_RETRY_CONDITION" not in parked


def test_an_invocation_lambda_refuses_is_retried_by_the_rules_policy_then_parked_with_eventbridges_attributes(
    sqs, target
):
    function = Lambda(REFUSED)
    (parked,) = run(sqs, target, function)
    assert function.calls == TARGET.maximum_retry_attempts + 1 == 9
    assert parked["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttemptsExhausted"
    assert parked["RETRY_ATTEMPTS"] == str(TARGET.maximum_retry_attempts)
    assert parked["ERROR_CODE"] == "TooManyRequestsException"
    assert parked["TARGET_ARN"] == FUNCTION_ARN
    assert parked["RULE_ARN"] == target.rule_arn


def test_the_two_loops_count_apart(sqs, target):
    """Two refusals do not use up Lambda's retries: the function still gets its three runs."""
    function = Lambda(REFUSED, REFUSED, FAILED)
    (parked,) = run(sqs, target, function)
    assert function.calls == 2 + topology.ASYNC_RETRY_ATTEMPTS + 1
    assert parked["ErrorCode"] == "200"


def test_an_event_that_succeeds_on_a_retry_is_not_parked(sqs, target):
    function = Lambda(FAILED, None)
    assert run(sqs, target, function) == []
    assert function.calls == 2


def test_a_backlog_is_received_and_deleted_in_batches_and_delivered_one_event_per_invocation_at_once(
    sqs, target
):
    """20 events to a function of 4 containers: at most 4 invocations at once, each of one event,
    and a receive and a delete per batch (a receive and a delete per event was 2 requests each)."""
    requests: list[str] = []
    sqs.meta.events.register("before-call.sqs", lambda model, **_: requests.append(model.name))
    running, most_at_once, events = 0, 0, []
    lock = threading.Lock()

    def function(name: str, event: dict[str, Any]) -> Invocation:
        nonlocal running, most_at_once
        with lock:
            running += 1
            most_at_once = max(most_at_once, running)
            events.append(event["id"])
        time.sleep(0.2)
        with lock:
            running -= 1
        return Invocation(name, "request", "eventbridge", None, False, result=None, error=None)

    for n in range(20):
        sqs.send_message(QueueUrl=target.delivery_queue_url, MessageBody=json.dumps({"id": str(n)}))
    pump = RulePump(target, sqs=sqs, invoke=function, function_arn=FUNCTION_ARN, retry_delay=0, concurrency=4)
    requests.clear()
    pump.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (_visible_or_in_flight(sqs, target) or pump.busy):
            time.sleep(0.1)
        assert not _visible_or_in_flight(sqs, target)
    finally:
        pump.stop()
    assert sorted(events, key=int) == [str(n) for n in range(20)]  # each event once
    assert most_at_once == 4  # concurrent, up to the function's containers and no further
    pumped = [name for name in requests if name != "GetQueueAttributes"]  # the test's own looks
    assert "DeleteMessage" not in pumped
    # 20 events in batches of at most 4: 5 or more receives and deletes, and well under 2 per event.
    assert pumped.count("DeleteMessageBatch") <= 10, pumped
    assert len(pumped) <= 25, pumped


def test_an_idle_target_costs_one_long_poll_a_second(sqs, target):
    receives: list[int] = []
    sqs.meta.events.register("before-call.sqs.ReceiveMessage", lambda **_: receives.append(1))

    def function(name: str, event: dict[str, Any]) -> Invocation:
        raise AssertionError("nothing to deliver")

    pump = RulePump(target, sqs=sqs, invoke=function, function_arn=FUNCTION_ARN, retry_delay=0, concurrency=4)
    pump.start()
    try:
        time.sleep(2.5)
        assert 2 <= len(receives) <= 3, receives
        assert not pump.busy
    finally:
        pump.stop()


def _visible_or_in_flight(sqs, target: RuleTargetQueue) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=target.delivery_queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())
