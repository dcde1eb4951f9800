"""The single table's keys, and creating it where the CDK app does not: locally and in tests.

The key constants are the one definition every layer uses (the stream filter in
infra/topology.py, the benchmarks' baselines, the local tools); this module imports nothing
heavy, so a baseline can use them too. The CDK app (infra/aws) defines the same table for AWS;
tests/infra compares the two.
"""

from __future__ import annotations

from typing import Any

EVENT_PREFIX = "EV#"  # the sort key of every event item; only these reach the stream consumers
HEAD_KEY = "HEAD"  # the sort key of a SKU's head
TTL_ATTRIBUTE = "expiration"  # Powertools' idempotency records and the leases expire through it
LEASE_PREFIX = "lease#"  # the partition key of a lease: lease#<key>
LEASE_KEY = "LEASE"  # its sort key


def event_key(version: int) -> str:
    return f"{EVENT_PREFIX}{version:010d}"


def create_table(client: Any, table_name: str) -> str:
    """Create the table (on-demand, stream NEW_IMAGE, TTL) and return its stream ARN."""
    client.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    client.get_waiter("table_exists").wait(TableName=table_name)
    client.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
    )
    return client.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
