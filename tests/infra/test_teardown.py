"""What `cdk destroy` keeps: only what docs/deploy.md ("Tear down") tells the reader to remove by hand."""

from __future__ import annotations

import pytest

from tests.infra.conftest import Synthesized

pytestmark = pytest.mark.infra

KEPT = {
    ("AWS::DynamoDB::Table", "Retain"),  # the event log: the only source of truth
    ("AWS::Cognito::UserPool", "Retain"),  # the users
    ("AWS::RDS::DBInstance", "Snapshot"),  # a final snapshot of the read model
    # The account-wide role API Gateway logs with (other APIs of the account may rely on it).
    ("AWS::IAM::Role", "Retain"),
    ("AWS::ApiGateway::Account", "Retain"),
}


def test_destroy_keeps_exactly_the_documented_resources(synthesized: Synthesized) -> None:
    kept = {
        (r["Type"], r["DeletionPolicy"])
        for r in synthesized.resources.values()
        if r.get("DeletionPolicy", "Delete") != "Delete"
    }
    assert kept == KEPT
    assert sum(
        1 for r in synthesized.resources.values() if r.get("DeletionPolicy", "Delete") != "Delete"
    ) == len(KEPT)


def test_what_is_kept_is_also_protected_from_accidental_deletion(synthesized: Synthesized) -> None:
    (table,) = synthesized.of_type("AWS::DynamoDB::Table").values()
    (pool,) = synthesized.of_type("AWS::Cognito::UserPool").values()
    (database,) = synthesized.of_type("AWS::RDS::DBInstance").values()
    assert table["Properties"]["DeletionProtectionEnabled"] is True
    assert pool["Properties"]["DeletionProtection"] == "ACTIVE"
    assert database["Properties"]["DeletionProtection"] is True
