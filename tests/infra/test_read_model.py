"""The read model's network, database, proxy and migration."""

from __future__ import annotations

import json

import pytest

from infra import topology
from infra.aws.read_model import DATABASE_NAME, DATABASE_PORT, DATABASE_USER
from tests.infra.conftest import Synthesized, ref

pytestmark = pytest.mark.infra


def only(resources: dict) -> tuple[str, dict]:
    assert len(resources) == 1, list(resources)
    return next(iter(resources.items()))


def test_the_vpc_has_no_way_to_the_internet(synthesized: Synthesized) -> None:
    for forbidden in ("AWS::EC2::InternetGateway", "AWS::EC2::NatGateway", "AWS::EC2::EIP"):
        assert synthesized.of_type(forbidden) == {}, forbidden
    for subnet in synthesized.of_type("AWS::EC2::Subnet").values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False
    for route in synthesized.of_type("AWS::EC2::Route").values():
        pytest.fail(f"unexpected route {route}")


def test_dynamodb_is_reached_through_a_gateway_endpoint_on_every_route_table(
    synthesized: Synthesized,
) -> None:
    _, endpoint = only(synthesized.of_type("AWS::EC2::VPCEndpoint"))
    props = endpoint["Properties"]
    assert props["VpcEndpointType"] == "Gateway"
    assert "dynamodb" in json.dumps(props["ServiceName"])
    assert {r["Ref"] for r in props["RouteTableIds"]} == set(synthesized.of_type("AWS::EC2::RouteTable"))


def test_postgres_is_private_encrypted_backed_up_and_protected(synthesized: Synthesized) -> None:
    _, database = only(synthesized.of_type("AWS::RDS::DBInstance"))
    props = database["Properties"]
    assert props["Engine"] == "postgres"
    assert props["StorageEncrypted"] is True
    assert props["BackupRetentionPeriod"] >= 7
    assert props["DeletionProtection"] is True
    assert props["PubliclyAccessible"] is False
    assert props["DBName"] == DATABASE_NAME
    assert props["Port"] == str(DATABASE_PORT)
    assert database["DeletionPolicy"] == "Snapshot"


def test_rds_proxy_requires_iam_auth_and_tls(synthesized: Synthesized) -> None:
    _, proxy = only(synthesized.of_type("AWS::RDS::DBProxy"))
    props = proxy["Properties"]
    assert props["RequireTLS"] is True
    assert props["EngineFamily"] == "POSTGRESQL"
    (secret_attachment,) = synthesized.of_type("AWS::SecretsManager::SecretTargetAttachment")
    assert props["Auth"] == [
        {"AuthScheme": "SECRETS", "IAMAuth": "REQUIRED", "SecretArn": ref(secret_attachment)}
    ]
    _, target_group = only(synthesized.of_type("AWS::RDS::DBProxyTargetGroup"))
    (database_id,) = synthesized.of_type("AWS::RDS::DBInstance")
    assert target_group["Properties"]["DBInstanceIdentifiers"] == [ref(database_id)]


def test_a_full_proxy_pool_fails_before_the_api_functions_time_out(synthesized: Synthesized) -> None:
    _, target_group = only(synthesized.of_type("AWS::RDS::DBProxyTargetGroup"))
    borrow = target_group["Properties"]["ConnectionPoolConfigurationInfo"]["ConnectionBorrowTimeout"]
    for name, logical_id in synthesized.functions().items():
        if "database" in topology.function(name).uses:
            assert borrow < synthesized.props(logical_id)["Timeout"], name


def test_only_the_functions_security_group_reaches_the_proxy(synthesized: Synthesized) -> None:
    _, proxy = only(synthesized.of_type("AWS::RDS::DBProxy"))
    (proxy_group,) = proxy["Properties"]["VpcSecurityGroupIds"]
    functions_groups = {
        json.dumps(synthesized.props(lid)["VpcConfig"]["SecurityGroupIds"][0])
        for lid in synthesized.functions().values()
        if "VpcConfig" in synthesized.props(lid)
    }
    assert len(functions_groups) == 1
    ingress = [
        i["Properties"]
        for i in synthesized.of_type("AWS::EC2::SecurityGroupIngress").values()
        if i["Properties"]["GroupId"] == proxy_group
    ]
    assert [(json.dumps(i["SourceSecurityGroupId"]), i["FromPort"], i["ToPort"]) for i in ingress] == [
        (functions_groups.pop(), DATABASE_PORT, DATABASE_PORT)
    ]


def test_functions_connect_as_the_proxy_user(synthesized: Synthesized) -> None:
    proxy_id, _ = only(synthesized.of_type("AWS::RDS::DBProxy"))
    for logical_id in synthesized.functions().values():
        variables = synthesized.props(logical_id)["Environment"]["Variables"]
        if "DB_HOST" in variables:
            assert variables["DB_HOST"] == {"Fn::GetAtt": [proxy_id, "Endpoint"]}
            assert variables["DB_USER"] == DATABASE_USER
            assert variables["DB_IAM_AUTH"] == "true"
            assert variables["DB_SSLMODE"] == "verify-full"


def test_migrations_run_on_deploy_after_the_database_and_proxy(synthesized: Synthesized) -> None:
    _, trigger = only(synthesized.of_type("Custom::Trigger"))
    migrate = synthesized.functions()["migrate"]
    (version_id,) = [
        k
        for k, v in synthesized.of_type("AWS::Lambda::Version").items()
        if v["Properties"]["FunctionName"] == ref(migrate)
    ]
    assert trigger["Properties"]["HandlerArn"] == ref(version_id)
    assert trigger["Properties"]["InvocationType"] == "RequestResponse"
    depends = set(trigger.get("DependsOn", []))
    assert set(synthesized.of_type("AWS::RDS::DBInstance")) <= depends
    assert set(synthesized.of_type("AWS::RDS::DBProxy")) <= depends
    assert set(synthesized.of_type("AWS::RDS::DBProxyTargetGroup")) <= depends
