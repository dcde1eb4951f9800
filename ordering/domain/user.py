"""The User aggregate: a customer who confirmed their Cognito sign-up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from generated import models as m
from ordering.domain.events import DomainEvent
from ordering.domain.recorded import Recorded


@dataclass(frozen=True)
class User:
    id: str
    email: str
    registered_at: datetime
    version: int


@dataclass(frozen=True)
class RegisterUser:
    user_id: str
    email: str


def decide(state: User | None, command: RegisterUser) -> list[DomainEvent]:
    """Registering twice (Cognito retries its triggers) decides nothing the second time."""
    if state is not None:
        return []
    return [m.UserRegistered(user_id=command.user_id, email=command.email)]


def evolve(state: User | None, event: Recorded) -> User:
    # By the event's exact class, one dict lookup: singledispatch's would cost more than most
    # applies, and registering by annotation evaluated every apply's type hints at import.
    return _APPLY.get(type(event.data), _not_ours)(event.data, state, event)


def _not_ours(data: DomainEvent, state: User | None, event: Recorded) -> User:
    raise TypeError(f"{type(data).__name__} does not belong to a user stream")


def _registered(data: m.UserRegistered, state: User | None, event: Recorded) -> User:
    return User(id=data.user_id, email=data.email, registered_at=event.occurred_at, version=event.version)


_APPLY: dict[type[DomainEvent], Callable[[Any, User | None, Recorded], User]] = {
    m.UserRegistered: _registered,
}
