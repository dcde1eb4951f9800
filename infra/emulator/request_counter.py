"""What moto received, counted per caller and per AWS operation: a WSGI middleware around its app.

The caller is the application id that botocore adds to its User-Agent (`app/<id>`): `orders dev`
sets `AWS_SDK_UA_APP_ID` to the function's name in each function's environment (botocore reads
it; nothing in the function's code names it), and gives each pump and the gateway clients of
their own (`caller=` of infra/emulator/aws.py). A request without one is counted as "other".
The operation is the service (from the request's signature) and the action: X-Amz-Target for
the JSON protocols (DynamoDB, Streams, SQS, EventBridge, Cognito), else the method and path
(SES v2's REST API), e.g. "dynamodb.PutItem", "sesv2.POST /v2/email/outbound-emails".
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

OTHER = "other"
_APP_ID = re.compile(r"(?:^|\s)app/(\S+)")
_SERVICE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/")


def caller_of(user_agent: str) -> str:
    found = _APP_ID.search(user_agent)
    return found.group(1) if found else OTHER


def operation_of(environ: dict[str, Any]) -> str:
    service = _SERVICE.search(environ.get("HTTP_AUTHORIZATION", ""))
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    action = (
        target.rsplit(".", 1)[-1] if target else f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}"
    )
    return f"{service.group(1) if service else 'unsigned'}.{action}"


class RequestCounter:
    """Counts each request before moto answers it; `snapshot()` is what was counted so far."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        key = (caller_of(environ.get("HTTP_USER_AGENT", "")), operation_of(environ))
        with self._lock:
            self._counts[key] += 1
        return self.app(environ, start_response)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()

    def snapshot(self) -> dict[str, Any]:
        """{"total": n, "callers": {caller: {"total": n, "operations": {operation: n}}}}."""
        with self._lock:
            counts = dict(self._counts)
        callers: dict[str, dict[str, Any]] = {}
        for (caller, operation), count in sorted(counts.items()):
            entry = callers.setdefault(caller, {"total": 0, "operations": {}})
            entry["total"] += count
            entry["operations"][operation] = count
        return {"total": sum(counts.values()), "callers": callers}


def difference(after: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    """What was counted between two snapshots (callers and operations with nothing new left out)."""
    callers: dict[str, dict[str, Any]] = {}
    for caller, entry in after["callers"].items():
        earlier = before["callers"].get(caller, {"operations": {}})["operations"]
        operations = {
            operation: count - earlier.get(operation, 0)
            for operation, count in entry["operations"].items()
            if count - earlier.get(operation, 0)
        }
        if operations:
            callers[caller] = {"total": sum(operations.values()), "operations": operations}
    return {"total": after["total"] - before["total"], "callers": callers}
