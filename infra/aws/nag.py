"""cdk-nag (AwsSolutions) findings we accept, each with the reason written next to the resource.

cdk-nag 3 reports through CDK's policy validation: a finding nobody acknowledged fails the
synth. An acknowledgment applies to the construct it is made on and everything inside it.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Accept `rule` (e.g. "AwsSolutions-RDS3", or "AwsSolutions-IAM5[Resource::*]") for this reason."""
    if len(reason.split()) < 8:
        raise ValueError(f"{rule}: say why in a sentence, not {reason!r}")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))
