"""What every API handler needs: the caller, the correlation id, the body, and error answers.

API Gateway has already verified the token and validated the body against the draft-04 model
before a function runs; the checks here are defence in depth, so that a misconfigured route or
a direct invocation still gets a clear 4xx instead of a 500. Every answer, success or error,
carries the correlation id in the `X-Correlation-Id` header, and every error body is a
`generated.models.Error`.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent
from pydantic import BaseModel, ValidationError

from generated import models as m
from ordering.domain.errors import (
    CurrencyMismatch,
    DomainError,
    DuplicateSku,
    InvalidTransition,
    NotFound,
    OutOfStock,
    UnknownSku,
)
from ordering.messaging import ADMIN_GROUP
from ordering.ports.read_model_errors import ReadModelUnavailable  # not the port: most never use it
from ordering.services.retry import ConflictRetriesExhausted

CORRELATION_HEADER = "X-Correlation-Id"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def _pattern_of(model: type[BaseModel], name: str) -> str:
    """The pattern the schema gives a field (model/common.json defines each once)."""
    return next(meta.pattern for meta in model.model_fields[name].metadata if getattr(meta, "pattern", None))


CORRELATION_ID = re.compile(_pattern_of(m.Error, "correlation_id"))
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")  # printable ASCII, no spaces
Code = m.ErrorCode
Model = TypeVar("Model", bound=BaseModel)


@dataclass(frozen=True)
class Caller:
    """Who is calling, from the claims API Gateway's Cognito authorizer put in the event."""

    user_id: str
    email: str
    groups: frozenset[str] = frozenset()

    @property
    def is_admin(self) -> bool:
        return ADMIN_GROUP in self.groups


@dataclass
class HttpProblem(Exception):
    """A request refused with a 4xx/5xx answer: status, code, a message for people, and the fields."""

    status: int
    code: m.ErrorCode
    message: str
    errors: list[m.FieldError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code.value}: {self.message}"


def bad_request(message: str, field_path: str, detail: str) -> HttpProblem:
    return HttpProblem(400, Code.validation_error, message, [m.FieldError(field=field_path, message=detail)])


# --- reading the request ------------------------------------------------------------------------


def correlation_id_of(event: BaseProxyEvent) -> str:
    """The client's X-Correlation-Id if it is well formed, else API Gateway's request id."""
    header = event.headers.get(CORRELATION_HEADER)
    if header and CORRELATION_ID.match(header):
        return header
    request_id = (event.get("requestContext") or {}).get("requestId") or ""
    return request_id if CORRELATION_ID.match(request_id) else str(uuid.uuid4())


def check_correlation_header(event: BaseProxyEvent) -> None:
    """A malformed X-Correlation-Id is refused rather than silently replaced."""
    header = event.headers.get(CORRELATION_HEADER)
    if header is not None and not CORRELATION_ID.match(header):
        raise bad_request(
            f"The {CORRELATION_HEADER} header must be 1 to 128 letters, digits, '.', '_', ':' or '-'",
            f"headers.{CORRELATION_HEADER}",
            f"does not match {CORRELATION_ID.pattern}",
        )


def request_of(event: BaseProxyEvent, logger: Logger) -> tuple[str, Caller]:
    """The correlation id (a malformed header is refused) and the caller, whom the log names."""
    check_correlation_header(event)
    correlation_id = correlation_id_of(event)
    caller = caller_of(event)
    logger.append_keys(user_id=caller.user_id)
    return correlation_id, caller


def claims_of(event: BaseProxyEvent) -> Mapping[str, Any]:
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    claims = authorizer.get("claims") or {}
    return claims if isinstance(claims, Mapping) else {}


def caller_of(event: BaseProxyEvent) -> Caller:
    """The caller from `requestContext.authorizer.claims` (`sub`, `email`, `cognito:groups`); 401 without."""
    claims = claims_of(event)
    sub, email = claims.get("sub"), claims.get("email")
    if not sub or not email:
        raise HttpProblem(401, Code.unauthorized, "Sign in: the request carries no user (sub and email)")
    try:
        # The same rules the events apply to a user: a UUID subject and a plain-ASCII address.
        user = m.UserRegistered(user_id=sub, email=email)
    except ValidationError:
        raise HttpProblem(
            401, Code.unauthorized, "The token's sub and email claims are not a user of this service"
        ) from None
    return Caller(user.user_id, user.email, groups_of(claims))


def groups_of(claims: Mapping[str, Any]) -> frozenset[str]:
    """The caller's Cognito groups, however the authorizer rendered the `cognito:groups` claim.

    The token holds a JSON array. API Gateway's REST Cognito authorizer hands every claim to the
    function as a string: one group as "admin", several comma-separated ("admin,ops"); HTTP API
    JWT authorizers render "[admin ops]"; a direct invocation may pass a real list or its JSON.
    Group names cannot contain spaces; commas in a group name are not supported.
    """
    raw = claims.get("cognito:groups")
    if raw is None:
        return frozenset()
    if isinstance(raw, list | tuple):
        names: Iterable[Any] = raw
    else:
        text = str(raw).strip()
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, list):
            names = parsed
        else:
            if text.startswith("[") and text.endswith("]"):
                text = text[1:-1]
            names = re.split(r"[,\s]+", text)
    return frozenset(str(name).strip().strip("\"'") for name in names if str(name).strip().strip("\"'"))


def body_of(event: BaseProxyEvent, model: type[Model]) -> Model:
    """The JSON body as the generated type; 400 naming every offending field by its JSON path."""
    try:
        raw = event.decoded_body
    except ValueError:  # base64 that is not base64, or bytes that are not UTF-8
        raise bad_request("The body is not UTF-8 JSON", "body", "not UTF-8") from None
    if raw is None or not raw.strip():
        raise bad_request(f"The request needs a JSON body ({model.__name__})", "body", "missing")
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        raise HttpProblem(
            400, Code.validation_error, f"The body is not a valid {model.__name__}", field_errors(error)
        ) from None


def field_errors(error: ValidationError) -> list[m.FieldError]:
    found: dict[tuple[str, str], m.FieldError] = {}
    for problem in error.errors(include_url=False):
        path = json_path(problem["loc"])
        found.setdefault((path, problem["msg"]), m.FieldError(field=path, message=problem["msg"]))
    return list(found.values())


def json_path(location: Iterable[int | str]) -> str:
    """('lines', 1, 'quantity') -> "lines[1].quantity"; the body itself is "body"."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "body"


def idempotency_key_of(event: BaseProxyEvent) -> str | None:
    key = event.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.match(key):
        raise bad_request(
            f"The {IDEMPOTENCY_HEADER} header must be 1 to 128 printable ASCII characters without spaces",
            f"headers.{IDEMPOTENCY_HEADER}",
            "1 to 128 printable ASCII characters",
        )
    return key


def request_path(event: BaseProxyEvent) -> str:
    """The path the client called, with the stage or base path ("/v1/orders"), for links back."""
    return (event.get("requestContext") or {}).get("path") or event.path


# --- answering ----------------------------------------------------------------------------------


def answer(
    status: int, body: BaseModel, correlation_id: str, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        status_code=status,
        content_type="application/json",
        body=body.model_dump_json(),
        headers={CORRELATION_HEADER: correlation_id, **(headers or {})},
    )


def error_answer(problem: HttpProblem, correlation_id: str) -> Response:
    body = m.Error(
        code=problem.code,
        message=problem.message,
        correlation_id=correlation_id,
        **({"errors": problem.errors} if problem.errors else {}),
    )
    return answer(problem.status, body, correlation_id, problem.headers)


# Domain refusals, by type, to (status, code). The most specific class in an error's MRO wins.
ANSWERS: dict[type[Exception], tuple[int, m.ErrorCode]] = {
    DuplicateSku: (400, Code.validation_error),
    UnknownSku: (404, Code.unknown_sku),
    NotFound: (404, Code.not_found),
    OutOfStock: (422, Code.out_of_stock),
    CurrencyMismatch: (422, Code.currency_mismatch),
    InvalidTransition: (409, Code.conflict),
    ConflictRetriesExhausted: (409, Code.conflict),
    DomainError: (422, Code.validation_error),  # any other business rule, e.g. AmountTooLarge
}
INTERNAL_MESSAGE = "Something went wrong on our side. Quote the correlation id if you contact us."
# A read model that cannot be reached (down, paused, past its statement timeout) is a 503: the
# request was fine and may be repeated; Retry-After says when it is worth trying again.
RETRY_AFTER_SECONDS = 5
UNAVAILABLE = HttpProblem(
    503,
    Code.service_unavailable,
    "Order history is unavailable for a moment; please retry shortly",
    headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
)


def problem_of(error: Exception) -> HttpProblem:
    """The answer an exception deserves; anything unforeseen is a 500 that reveals nothing."""
    if isinstance(error, HttpProblem):
        return error
    if isinstance(error, ReadModelUnavailable):
        return UNAVAILABLE
    for cls in type(error).__mro__:
        if cls in ANSWERS:
            status, code = ANSWERS[cls]
            break
    else:
        return HttpProblem(500, Code.internal_error, INTERNAL_MESSAGE)
    if isinstance(error, DuplicateSku):
        errors = [
            m.FieldError(field=f"lines[{index}].sku", message=f"{sku} is already on an earlier line")
            for index, sku in sorted(error.lines.items())
        ]
        return HttpProblem(status, code, str(error), errors)
    if isinstance(error, ConflictRetriesExhausted):
        return HttpProblem(status, code, "Too many concurrent changes to the same items; please retry")
    return HttpProblem(status, code, str(error))


def install_error_answers(
    app: APIGatewayRestResolver, logger: Logger, on_problem: Callable[[HttpProblem], None] | None = None
) -> None:
    """Answer every exception a route raises with the Error shape; log 5xx with their traceback."""

    @app.exception_handler(Exception)
    def _answer(error: Exception) -> Response:
        problem = problem_of(error)
        if problem.status == 503:
            logger.warning("Read model unavailable; answered 503", extra={"error": str(error)})
        elif problem.status >= 500:
            logger.exception("Unexpected error; answered 500", extra={"error_type": type(error).__name__})
        else:
            logger.info("Request refused", extra={"status": problem.status, "code": problem.code.value})
        if on_problem is not None:
            on_problem(problem)
        return error_answer(problem, correlation_id_of(app.current_event))

    @app.not_found
    def _no_route(error: NotFoundError) -> Response:
        event = app.current_event
        problem = HttpProblem(404, Code.not_found, f"No route {event.http_method} {event.path}")
        return error_answer(problem, correlation_id_of(event))
