"""Fixtures of the end-to-end layer: the local runtime, with stand-in handlers or the real ones."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from infra import topology

STAND_INS = {
    "stream": "tests.e2e.stand_ins.stream",
    "sqs": "tests.e2e.stand_ins.queue",
    "eventbridge": "tests.e2e.stand_ins.rule_target",
    "api": "tests.e2e.stand_ins.api",
    "cognito": "tests.e2e.stand_ins.cognito",
}
STAND_IN_API_TIMEOUT = 2  # seconds: short, so that a test can outlive it


def stand_in_functions(record_dir: Path) -> tuple[topology.Function, ...]:
    """The topology's functions, same names and settings, with stand-in handlers that record."""
    specs = []
    for function in topology.FUNCTIONS:
        environment = {**function.environment, "RECORD_DIR": str(record_dir)}
        if function.name == "publisher":
            environment["FAIL_BY"] = "raise"  # one consumer fails by error, the other by partial response
        spec = replace(
            function,
            handler=STAND_INS.get(function.trigger, "tests.e2e.stand_ins.any_function"),
            environment=environment,
        )
        if function.trigger == "api":
            spec = replace(spec, timeout_seconds=STAND_IN_API_TIMEOUT)
        specs.append(spec)
    return tuple(specs)


def recorded(record_dir: Path, function: str) -> list[dict[str, Any]]:
    path = record_dir / f"{function}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def eventually(check: Callable[[], Any], *, timeout: float = 30, interval: float = 0.1) -> Any:
    """Poll `check` until it returns something truthy; fail with its last value after `timeout`."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"not reached within {timeout} s; last value: {value!r}")
