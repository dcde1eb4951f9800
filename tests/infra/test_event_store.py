"""The CDK table is the table the code is tested against (ordering/adapters/dynamodb_table.py)."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from ordering.adapters.dynamodb_table import TTL_ATTRIBUTE, create_table
from tests.infra.conftest import Synthesized

pytestmark = pytest.mark.infra


@pytest.fixture(scope="module")
def table(synthesized: Synthesized) -> dict:
    (resource,) = synthesized.of_type("AWS::DynamoDB::Table").values()
    return resource


@pytest.fixture(scope="module")
def local_table() -> dict:
    """What create_table makes, as DynamoDB (moto) describes it."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        create_table(client, "events")
        description = client.describe_table(TableName="events")["Table"]
        description["TimeToLive"] = client.describe_time_to_live(TableName="events")["TimeToLiveDescription"]
        return description


@pytest.mark.moto
def test_keys_billing_stream_and_ttl_match_the_local_table(table: dict, local_table: dict) -> None:
    props = table["Properties"]
    assert props["KeySchema"] == local_table["KeySchema"]
    assert sorted(props["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
        local_table["AttributeDefinitions"], key=lambda a: a["AttributeName"]
    )
    assert props["BillingMode"] == local_table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert (
        props["StreamSpecification"]["StreamViewType"] == local_table["StreamSpecification"]["StreamViewType"]
    )
    assert props["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}
    assert local_table["TimeToLive"] == {"AttributeName": TTL_ATTRIBUTE, "TimeToLiveStatus": "ENABLED"}


def test_stream_carries_new_images(table: dict) -> None:
    assert table["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}


def test_the_log_survives_mistakes(table: dict) -> None:
    props = table["Properties"]
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["DeletionProtectionEnabled"] is True
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
