"""Each function's environment, as the CDK app would set it, from the topology and the local resources.

A function sees only what its Lambda would see: the topology's common and own variables, one
variable per resource it uses, the Lambda runtime's own variables and fake credentials. It
does not inherit the shell's environment, so a local run cannot depend on something that
would be missing on AWS.
"""

from __future__ import annotations

import os
import sys

from infra import topology
from infra.emulator.aws import FAKE_CREDENTIALS
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
        "event_bus": {"event_bus_name": resources.event_bus_name},
        "mailer": {"sender_email": resources.sender_email},
        "database": {"database_url": database_url},
        "payment_gateway": {"payment_gateway": "fake"},
    }
    found: dict[str, str] = {}
    for resource in sorted(function.uses):
        found |= variables(resource, **values[resource])
    return found


def function_environment(
    function: topology.Function, resources: Resources, database_url: str
) -> dict[str, str]:
    env = {name: os.environ[name] for name in _PROCESS_VARIABLES if name in os.environ}
    env.update(
        {
            # The Lambda runtime's own variables.
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.name}",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}",
            "AWS_REGION": resources.region,
            "AWS_DEFAULT_REGION": resources.region,
            "TZ": ":UTC",
            "PYTHONUNBUFFERED": "1",
            # Locally: every AWS call goes to moto, signed with credentials that reach nothing real.
            "AWS_ENDPOINT_URL": resources.endpoint,
            **FAKE_CREDENTIALS,
            # No X-Ray daemon here.
            "POWERTOOLS_TRACE_DISABLED": "true",
            **topology.COMMON_ENVIRONMENT,
            **function.environment,
            **resource_variables(function, resources, database_url),
        }
    )
    return env
