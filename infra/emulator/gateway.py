"""The local API Gateway: what AWS does before and after a Lambda proxy integration runs.

For each request: refuse a body above the payload limit (413), find the route (an unknown
route or method is 404, the status infra/aws/api.py gives API Gateway's "Missing
Authentication Token") and throttle with the route's own bucket where the topology gives it
a lower limit (429), verify the Cognito ID token (401), throttle (429: each client's own
bucket, then, for signed-in callers only, the stage's; see _authorize), validate the body
against the route's generated draft-04 model (400, naming each field; a content type other
than JSON is a 400 too), then build the
proxy event, invoke the function and return its answer with `X-Correlation-Id`. Nothing that
fails a check reaches a function.

Local payload limit: 256 KiB, not API Gateway's 10 MB. The largest valid body (49 order
lines) is a few KB, and a DynamoDB item holds 400 KB, so nothing valid comes close; a low
limit keeps a local server from buffering megabytes per thread. See docs/local.md.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from werkzeug.exceptions import ClientDisconnected, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from infra import topology
from infra.emulator import logs
from infra.emulator.cognito_tokens import TokenVerifier, Unauthorized
from infra.emulator.functions import Invocation
from infra.emulator.proxy_event import proxy_event
from infra.emulator.request_validation import body_errors
from infra.emulator.throttle import ClientBuckets, TokenBucket

MAX_BODY_BYTES = 256 * 1024
# The media types the request models are mapped to; none given counts as JSON, as on AWS.
JSON_TYPES = ("application/json", "")
AWS_MAX_BODY_BYTES = 10 * 1024 * 1024  # read and discard up to this much before answering 413
CORRELATION_ID = re.compile(topology.openapi()["components"]["schemas"]["CorrelationId"]["pattern"])
MAX_DEPTH = 32  # our bodies nest 3 levels; deeper JSON is refused before it is validated
MAX_FIELD_ERRORS = 20  # a 400 lists this many offending fields, then says how many more

Invoke = Callable[[str, dict[str, Any], str], Invocation]  # (function, event, correlation id)


class GatewayError(Exception):
    """An answer the gateway gives itself, in the Error schema, without running a function."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        errors: list[dict[str, str]] | None = None,
        aws_type: str,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.errors, self.aws_type = (
            status,
            code,
            message,
            errors,
            aws_type,
        )


@dataclass(frozen=True)
class Matched:
    route: topology.Route
    path_parameters: dict[str, str]


def _rule_path(stage: str, path: str) -> str:
    """ "/orders/{order_id}" -> "/v1/orders/<order_id>" (werkzeug's syntax; no slash in a parameter)."""
    return f"/{stage}" + re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", r"<\1>", path)


class Gateway:
    def __init__(
        self,
        *,
        routes: tuple[topology.Route, ...],
        stage: str,
        verifier: TokenVerifier,
        bucket: TokenBucket,
        invoke: Invoke,
        clients: ClientBuckets | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
        route_buckets: Mapping[tuple[str, str], TokenBucket] | None = None,
        on_response: Callable[[int], None] | None = None,
    ) -> None:
        """`on_response` sees every answer's status (API Gateway's Count, 4XXError, 5XXError)."""
        self.on_response = on_response
        self.stage = stage
        self.verifier, self.bucket, self.invoke = verifier, bucket, invoke
        self.route_buckets = dict(route_buckets or {})  # (method, path) -> its own, lower limit
        self.clients = clients or ClientBuckets(bucket.rate, bucket.burst)
        self.max_body_bytes = max_body_bytes
        self._routes = Map(
            [Rule(_rule_path(stage, route.path), methods=[route.method], endpoint=route) for route in routes],
            strict_slashes=False,
            merge_slashes=False,
        )

    # --- WSGI ----------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        started = time.monotonic()
        request_id = str(uuid.uuid4())
        given = request.headers.get("X-Correlation-Id", "")
        correlation_id = given if CORRELATION_ID.match(given) else request_id
        function = None
        try:
            raw = self._read_body(request)
            matched = self._match(request)
            function = matched.route.function
            self._throttle_route(matched.route)
            claims = self._authorize(request)
            self._validate(request, matched.route, raw)
            event = proxy_event(
                request,
                raw_body=raw,
                stage=self.stage,
                resource=matched.route.path,
                path=request.path[len(self.stage) + 1 :],
                path_parameters=matched.path_parameters,
                claims=claims,
                request_id=request_id,
                received_at=datetime.now(UTC),
            )
            response = self._proxy(self.invoke(function, event, correlation_id))
        except GatewayError as error:
            response = self._error(error, correlation_id)
        except Exception as error:  # never werkzeug's HTML page: the Error schema, and a log line
            logs.log("gateway", "unexpected error", level="ERROR", error=repr(error), request_id=request_id)
            response = self._error(
                GatewayError(
                    500, "internal_error", "Internal server error", aws_type="InternalServerErrorException"
                ),
                correlation_id,
            )
        response.headers.setdefault("X-Correlation-Id", correlation_id)
        response.headers["x-amzn-RequestId"] = request_id
        if self.on_response is not None:
            self.on_response(response.status_code)
        logs.log(
            "gateway",
            "request",
            method=request.method,
            path=request.path,
            status=response.status_code,
            function=function,
            request_id=request_id,
            correlation_id=correlation_id,
            duration_ms=round((time.monotonic() - started) * 1000, 1),
        )
        return response(environ, start_response)

    # --- the checks, in order ------------------------------------------------------------------

    def _read_body(self, request: Request) -> bytes:
        declared = request.content_length
        if declared is not None and declared > AWS_MAX_BODY_BYTES:
            raise self._too_large(request, drain=False)
        chunks, size = [], 0
        try:
            while chunk := request.stream.read(64 * 1024):
                size += len(chunk)
                if size > self.max_body_bytes:
                    raise self._too_large(request, drain=True)
                chunks.append(chunk)
        except (ClientDisconnected, TimeoutError):  # the read timed out: the body stopped coming
            raise GatewayError(
                408, "request_timeout", "The request body did not arrive in time", aws_type="RequestTimeout"
            ) from None
        return b"".join(chunks)

    def _too_large(self, request: Request, *, drain: bool) -> GatewayError:
        if drain:  # so that the client reads our answer instead of a reset connection
            while request.stream.read(64 * 1024):
                pass
        message = f"The request body is larger than the local limit of {self.max_body_bytes} bytes"
        return GatewayError(413, "payload_too_large", message, aws_type="RequestEntityTooLarge")

    def _match(self, request: Request) -> Matched:
        try:
            route, arguments = self._routes.bind_to_environ(request.environ).match()
        except (NotFound, MethodNotAllowed):
            self._throttle(f"address:{request.remote_addr}")
            raise GatewayError(
                404,
                "not_found",
                "Missing Authentication Token",
                aws_type="MissingAuthenticationTokenException",
            ) from None
        return Matched(route, {name: str(value) for name, value in arguments.items()})

    def _throttle_route(self, route: topology.Route) -> None:
        bucket = self.route_buckets.get((route.method, route.path))
        if bucket is not None and not bucket.take():
            raise GatewayError(429, "too_many_requests", "Too Many Requests", aws_type="ThrottledException")

    def _authorize(self, request: Request) -> dict[str, Any]:
        """The caller's claims, each client throttled on its own bucket before the stage's.

        A request without a valid token spends only its address's bucket, never the stage's:
        an anonymous flood is throttled (429) or refused (401) without touching what signed-in
        customers share. On AWS the stage throttle runs before the authorizer, and a WAF
        rate-based rule per source address plays this part (docs/deploy.md)."""
        try:
            claims = self.verifier.claims(request.headers.get("Authorization"))
        except Unauthorized as error:
            self._throttle(f"address:{request.remote_addr}")
            logs.log("gateway", "unauthorized", level="WARNING", reason=str(error), path=request.path)
            raise GatewayError(
                401, "unauthorized", "Unauthorized", aws_type="UnauthorizedException"
            ) from None
        self._throttle(f"user:{claims.get('sub')}")
        if not self.bucket.take():
            raise _throttled()
        return claims

    def _throttle(self, client: str) -> None:
        if not self.clients.take(client):
            raise _throttled()

    def _validate(self, request: Request, route: topology.Route, raw: bytes) -> None:
        if route.request_model is None:
            return
        if request.mimetype not in JSON_TYPES:  # the deployed API's `$default` model: nothing passes
            raise _bad_request(
                [{"field": "Content-Type", "message": f"must be application/json, not {request.mimetype!r}"}]
            )
        try:
            body = json.loads(raw.decode("utf-8")) if raw else None
        except (UnicodeDecodeError, ValueError) as error:
            raise _bad_request([{"field": "$", "message": f"is not a JSON document: {error}"}]) from None
        except RecursionError:
            body = _TOO_DEEP
        if body is _TOO_DEEP or _depth(body) > MAX_DEPTH:
            raise _bad_request([{"field": "$", "message": f"nests deeper than {MAX_DEPTH} levels"}])
        if body is None and not raw:
            raise _bad_request([{"field": "$", "message": "is required"}])
        errors = body_errors(route.request_model, body)
        if errors:
            raise _bad_request([{"field": error.field, "message": error.message} for error in errors])

    # --- answers -------------------------------------------------------------------------------

    def _proxy(self, invocation: Invocation) -> Response:
        """The function's proxy response; a failed or malformed one is API Gateway's 502."""
        if not invocation.ok:
            raise GatewayError(
                502, "internal_error", "Internal server error", aws_type="InternalServerErrorException"
            )
        answer = invocation.result
        status = answer.get("statusCode") if isinstance(answer, dict) else None
        body = answer.get("body") if isinstance(answer, dict) else None
        if not isinstance(status, int) or not 100 <= status <= 599 or not isinstance(body, str | None):
            logs.log(
                "gateway", "malformed Lambda proxy response", level="ERROR", function=invocation.function
            )
            raise GatewayError(
                502, "internal_error", "Internal server error", aws_type="InternalServerErrorException"
            )
        body = body or ""
        payload: bytes | str = base64.b64decode(body) if answer.get("isBase64Encoded") else body
        response = Response(payload, status=status)
        response.headers.pop("Content-Type", None)
        for name, values in (answer.get("multiValueHeaders") or {}).items():
            for value in values:
                response.headers.add(name, str(value))
        for name, value in (answer.get("headers") or {}).items():
            response.headers[name] = str(value)
        response.headers.setdefault("Content-Type", "application/json")
        return response

    @staticmethod
    def _error(error: GatewayError, correlation_id: str) -> Response:
        body: dict[str, Any] = {
            "code": error.code,
            "message": error.message,
            "correlation_id": correlation_id,
        }
        if error.errors:
            body["errors"] = error.errors
        response = Response(json.dumps(body), status=error.status, mimetype="application/json")
        response.headers["x-amzn-ErrorType"] = error.aws_type
        if error.status == 413:
            response.headers["Connection"] = "close"
        return response


_TOO_DEEP = object()


def _depth(value: Any) -> int:
    """How deeply arrays and objects nest in a parsed JSON value (a scalar is 0), without recursion."""
    deepest, pending = 0, [(value, 0)]
    while pending:
        node, level = pending.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        deepest = max(deepest, level + 1)
        if deepest > MAX_DEPTH:
            break
        pending.extend((child, level + 1) for child in children)
    return deepest


def _throttled() -> GatewayError:
    return GatewayError(429, "too_many_requests", "Too Many Requests", aws_type="ThrottledException")


def _bad_request(errors: list[dict[str, str]]) -> GatewayError:
    """A 400 naming the offending fields: the first MAX_FIELD_ERRORS, and how many more there are."""
    message = "Invalid request body"
    if len(errors) > MAX_FIELD_ERRORS:
        more = len(errors) - MAX_FIELD_ERRORS
        message += f": {len(errors)} problems, the first {MAX_FIELD_ERRORS} listed, and {more} more"
        errors = errors[:MAX_FIELD_ERRORS]
    return GatewayError(400, "validation_error", message, errors=errors, aws_type="BadRequestException")
