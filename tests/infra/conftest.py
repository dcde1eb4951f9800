"""One synthesis of the CDK app per test session, shared by every test in tests/infra.

Synthesis runs in-process (jsii starts the wheel's node), offline, with bundling skipped
through CDK's own context switch: the template is what `cdk deploy` would submit, only the
function packages are not built (tests/infra/test_bundling.py builds them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import infra.aws  # noqa: F401  (points jsii at the wheel's node before aws_cdk is imported)

REPO_ROOT = Path(__file__).resolve().parents[2]
SENDER = "orders@example.com"
# What the CDK CLI adds to the context of every synth: with them the template is byte for byte
# the one `cdk synth` writes (tests/infra/test_cdk_cli.py compares the two).
CLI_CONTEXT = {
    "aws:cdk:enable-path-metadata": True,
    "aws:cdk:enable-asset-metadata": True,
    "aws:cdk:version-reporting": True,
}


def cdk_json_context() -> dict[str, Any]:
    """The feature flags `cdk synth` would pass, so that tests synthesize the same template."""
    return json.loads((REPO_ROOT / "cdk.json").read_text(encoding="utf-8"))["context"]


@dataclass(frozen=True)
class Synthesized:
    template: dict[str, Any]
    outdir: Path
    stack_name: str

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template["Resources"]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: r for k, r in self.resources.items() if r["Type"] == resource_type}

    def props(self, logical_id: str) -> dict[str, Any]:
        return self.resources[logical_id].get("Properties", {})

    def functions(self) -> dict[str, str]:
        """topology function name -> logical id, from the tag the Functions construct sets."""
        from infra.aws.functions import FUNCTION_TAG

        found = {}
        for logical_id, resource in self.of_type("AWS::Lambda::Function").items():
            tags = {t["Key"]: t["Value"] for t in resource["Properties"].get("Tags", [])}
            if FUNCTION_TAG in tags:
                found[tags[FUNCTION_TAG]] = logical_id
        return found

    def queues(self) -> dict[str, str]:
        """topology queue name -> logical id."""
        prefix = f"{self.stack_name}-"
        return {
            r["Properties"]["QueueName"].removeprefix(prefix): k
            for k, r in self.of_type("AWS::SQS::Queue").items()
        }


def synthesize(outdir: Path, **context: Any) -> tuple[Any, Any]:
    from infra.aws.app import build_app

    app, stack = build_app(
        {**cdk_json_context(), **CLI_CONTEXT, "skipBundling": "true", "senderEmail": SENDER, **context},
        outdir=str(outdir),
    )
    return app, stack


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    outdir = tmp_path_factory.mktemp("cdk.out")
    app, stack = synthesize(outdir)
    assembly = app.synth()
    template = assembly.get_stack_by_name(stack.stack_name).template
    return Synthesized(template=template, outdir=outdir, stack_name=stack.stack_name)


@pytest.fixture(scope="session")
def template(synthesized: Synthesized):
    """The same template as aws_cdk.assertions.Template, for its matchers."""
    from aws_cdk.assertions import Template

    return Template.from_json(synthesized.template)


def ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


def arn_of(logical_id: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}
