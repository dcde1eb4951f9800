"""Encryption at rest everywhere data rests, and a decision recorded for every resource type."""

from __future__ import annotations

import pytest

from tests.infra.conftest import Synthesized

pytestmark = pytest.mark.infra


def _table(p: dict) -> bool:
    return p["SSESpecification"]["SSEEnabled"] is True


def _queue(p: dict) -> bool:
    return p.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in p


def _database(p: dict) -> bool:
    return p["StorageEncrypted"] is True


def _topic(p: dict) -> bool:
    return "KmsMasterKeyId" in p


def _always(_: dict) -> bool:
    return True


# Resource types that hold data, and how each proves its data is encrypted at rest.
HOLDS_DATA = {
    "AWS::DynamoDB::Table": _table,
    "AWS::SQS::Queue": _queue,
    "AWS::RDS::DBInstance": _database,
    "AWS::SNS::Topic": _topic,
    # Secrets Manager always encrypts with KMS (aws/secretsmanager unless a key is given).
    "AWS::SecretsManager::Secret": _always,
    # CloudWatch Logs always encrypts log data at rest (service keys unless a KMS key is given).
    "AWS::Logs::LogGroup": _always,
    # Cognito encrypts user pool data at rest, always.
    "AWS::Cognito::UserPool": _always,
}
# Types that hold no data of ours at rest (configuration, wiring, compute, permissions).
HOLDS_NO_DATA = {
    "AWS::CDK::Metadata",
    "AWS::ApiGateway::Account", "AWS::ApiGateway::Authorizer", "AWS::ApiGateway::Deployment",
    "AWS::ApiGateway::GatewayResponse", "AWS::ApiGateway::Method", "AWS::ApiGateway::Model",
    "AWS::ApiGateway::RequestValidator", "AWS::ApiGateway::Resource", "AWS::ApiGateway::RestApi",
    "AWS::ApiGateway::Stage", "AWS::ApiGateway::UsagePlan", "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::Dashboard", "AWS::Cognito::UserPoolClient", "AWS::Cognito::UserPoolGroup",
    "AWS::EC2::FlowLog", "AWS::EC2::RouteTable", "AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress",
    "AWS::EC2::Subnet", "AWS::EC2::SubnetRouteTableAssociation", "AWS::EC2::VPC", "AWS::EC2::VPCEndpoint",
    "AWS::Events::EventBus", "AWS::Events::Rule", "AWS::IAM::Policy", "AWS::IAM::Role", "AWS::KMS::Key",
    "AWS::Lambda::Alias", "AWS::Lambda::EventInvokeConfig", "AWS::Lambda::EventSourceMapping",
    "AWS::Lambda::Function",
    "AWS::Lambda::Permission", "AWS::Lambda::Version", "AWS::RDS::DBProxy", "AWS::RDS::DBProxyTargetGroup",
    "AWS::RDS::DBSubnetGroup", "AWS::SES::EmailIdentity", "AWS::SNS::TopicPolicy", "AWS::SNS::Subscription",
    "AWS::SQS::QueuePolicy", "AWS::SecretsManager::SecretTargetAttachment", "Custom::Trigger",
    "Custom::VpcRestrictDefaultSG",
}  # fmt: skip


def test_every_resource_type_is_classified(synthesized: Synthesized) -> None:
    """A new kind of resource must be placed here, and so be checked, before the test passes."""
    present = {r["Type"] for r in synthesized.resources.values()}
    assert present - HOLDS_DATA.keys() - HOLDS_NO_DATA == set()


@pytest.mark.parametrize("resource_type", sorted(HOLDS_DATA))
def test_data_is_encrypted_at_rest(synthesized: Synthesized, resource_type: str) -> None:
    resources = synthesized.of_type(resource_type)
    assert resources, f"no {resource_type} in the template: drop it from HOLDS_DATA"
    for logical_id, resource in resources.items():
        assert HOLDS_DATA[resource_type](resource.get("Properties", {})), logical_id


def test_queues_refuse_unencrypted_transport(synthesized: Synthesized) -> None:
    queues = {v: k for k, v in synthesized.queues().items()}
    denied = set()
    for policy in synthesized.of_type("AWS::SQS::QueuePolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Deny" and statement.get("Condition") == {
                "Bool": {"aws:SecureTransport": "false"}
            }:
                denied |= {q["Ref"] for q in policy["Properties"]["Queues"]}
    assert denied == set(queues)


def test_the_alarm_topic_key_rotates(synthesized: Synthesized) -> None:
    (topic,) = synthesized.of_type("AWS::SNS::Topic").values()
    key_id = topic["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
    assert synthesized.props(key_id)["EnableKeyRotation"] is True
