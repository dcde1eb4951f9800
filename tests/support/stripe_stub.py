"""A local HTTP stand-in for the Stripe endpoints the Stripe gateway calls, in a thread.

  POST /v1/payment_intents         create (and, with confirm=true, confirm) a PaymentIntent
  GET  /v1/payment_intents/<id>    read one back
  GET  /v1/payment_intents/search  ?query=metadata['order_id']:'<id>' (the one query the adapter makes)
  POST /v1/refunds                 refund (part of) a succeeded PaymentIntent
  GET  /v1/refunds                 ?payment_intent=<id>: that PaymentIntent's refunds, newest first

It behaves as Stripe does where the adapter depends on it: the secret key is checked (401);
parameters come form-encoded (metadata[order_id]=...); an Idempotency-Key seen before with the
same parameters gets the first answer replayed (status and body, header Idempotent-Replayed),
and with other parameters a 400 idempotency_error. It decides like the fake gateway, by a tag
in metadata[customer_email]:
  +decline      402 card_error card_declined (decline_code generic_decline), nothing charged;
  +timeout      the first request for a key charges, then holds its answer until the client
                gave up (the charge happened, the answer was lost);
  +unavailable  503 api_error, nothing charged.
A refund decides by the tag of the charged PaymentIntent's metadata[customer_email]:
  +refund-decline  the Refund is made with status failed (failure_reason declined), nothing refunded;
  +refund-timeout  the first request for a key refunds, then holds its answer until the client gave up.
Otherwise it succeeds, unless the PaymentIntent is unknown (400 resource_missing) or not
charged (400 charge_not_refundable), nothing is left of it (400 charge_already_refunded) or the
amount is more than is left (400 amount_too_large).
Setting `unavailable` makes every charge and refund a 503 (an outage, nothing charged) until it is cleared.
Everything else is charged. `charges` lists the PaymentIntents that succeeded, `refunds` the
Refunds that succeeded.
`forget_idempotency_keys()` does what a day does at Stripe: every key seen so far is forgotten.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from typing import Any
from urllib.parse import parse_qsl, urlsplit

SEARCH_QUERY = re.compile(r"^metadata\['(?P<key>[A-Za-z0-9_]+)'\]:'(?P<value>[^']*)'$")


@dataclass
class Received:
    method: str
    path: str
    idempotency_key: str | None
    params: dict[str, str]


@dataclass
class StripeStub:
    api_key: str = "sk_test_stub"
    hold_seconds: float = 5.0  # how long a "timeout" answer is held; the client gives up long before
    unavailable: bool = False  # the whole gateway is down: every charge is a 503
    received: list[Received] = field(default_factory=list)
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    all_refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    _answers: dict[str, tuple[dict[str, str], int, dict[str, Any]]] = field(default_factory=dict)
    _ids: count = field(default_factory=lambda: count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _release: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start the stub first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def charges(self) -> list[dict[str, Any]]:
        return [intent for intent in self.intents.values() if intent["status"] == "succeeded"]

    @property
    def refunds(self) -> list[dict[str, Any]]:
        return [made for made in self.all_refunds.values() if made["status"] == "succeeded"]

    def forget_idempotency_keys(self) -> None:
        with self._lock:
            self._answers.clear()

    def __enter__(self) -> StripeStub:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                params = dict(parse_qsl(self.rfile.read(length).decode()))
                stub._serve(self, "POST", params)

            def do_GET(self) -> None:
                stub._serve(self, "GET", {})

            def log_message(self, *args: Any) -> None:  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    # --- what Stripe does ---------------------------------------------------------------------

    def _serve(self, request: BaseHTTPRequestHandler, method: str, params: dict[str, str]) -> None:
        key = request.headers.get("Idempotency-Key")
        with self._lock:
            self.received.append(Received(method, request.path, key, params))
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return self._answer(request, 401, _error("invalid_request_error", "Invalid API Key provided"))
        url = urlsplit(request.path)
        if method == "GET" and url.path == "/v1/payment_intents/search":
            return self._search(request, dict(parse_qsl(url.query)).get("query", ""))
        if method == "GET" and request.path.startswith("/v1/payment_intents/"):
            intent = self.intents.get(request.path.rsplit("/", 1)[1])
            if intent is None:
                return self._answer(request, 404, _error("invalid_request_error", "No such payment_intent"))
            return self._answer(request, 200, intent)
        if method == "GET" and url.path == "/v1/refunds":
            return self._list_refunds(request, dict(parse_qsl(url.query)).get("payment_intent"))
        if method != "POST" or request.path not in ("/v1/payment_intents", "/v1/refunds"):
            return self._answer(
                request, 404, _error("invalid_request_error", f"Unrecognized request URL {request.path}")
            )

        hold = False
        with self._lock:
            if key is not None and key in self._answers:
                first_params, status, body = self._answers[key]
                if first_params != params:
                    status, body = (
                        400,
                        _error(
                            "idempotency_error",
                            "Keys for idempotent requests can only be used with the same parameters",
                        ),
                    )
                return self._answer(request, status, body, replayed=True)
            if request.path == "/v1/refunds":
                status, body = self._decide_refund(params)
                hold = status == 200 and "+refund-timeout" in self._email_charged(params)
            else:
                status, body = self._decide(params)
                hold = "+timeout" in params.get("metadata[customer_email]", "")
            if key is not None and status < 500:
                self._answers[key] = (params, status, body)
        if hold:
            self._release.wait(self.hold_seconds)  # the charge is made; the answer comes too late
        return self._answer(request, status, body)

    def _search(self, request: BaseHTTPRequestHandler, query: str) -> None:
        match = SEARCH_QUERY.match(query)
        if match is None:
            return self._answer(
                request, 400, _error("invalid_request_error", f"This stub cannot search {query!r}")
            )
        with self._lock:
            found = [
                intent
                for intent in reversed(self.intents.values())  # newest first, as Stripe sorts
                if intent["metadata"].get(match["key"]) == match["value"]
            ]
        body = {
            "object": "search_result",
            "data": found,
            "has_more": False,
            "url": "/v1/payment_intents/search",
        }
        return self._answer(request, 200, body)

    def _decide(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        email = params.get("metadata[customer_email]", "")
        if self.unavailable or "+unavailable" in email:
            return 503, _error("api_error", "An unknown error occurred")
        if params.get("confirm") != "true" or not params.get("payment_method"):
            return 400, _error("invalid_request_error", "This stub only creates confirmed PaymentIntents")
        intent = {
            "id": f"pi_stub_{next(self._ids):04d}",
            "object": "payment_intent",
            "amount": int(params["amount"]),
            "currency": params["currency"],
            "payment_method": params["payment_method"],
            "description": params.get("description"),
            "metadata": {k[9:-1]: v for k, v in params.items() if k.startswith("metadata[")},
            "livemode": False,
        }
        if "+decline" in email:
            intent |= {
                "status": "requires_payment_method",
                "last_payment_error": {"code": "card_declined", "decline_code": "generic_decline"},
            }
            self.intents[intent["id"]] = intent
            error = _error("card_error", "Your card was declined.", code="card_declined")
            error["error"] |= {"decline_code": "generic_decline", "payment_intent": intent}
            return 402, error
        intent |= {"status": "succeeded", "latest_charge": intent["id"].replace("pi_", "ch_")}
        self.intents[intent["id"]] = intent
        return 200, intent

    def _email_charged(self, params: dict[str, str]) -> str:
        intent = self.intents.get(params.get("payment_intent", ""))
        return intent["metadata"].get("customer_email", "") if intent else ""

    def _decide_refund(self, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if self.unavailable:
            return 503, _error("api_error", "An unknown error occurred")
        intent = self.intents.get(params.get("payment_intent", ""))
        if intent is None:
            return 400, _error(
                "invalid_request_error",
                f"No such payment_intent: {params.get('payment_intent')!r}",
                code="resource_missing",
            )
        if intent["status"] != "succeeded":
            return 400, _error(
                "invalid_request_error",
                "This PaymentIntent has no charge to refund",
                code="charge_not_refundable",
            )
        done = sum(
            r["amount"]
            for r in self.all_refunds.values()
            if r["payment_intent"] == intent["id"] and r["status"] == "succeeded"
        )
        left = intent["amount"] - done
        amount = int(params.get("amount", left))
        if left <= 0:
            return 400, _error(
                "invalid_request_error", "Charge has already been refunded.", code="charge_already_refunded"
            )
        if amount > left:
            return 400, _error(
                "invalid_request_error",
                "Refund amount is greater than unrefunded amount",
                code="amount_too_large",
            )
        made: dict[str, Any] = {
            "id": f"re_stub_{next(self._ids):04d}",
            "object": "refund",
            "amount": amount,
            "currency": intent["currency"],
            "payment_intent": intent["id"],
            "charge": intent["latest_charge"],
            "reason": params.get("reason"),
            "metadata": {k[9:-1]: v for k, v in params.items() if k.startswith("metadata[")},
            "status": "succeeded",
        }
        if "+refund-decline" in intent["metadata"].get("customer_email", ""):
            made |= {"status": "failed", "failure_reason": "declined"}
        self.all_refunds[made["id"]] = made
        return 200, made

    def _list_refunds(self, request: BaseHTTPRequestHandler, payment_intent: str | None) -> None:
        with self._lock:
            found = [r for r in reversed(self.all_refunds.values()) if r["payment_intent"] == payment_intent]
        body = {"object": "list", "data": found, "has_more": False, "url": "/v1/refunds"}
        return self._answer(request, 200, body)

    @staticmethod
    def _answer(
        request: BaseHTTPRequestHandler, status: int, body: dict[str, Any], replayed: bool = False
    ) -> None:
        data = json.dumps(body).encode()
        try:
            request.send_response(status)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(data)))
            request.send_header("Request-Id", "req_stub")
            if replayed:
                request.send_header("Idempotent-Replayed", "true")
            request.end_headers()
            request.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
            pass


def _error(kind: str, message: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message, **({"code": code} if code else {})}}
