"""Borrow a function's environment from the running `orders dev`, for commands that run its code here."""

from __future__ import annotations

import os
from pathlib import Path

import click


def running_system(state_file: Path):
    """The DevClient of the running `orders dev`, or a one-line error that says what to type."""
    from infra.dev.client import DevClient
    from infra.dev.state import NotRunning

    try:
        return DevClient.from_state_file(state_file)
    except NotRunning as error:
        raise click.ClickException(f"{error} (in another shell; then run this again)") from None


def use_function_environment(function: str, state_file: Path) -> None:
    """Put `function`'s environment (from the topology and the running system) into this process.

    Unless TABLE_NAME is already set: then the caller means another system (its own
    TABLE_NAME, AWS_ENDPOINT_URL and DATABASE_URL or DB_*), and the environment is left alone.
    """
    if "TABLE_NAME" in os.environ:
        return
    from infra import topology
    from infra.emulator.environment import function_environment

    without_aws_profile()
    state = running_system(state_file).state
    os.environ.update(function_environment(topology.function(function), state.resources, state.database_url))


def without_aws_profile() -> None:
    """The local commands never reach AWS: a profile named in the shell (that may not even exist
    here) must not make boto3 fail on the way to moto. Said once, on stderr."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        value = os.environ.pop(name, None)
        if value is not None:
            click.echo(f"orders: ignoring {name}={value}: the local system uses fake credentials", err=True)
