"""One botocore session per process and one client per AWS service, shared by every user.

A client built in a new session loads credentials, endpoint rules and the service model from
scratch (55 to 214 ms measured on a cold start); one more client in the same session costs
3 to 8 ms, and a second client for the same service costs nothing if it is the same client.
So the adapters and Powertools' idempotency layer all ask here, through ordering/bootstrap.py.
botocore is imported on the first request for a client, never before: a path that makes no
AWS call (GET /orders/{id}) never imports it. botocore clients are thread-safe; building
them is not, hence the lock.

The clients skip botocore's client-side parameter validation: the service validates every
request itself (a malformed one is still refused, as a ClientError), and walking each request
against the service model before sending it was a tenth of a DynamoDB call's CPU in a function
(every attribute of every item of a TransactWriteItems).
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
CLIENT_SETTINGS = {"parameter_validation": False}  # botocore.config.Config(**CLIENT_SETTINGS)
_session: Any = None
_clients: dict[tuple[str, str | None, str | None], Any] = {}


def session() -> Any:
    """The process's one botocore session."""
    global _session
    with _lock:
        if _session is None:
            import botocore.session

            _session = botocore.session.get_session()
        return _session


def client(service: str, *, region: str | None = None, endpoint_url: str | None = None) -> Any:
    """The process's one client for `service` (in `region`, at `endpoint_url` if set)."""
    key = (service, region, endpoint_url)
    found = _clients.get(key)
    if found is not None:
        return found
    shared = session()
    with _lock:
        if key not in _clients:
            from botocore.config import Config

            _clients[key] = shared.create_client(
                service, region_name=region, endpoint_url=endpoint_url, config=Config(**CLIENT_SETTINGS)
            )
        return _clients[key]


def forget() -> None:
    """Drop the session and its clients (a test's new container); the next use builds them again."""
    global _session
    with _lock:
        _session = None
        _clients.clear()
