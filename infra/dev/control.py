"""The runtime's control endpoint (127.0.0.1, its own port): Lambda's Invoke API and a status.

- `POST /2015-03-31/functions/<name>/invocations` is Lambda's Invoke path, so `aws lambda
  invoke --endpoint-url <control_url>` and boto3's lambda client work against it. `orders
  token` uses it to run the Cognito post-confirmation trigger, as Cognito would.
- `GET /local/invocations[?function=&correlation_id=&traced=&request_id=&trace_id=&limit=]`
  lists recent invocations (function, request id, source, correlation id, X-Ray trace id,
  outcome, duration, cold or warm, log lines): how a test proves that a refused request never
  reached a function; `trace_id` lists one trace's invocations.
  `correlation_id` is the id the invocation was called with (the API's); `traced` also
  matches an id the function logged, so it follows a request down the pipeline.
- `GET /local/status` says whether the pipeline is idle (every stream record delivered,
  queues empty, no delivery running) and counts what each pump delivered or dead-lettered.
- `GET /local/emails` lists the e-mails SES accepted (moto keeps them instead of sending).
- `POST /local/dlq/<name>/redrive` puts what a dead-letter queue holds back where it came
  from (infra/dev/redrive.py) and answers the report; 404 for a queue that is not one.
- `GET /local/orders` lists every order in the log with its status by the log and by the read
  model and whether they agree; `GET /local/orders/<id>` adds its events (with correlation and
  causation ids), the state folded from them and the read model's row.
- `GET /local/stock` lists every SKU head; `GET /local/dead-letters` what sits in each DLQ.
- `GET /local/alarms` lists the topology's alarms with their state in moto's CloudWatch
  (infra/emulator/alarms.py evaluates them), as `orders alarms` prints them.
- `GET /local/requests` counts what moto has received, per caller (each function by name, each
  kind of pump, the gateway, "runtime-status" for these routes' own look-ups, "other") and per
  AWS operation (infra/emulator/request_counter.py); `POST /local/requests/reset` zeroes it.
- `POST /local/pumps/pause` stops every pump's polling (stream, SQS, rules, schedules): the API
  still answers and writes, nothing consumes it, and the status is never idle; `POST
  /local/pumps/resume` starts them again. Both answer `{"paused": ...}`.

The console (infra/dev/console.py) reads these same routes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from infra.dev.inspection import SystemView
from infra.dev.redrive import RedriveReport, UnknownQueue
from infra.emulator.functions import Functions


class RequestCounts(Protocol):
    """What moto received (request_counter.py), counted in moto's process (moto_process.py)."""

    def snapshot(self) -> dict[str, Any]: ...

    def reset(self) -> None: ...


class ControlApi:
    def __init__(
        self,
        functions: Functions,
        status: Callable[[], dict[str, Any]],
        emails: Callable[[], list[dict[str, Any]]],
        redrive: Callable[[str], RedriveReport],
        system: SystemView,
        dead_letters: Callable[[], dict[str, list[dict[str, Any]]]],
        alarms: Callable[[], list[dict[str, Any]]],
        pause: Callable[[bool], dict[str, Any]],
        requests: RequestCounts,
    ) -> None:
        self.functions, self.status, self.emails, self.alarms = functions, status, emails, alarms
        self.redrive, self.system, self.dead_letters = redrive, system, dead_letters
        self.pause, self.requests = pause, requests
        # Each rule's endpoint is the method that answers it: the routes are the whole API.
        self._map = Map(
            [
                Rule("/2015-03-31/functions/<name>/invocations", methods=["POST"], endpoint=self.invoke),
                Rule("/local/invocations", methods=["GET"], endpoint=self.invocations),
                Rule("/local/status", methods=["GET"], endpoint=self.show_status),
                Rule("/local/emails", methods=["GET"], endpoint=self.show_emails),
                Rule("/local/orders", methods=["GET"], endpoint=self.show_orders),
                Rule("/local/orders/<order_id>", methods=["GET"], endpoint=self.show_order),
                Rule("/local/stock", methods=["GET"], endpoint=self.show_stock),
                Rule("/local/dead-letters", methods=["GET"], endpoint=self.show_dead_letters),
                Rule("/local/alarms", methods=["GET"], endpoint=self.show_alarms),
                Rule("/local/dlq/<name>/redrive", methods=["POST"], endpoint=self.redrive_queue),
                Rule("/local/requests", methods=["GET"], endpoint=self.show_requests),
                Rule("/local/requests/reset", methods=["POST"], endpoint=self.reset_requests),
                Rule("/local/pumps/pause", methods=["POST"], endpoint=self.pause_pumps),
                Rule("/local/pumps/resume", methods=["POST"], endpoint=self.resume_pumps),
            ]
        )

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        try:
            answer, arguments = self._map.bind_to_environ(environ).match()
            response = answer(request, **arguments)
        except HTTPException as error:
            response = _json({"message": error.description}, error.code or 500)
        return response(environ, start_response)

    def invoke(self, request: Request, name: str) -> Response:
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

    def invocations(self, request: Request) -> Response:
        fields = ("function", "source", "request_id", "correlation_id", "trace_id")
        wanted = {key: request.args[key] for key in fields if key in request.args}
        traced = request.args.get("traced")  # the caller's or any logged correlation id
        found = [
            entry
            for entry in list(self.functions.recent)
            if all(entry.get(k) == v for k, v in wanted.items())
            and (traced is None or traced in entry.get("correlation_ids", ()))
        ]
        if "limit" in request.args:
            try:
                limit = int(request.args["limit"])
            except ValueError:
                return _json({"message": "limit must be a whole number"}, 400)
            found = found[-limit:] if limit > 0 else []
        return _json({"invocations": found}, 200)

    def show_status(self, request: Request) -> Response:
        return _json(self.status(), 200)

    def show_emails(self, request: Request) -> Response:
        return _json({"emails": self.emails()}, 200)

    def redrive_queue(self, request: Request, name: str) -> Response:
        try:
            report = self.redrive(name)
        except UnknownQueue as error:
            return _json({"message": str(error.args[0])}, 404)
        return _json(report.to_json(), 200)

    def show_orders(self, request: Request) -> Response:
        return _json({"orders": self.system.orders()}, 200)

    def show_order(self, request: Request, order_id: str) -> Response:
        order = self.system.order(order_id)
        if order is None:
            return _json({"message": f"no order {order_id} in the log"}, 404)
        return _json(order, 200)

    def show_stock(self, request: Request) -> Response:
        return _json({"stock": self.system.stock()}, 200)

    def show_dead_letters(self, request: Request) -> Response:
        return _json({"dead_letters": self.dead_letters()}, 200)

    def show_alarms(self, request: Request) -> Response:
        return _json({"alarms": self.alarms()}, 200)

    def show_requests(self, request: Request) -> Response:
        return _json(self.requests.snapshot(), 200)

    def reset_requests(self, request: Request) -> Response:
        self.requests.reset()
        return _json(self.requests.snapshot(), 200)

    def pause_pumps(self, request: Request) -> Response:
        return _json(self.pause(True), 200)

    def resume_pumps(self, request: Request) -> Response:
        return _json(self.pause(False), 200)


def _json(body: Any, status: int, error_type: str | None = None) -> Response:
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    if error_type:
        response.headers["x-amzn-ErrorType"] = error_type
    return response
