"""Each function's IAM policy grants what its topology entry uses, and no wildcard on the table."""

from __future__ import annotations

import json

import pytest

from infra import topology
from infra.aws.stack import TABLE_ACTIONS
from tests.infra.conftest import SENDER, Synthesized

pytestmark = pytest.mark.infra

# Actions that support no resource-level permission, so their statement must say Resource "*".
RESOURCE_STAR_ALLOWED = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "dynamodb:ListStreams"}


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def statements_by_function(synthesized: Synthesized) -> dict[str, list[dict]]:
    """topology name -> every statement of the inline policies attached to its role."""
    role_of = {
        name: synthesized.props(lid)["Role"]["Fn::GetAtt"][0] for name, lid in synthesized.functions().items()
    }
    found: dict[str, list[dict]] = {name: [] for name in role_of}
    for policy in synthesized.of_type("AWS::IAM::Policy").values():
        roles = {r["Ref"] for r in policy["Properties"]["Roles"]}
        for name, role in role_of.items():
            if role in roles:
                found[name] += policy["Properties"]["PolicyDocument"]["Statement"]
    for name, role in role_of.items():
        for inline in synthesized.props(role).get("Policies", []):
            found[name] += inline["PolicyDocument"]["Statement"]
    return found


def on_table(statement: dict, table_id: str) -> bool:
    resources = json.dumps(_as_list(statement["Resource"]))
    return json.dumps({"Fn::GetAtt": [table_id, "Arn"]}) in resources or statement["Resource"] == "*"


def table_actions(statements: list[dict], table_id: str) -> set[str]:
    return {
        action
        for s in statements
        if s["Effect"] == "Allow" and on_table(s, table_id)
        for action in _as_list(s["Action"])
        if action.startswith("dynamodb:") or "*" in action
    } - {"dynamodb:ListStreams"}


def test_no_function_has_a_wildcard_action_on_the_table(synthesized: Synthesized) -> None:
    (table_id,) = synthesized.of_type("AWS::DynamoDB::Table")
    for name, statements in statements_by_function(synthesized).items():
        for action in table_actions(statements, table_id):
            assert not {"*", "?"} & set(action), (name, action)  # IAM's two wildcards


def test_each_function_gets_exactly_its_table_access(synthesized: Synthesized) -> None:
    (table_id,) = synthesized.of_type("AWS::DynamoDB::Table")
    for name, statements in statements_by_function(synthesized).items():
        spec = topology.function(name)
        wanted = set(TABLE_ACTIONS[spec.table_access]) if "table" in spec.uses else set()
        assert table_actions(statements, table_id) == wanted, name
    assert "dynamodb:Scan" not in TABLE_ACTIONS["read_write"]
    assert not {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"} & set(TABLE_ACTIONS["read"])


def test_resource_star_only_for_actions_without_resource_level_permissions(synthesized: Synthesized) -> None:
    for name, statements in statements_by_function(synthesized).items():
        for statement in statements:
            if statement["Resource"] == "*" or "*" in _as_list(statement["Resource"]):
                assert set(_as_list(statement["Action"])) <= RESOURCE_STAR_ALLOWED, (name, statement)


def _allowed(statements: list[dict], action: str) -> bool:
    return any(s["Effect"] == "Allow" and action in _as_list(s["Action"]) for s in statements)


@pytest.mark.parametrize(
    ("resource", "action"),
    [
        ("database", "rds-db:connect"),
        ("mailer", "ses:SendEmail"),
        ("event_bus", "events:PutEvents"),
    ],
)
def test_only_functions_that_use_a_resource_may_act_on_it(
    synthesized: Synthesized, resource: str, action: str
) -> None:
    for name, statements in statements_by_function(synthesized).items():
        assert _allowed(statements, action) is (resource in topology.function(name).uses), (name, action)


def test_only_the_publisher_sends_to_the_payment_queue(synthesized: Synthesized) -> None:
    payment_queue = json.dumps({"Fn::GetAtt": [synthesized.queues()["payment"], "Arn"]})
    for name, statements in statements_by_function(synthesized).items():
        sends = any(
            "sqs:SendMessage" in _as_list(s["Action"]) and payment_queue in json.dumps(s["Resource"])
            for s in statements
        )
        assert sends is ("payment_queue" in topology.function(name).uses), name


def test_rds_connect_is_limited_to_the_proxy_user(synthesized: Synthesized) -> None:
    for name, statements in statements_by_function(synthesized).items():
        for s in statements:
            if "rds-db:connect" in _as_list(s["Action"]):
                resource = json.dumps(s["Resource"])
                assert ":dbuser:" in resource, (name, resource)
                assert resource.endswith('"/orders"]]}'), (name, resource)


def test_mail_goes_out_from_the_sender_address_only(synthesized: Synthesized) -> None:
    """The SES grant covers every identity (the sandbox checks recipients too), from one address."""
    senders = set()
    for name, statements in statements_by_function(synthesized).items():
        for s in statements:
            if "ses:SendEmail" in _as_list(s["Action"]):
                assert s["Condition"] == {"StringEquals": {"ses:FromAddress": SENDER}}, name
                assert ":identity/*" in json.dumps(s["Resource"]), name
                senders.add(name)
    assert senders == {f.name for f in topology.FUNCTIONS if "mailer" in f.uses}
