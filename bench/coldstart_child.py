"""One cold start, in a fresh process: `python3.12 -S coldstart_child.py <module.attribute> <request file>`.

Run from a task root (bench/lambda_sandbox.py). Like Lambda's init phase it imports the
handler, then serves one event, and writes how long each took to the reply file named in the
request. Only the standard library is imported before the clock starts, so the import of the
handler is measured whole. It runs as a script, not from the repository: nothing but the
task root and the standard library is importable.

It also counts the modules compiled from source during init and the first invocation (the
`compile` audit event that the import system raises for every `.py` it has no usable
`.pyc` for), and which AWS libraries were imported.

With `--record-calls` it imports botocore first (which spoils the timing, so that run is not
timed) and lists every AWS API call the invocation made, every botocore session and every
client created: the benchmark checks that a baseline makes the same calls as the function it
stands beside.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import importlib  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

# `botocore` alone is its package's small __init__ (Powertools' own __init__ imports it, for its
# user-agent hook); `botocore.client` is the client machinery a call needs.
AWS_LIBRARIES = ("boto3", "botocore", "botocore.client", "pynamodb", "aws_xray_sdk")
compiled_from_source: list[str] = []


def _count_compilations(event: str, args: tuple[Any, ...]) -> None:
    # builtins.compile(source, filename, ...) raises ("compile", (source, filename)); the import
    # system calls it for a module it loads from source. exec() of a string names no .py file.
    if event == "compile" and len(args) > 1 and isinstance(args[1], str) and args[1].endswith(".py"):
        compiled_from_source.append(args[1])


class Context:
    """The Lambda context object's attributes (a plain class: dataclasses would be imported early)."""

    def __init__(self, **attributes: Any) -> None:
        self.__dict__.update(attributes)
        self.function_version = "$LATEST"
        self.log_stream_name = "bench"
        self.identity = self.client_context = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self.deadline_ms - time.time() * 1000))


def _record_calls() -> dict[str, list[str]]:
    """Record every API call, botocore session and client from now on (botocore is imported)."""
    import botocore.client
    import botocore.session

    recorded: dict[str, list[str]] = {"calls": [], "sessions": [], "clients": []}
    make_api_call = botocore.client.BaseClient._make_api_call
    session_init = botocore.session.Session.__init__
    create_client = botocore.session.Session.create_client

    def recording_call(self: Any, operation_name: str, api_params: Any) -> Any:
        recorded["calls"].append(f"{self.meta.service_model.service_name}:{operation_name}")
        return make_api_call(self, operation_name, api_params)

    def recording_session(self: Any, *args: Any, **kwargs: Any) -> None:
        recorded["sessions"].append(f"session {len(recorded['sessions']) + 1}")
        session_init(self, *args, **kwargs)

    def recording_client(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        recorded["clients"].append(service_name)
        return create_client(self, service_name, *args, **kwargs)

    botocore.client.BaseClient._make_api_call = recording_call  # type: ignore[method-assign]
    botocore.session.Session.__init__ = recording_session  # type: ignore[method-assign]
    botocore.session.Session.create_client = recording_client  # type: ignore[method-assign]
    return recorded


def main(argv: list[str]) -> None:
    record = "--record-calls" in argv
    handler_path, request_file = [arg for arg in argv if not arg.startswith("--")]
    with open(request_file, encoding="utf-8") as source:
        request = json.load(source)
    recorded = _record_calls() if record else None

    sys.addaudithook(_count_compilations)
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
        "compiled_from_source": compiled_from_source,
        "aws_libraries_imported": [name for name in AWS_LIBRARIES if name in sys.modules],
        "python": f"{sys.version_info[0]}.{sys.version_info[1]}",
        **(recorded or {"calls": None}),
    }
    with open(request["reply_file"], "w", encoding="utf-8") as out:
        json.dump(reply, out)


if __name__ == "__main__":
    main(sys.argv[1:])
