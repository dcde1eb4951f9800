"""cfn-lint and cdk-nag (AwsSolutions) on the synthesized template."""

from __future__ import annotations

import json

import pytest
from cfnlint.api import ManualArgs, lint

from tests.infra.conftest import Synthesized

pytestmark = pytest.mark.infra

# Every cdk-nag finding the app accepts. Each is acknowledged next to its resource, with the reason.
ACKNOWLEDGED = {
    "AwsSolutions-APIG3",
    "AwsSolutions-COG2",
    "AwsSolutions-COG3",
    "AwsSolutions-COG8",
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]",
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
    "AwsSolutions-IAM5[Resource::*]",
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/*]",
    "AwsSolutions-L1",
    "AwsSolutions-RDS3",
    "AwsSolutions-RDS11",
    "AwsSolutions-SMG4",
    "AwsSolutions-SQS3",
}


def test_cfn_lint_reports_no_errors(synthesized: Synthesized) -> None:
    matches = lint(json.dumps(synthesized.template), config=ManualArgs(regions=["eu-west-1", "us-east-1"]))
    errors = [str(m) for m in matches if m.rule.id.startswith("E")]
    assert errors == []


def _acknowledgments(synthesized: Synthesized) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for resource in synthesized.resources.values():
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
            found.setdefault(rule["id"], set()).add(rule["reason"])
    return found


def test_cdk_nag_findings_are_only_the_acknowledged_ones_each_with_a_reason(synthesized: Synthesized) -> None:
    """The synth itself fails on an unacknowledged finding; the template keeps the audit trail."""
    ours = {
        rule: reasons
        for rule, reasons in _acknowledgments(synthesized).items()
        if rule.startswith("AwsSolutions-")
    }
    assert set(ours) == ACKNOWLEDGED
    for rule, reasons in ours.items():
        assert len(reasons) == 1, rule
        assert len(next(iter(reasons)).split()) >= 8, rule


def test_cdk_nag_stops_a_synth_with_an_unexplained_finding(tmp_path) -> None:
    """The same checks on a stack holding one unencrypted queue: the synth must refuse it."""
    import aws_cdk as cdk
    from aws_cdk import aws_sqs as sqs

    from infra.aws.app import add_checks

    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Bad")
    sqs.Queue(stack, "Plain", encryption=sqs.QueueEncryption.UNENCRYPTED)
    add_checks(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    rules = {v["ruleName"] for p in report["pluginReports"] for v in p["violations"]}
    assert "AwsSolutions-SQS2" in rules  # the queue is not encrypted
