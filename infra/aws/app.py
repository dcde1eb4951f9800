"""The CDK app: `cdk synth` and `cdk deploy` run this (cdk.json: `python -m infra.aws.app`).

Context (`-c name=value`):
  senderEmail       required: the address SES sends from (SES e-mails it a verification link)
  stackName         default "orders": prefixes every resource name, so stacks can sit side by side
  alarmEmail        optional: subscribe this address to the alarm topic
  stripeSecretArn   optional: charge through Stripe with the API key in this Secrets Manager secret
  skipBundling      "true": do not build the function packages (synth for checks only, never deploy)

Every synth runs cdk-nag's AwsSolutions pack: an unexplained finding is an error.
"""

from __future__ import annotations

import aws_cdk as cdk  # infra/aws/__init__.py has pointed jsii at the wheel's node
from cdk_nag import AwsSolutionsChecks

from infra.aws.stack import OrdersStack

BUNDLING_STACKS = "aws:cdk:bundling-stacks"  # CDK's own switch: the stacks whose assets are built


class MissingContext(ValueError):
    pass


def _flag(value: object) -> bool:
    return value is True or str(value).lower() == "true"


def build_app(context: dict | None = None, outdir: str | None = None) -> tuple[cdk.App, OrdersStack]:
    app = cdk.App(context=context, outdir=outdir)
    if _flag(app.node.try_get_context("skipBundling")):
        # The CLI always sets this context itself; the app may still change it before any child exists.
        app.node.set_context(BUNDLING_STACKS, [])
    sender_email = app.node.try_get_context("senderEmail")
    if not sender_email:
        raise MissingContext("pass the address SES sends from: -c senderEmail=you@example.com")
    stack = OrdersStack(
        app,
        app.node.try_get_context("stackName") or "orders",
        description="orders: event-sourced order processing (infra/topology.py)",
        sender_email=sender_email,
        alarm_email=app.node.try_get_context("alarmEmail"),
        stripe_secret_arn=app.node.try_get_context("stripeSecretArn"),
    )
    if not stack.bundling_required:
        cdk.Annotations.of(stack).add_warning_v2(
            "orders:bundling-skipped",
            "Function packages were not built (bundling skipped): this assembly is for checks, "
            "not for deploy.",
        )
    add_checks(app)
    return app, stack


def add_checks(app: cdk.App) -> None:
    """cdk-nag's AwsSolutions pack: a finding nobody acknowledged (nag.py) fails the synth.

    Acknowledged findings are also written into each resource's Metadata: the audit trail is in the template.
    """
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True))


def main() -> None:
    app, _ = build_app()
    app.synth()


if __name__ == "__main__":
    main()
