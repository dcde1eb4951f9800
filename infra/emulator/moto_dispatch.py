"""moto's server looks for the backend of every request anew, under one lock that every request
takes: for a host such as "dynamodb" it lists moto's package directory (a listdir, then an
isdir for each of some 200 services), and for "sqs.us-east-1.amazonaws.com" it tries every
service's URL patterns. Its answer depends on the host alone (moto's files and patterns do
not change while it runs): `remember_backends` finds it once per host."""

from __future__ import annotations

import functools
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication

MAX_HOSTS = 1024  # a client sending a new Host on every request cannot grow the memory without end


def remember_backends() -> None:
    """Idempotent: wraps moto's get_backend_for_host once."""
    original = DomainDispatcherApplication.get_backend_for_host
    if getattr(original, "_remembers_backends", False):
        return
    known: dict[str | None, Any] = {}

    @functools.wraps(original)
    def get_backend_for_host(self: DomainDispatcherApplication, host: str | None) -> Any:
        try:
            return known[host]
        except KeyError:
            backend = original(self, host)
            if len(known) < MAX_HOSTS:
                known[host] = backend
            return backend

    get_backend_for_host._remembers_backends = True  # type: ignore[attr-defined]
    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host  # type: ignore[method-assign]
