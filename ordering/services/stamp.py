"""How new events get their id, time and causation."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ordering.domain.events import DomainEvent
from ordering.domain.recorded import NewEvent


def utc_now() -> datetime:
    return datetime.now(UTC)


def random_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Cause:
    """Why events happen: the request (correlation id) and, downstream, the event that led here."""

    correlation_id: str
    causation_id: str | None = None


@dataclass(frozen=True)
class Stamp:
    clock: Callable[[], datetime] = field(default=utc_now)
    new_id: Callable[[], str] = field(default=random_id)

    def events(self, data: Iterable[DomainEvent], cause: Cause) -> list[NewEvent]:
        moment = self.clock()
        return [
            NewEvent(
                data=item,
                event_id=self.new_id(),
                occurred_at=moment,
                correlation_id=cause.correlation_id,
                causation_id=cause.causation_id,
            )
            for item in data
        ]
