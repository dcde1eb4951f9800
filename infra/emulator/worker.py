"""One function container: `python -m infra.emulator.worker <module.attribute>`.

Like a Lambda execution environment it imports the handler once (the init phase), then runs
one invocation at a time; module globals and the environment belong to this function only.
The parent speaks JSON lines with it: `{"id", "event", "context"}` in on stdin, `{"id",
"result"}` or `{"id", "error"}` out on a private copy of stdout. Whatever the handler prints,
and Powertools' logs, go to stderr, which the parent forwards to its own log.

A SnapStart function's snapshot: `python -m infra.emulator.worker --snapshot FD <module.attribute>`
inits the handler once (AWS_LAMBDA_INITIALIZATION_TYPE=snap-start), runs the before-snapshot
hooks (in reverse order of registration, as Lambda does), and then, for each new container the
parent asks for on the Unix socket FD (sending the container's stdin, stdout and stderr), forks
a restored container: a copy of the initialised memory, as a restore is, which runs the
after-restore hooks (in order of registration) and then serves like any container.
"""

from __future__ import annotations

import decimal
import importlib
import json
import os
import signal
import socket
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


def _init(handler_path: str) -> tuple[Any, dict[str, Any] | None]:
    """The init phase: the handler, or the error every invocation reports (as Lambda does)."""
    try:
        return _load(handler_path), None
    except Exception as error:
        return None, _error("Runtime.ImportModuleError", error)


def serve(handler_path: str, requests: TextIO, replies: TextIO) -> None:
    handler, init_error = _init(handler_path)
    serve_initialised(handler, init_error, requests, replies)


def serve_initialised(
    handler: Any, init_error: dict[str, Any] | None, requests: TextIO, replies: TextIO
) -> None:
    replies.write(json.dumps({"ready": init_error is None}) + "\n")
    replies.flush()
    for line in requests:
        request = json.loads(line)
        reply: dict[str, Any] = {"id": request["id"]}
        if init_error is not None:
            reply["error"] = init_error
        else:
            fields = dict(request["context"])
            trace_header = fields.pop("trace_header", None)
            if trace_header:  # set anew for each invocation, as Lambda does
                os.environ["_X_AMZN_TRACE_ID"] = trace_header
            context = LambdaContext(**fields)
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


RESTORE_REQUEST = b"restore"


def _run_hooks(hooks: list[tuple[Any, tuple, dict]]) -> None:
    for hook, args, kwargs in hooks:
        hook(*args, **kwargs)


def snapshot(handler_path: str, control: socket.socket) -> None:
    """Init once, then fork a restored container for each request on `control` until it closes."""
    from snapshot_restore_py import get_after_restore, get_before_snapshot  # the Lambda runtime's

    handler, init_error = _init(handler_path)
    if init_error is None:
        _run_hooks(list(reversed(get_before_snapshot())))
    control.sendall(json.dumps({"ready": init_error is None}).encode() + b"\n")
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # restored containers are reaped by the kernel
    while True:
        message, fds, _, _ = socket.recv_fds(control, len(RESTORE_REQUEST), 3)
        if message != RESTORE_REQUEST or len(fds) != 3:
            return  # the parent closed the socket: no more restores
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            control.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            stdin, replies_fd, stderr = fds
            # The restored container's own pipes in place of the snapshot's: every stream opened
            # at init (Powertools' logger holds sys.stdout) now writes to this container's stderr.
            os.dup2(stdin, 0)
            os.dup2(stderr, 2)
            os.dup2(stderr, 1)
            os.close(stdin)
            os.close(stderr)
            replies = os.fdopen(replies_fd, "w", encoding="utf-8")
            if init_error is None:
                _run_hooks(get_after_restore())
            serve_initialised(
                handler, init_error, os.fdopen(0, "r", encoding="utf-8", closefd=False), replies
            )
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
        for fd in fds:
            os.close(fd)
        control.sendall(f"{pid}\n".encode())


def main() -> None:
    # Keep fd 1 for replies only; anything else written to stdout (print, Powertools) goes to stderr.
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = os.fdopen(1, "w", encoding="utf-8", buffering=1)
    if sys.argv[1] == "--snapshot":
        replies.close()
        snapshot(sys.argv[3], socket.socket(fileno=int(sys.argv[2])))
        return
    serve(sys.argv[1], sys.stdin, replies)


if __name__ == "__main__":
    main()
