"""Register a customer when Cognito confirms their sign-up. Cognito may retry: that is a no-op."""

from __future__ import annotations

from ordering.domain import user
from ordering.domain.recorded import Recorded
from ordering.domain.streams import user_stream
from ordering.domain.user import RegisterUser, User
from ordering.ports.event_store import EventStore
from ordering.services.loading import load_user
from ordering.services.recording import DEFAULT, Decision, Recorder, StreamChange
from ordering.services.stamp import Cause


def register_user(
    store: EventStore, command: RegisterUser, cause: Cause, *, recorder: Recorder = DEFAULT
) -> list[Recorded]:
    def decide(current: User | None) -> Decision:
        version = current.version if current else 0
        return Decision([StreamChange(user_stream(command.user_id), version, user.decide(current, command))])

    return recorder.record(store, cause, lambda: load_user(store, command.user_id), decide).events
