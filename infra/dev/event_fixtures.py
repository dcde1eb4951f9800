"""AWS-shaped event files for `orders invoke`: where they are, and which functions each one fits.

Which function an event fits is read off its shape and the topology (API routes, queue and
stream consumers, EventBridge rules and schedules, the Cognito trigger), never kept in a second list.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from infra import topology

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "events"


class BadEvent(ValueError):
    """An event file that cannot be read or is not a JSON object; the message says which and why."""


@dataclass(frozen=True)
class Fixture:
    name: str
    path: Path
    functions: tuple[str, ...]


def fixtures(directory: Path = FIXTURES) -> list[Fixture]:
    found = []
    for path in sorted(directory.glob("*.json")):
        found.append(Fixture(path.stem, path, functions_for(load(path))))
    return found


def resolve(name_or_path: str, directory: Path = FIXTURES) -> Path:
    """A path as given, or the name of a fixture (`apigateway_get_order`, with or without .json)."""
    path = Path(name_or_path)
    if path.exists():
        return path
    fixture = directory / f"{path.stem}.json"
    if path.parent == Path(".") and fixture.exists():
        return fixture
    raise BadEvent(
        f"no event file {name_or_path} (and no fixture of that name: `orders invoke --list-events`)"
    )


def load(source: Path | str, stdin: TextIO | None = None) -> dict[str, Any]:
    """The event in a file, or on stdin when `source` is "-"."""
    label = "stdin" if source == "-" else str(source)
    try:
        text = (stdin or sys.stdin).read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as error:
        raise BadEvent(f"cannot read {label}: {error.strerror}") from None
    try:
        event = json.loads(text)
    except ValueError as error:
        raise BadEvent(f"{label} is not JSON: {error}") from None
    if not isinstance(event, dict):
        raise BadEvent(f"{label} holds a JSON {type(event).__name__}; an event is a JSON object")
    return event


def functions_for(event: dict[str, Any]) -> tuple[str, ...]:
    """The functions the topology would deliver this event to."""
    if "httpMethod" in event:
        return tuple(
            route.function
            for route in topology.routes()
            if route.method == event["httpMethod"] and _same_resource(route.path, event.get("resource", ""))
        )
    if str(event.get("triggerSource", "")).startswith("PostConfirmation"):
        return tuple(f.name for f in topology.FUNCTIONS if f.trigger == "cognito")
    if event.get("detail-type") == "Scheduled Event" and event.get("source") == "aws.events":
        # The rule's name, as the local runtime names it or with the stack's prefix (AWS).
        rules = {str(arn).rpartition("/")[2] for arn in event.get("resources", [])}
        return tuple(
            s.function
            for s in topology.SCHEDULES
            if any(rule == s.name or rule.endswith(f"-{s.name}") for rule in rules)
        )
    if "detail-type" in event:
        return tuple(
            target.function
            for rule in topology.EVENT_RULES
            if event["detail-type"] in rule.detail_types
            for target in rule.targets
        )
    sources = {record.get("eventSource") for record in event.get("Records", []) if isinstance(record, dict)}
    if "aws:sqs" in sources:
        # The queue is the last part of the ARN, after the stack's prefix ("orders-payment").
        queues = {
            str(record.get("eventSourceARN", "")).rpartition(":")[2]
            for record in event["Records"]
            if isinstance(record, dict)
        }
        matching = tuple(
            consumer.function
            for consumer in topology.QUEUE_CONSUMERS
            if any(name == consumer.queue or name.endswith(f"-{consumer.queue}") for name in queues)
        )
        return matching or tuple(consumer.function for consumer in topology.QUEUE_CONSUMERS)
    if "aws:dynamodb" in sources:
        return tuple(consumer.function for consumer in topology.STREAM_CONSUMERS)
    return ()


def _same_resource(route_path: str, resource: str) -> bool:
    """/orders/{order_id} matches /orders/{id}: the names of path parameters may differ."""
    pattern = re.sub(r"\{[^}]+\}", "{}", route_path)
    return pattern == re.sub(r"\{[^}]+\}", "{}", resource)
