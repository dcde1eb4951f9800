"""`orders invoke`: run one function once on one event, as `sam local invoke` does.

Against the running `orders dev` when there is one (through its Lambda Invoke API, so the
function sees that system's table, queues and read model); otherwise in a throwaway local
runtime started for this one invocation and stopped after it. Either way the function runs
in a container with the topology's environment, and what it logged comes back with it.
"""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra import topology
from infra.dev.client import DevClient
from infra.emulator import logs


class UnknownFunction(ValueError):
    def __init__(self, name: str) -> None:
        names = ", ".join(f.name for f in topology.FUNCTIONS)
        super().__init__(f"no function {name!r}; the functions are: {names}")


@dataclass(frozen=True)
class Outcome:
    function: str
    ok: bool
    payload: Any  # the handler's result, or Lambda's error object
    logs: list[str]
    duration_ms: float | None
    cold_start: bool | None


def check_function(name: str) -> None:
    if name not in {f.name for f in topology.FUNCTIONS}:
        raise UnknownFunction(name)


def on_running(client: DevClient, function: str, event: dict[str, Any]) -> Outcome:
    check_function(function)
    ok, payload, record = client.invoke_logged(function, event)
    return Outcome(
        function, ok, payload, record.get("logs", []), record.get("duration_ms"), record.get("cold_start")
    )


def on_throwaway_runtime(function: str, event: dict[str, Any]) -> Outcome:
    """Start moto, Postgres, the resources and the functions, invoke once, stop everything."""
    from infra.dev.runtime import LocalRuntime, Options

    check_function(function)
    logs.configure(io.StringIO())  # the runtime's own lines are not this command's output
    with tempfile.TemporaryDirectory(prefix="orders-invoke-") as scratch:
        runtime = LocalRuntime(Options(port=0, state_file=Path(scratch) / "dev.json", hot_reload=False))
        runtime.start()
        try:
            assert runtime.functions is not None
            invocation = runtime.functions.invoke(function, event, source="invoke")
        finally:
            runtime.stop(save=False)
            logs.configure()
    payload = invocation.result if invocation.ok else invocation.error
    return Outcome(
        function,
        invocation.ok,
        payload,
        list(invocation.log_lines),
        round(invocation.duration_ms, 1),
        invocation.cold_start,
    )
