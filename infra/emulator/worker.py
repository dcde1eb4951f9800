"""One function container: `python -m infra.emulator.worker <module.attribute>`.

Like a Lambda execution environment it imports the handler once (the init phase), then runs
one invocation at a time; module globals and the environment belong to this function only.
The parent speaks JSON lines with it: `{"id", "event", "context"}` in on stdin, `{"id",
"result"}` or `{"id", "error"}` out on a private copy of stdout. Whatever the handler prints,
and Powertools' logs, go to stderr, which the parent forwards to its own log.
"""

from __future__ import annotations

import decimal
import importlib
import json
import os
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Any, TextIO

INVOCATION_END = "\x1eorders-invocation-end "  # on stderr after each invocation: its logs end here


@dataclass
class LambdaContext:
    """The attributes of the context object AWS passes to a Python handler."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    deadline_ms: int
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    identity: Any = None
    client_context: Any = None
    tenant_id: Any = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_ms - int(time.time() * 1000))


def _json_default(value: Any) -> Any:
    # The Python Lambda runtime serialises a Decimal in a handler's result as a number too.
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _error(kind: str, error: BaseException) -> dict[str, Any]:
    return {
        "errorType": kind or type(error).__name__,
        "errorMessage": str(error),
        "stackTrace": traceback.format_exception(error),
    }


def _load(handler_path: str) -> Any:
    module_name, _, attribute = handler_path.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def serve(handler_path: str, requests: TextIO, replies: TextIO) -> None:
    init_error: dict[str, Any] | None = None
    handler = None
    try:
        handler = _load(handler_path)
    except Exception as error:  # reported on every invocation, as Lambda does
        init_error = _error("Runtime.ImportModuleError", error)
    replies.write(json.dumps({"ready": init_error is None}) + "\n")
    replies.flush()
    for line in requests:
        request = json.loads(line)
        reply: dict[str, Any] = {"id": request["id"]}
        if init_error is not None:
            reply["error"] = init_error
        else:
            context = LambdaContext(**request["context"])
            try:
                result = handler(request["event"], context)  # type: ignore[misc]
            except Exception as error:
                reply["error"] = _error("", error)
            else:
                try:
                    reply["result"] = json.loads(json.dumps(result, default=_json_default))
                except (TypeError, ValueError) as error:
                    reply["error"] = _error("Runtime.MarshalError", error)
        sys.stdout.flush()
        sys.stderr.write(f"{INVOCATION_END}{request['id']}\n")
        sys.stderr.flush()
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def main() -> None:
    # Keep fd 1 for replies only; anything else written to stdout (print, Powertools) goes to stderr.
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = os.fdopen(1, "w", encoding="utf-8", buffering=1)
    serve(sys.argv[1], sys.stdin, replies)


if __name__ == "__main__":
    main()
