"""AWS-shaped events for the handlers, built from the JSON fixtures in tests/events/.

Each builder starts from a fixture exactly as AWS documents the shape and changes only what
the test is about (body, claims, headers, the envelope carried), so that a handler is always
driven by what API Gateway, SQS, EventBridge or Cognito would deliver.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from ordering import messaging
from ordering.domain.recorded import Recorded, to_envelope

EVENTS = Path(__file__).resolve().parents[1] / "events"
USER_A = ("5f0c7a9e-2b3d-4c1e-8f6a-9d0b1c2e3f4a", "ada@example.com")
USER_B = ("c2d3e4f5-a6b7-4c8d-9e0f-1a2b3c4d5e6f", "bob@example.net")


@cache
def _fixture(name: str) -> str:
    return (EVENTS / f"{name}.json").read_text(encoding="utf-8")


def fixture(name: str) -> dict[str, Any]:
    """A fresh copy of tests/events/<name>.json."""
    return json.loads(_fixture(name))


@dataclass
class Context:
    """The attributes of the Lambda context object that Powertools reads."""

    function_name: str = "orders-test"
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    remaining_millis: int = 30_000

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:eu-west-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_millis


# --- API Gateway (REST, Lambda proxy) -----------------------------------------------------------

_MISSING = object()


def api_request(
    fixture_name: str,
    body: Any = _MISSING,
    *,
    user: tuple[str, str] | None = USER_A,
    groups: str | list[str] | None = None,
    headers: Mapping[str, str | None] | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """The fixture's request with another JSON body (a str is sent as is), caller and headers.

    `user=None` removes the authorizer's claims; a header set to None is removed.
    """
    event = fixture(fixture_name)
    if body is not _MISSING:
        event["body"] = body if isinstance(body, str) or body is None else json.dumps(body)
    context = event["requestContext"]
    context["requestId"] = request_id or str(uuid.uuid4())
    if user is None:
        context.pop("authorizer", None)
    else:
        claims = context["authorizer"]["claims"]
        claims["sub"] = claims["cognito:username"] = user[0]
        claims["email"] = user[1]
        if groups is None:
            claims.pop("cognito:groups", None)
        else:
            claims["cognito:groups"] = groups
    for name, value in (headers or {}).items():
        for table in (event["headers"], event["multiValueHeaders"]):
            table.pop(name, None)
            if value is not None:
                table[name] = value if table is event["headers"] else [value]
    return event


def header(response: Mapping[str, Any], name: str) -> str | None:
    """A header of a REST proxy answer (Powertools answers in multiValueHeaders)."""
    for table, single in (
        (response.get("headers") or {}, True),
        (response.get("multiValueHeaders") or {}, False),
    ):
        for key, value in table.items():
            if key.lower() == name.lower():
                return value if single else value[0]
    return None


def body(response: Mapping[str, Any]) -> Any:
    return json.loads(response["body"])


# --- SQS, EventBridge, Cognito ------------------------------------------------------------------


def sqs_batch(bodies: Iterable[str | Recorded]) -> dict[str, Any]:
    """An SQS batch; a Recorded event travels as its envelope, with the publisher's attributes."""
    template = fixture("sqs_order_placed")["Records"][0]
    records = []
    for item in bodies:
        record = copy.deepcopy(template)
        record["messageId"] = str(uuid.uuid4())
        if isinstance(item, Recorded):
            record["body"] = json.dumps(to_envelope(item))
            record["messageAttributes"]["correlation_id"]["stringValue"] = item.correlation_id
            record["messageAttributes"]["event_id"]["stringValue"] = item.event_id
        else:
            record["body"] = item
        records.append(record)
    return {"Records": records}


def eventbridge(event: Recorded) -> dict[str, Any]:
    """What the bus delivers to a rule's target for an event the publisher puts there (detail =
    envelope)."""
    name = "eventbridge_payment_failed" if event.type == "PaymentFailed" else "eventbridge_payment_succeeded"
    delivered = fixture(name)
    delivered["id"] = str(uuid.uuid4())
    delivered["detail-type"] = messaging.DETAIL_TYPES[event.type]
    delivered["detail"] = to_envelope(event)
    return delivered


def cognito_confirmation(
    user: tuple[str, str], trigger: str = "PostConfirmation_ConfirmSignUp"
) -> dict[str, Any]:
    event = fixture("cognito_post_confirmation")
    event["userName"] = user[0]
    event["triggerSource"] = trigger
    event["request"]["userAttributes"].update(sub=user[0], email=user[1])
    return event
