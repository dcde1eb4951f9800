"""An event as the log holds it: the domain event plus where (stream, version) and when.

`to_envelope` / `from_envelope` translate to and from the EventEnvelope schema, the form
events take in the table, on the payment queue, on the event bus and in the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from generated.models import EventEnvelope
from ordering.domain.events import SCHEMA_VERSIONS, DomainEvent, InvalidEvent, parse_event, type_name


@dataclass(frozen=True)
class NewEvent:
    """An event about to be appended; the store gives it its stream and version."""

    data: DomainEvent
    event_id: str
    occurred_at: datetime
    correlation_id: str
    causation_id: str | None = None


@dataclass(frozen=True, slots=True)
class Recorded:
    """An event in the log. Slots: replay builds one per event (no per-instance dict)."""

    stream: str
    version: int
    data: DomainEvent
    event_id: str
    occurred_at: datetime
    correlation_id: str
    causation_id: str | None = None

    @property
    def type(self) -> str:
        return type_name(self.data)

    @property
    def schema_version(self) -> int:
        return SCHEMA_VERSIONS[self.type]

    @classmethod
    def of(cls, stream: str, version: int, new: NewEvent) -> Recorded:
        return cls(
            stream, version, new.data, new.event_id, new.occurred_at, new.correlation_id, new.causation_id
        )


def format_timestamp(moment: datetime) -> str:
    """UTC, always with microseconds, so that the strings sort as the times do."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def to_envelope(event: Recorded) -> dict[str, Any]:
    """The JSON-ready EventEnvelope of a recorded event."""
    return {
        "event_id": event.event_id,
        "stream": event.stream,
        "version": event.version,
        "type": event.type,
        "schema_version": event.schema_version,
        "occurred_at": format_timestamp(event.occurred_at),
        "correlation_id": event.correlation_id,
        "causation_id": event.causation_id,
        "data": event.data.model_dump(mode="json"),
    }


def from_envelope(envelope: dict[str, Any]) -> Recorded:
    """Validate an envelope and its data; raise InvalidEvent (a poison record) if either is wrong."""
    try:
        checked = EventEnvelope.model_validate(envelope)
    except ValidationError as error:
        raise InvalidEvent(f"not an event envelope: {error}") from None
    return Recorded(
        stream=checked.stream,
        version=checked.version,
        data=parse_event(checked.type.value, checked.schema_version, checked.data),
        event_id=checked.event_id,
        occurred_at=parse_timestamp(checked.occurred_at),
        correlation_id=checked.correlation_id,
        causation_id=checked.causation_id,
    )
