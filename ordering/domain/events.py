"""The domain's events are the generated pydantic types: frozen, strict, one per schema file.

This module is the registry between an event's name on the wire ("OrderPlaced", schema
version 1) and its class.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from generated import models as m

DomainEvent = (
    m.OrderPlaced
    | m.StockReserved
    | m.PaymentSucceeded
    | m.PaymentFailed
    | m.StockCommitted
    | m.StockReleased
    | m.OrderFulfilled
    | m.OrderCancelled
    | m.RefundRequested
    | m.PaymentRefunded
    | m.ChargeUnanswered
    | m.ConfirmationSent
    | m.StockAdded
    | m.PriceChanged
    | m.StockSharded
    | m.StockMoved
    | m.UserRegistered
)

EVENT_CLASSES: dict[str, type[DomainEvent]] = {cls.__name__: cls for cls in DomainEvent.__args__}
# Every event type is at schema version 1. A breaking change adds model/events/<name>.v2.json
# and an upcaster here from v1 data to v2; the log itself is never rewritten.
SCHEMA_VERSIONS: dict[str, int] = dict.fromkeys(EVENT_CLASSES, 1)


class InvalidEvent(ValueError):
    """Stored or delivered event data that no schema accepts: a poison record."""


def type_name(event: DomainEvent) -> str:
    return type(event).__name__


def parse_event(type_: str, schema_version: int, data: dict[str, Any]) -> DomainEvent:
    """Validate event data against its schema; raise InvalidEvent naming what is wrong."""
    cls = _event_class(type_, schema_version)
    try:
        return cls.model_validate(data)
    except ValidationError as error:
        raise InvalidEvent(f"{type_} v{schema_version} data is invalid: {error}") from None


def parse_event_json(type_: str, schema_version: int, text: str | bytes) -> DomainEvent:
    """The same validation, of the JSON text the log stores: pydantic parses and validates in
    one pass in Rust, about twice as fast as json.loads and then validating the dict."""
    validator = _event_class(type_, schema_version).__pydantic_validator__  # model_validate_json, less a call
    try:
        return validator.validate_json(text)
    except ValidationError as error:
        raise InvalidEvent(f"{type_} v{schema_version} data is invalid: {error}") from None


def _event_class(type_: str, schema_version: int) -> type[DomainEvent]:
    cls = EVENT_CLASSES.get(type_)
    if cls is None:
        raise InvalidEvent(f"unknown event type {type_!r}")
    if SCHEMA_VERSIONS[type_] != schema_version:
        raise InvalidEvent(f"{type_} schema version {schema_version} is not known")
    return cls
