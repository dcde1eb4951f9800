"""Each function as the topology describes it, and how its events reach it."""

from __future__ import annotations

import json

import pytest

from infra import topology
from infra.aws.functions import LIVE_ALIAS
from ordering.config import Settings
from tests.infra.conftest import Synthesized, arn_of

pytestmark = pytest.mark.infra

# The variables each resource brings (names as ordering/config.py reads them).
RESOURCE_VARIABLES = {
    "table": {"TABLE_NAME"},
    "payment_queue": {"PAYMENT_QUEUE_URL"},
    "deadline_queue": {"DEADLINE_QUEUE_URL"},
    "refund_queue": {"REFUND_QUEUE_URL"},
    "event_bus": {"EVENT_BUS_NAME"},
    "mailer": {"SENDER_EMAIL"},
    "database": {"DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_IAM_AUTH", "DB_SSLMODE"},
    "payment_gateway": {"PAYMENT_GATEWAY"},
}


def test_every_function_is_arm64_python312_traced_and_sized_by_the_topology(synthesized: Synthesized) -> None:
    for name, logical_id in synthesized.functions().items():
        spec, props = topology.function(name), synthesized.props(logical_id)
        assert props["Architectures"] == ["arm64"], name
        assert props["Runtime"] == "python3.12", name
        assert props["TracingConfig"] == {"Mode": "Active"}, name
        assert props["MemorySize"] == spec.memory_mb, name
        assert props["Timeout"] == spec.timeout_seconds, name
        assert props.get("ReservedConcurrentExecutions") == spec.reserved_concurrency, name


def test_the_api_path_gets_at_least_1024_mb(synthesized: Synthesized) -> None:
    api_functions = {r.function for r in topology.routes()}
    assert api_functions
    for name in api_functions:
        assert synthesized.props(synthesized.functions()[name])["MemorySize"] >= 1024, name


def test_logs_are_kept_a_bounded_time(synthesized: Synthesized) -> None:
    for name, logical_id in synthesized.functions().items():
        log_group = synthesized.props(logical_id)["LoggingConfig"]["LogGroup"]
        props = synthesized.props(log_group["Ref"])
        assert props["LogGroupName"] == f"/aws/lambda/{synthesized.stack_name}-{name}"
        assert props["RetentionInDays"] == 30


def test_no_function_uses_a_layer_powertools_is_bundled_byte_compiled(synthesized: Synthesized) -> None:
    """A managed layer's bytecode is not ours to check: Powertools ships in the asset (test_bundling)."""
    for name, logical_id in synthesized.functions().items():
        assert "Layers" not in synthesized.props(logical_id), name


def _api_functions() -> set[str]:
    return {r.function for r in topology.routes()}


def test_the_api_functions_run_with_snapstart_and_the_others_do_not(synthesized: Synthesized) -> None:
    assert _api_functions() == {"place_order", "cancel_order", "query_orders", "restock"}
    for name, logical_id in synthesized.functions().items():
        snap_start = synthesized.props(logical_id).get("SnapStart")
        if name in _api_functions():
            assert snap_start == {"ApplyOn": "PublishedVersions"}, name
        else:
            assert snap_start is None, name


def test_api_gateway_invokes_the_live_alias_of_a_published_version(synthesized: Synthesized) -> None:
    functions = synthesized.functions()
    aliases = synthesized.of_type("AWS::Lambda::Alias")
    versions = synthesized.of_type("AWS::Lambda::Version")
    by_function = {}
    for alias_id, alias in aliases.items():
        props = alias["Properties"]
        assert props["Name"] == LIVE_ALIAS
        version = versions[props["FunctionVersion"]["Fn::GetAtt"][0]]
        by_function[version["Properties"]["FunctionName"]["Ref"]] = alias_id
    assert set(by_function) == {functions[name] for name in _api_functions()}
    integrations = [
        m["Properties"]["Integration"]["Uri"]
        for m in synthesized.of_type("AWS::ApiGateway::Method").values()
        if m["Properties"].get("Integration", {}).get("Type") == "AWS_PROXY"
    ]
    assert integrations
    for uri in integrations:
        text = json.dumps(uri)
        assert any(alias_id in text for alias_id in by_function.values()), text  # the alias, never $LATEST
    for permission in synthesized.of_type("AWS::Lambda::Permission").values():
        props = permission["Properties"]
        if props["Principal"] == "apigateway.amazonaws.com":
            assert props["FunctionName"]["Ref"] in by_function.values(), props


def test_only_in_vpc_functions_sit_in_the_isolated_subnets(synthesized: Synthesized) -> None:
    subnets = synthesized.of_type("AWS::EC2::Subnet")
    isolated = {
        k
        for k, s in subnets.items()
        if {"Key": "aws-cdk:subnet-type", "Value": "Isolated"} in s["Properties"]["Tags"]
    }
    assert isolated == set(subnets)
    for name, logical_id in synthesized.functions().items():
        vpc = synthesized.props(logical_id).get("VpcConfig")
        if topology.function(name).in_vpc:
            assert {s["Ref"] for s in vpc["SubnetIds"]} == isolated, name
            assert len(vpc["SecurityGroupIds"]) == 1
        else:
            assert vpc is None, name


def test_environment_is_exactly_what_the_used_resources_need(synthesized: Synthesized) -> None:
    for name, logical_id in synthesized.functions().items():
        spec = topology.function(name)
        variables = synthesized.props(logical_id)["Environment"]["Variables"]
        wanted = set(topology.COMMON_ENVIRONMENT) | set(spec.environment)
        for resource in spec.uses:
            wanted |= RESOURCE_VARIABLES[resource]
        assert set(variables) == wanted, name
        assert {k: variables[k] for k in topology.COMMON_ENVIRONMENT} == topology.COMMON_ENVIRONMENT


def test_ordering_config_reads_every_variable_the_stack_sets(synthesized: Synthesized) -> None:
    """Feed each function's environment (CloudFormation references rendered as text) to Settings."""
    for name, logical_id in synthesized.functions().items():
        spec = topology.function(name)
        variables = synthesized.props(logical_id)["Environment"]["Variables"]
        settings = Settings.from_env(
            {k: v if isinstance(v, str) else json.dumps(v) for k, v in variables.items()}
        )
        if "table" in spec.uses:
            settings.require("table_name")
        if "payment_queue" in spec.uses:
            settings.require("payment_queue_url")
        if "deadline_queue" in spec.uses:
            settings.require("deadline_queue_url")
        if "refund_queue" in spec.uses:
            settings.require("refund_queue_url")
        if "event_bus" in spec.uses:
            settings.require("event_bus_name")
        if "mailer" in spec.uses:
            settings.require("sender_email")
        if "database" in spec.uses:
            assert settings.db_iam_auth is True
            assert settings.db_sslmode == "verify-full"  # encrypted is not enough: the proxy is checked
            assert settings.db_port == 5432
            for setting in ("db_host", "db_name", "db_user"):
                settings.require(setting)


def _mappings(synthesized: Synthesized) -> dict[str, dict]:
    functions = {v: k for k, v in synthesized.functions().items()}
    return {
        functions[m["Properties"]["FunctionName"]["Ref"]]: m["Properties"]
        for m in synthesized.of_type("AWS::Lambda::EventSourceMapping").values()
    }


def test_both_stream_consumers_filter_retry_bisect_and_park_failures(synthesized: Synthesized) -> None:
    mappings, queues = _mappings(synthesized), synthesized.queues()
    (table_id,) = synthesized.of_type("AWS::DynamoDB::Table")
    assert len(topology.STREAM_CONSUMERS) == 2  # DynamoDB Streams' budget: two readers per shard
    for consumer in topology.STREAM_CONSUMERS:
        mapping = mappings[consumer.function]
        assert mapping["EventSourceArn"] == {"Fn::GetAtt": [table_id, "StreamArn"]}
        assert [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]] == [
            consumer.filter_pattern
        ]
        assert consumer.filter_pattern == {
            "eventName": ["INSERT"],
            "dynamodb": {"Keys": {"SK": {"S": [{"prefix": "EV#"}]}}},
        }
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["BisectBatchOnFunctionError"] is consumer.bisect_on_error is True
        assert mapping["MaximumRetryAttempts"] == consumer.maximum_retry_attempts
        assert mapping["MaximumRecordAgeInSeconds"] == consumer.maximum_record_age_seconds
        assert mapping["DestinationConfig"] == {
            "OnFailure": {"Destination": arn_of(queues[consumer.on_failure])}
        }
        assert mapping["StartingPosition"] == consumer.starting_position
        assert mapping["BatchSize"] == consumer.batch_size
        assert mapping["ParallelizationFactor"] == consumer.parallelization_factor


def test_the_queue_consumers_report_partial_batch_failures(synthesized: Synthesized) -> None:
    mappings, queues = _mappings(synthesized), synthesized.queues()
    for consumer in topology.QUEUE_CONSUMERS:
        mapping = mappings[consumer.function]
        assert mapping["EventSourceArn"] == arn_of(queues[consumer.queue])
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["BatchSize"] == consumer.batch_size
        assert mapping["MaximumBatchingWindowInSeconds"] == consumer.max_batching_window_seconds
