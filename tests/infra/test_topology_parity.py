"""Topology <-> template: everything infra/topology.py describes is in the template, and nothing else."""

from __future__ import annotations

import json

import pytest

from infra import topology
from tests.infra.conftest import Synthesized, arn_of, ref

pytestmark = pytest.mark.infra

# Lambda functions CDK adds for its own custom resources; not part of the system's topology.
CDK_HELPERS = {
    "AWSCDKTriggerCustomResourceProviderCustomResourceProviderHandler": "runs the migration trigger",
    "CustomVpcRestrictDefaultSGCustomResourceProviderHandler": "strips the VPC's default security group",
}


def api_routes(synthesized: Synthesized) -> dict[tuple[str, str], dict]:
    """(method, path) -> the AWS::ApiGateway::Method properties, paths rebuilt from the resources."""
    resources = synthesized.of_type("AWS::ApiGateway::Resource")

    def path_of(resource_id: dict) -> str:
        if "Ref" not in resource_id:
            return ""  # Fn::GetAtt [api, RootResourceId]: the root, "/"
        props = resources[resource_id["Ref"]]["Properties"]
        return path_of(props["ParentId"]) + "/" + props["PathPart"]

    found = {}
    for props in (r["Properties"] for r in synthesized.of_type("AWS::ApiGateway::Method").values()):
        found[(props["HttpMethod"], path_of(props["ResourceId"]) or "/")] = props
    return found


def test_every_function_and_nothing_else(synthesized: Synthesized) -> None:
    ours = synthesized.functions()
    assert set(ours) == {f.name for f in topology.FUNCTIONS}
    others = set(synthesized.of_type("AWS::Lambda::Function")) - set(ours.values())
    assert {next(h for h in CDK_HELPERS if o.startswith(h)) for o in others} == set(CDK_HELPERS)
    assert len(others) == len(CDK_HELPERS)


def test_functions_have_the_topology_handlers(synthesized: Synthesized) -> None:
    for name, logical_id in synthesized.functions().items():
        assert synthesized.props(logical_id)["Handler"] == topology.function(name).handler


def test_every_route_and_nothing_else(synthesized: Synthesized) -> None:
    routes = api_routes(synthesized)
    assert set(routes) == {(r.method, r.path) for r in topology.routes()}


def _live_alias_of(synthesized: Synthesized) -> dict[str, str]:
    """function logical id -> the logical id of its alias (SnapStart functions have one)."""
    versions = synthesized.of_type("AWS::Lambda::Version")
    found = {}
    for alias_id, alias in synthesized.of_type("AWS::Lambda::Alias").items():
        version = versions[alias["Properties"]["FunctionVersion"]["Fn::GetAtt"][0]]
        found[version["Properties"]["FunctionName"]["Ref"]] = alias_id
    return found


def test_each_route_invokes_its_function(synthesized: Synthesized) -> None:
    """Through the live alias of its published version (SnapStart), which names the function."""
    functions = synthesized.functions()
    aliases = _live_alias_of(synthesized)
    routes = api_routes(synthesized)
    for route in topology.routes():
        uri = json.dumps(routes[(route.method, route.path)]["Integration"]["Uri"])
        assert json.dumps(ref(aliases[functions[route.function]])) in uri, route
        assert all(
            json.dumps(arn_of(functions[f.name])) not in uri
            and json.dumps(ref(aliases.get(functions[f.name], "-"))) not in uri
            for f in topology.FUNCTIONS
            if f.name != route.function
        )


def test_every_queue_and_nothing_else(synthesized: Synthesized) -> None:
    assert set(synthesized.queues()) == {q.name for q in topology.QUEUES}


def _rules(synthesized: Synthesized) -> dict[str, dict]:
    return {
        r["Properties"]["Name"].removeprefix(f"{synthesized.stack_name}-"): r["Properties"]
        for r in synthesized.of_type("AWS::Events::Rule").values()
    }


def test_every_rule_and_schedule_and_nothing_else(synthesized: Synthesized) -> None:
    assert set(_rules(synthesized)) == {r.name for r in topology.EVENT_RULES} | {
        s.name for s in topology.SCHEDULES
    }


def test_each_schedule_invokes_its_function_at_its_rate(synthesized: Synthesized) -> None:
    rules, functions = _rules(synthesized), synthesized.functions()
    for schedule in topology.SCHEDULES:
        rule = rules[schedule.name]
        assert rule["ScheduleExpression"] == f"rate({schedule.rate_minutes} minutes)"
        assert "EventBusName" not in rule  # the default bus: where scheduled events come from
        [target] = rule["Targets"]
        assert target["Arn"] == arn_of(functions[schedule.function])
        # Late ticks are dropped, not piled up: the next tick does the same work.
        assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] == schedule.rate_minutes * 60


def test_each_scheduled_function_has_its_errors_alarm(synthesized: Synthesized) -> None:
    alarms = {
        r["Properties"]["AlarmName"]: r["Properties"]
        for r in synthesized.of_type("AWS::CloudWatch::Alarm").values()
    }
    functions = synthesized.functions()
    for schedule in topology.SCHEDULES:
        alarm = alarms[f"{synthesized.stack_name}-{schedule.function}-errors"]
        assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Lambda", "Errors")
        assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": ref(functions[schedule.function])}]


def test_every_rule_routes_its_events_to_its_functions(synthesized: Synthesized) -> None:
    rules = _rules(synthesized)
    functions = synthesized.functions()
    for rule in topology.EVENT_RULES:
        assert rules[rule.name]["EventPattern"] == rule.pattern
        assert [t["Arn"] for t in rules[rule.name]["Targets"]] == [
            arn_of(functions[t.function]) for t in rule.targets
        ]


def test_every_event_source_and_nothing_else(synthesized: Synthesized) -> None:
    functions = {v: k for k, v in synthesized.functions().items()}
    mappings = [r["Properties"] for r in synthesized.of_type("AWS::Lambda::EventSourceMapping").values()]
    assert sorted(functions[m["FunctionName"]["Ref"]] for m in mappings) == sorted(
        [c.function for c in topology.STREAM_CONSUMERS] + [c.function for c in topology.QUEUE_CONSUMERS]
    )


def test_every_alarm_and_nothing_else(synthesized: Synthesized) -> None:
    names = {r["Properties"]["AlarmName"] for r in synthesized.of_type("AWS::CloudWatch::Alarm").values()}
    assert names == {f"{synthesized.stack_name}-{a.name}" for a in topology.alarms()}


def test_cognito_triggers_register_user(synthesized: Synthesized) -> None:
    (pool,) = synthesized.of_type("AWS::Cognito::UserPool").values()
    assert pool["Properties"]["LambdaConfig"] == {
        "PostConfirmation": arn_of(synthesized.functions()["register_user"])
    }


def test_the_dashboard_shows_every_function_and_queue(synthesized: Synthesized) -> None:
    (dashboard,) = synthesized.of_type("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for name, logical_id in synthesized.functions().items():
        assert json.dumps(ref(logical_id)) in body, name
    for name, logical_id in synthesized.queues().items():
        assert json.dumps({"Fn::GetAtt": [logical_id, "QueueName"]}) in body, name
