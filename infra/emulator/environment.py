"""Each function's environment, as the CDK app would set it, from the topology and the local resources.

A function sees only what its Lambda would see: the topology's common and own variables, one
variable per resource it uses, the Lambda runtime's own variables and fake credentials. It
does not inherit the shell's environment, so a local run cannot depend on something that
would be missing on AWS.

The runtime's variables are all of Lambda's reserved ones, the same for `orders dev`'s
containers and for `bench coldstart`: libraries behave differently in Lambda, e.g. the X-Ray
SDK built two botocore clients at import when LAMBDA_TASK_ROOT was unset.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

from infra import topology
from infra.emulator import traces
from infra.emulator.aws import FAKE_CREDENTIALS
from infra.emulator.functions import CODE_ROOT
from infra.emulator.resources import Resources
from ordering.config import variables

# What a process needs to start at all; none of it is configuration.
_PROCESS_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "PYTHONPATH")


def resource_variables(
    function: topology.Function, resources: Resources, database_url: str
) -> dict[str, str]:
    """The local values of each resource the function uses; the names are ordering/config.py's."""
    values = {
        "table": {"table_name": resources.table_name},
        "payment_queue": {"payment_queue_url": resources.queue_urls["payment"]},
        "deadline_queue": {"deadline_queue_url": resources.queue_urls["payment-deadline"]},
        "refund_queue": {"refund_queue_url": resources.queue_urls["refund"]},
        "event_bus": {"event_bus_name": resources.event_bus_name},
        "mailer": {"sender_email": resources.sender_email},
        "database": {"database_url": database_url},
        "payment_gateway": {"payment_gateway": "fake"},
    }
    found: dict[str, str] = {}
    for resource in sorted(function.uses):
        found |= variables(resource, **values[resource])
    return found


def lambda_variables(
    function: topology.Function,
    region: str,
    *,
    task_root: Path,
    python_version: str = f"{sys.version_info.major}.{sys.version_info.minor}",
    initialization_type: str = "on-demand",
) -> dict[str, str]:
    """Lambda's reserved variables for this function, as its runtime sets them (tracing active).

    `initialization_type` is "snap-start" for a function restored from a snapshot.
    """
    return {
        "_HANDLER": function.handler,
        "_X_AMZN_TRACE_ID": traces.new_header(),  # the init's; each invocation gets its own (traces.py)
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": initialization_type,
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"local/[$LATEST]{uuid.uuid4().hex}",
        "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{python_version}",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "LAMBDA_TASK_ROOT": str(task_root),
        "LAMBDA_RUNTIME_DIR": str(task_root),
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
        "_AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129",
        "_AWS_XRAY_DAEMON_PORT": "2000",
        "TZ": ":UTC",
        "PYTHONUNBUFFERED": "1",
    }


def function_environment(
    function: topology.Function, resources: Resources, database_url: str, *, task_root: Path | None = None
) -> dict[str, str]:
    """`task_root`: where the function's code is (the working copy, for `orders dev`)."""
    env = {name: os.environ[name] for name in _PROCESS_VARIABLES if name in os.environ}
    env.update(
        {
            **lambda_variables(function, resources.region, task_root=task_root or CODE_ROOT),
            # Locally: every AWS call goes to moto, signed with credentials that reach nothing real.
            "AWS_ENDPOINT_URL": resources.endpoint,
            **FAKE_CREDENTIALS,
            **topology.COMMON_ENVIRONMENT,
            **function.environment,
            **resource_variables(function, resources, database_url),
        }
    )
    return env
