"""moto's process: `python -m infra.dev.moto_main`, started by `orders dev` (moto_process.py).

moto answers every AWS request of the local runtime in pure Python. In the `orders dev`
process it shared one interpreter lock with the gateway and every pump; here it has its own.
This process applies the patches that make moto behave as AWS does (moto_atomic.py,
moto_sqs.py, moto_events.py) and those that spare it work it repeated for every request
(moto_dispatch.py, moto_serialize.py, and in moto_sqs.py and moto_events.py), serves
moto's app with every request counted (request_counter.py) on a keep-alive server
(http_server.py), each AWS request a round trip later with `--aws-latency` (latency.py), and
owns the journal of `--data-dir` (journal.py, journal_hook.py), which hooks moto's DynamoDB
backend and so must live beside it.

What `orders dev` needs of moto's memory it asks for under `/_local/`, a path no AWS API uses
(moto_process.py is the other end): the request counts, the journal, the stream records to
re-drive, a restored Cognito user's `sub`, SES's sent e-mails, SQS's queue metrics, old
CloudWatch points to drop, the trace header of an EventBridge event.

Its one optional argument is that round trip in milliseconds (0: none). It prints `{"port":
..., "pid": ..., "aws_latency_ms": ...}` on stdout once it listens, and runs until its stdin
ends: when `orders dev` closes it or dies, however it dies (a Ctrl-C of the terminal does not
reach this process, which runs in a session of its own; `orders dev` stops it last).
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from moto.cloudwatch.models import cloudwatch_backends
from moto.cognitoidp.models import cognitoidp_backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.ses.models import ses_backends
from moto.sqs.models import sqs_backends
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from infra.dev import journal, journal_hook
from infra.emulator import metrics, moto_cognito, moto_ses, traces
from infra.emulator.http_server import HttpServer
from infra.emulator.latency import NetworkLatency
from infra.emulator.moto_atomic import make_dynamodb_writes_atomic, write_lock
from infra.emulator.moto_dispatch import remember_backends
from infra.emulator.moto_events import keep_event_trace_headers, parse_paths_once
from infra.emulator.moto_serialize import write_attribute_values_directly
from infra.emulator.moto_sqs import (
    keep_batch_system_attributes,
    read_retention_directly,
    send_without_counting,
)
from infra.emulator.request_counter import RequestCounter

HOST = "127.0.0.1"  # never another interface: moto has no auth
PREFIX = "/_local/"
# Requests answered at once. Every pump's poller holds one in a long poll (a second), every
# function container one per call: more than the runtime ever has in flight.
THREADS = 128
CLIENT_TIMEOUT_SECONDS = 30  # an idle keep-alive connection is closed after this


class LocalApi:
    """The routes under /_local/; anything else goes to moto, counted, after `round_trip_ms`."""

    def __init__(self, counter: RequestCounter, round_trip_ms: float = 0) -> None:
        self.counter = counter
        self.aws = NetworkLatency(counter, round_trip_ms) if round_trip_ms else counter
        self.journal: journal.Journal | None = None
        self.table: tuple[str, str, str] | None = None
        self._map = Map(
            [
                Rule("/_local/process", methods=["GET"], endpoint=self.process),
                Rule("/_local/requests", methods=["GET"], endpoint=self.requests),
                Rule("/_local/requests/reset", methods=["POST"], endpoint=self.reset_requests),
                Rule("/_local/journal", methods=["POST"], endpoint=self.attach_journal),
                Rule("/_local/journal", methods=["GET"], endpoint=self.journal_position),
                Rule("/_local/journal", methods=["DELETE"], endpoint=self.close_journal),
                Rule("/_local/journal/seal", methods=["POST"], endpoint=self.seal_journal),
                Rule("/_local/republish", methods=["POST"], endpoint=self.republish),
                Rule("/_local/emails", methods=["POST"], endpoint=self.emails),
                Rule("/_local/queue-metrics", methods=["POST"], endpoint=self.queue_metrics),
                Rule("/_local/metrics/prune", methods=["POST"], endpoint=self.prune_metrics),
                Rule("/_local/event-traces/<event_id>", methods=["GET"], endpoint=self.event_trace),
                Rule("/_local/cognito/sub", methods=["POST"], endpoint=self.give_back_sub),
            ]
        )

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if not environ.get("PATH_INFO", "").startswith(PREFIX):
            return self.aws(environ, start_response)
        request = Request(environ)
        try:
            answer, arguments = self._map.bind_to_environ(environ).match()
            body = answer(request.get_json(silent=True) or {}, **arguments)
            response = Response(json.dumps(body), mimetype="application/json")
        except HTTPException as error:
            response = Response(json.dumps({"message": error.description}), error.code or 500)
        return response(environ, start_response)

    def process(self, _: dict[str, Any]) -> dict[str, Any]:
        return {"pid": os.getpid()}

    def requests(self, _: dict[str, Any]) -> dict[str, Any]:
        return self.counter.snapshot()

    def reset_requests(self, _: dict[str, Any]) -> dict[str, Any]:
        self.counter.reset()
        return self.counter.snapshot()

    def attach_journal(self, body: dict[str, Any]) -> dict[str, Any]:
        self.close_journal({})
        self.table = (body["account_id"], body["region"], body["table_name"])
        self.journal = journal.Journal(Path(body["path"]), ordering=write_lock())
        journal_hook.attach(*self.table, self.journal)
        return {"last": self.journal.last}

    def journal_position(self, _: dict[str, Any]) -> dict[str, Any]:
        """The journal's last line and the stream's last sequence number, read together."""
        assert self.journal is not None
        assert self.table is not None
        with write_lock():
            return {"last": self.journal.last, "sequence": journal_hook.last_sequence_number(*self.table)}

    def seal_journal(self, body: dict[str, Any]) -> dict[str, Any]:
        assert self.journal is not None
        return {"last": self.journal.seal(Path(body["sealed"]))}

    def close_journal(self, _: dict[str, Any]) -> dict[str, Any]:
        if self.journal is not None and self.table is not None:
            journal_hook.detach(*self.table)
            self.journal.close()
        self.journal = self.table = None
        return {}

    def republish(self, body: dict[str, Any]) -> dict[str, Any]:
        table = (body["account_id"], body["region"], body["table_name"])
        return {"found": journal_hook.republish(*table, body["keys"])}

    def emails(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"emails": moto_ses.sent_emails(ses_backends[body["account_id"]][body["region"]])}

    def queue_metrics(self, body: dict[str, Any]) -> dict[str, Any]:
        backend = sqs_backends[body["account_id"]][body["region"]]
        return {"data": [metrics.datum_to_json(d) for d in metrics.queue_data(backend, body["names"])]}

    def prune_metrics(self, body: dict[str, Any]) -> dict[str, Any]:
        backend = cloudwatch_backends[body["account_id"]][body["region"]]
        metrics.prune(backend, datetime.fromisoformat(body["before"]).astimezone(UTC))
        return {}

    def give_back_sub(self, body: dict[str, Any]) -> dict[str, Any]:
        pool = cognitoidp_backends[body["account_id"]][body["region"]].user_pools[body["user_pool_id"]]
        moto_cognito.give_back_sub(pool, body["created"], body["sub"])
        return {}

    def event_trace(self, _: dict[str, Any], event_id: str) -> dict[str, Any]:
        return {"header": traces.remembered_event_trace(event_id)}


def main() -> None:
    make_dynamodb_writes_atomic()
    keep_batch_system_attributes()
    read_retention_directly()
    send_without_counting()
    keep_event_trace_headers()
    parse_paths_once()
    remember_backends()
    write_attribute_values_directly()
    round_trip_ms = float(sys.argv[1]) if len(sys.argv) > 1 else 0.0
    api = LocalApi(RequestCounter(DomainDispatcherApplication(create_backend_app)), round_trip_ms)
    server = HttpServer(api, HOST, 0, threads=THREADS, timeout=CLIENT_TIMEOUT_SECONDS).start()
    announce = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # anything printed later goes to stderr
    announced = {"port": server.port, "pid": os.getpid(), "aws_latency_ms": round_trip_ms}
    announce.write(json.dumps(announced) + "\n")
    announce.close()
    sys.stdin.buffer.read()  # until `orders dev` closes the pipe, or dies
    api.close_journal({})  # every line is on disk already; this only syncs the last
    os._exit(0)  # not a slow interpreter exit over all that moto holds: nothing is left to do


if __name__ == "__main__":
    main()
