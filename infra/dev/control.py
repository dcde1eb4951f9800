"""The runtime's control endpoint (127.0.0.1, its own port): Lambda's Invoke API and a status.

- `POST /2015-03-31/functions/<name>/invocations` is Lambda's Invoke path, so `aws lambda
  invoke --endpoint-url <control_url>` and boto3's lambda client work against it. `orders
  token` uses it to run the Cognito post-confirmation trigger, as Cognito would.
- `GET /local/invocations[?function=&correlation_id=]` lists recent invocations (function,
  request id, source, correlation id, outcome): how a test proves that a refused request
  never reached a function.
- `GET /local/status` says whether the pipeline is idle (every stream record delivered,
  queues empty, no delivery running) and counts what each pump delivered or dead-lettered.
- `GET /local/emails` lists the e-mails SES accepted (moto keeps them instead of sending).
- `POST /local/dlq/<name>/redrive` puts what a dead-letter queue holds back where it came
  from (infra/dev/redrive.py) and answers the report; 404 for a queue that is not one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from infra.dev.redrive import RedriveReport, UnknownQueue
from infra.emulator.functions import Functions


class ControlApi:
    def __init__(
        self,
        functions: Functions,
        status: Callable[[], dict[str, Any]],
        emails: Callable[[], list[dict[str, Any]]],
        redrive: Callable[[str], RedriveReport],
    ) -> None:
        self.functions, self.status, self.emails = functions, status, emails
        self.redrive = redrive
        self._map = Map(
            [
                Rule("/2015-03-31/functions/<name>/invocations", methods=["POST"], endpoint="invoke"),
                Rule("/local/invocations", methods=["GET"], endpoint="invocations"),
                Rule("/local/status", methods=["GET"], endpoint="status"),
                Rule("/local/emails", methods=["GET"], endpoint="emails"),
                Rule("/local/dlq/<name>/redrive", methods=["POST"], endpoint="redrive"),
            ]
        )

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        try:
            endpoint, arguments = self._map.bind_to_environ(environ).match()
            response = getattr(self, f"_{endpoint}")(request, **arguments)
        except HTTPException as error:
            response = _json({"message": error.description}, error.code or 500)
        return response(environ, start_response)

    def _invoke(self, request: Request, name: str) -> Response:
        if name not in self.functions.names():
            return _json(
                {"Type": "User", "message": f"Function not found: {name}"}, 404, "ResourceNotFoundException"
            )
        try:
            event = json.loads(request.get_data(as_text=True) or "{}")
        except ValueError:
            return _json({"Type": "User", "message": "Could not parse request body into json"}, 400)
        invocation = self.functions.invoke(name, event, source="invoke")
        if invocation.ok:
            response = _json(invocation.result, 200)
        else:
            response = _json(invocation.error, 200)
            response.headers["X-Amz-Function-Error"] = "Unhandled"
        response.headers["X-Amz-Executed-Version"] = "$LATEST"
        response.headers["x-amzn-RequestId"] = invocation.request_id
        return response

    def _invocations(self, request: Request) -> Response:
        wanted = {
            key: request.args[key] for key in ("function", "correlation_id", "source") if key in request.args
        }
        found = [
            entry
            for entry in list(self.functions.recent)
            if all(entry.get(k) == v for k, v in wanted.items())
        ]
        return _json({"invocations": found}, 200)

    def _status(self, request: Request) -> Response:
        return _json(self.status(), 200)

    def _emails(self, request: Request) -> Response:
        return _json({"emails": self.emails()}, 200)

    def _redrive(self, request: Request, name: str) -> Response:
        try:
            report = self.redrive(name)
        except UnknownQueue as error:
            return _json({"message": str(error.args[0])}, 404)
        return _json(report.to_json(), 200)


def _json(body: Any, status: int, error_type: str | None = None) -> Response:
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    if error_type:
        response.headers["x-amzn-ErrorType"] = error_type
    return response
