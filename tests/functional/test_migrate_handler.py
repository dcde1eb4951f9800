"""handlers/migrate.py as the deployment invokes it: a CDK trigger (empty event) or the
custom-resource Provider framework (CloudFormation requests)."""

from __future__ import annotations

import uuid

import pytest
from psycopg import sql

from handlers import migrate as migrate_handler
from ordering import bootstrap
from ordering.adapters.read_model_tables.migrator import migrations
from tests.functional.invoke import Context
from tests.support.postgres import connect, database_url

pytestmark = pytest.mark.postgres
LATEST = len(migrations())


@pytest.fixture
def schema(monkeypatch):
    name = f"deploy_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("DATABASE_URL", database_url())
    monkeypatch.setenv("READ_MODEL_SCHEMA", name)
    bootstrap.reset()
    yield name
    bootstrap.reset()
    with connect() as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


def cloudformation(request_type: str, **extra) -> dict:
    return {
        "RequestType": request_type,
        "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:provider",
        "ResponseURL": "https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/x",
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/orders/1",
        "RequestId": str(uuid.uuid4()),
        "LogicalResourceId": "Migrations",
        "ResourceType": "Custom::Migrations",
        "ResourceProperties": {"ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:provider"},
        **extra,
    }


def invoke(event: dict) -> dict:
    return migrate_handler.handler(event, Context(function_name="migrate"))


def test_a_trigger_migrates_and_says_what_it_applied(schema):
    first = invoke({})
    every = ",".join(f"{m.version:03d}_{m.name}" for m in migrations())
    assert first == {"schema": schema, "applied": every, "version": LATEST}
    assert invoke({}) == {"schema": schema, "applied": "", "version": LATEST}


def test_create_and_update_migrate_delete_keeps_the_data(schema):
    created = invoke(cloudformation("Create"))
    assert created["PhysicalResourceId"] == migrate_handler.PHYSICAL_ID
    assert created["Data"]["version"] == LATEST
    updated = invoke(cloudformation("Update", PhysicalResourceId=created["PhysicalResourceId"]))
    assert updated["Data"]["applied"] == ""
    deleted = invoke(cloudformation("Delete", PhysicalResourceId=created["PhysicalResourceId"]))
    assert deleted == {"PhysicalResourceId": created["PhysicalResourceId"]}
    with connect() as conn:
        assert conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema]).fetchone() == (1,)


def test_an_unreachable_database_fails_the_deployment(schema, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://x@127.0.0.1:1/x?connect_timeout=2")
    bootstrap.reset()
    with pytest.raises(Exception, match=r"127\.0\.0\.1"):
        invoke(cloudformation("Create"))


def test_an_unknown_request_type_fails(schema):
    with pytest.raises(ValueError, match="RequestType"):
        invoke(cloudformation("Rollback"))
