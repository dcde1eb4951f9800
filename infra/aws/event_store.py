"""The event log: the one DynamoDB table every change is written to."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from ordering.adapters.dynamodb_table import TTL_ATTRIBUTE


class EventStore(Construct):
    """The same table ordering/adapters/dynamodb_table.py creates locally (tests/infra compares them).

    On-demand, so nobody sizes capacity; point-in-time recovery and deletion protection,
    because the log is the system's only source of truth; stream NEW_IMAGE, which the
    projector and the publisher read; TTL on `expiration` for Powertools' idempotency records
    and the leases.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name="PK", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="SK", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            stream=dynamodb.StreamViewType.NEW_IMAGE,
            time_to_live_attribute=TTL_ATTRIBUTE,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            removal_policy=RemovalPolicy.RETAIN,
        )
