"""One cold start, in a fresh process: `python -m bench.coldstart_child <module.attribute> <request file>`.

Like Lambda's init phase it imports the handler, then serves one event, and writes how long
each took to the reply file named in the request. Only the standard library is imported
before the clock starts, so the import of the handler is measured whole.

With `--record-calls` it imports botocore first (which spoils the timing, so that run is not
timed) and lists every AWS API call the invocation made: the benchmark checks that a
baseline makes the same calls as the function it stands beside.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import importlib  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402


class Context:
    """The Lambda context object's attributes (a plain class: dataclasses would be imported early)."""

    def __init__(self, **attributes: Any) -> None:
        self.__dict__.update(attributes)
        self.function_version = "$LATEST"
        self.log_stream_name = "bench"
        self.identity = self.client_context = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self.deadline_ms - time.time() * 1000))


def _record_calls() -> list[str]:
    import botocore.client

    calls: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self: Any, operation_name: str, api_params: Any) -> Any:
        calls.append(f"{self.meta.service_model.service_name}:{operation_name}")
        return original(self, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = recording  # type: ignore[method-assign]
    return calls


def main(argv: list[str]) -> None:
    record = "--record-calls" in argv
    handler_path, request_file = [arg for arg in argv if not arg.startswith("--")]
    with open(request_file, encoding="utf-8") as source:
        request = json.load(source)
    calls = _record_calls() if record else None

    began_import = time.perf_counter()
    module_name, _, attribute = handler_path.rpartition(".")
    handler = getattr(importlib.import_module(module_name), attribute)
    imported = time.perf_counter()
    result = handler(request["event"], Context(**request["context"]))
    invoked = time.perf_counter()

    reply = {
        "init_seconds": imported - began_import,
        "first_invocation_seconds": invoked - imported,
        "before_import_seconds": began_import - STARTED,
        "result": json.loads(json.dumps(result, default=str)),
        "calls": calls,
    }
    with open(request["reply_file"], "w", encoding="utf-8") as out:
        json.dump(reply, out)


if __name__ == "__main__":
    main(sys.argv[1:])
