"""A SnapStart function's stand-in for tests/functional/test_local_snapstart.py: it says what
its init, its runtime hooks and each invocation saw."""

from __future__ import annotations

import os
import random
import time
from typing import Any

from snapshot_restore_py import register_after_restore, register_before_snapshot

INIT_PID = os.getpid()
INITIALIZATION_TYPE = os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE")
hooks: list[str] = []


@register_before_snapshot
def first_before_snapshot() -> None:
    hooks.append("before snapshot 1")


@register_before_snapshot
def second_before_snapshot() -> None:
    hooks.append("before snapshot 2")


@register_after_restore
def first_after_restore() -> None:
    hooks.append(f"after restore 1 in {os.getpid()}")


@register_after_restore
def second_after_restore() -> None:
    random.seed()
    hooks.append(f"after restore 2 in {os.getpid()}")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    time.sleep(event.get("sleep", 0))
    return {
        "init_pid": INIT_PID,
        "pid": os.getpid(),
        "initialization_type": INITIALIZATION_TYPE,
        "hooks": list(hooks),
        "random": random.random(),
    }
