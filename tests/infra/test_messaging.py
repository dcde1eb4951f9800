"""Queues, rules and their safety nets: a message is retried or parked, never dropped."""

from __future__ import annotations

import pytest

from infra import topology
from tests.infra.conftest import SENDER, Synthesized, arn_of, ref

pytestmark = pytest.mark.infra


def test_queue_visibility_is_more_than_six_times_its_consumers_timeout_plus_batching_window(
    synthesized: Synthesized,
) -> None:
    """AWS's rule, over every queue and the function it triggers: a message stays hidden while
    its batch is gathered (the batching window) and then for more than 6 x the function's timeout."""
    functions = {v: k for k, v in synthesized.functions().items()}
    queues = {v: k for k, v in synthesized.queues().items()}
    sqs_mappings = [
        m["Properties"]
        for m in synthesized.of_type("AWS::Lambda::EventSourceMapping").values()
        if "StartingPosition" not in m["Properties"]
    ]
    assert len(sqs_mappings) == len(topology.QUEUE_CONSUMERS)
    for mapping in sqs_mappings:
        queue_id = mapping["EventSourceArn"]["Fn::GetAtt"][0]
        function_id = mapping["FunctionName"]["Ref"]
        held = 6 * synthesized.props(function_id)["Timeout"] + mapping.get(
            "MaximumBatchingWindowInSeconds", 0
        )
        assert synthesized.props(queue_id)["VisibilityTimeout"] > held, (
            queues[queue_id],
            functions[function_id],
        )


def test_queues_with_a_dead_letter_queue_redrive_to_it(synthesized: Synthesized) -> None:
    queues = synthesized.queues()
    for spec in topology.QUEUES:
        props = synthesized.props(queues[spec.name])
        assert props["VisibilityTimeout"] == spec.visibility_timeout_seconds
        assert props["MessageRetentionPeriod"] == spec.retention_days * 86400
        if spec.dead_letter:
            assert props["RedrivePolicy"] == {
                "deadLetterTargetArn": arn_of(queues[spec.dead_letter]),
                "maxReceiveCount": spec.max_receive_count,
            }
        else:
            assert "RedrivePolicy" not in props


def test_every_rule_target_has_a_retry_policy_and_a_dead_letter_queue(synthesized: Synthesized) -> None:
    queues = synthesized.queues()
    rules = {
        r["Properties"]["Name"].removeprefix(f"{synthesized.stack_name}-"): r["Properties"]
        for r in synthesized.of_type("AWS::Events::Rule").values()
    }
    (bus_id,) = synthesized.of_type("AWS::Events::EventBus")
    for rule in topology.EVENT_RULES:
        props = rules[rule.name]
        assert props["EventBusName"] == ref(bus_id)
        for target, spec in zip(props["Targets"], rule.targets, strict=True):
            assert target["RetryPolicy"] == {
                "MaximumRetryAttempts": spec.maximum_retry_attempts,
                "MaximumEventAgeInSeconds": spec.maximum_event_age_seconds,
            }
            assert target["DeadLetterConfig"] == {"Arn": arn_of(queues[spec.dead_letter])}


def test_eventbridge_may_write_to_each_target_dead_letter_queue(synthesized: Synthesized) -> None:
    queues = synthesized.queues()
    policies = [p["Properties"] for p in synthesized.of_type("AWS::SQS::QueuePolicy").values()]
    for rule in topology.EVENT_RULES:
        for target in rule.targets:
            statements = [
                s
                for p in policies
                if ref(queues[target.dead_letter]) in p["Queues"]
                for s in p["PolicyDocument"]["Statement"]
            ]
            assert any(
                s["Effect"] == "Allow"
                and s["Principal"] == {"Service": "events.amazonaws.com"}
                and s["Action"] == "sqs:SendMessage"
                for s in statements
            ), target.dead_letter


def test_functions_invoked_by_rules_park_their_own_failures(synthesized: Synthesized) -> None:
    """EventBridge's DLQ catches failed deliveries; a function that fails is Lambda's to retry and park."""
    functions, queues = synthesized.functions(), synthesized.queues()
    configs = {
        c["Properties"]["FunctionName"]["Ref"]: c["Properties"]
        for c in synthesized.of_type("AWS::Lambda::EventInvokeConfig").values()
    }
    targets = [t for rule in topology.EVENT_RULES for t in rule.targets]
    assert set(configs) == {functions[t.function] for t in targets}
    for target in targets:
        function_id = functions[target.function]
        assert synthesized.props(function_id)["DeadLetterConfig"] == {
            "TargetArn": arn_of(queues[target.dead_letter])
        }
        assert configs[function_id]["MaximumRetryAttempts"] == topology.ASYNC_RETRY_ATTEMPTS == 2


def test_ses_sender_identity_comes_from_context(synthesized: Synthesized) -> None:
    (identity,) = synthesized.of_type("AWS::SES::EmailIdentity").values()
    assert identity["Properties"]["EmailIdentity"] == SENDER
    notification = synthesized.props(synthesized.functions()["notification"])
    assert notification["Environment"]["Variables"]["SENDER_EMAIL"] == SENDER
