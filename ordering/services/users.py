"""Register a customer when Cognito confirms their sign-up. Cognito may retry: that is a no-op."""

from __future__ import annotations

from ordering.domain import user
from ordering.domain.recorded import Recorded
from ordering.domain.streams import user_stream
from ordering.domain.user import RegisterUser
from ordering.ports.event_store import EventStore
from ordering.services.loading import load_user
from ordering.services.retry import RetryPolicy
from ordering.services.stamp import Cause, Stamp


def register_user(
    store: EventStore,
    command: RegisterUser,
    cause: Cause,
    *,
    stamp: Stamp | None = None,
    retry: RetryPolicy | None = None,
) -> list[Recorded]:
    stamp = stamp or Stamp()

    def attempt() -> list[Recorded]:
        current = load_user(store, command.user_id)
        events = user.decide(current, command)
        if not events:
            return []
        version = current.version if current else 0
        return store.append(user_stream(command.user_id), version, stamp.events(events, cause))

    return (retry or RetryPolicy()).run(attempt)
