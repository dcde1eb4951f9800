"""`orders dev`: the whole system on 127.0.0.1, assembled from the topology.

Start-up order: moto (DynamoDB + Streams, SQS, EventBridge, SES, Cognito, CloudWatch) in a
process of its own (moto_process.py); PostgreSQL (embedded, or DATABASE_URL); the read model's
migrations; every resource of the topology; the saved table when there is a data directory,
and its journal, kept by moto's process (every write from then on is on disk before it is
answered); the metrics and the topology's alarms
(infra/emulator/metrics.py, alarms.py); the function containers; the events that were still
in flight when the last run ended, put back on the stream; the pumps (stream, SQS,
EventBridge); a replay of the read model if a table was restored; the API gateway and the
control endpoint; and last the state file, which tells the other commands the system is ready.
Shutting down runs the other way, and folds the journal into the saved table; it does not wait
for the pipeline, whose unfinished events the next start re-drives.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra import topology
from infra.dev import moto_process, persistence, read_model, state
from infra.dev.checkpoint import Checkpointer
from infra.dev.console import Console, mounted
from infra.dev.control import ControlApi
from infra.dev.dead_letters import peek
from infra.dev.embedded_postgres import postgres_url
from infra.dev.hot_reload import HotReload
from infra.dev.inspection import SystemView
from infra.dev.redrive import Redriver, RedriveReport
from infra.emulator import alarms, logs, moto_cognito, traces
from infra.emulator.aws import client
from infra.emulator.background import wait_until_idle
from infra.emulator.cognito_tokens import TokenVerifier
from infra.emulator.environment import function_environment
from infra.emulator.functions import DEFAULT_MAX_CONTAINERS, Functions
from infra.emulator.gateway import MAX_BODY_BYTES, Gateway
from infra.emulator.http_server import HttpServer
from infra.emulator.metrics import (
    Metrics,
    api_response_data,
    invocation_data,
    iterator_age_data,
)
from infra.emulator.queue_pump import QueuePump
from infra.emulator.resources import Resources, create_resources
from infra.emulator.retry import DEFAULT_BASE_SECONDS
from infra.emulator.rule_pump import RulePump
from infra.emulator.schedule_pump import SchedulePump
from infra.emulator.stream_pump import DEFAULT_SHARDS, StreamConsumerPump, StreamReader
from infra.emulator.throttle import TokenBucket

HOST = "127.0.0.1"  # never another interface: moto and the control endpoint have no auth
CLIENT_READ_TIMEOUT_SECONDS = 10  # a client silent this long mid-request is cut (no slow-loris)
# Requests the gateway (and the control endpoint) answer at once: above every benchmark's
# concurrency (32); more wait for a thread.
SERVER_THREADS = 64
# How long a stop of an idle pipeline waits to see it settled (three looks): long enough for a
# loaded machine, short against the stop's budget; a busy pipeline is not waited for at all.
STOP_SETTLE_SECONDS = 2.0


@dataclass(frozen=True)
class Options:
    port: int = 8000
    data_dir: Path | None = None
    state_file: Path = state.DEFAULT_PATH
    rate_limit: float = topology.API.rate_limit
    burst_limit: int = topology.API.burst_limit
    route_limits: bool = True  # False: no route has a bucket of its own (benchmarks lift every throttle)
    retry_delay: float = DEFAULT_BASE_SECONDS
    redelivery_delay: int | None = None
    payment_deadline_seconds: int = topology.PAYMENT_DEADLINE_SECONDS  # shorter for tests and demos
    max_containers: int = DEFAULT_MAX_CONTAINERS
    max_body_bytes: int = MAX_BODY_BYTES
    hot_reload: bool = True  # a code change retires warm containers (infra/dev/hot_reload.py)
    schedule_every: float | None = None  # seconds between scheduled runs; None: each schedule's rate
    alarm_period: int = topology.ALARM_PERIOD_SECONDS  # every alarm's period; shorter for tests
    stream_shards: int = DEFAULT_SHARDS  # virtual shards of the stream, a batch in flight in each
    aws_latency_ms: float = 0  # the round trip of every AWS request (infra/emulator/latency.py)


def route_buckets(options: Options) -> dict[tuple[str, str], TokenBucket]:
    """The buckets of the routes the topology limits below the stage, unless lifted."""
    if not options.route_limits:
        return {}
    return {
        (limit.method, limit.path): TokenBucket(limit.rate_limit, limit.burst_limit)
        for limit in topology.API.route_limits
    }


def _server(app: Any, port: int) -> HttpServer:
    """A keep-alive server on 127.0.0.1 (http_server.py): a client that stops sending its
    headers gets the connection closed, one that stops sending its body gets a 408."""
    return HttpServer(app, HOST, port, threads=SERVER_THREADS, timeout=CLIENT_READ_TIMEOUT_SECONDS).start()


class ApiPort:
    """The API port's app, set once the port is known (the console needs the API's URL)."""

    def __init__(self) -> None:
        self._app: Any = None

    def serve(self, app: Any) -> None:
        self._app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self._app is None:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"starting"]
        return self._app(environ, start_response)


class LocalRuntime:
    """`functions` are the topology's; tests pass stand-ins (same names and settings, other handlers)."""

    def __init__(
        self, options: Options, *, functions: tuple[topology.Function, ...] = topology.FUNCTIONS
    ) -> None:
        self.options = options
        self.function_specs = functions
        self._stack = contextlib.ExitStack()
        self.state: state.DevState | None = None
        self.functions: Functions | None = None
        self._reader: StreamReader | None = None
        self._stream_pumps: list[StreamConsumerPump] = []
        self._queue_pumps: list[QueuePump] = []
        self._rule_pumps: list[RulePump] = []
        self._schedule_pumps: list[SchedulePump] = []
        self._gateway: HttpServer | None = None
        self._control: HttpServer | None = None
        self._moto: moto_process.MotoProcess | None = None
        self._hot_reload: HotReload | None = None
        self._journal: moto_process.Journal | None = None
        self._checkpointer: Checkpointer | None = None
        self.resources: Resources | None = None
        self.metrics: Metrics | None = None
        self.alarms: alarms.AlarmEvaluator | None = None
        # A peek receives a DLQ's messages for a moment: a redrive, or a sample of the queue's
        # depth for its alarm, would find none meanwhile.
        self._dead_letters_lock = threading.Lock()

    # --- start ---------------------------------------------------------------------------------

    def start(self) -> state.DevState:
        try:
            return self._start()
        except BaseException:
            self.stop(save=False)
            raise

    def _start(self) -> state.DevState:
        options = self.options
        moto = self._moto = moto_process.MotoProcess(options.aws_latency_ms)
        moto_url = moto.url
        traces.look_up_event_traces(moto.event_trace)  # moto's process remembers them
        logs.log(
            "runtime", "moto is listening", url=moto_url, pid=moto.pid, aws_latency_ms=moto.aws_latency_ms
        )

        database_url = self._stack.enter_context(postgres_url())
        read_model.migrate(database_url)
        logs.log("runtime", "read model migrated")

        resources = self.resources = create_resources(moto_url)
        loaded, in_flight = 0, []
        if options.data_dir is not None:
            folded = persistence.compact(options.data_dir)
            in_flight = list(folded.redrive.values())
            loaded = persistence.load(
                client("dynamodb", moto_url), resources.table_name, list(folded.items.values())
            )
            users = persistence.load_users(options.data_dir)
            pool = (resources.account_id, resources.region, resources.user_pool_id)
            cognito = client("cognito-idp", moto_url)
            moto_cognito.restore_users(
                cognito, resources, users, lambda created, sub: moto.give_back_sub(*pool, created, sub)
            )
            journal_path = options.data_dir / persistence.JOURNAL_FILE
            self._journal = moto.attach_journal(journal_path, _table_of(resources))
            logs.log("runtime", "restored", items=loaded, users=len(users), data_dir=str(options.data_dir))

        environments = {
            function.name: function_environment(function, resources, database_url)
            for function in self.function_specs
        }
        for name, environment in environments.items():
            # Locally only: botocore puts `app/<name>` in every User-Agent of the function's
            # clients, which is how moto's request counter tells the functions apart.
            environment["AWS_SDK_UA_APP_ID"] = name
            if "PAYMENT_DEADLINE_SECONDS" in environment:
                environment["PAYMENT_DEADLINE_SECONDS"] = str(options.payment_deadline_seconds)
        metrics = self.metrics = self._start_metrics(resources)
        self.functions = Functions(
            self.function_specs,
            environments,
            max_containers=options.max_containers,
            on_invocation=lambda invocation: metrics.put(invocation_data(invocation)),
        )
        if options.hot_reload:
            self._hot_reload = HotReload(self.functions).start()
        start_after = None
        if loaded:
            # A restored table's items are not streamed again (a table restored from a backup
            # has a fresh stream), except the events the last run had not finished with.
            streams = client("dynamodbstreams", resources.endpoint)
            shard = StreamReader.shard_of(streams, resources.stream_arn)
            start_after = StreamReader.latest_sequence_number(streams, resources.stream_arn, shard)
            redriven = moto.republish(_table_of(resources), in_flight)
            logs.log("runtime", "events in flight at the last stop re-driven", events=redriven)
        self._start_pumps(resources, start_after=start_after)
        if options.data_dir is not None:
            self._checkpointer = Checkpointer(
                options.data_dir, self._journal, settled_up_to=self._settled_up_to, users=self._users
            )
            self._checkpointer.start()
        # The read model must match the log: rebuild it when the log was restored, or when the
        # database is not ours (DATABASE_URL) and may hold rows of another run.
        if loaded or os.environ.get("DATABASE_URL"):
            read_model.rebuild(self.functions)
            logs.log("runtime", "read model rebuilt from the log", events_restored=loaded)

        verifier = TokenVerifier(
            jwks_url=resources.jwks_url, issuer=resources.issuer, audiences=[resources.app_client_id]
        )
        gateway = Gateway(
            routes=topology.routes(),
            stage=topology.API.stage,
            verifier=verifier,
            bucket=TokenBucket(options.rate_limit, options.burst_limit),
            route_buckets=route_buckets(options),
            invoke=lambda name, event, correlation_id: self._functions().invoke(
                name, event, source="api", correlation_id=correlation_id
            ),
            max_body_bytes=options.max_body_bytes,
            on_response=lambda status: metrics.put(api_response_data(topology.API.name, status)),
        )
        control = ControlApi(
            self.functions,
            self.status,
            self.sent_emails,
            redrive=self.redrive,
            system=SystemView(resources, database_url),
            dead_letters=self.dead_letters,
            alarms=self.describe_alarms,
            pause=self.pause_pumps,
            requests=moto.requests,
        )
        self._control = _server(control, 0)
        api_port = ApiPort()
        self._gateway = _server(api_port, options.port)
        api_url = f"http://{HOST}:{self._gateway.port}/{topology.API.stage}"
        api_port.serve(mounted(gateway, Console(control, api_url)))
        self.state = state.DevState(
            pid=os.getpid(),
            api_url=api_url,
            control_url=f"http://{HOST}:{self._control.port}",
            moto_url=moto_url,
            database_url=database_url,
            resources=resources,
        )
        state.write(options.state_file, self.state)
        return self.state

    def _functions(self) -> Functions:
        assert self.functions is not None
        return self.functions

    def _metrics(self) -> Metrics:
        assert self.metrics is not None
        return self.metrics

    def _start_metrics(self, resources: Resources) -> Metrics:
        """CloudWatch in moto: the metrics every part reports, and the topology's alarms on them."""
        moto, account, region = self._moto, resources.account_id, resources.region
        assert moto is not None
        cloudwatch = client("cloudwatch", resources.endpoint, caller="local-cloudwatch")
        metrics = Metrics(cloudwatch, prune=lambda before: moto.prune_metrics(account, region, before))
        specs = topology.alarms()
        period = self.options.alarm_period
        alarms.create(cloudwatch, specs, period_seconds=period)
        watched = sorted({a.subject for a in specs if a.metric.dimension == "QueueName"})

        def samples() -> list[Any]:
            with self._dead_letters_lock:
                return moto.queue_data(account, region, watched)

        self.alarms = alarms.AlarmEvaluator(
            cloudwatch,
            specs,
            period_seconds=period,
            samples=samples,
            put=metrics.put,
            flush=metrics.flush,
        )
        metrics.start()
        self.alarms.start()
        return metrics

    def describe_alarms(self) -> list[dict[str, Any]]:
        return [] if self.alarms is None else self.alarms.describe()  # none once stopping

    def _start_pumps(self, resources: Resources, *, start_after: str | None) -> None:
        endpoint = resources.endpoint
        streams = client("dynamodbstreams", endpoint, caller="stream-pump")
        shard = StreamReader.shard_of(streams, resources.stream_arn)
        sqs = client("sqs", endpoint, caller="stream-pump")
        metrics = self._metrics()
        for settings in topology.STREAM_CONSUMERS:
            failure_url = resources.queue_urls[settings.on_failure]
            self._stream_pumps.append(
                StreamConsumerPump(
                    settings,
                    invoke=self._invoker("stream"),
                    send_failure=lambda pointer, url=failure_url: _send_json(sqs, url, pointer),
                    function_arn=resources.function_arn(settings.function),
                    stream_arn=resources.stream_arn,
                    shard_id=shard,
                    retry_delay=self.options.retry_delay,
                    shards=self.options.stream_shards,
                    on_batch=lambda name, batch: metrics.put(iterator_age_data(name, batch)),
                )
            )
        self._reader = StreamReader(
            streams,
            stream_arn=resources.stream_arn,
            region=resources.region,
            consumers=self._stream_pumps,
            shard_id=shard,
            start_after=start_after,
        )
        for consumer in topology.QUEUE_CONSUMERS:
            self._queue_pumps.append(
                QueuePump(
                    consumer,
                    sqs=client("sqs", endpoint, caller="sqs-pump"),
                    queue_url=resources.queue_urls[consumer.queue],
                    queue_arn=resources.queue_arns[consumer.queue],
                    region=resources.region,
                    invoke=self._invoker("sqs"),
                    redelivery_delay=self.options.redelivery_delay,
                )
            )
        # EventBridge invokes a target's function concurrently, one event per invocation: one
        # receiver per target, with as many invocations at once as the function may have
        # containers. (The SQS consumer keeps one poller: the fake payment gateway's ledger
        # lives in its container, and one idempotency key must meet one ledger.)
        for target in resources.rule_targets:
            self._rule_pumps.append(
                RulePump(
                    target,
                    sqs=client("sqs", endpoint, caller="rule-pump"),
                    invoke=self._invoker("eventbridge"),
                    function_arn=resources.function_arn(target.function),
                    retry_delay=self.options.retry_delay,
                    concurrency=self.functions.max_containers(target.function),
                )
            )
        self._schedule_pumps = self._schedules(resources)
        for pump in [
            *self._stream_pumps,
            self._reader,
            *self._queue_pumps,
            *self._rule_pumps,
            *self._schedule_pumps,
        ]:
            pump.start()

    def _schedules(self, resources: Resources) -> list[SchedulePump]:
        """A rule with the rate in moto (moto cannot invoke it) and a timer that invokes the function."""
        events = client("events", resources.endpoint, caller="schedule-pump")
        pumps = []
        for schedule in topology.SCHEDULES:
            if schedule.function not in self._functions().names():
                continue  # a test runtime with other functions
            rule_arn = events.put_rule(
                Name=schedule.name,
                ScheduleExpression=f"rate({schedule.rate_minutes} minutes)",
                Description=schedule.description,
                State="ENABLED",
            )["RuleArn"]
            pumps.append(
                SchedulePump(
                    schedule,
                    invoke=self._invoker("schedule"),
                    rule_arn=rule_arn,
                    region=resources.region,
                    account_id=resources.account_id,
                    period_seconds=self.options.schedule_every or schedule.rate_minutes * 60,
                )
            )
        return pumps

    def _invoker(self, source: str) -> Any:
        def invoke(name: str, event: dict[str, Any]) -> Any:
            return self._functions().invoke(name, event, source=source)

        return invoke

    # --- status --------------------------------------------------------------------------------

    def _queue_depths(self) -> dict[str, dict[str, int]]:
        assert self.resources is not None
        sqs = client("sqs", self.resources.endpoint, caller="runtime-status")
        urls = dict(self.resources.queue_urls)
        for target in self.resources.rule_targets:
            urls[target.delivery_queue_url.rsplit("/", 1)[1]] = target.delivery_queue_url
        depths = {}
        for name, url in urls.items():
            attributes = sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            depths[name] = {
                "visible": int(attributes["ApproximateNumberOfMessages"]),
                "in_flight": int(attributes["ApproximateNumberOfMessagesNotVisible"]),
            }
        return depths

    def status(self) -> dict[str, Any]:
        """Is the pipeline idle, what sits in which queue, what each stream consumer delivered,
        how many containers each function may run."""
        depths = self._queue_depths()
        dead_letters = {parked.dead_letter for parked in topology.parked_sources()}
        working = {name: depth for name, depth in depths.items() if name not in dead_letters}
        paused = self._paused()
        idle = (
            self._reader is not None
            and not paused
            and self._reader.idle
            and not any(pump.busy for pump in [*self._queue_pumps, *self._rule_pumps])
            and all(depth["visible"] == 0 and depth["in_flight"] == 0 for depth in working.values())
        )
        return {
            "idle": idle,
            "paused": paused,
            "queues": depths,
            "dead_letter_queues": sorted(dead_letters),
            "stream_read_up_to": None if self._reader is None else self._reader.last_read,
            "stream_consumers": {
                pump.name: {
                    "delivered": pump.delivered,
                    "retries": pump.retries,
                    "dead_lettered": pump.dead_lettered,
                }
                for pump in self._stream_pumps
            },
            "schedules": {
                pump.schedule.name: {"every_seconds": pump.period_seconds, "runs": pump.runs}
                for pump in self._schedule_pumps
            },
            "aws_latency_ms": None if self._moto is None else self._moto.aws_latency_ms,
            "max_containers": {}
            if self.functions is None
            else {name: self.functions.max_containers(name) for name in self.functions.names()},
        }

    def _pollers(self) -> list[Any]:
        """The pumps that poll for work: the stream reader, the SQS, rule and schedule pumps (a
        stream consumer only delivers what the reader gave it)."""
        return [self._reader, *self._queue_pumps, *self._rule_pumps, *self._schedule_pumps]

    def _paused(self) -> bool:
        return any(pump is not None and pump.paused for pump in self._pollers())

    def pause_pumps(self, paused: bool) -> dict[str, Any]:
        """Stop (or restart) every pump's polling: the API alone runs, nothing consumes what it
        writes, and moto sees only the API's requests (for a benchmark; see docs/local.md)."""
        for pump in self._pollers():
            if pump is not None:
                pump.pause() if paused else pump.resume()
        logs.log("runtime", "pumps paused" if paused else "pumps resumed")
        return {"paused": self._paused()}

    def redrive(self, name: str) -> RedriveReport:
        """Put what the dead-letter queue `name` holds back where it came from (redrive.py)."""
        assert self.resources is not None
        endpoint = self.resources.endpoint
        redriver = Redriver(
            self.resources,
            sqs=client("sqs", endpoint, caller="redrive"),
            streams=client("dynamodbstreams", endpoint, caller="redrive"),
            invoke=self._invoker("redrive"),
        )
        with self._dead_letters_lock:
            return redriver.redrive(name)

    def dead_letters(self) -> dict[str, list[dict[str, Any]]]:
        assert self.resources is not None
        sqs = client("sqs", self.resources.endpoint, caller="runtime-status")
        names = self.status()["dead_letter_queues"]
        with self._dead_letters_lock:
            return peek(sqs, self.resources.queue_urls, names)

    def sent_emails(self) -> list[dict[str, Any]]:
        """What SES accepted, from moto's SES backend (infra/emulator/moto_ses.py)."""
        assert self.resources is not None
        assert self._moto is not None
        return self._moto.sent_emails(self.resources.account_id, self.resources.region)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until the pipeline has been idle for three looks in a row, or `timeout` passes."""
        return wait_until_idle(lambda: self.status()["idle"], timeout)

    # --- durability (--data-dir) ---------------------------------------------------------------

    def _settled_up_to(self, timeout: float = 1.0) -> int | None:
        """The journal's last line, if the pipeline has finished with everything written up to it:
        the stream read past it, and three looks in a row idle with every dead-letter queue
        empty. None while it is busy or something is parked."""
        resources, reader, journaled = self.resources, self._reader, self._journal
        if resources is None or reader is None or journaled is None:
            return None
        last, sequence = journaled.position()

        def done(status: dict[str, Any]) -> bool:
            """Idle, and nothing parked: parked work is not finished, and queues are not kept."""
            queues = status["queues"]
            parked = any(
                sum(queues[name].values()) for name in status["dead_letter_queues"] if name in queues
            )
            return status["idle"] and not parked

        def finished() -> bool:
            read = reader.last_read
            caught_up = sequence is None or (read is not None and int(read) >= sequence)
            return caught_up and done(self.status())

        if not done(self.status()):  # busy: say so at once (a stop does not wait for this)
            return None
        # The stream reader polls every quarter second: give it a moment to read the last writes.
        return last if wait_until_idle(finished, timeout=timeout) else None

    def _users(self) -> list[dict[str, Any]]:
        assert self.resources is not None
        return moto_cognito.saved_users(client("cognito-idp", self.resources.endpoint), self.resources)

    # --- stop ----------------------------------------------------------------------------------

    def stop(self, *, save: bool = True) -> None:
        """Stop taking requests, note whether the pipeline had finished, stop it, fold the journal
        into the saved table (with a data dir; `save=False` leaves the files as a kill would),
        then stop the rest.

        Safe to call again, and after a start that failed half-way: each part is stopped once.
        """
        running = self._moto is not None  # the first stop, or a start that got that far
        timings: dict[str, float] = {}
        clock = [time.monotonic()]

        def phase(name: str) -> None:
            now = time.monotonic()
            timings[name] = round(now - clock[0], 3)
            clock[0] = now

        if self._gateway is not None:
            self._gateway.stop()
            self._gateway = None
        data_dir = self.options.data_dir
        phase("gateway")
        if self._checkpointer is not None:
            checkpointer, self._checkpointer = self._checkpointer, None
            checkpointer.stop()
            marked = self._journal is not None and 0 < self._journal.last <= checkpointer.settled
            point = self._settled_up_to(STOP_SETTLE_SECONDS) if save and data_dir and not marked else None
            if point is not None:  # the next start has nothing to re-drive
                persistence.mark_settled(data_dir, point)
            phase("settled")
        pumps = [
            pump
            for pump in [
                *self._schedule_pumps,
                *self._queue_pumps,
                *self._rule_pumps,
                self._reader,
                *self._stream_pumps,
            ]
            if pump
        ]
        # Every pump told at once, then the containers (an invocation in flight gets a moment,
        # then its container is killed, as Lambda's shutdown does), and only then the pumps
        # waited for: none is left waiting on a reply that would take the function's timeout.
        for pump in pumps:
            pump.signal_stop()
        if self._hot_reload is not None:
            self._hot_reload.stop()
            self._hot_reload = None
        phase("hot_reload")
        if self.functions is not None:
            self.functions.stop()
            self.functions = None
        phase("functions")
        for pump in pumps:
            pump.stop()
        for observer in (self.alarms, self.metrics):
            if observer is not None:
                observer.stop()
        self.alarms = self.metrics = None
        phase("pumps")
        self._queue_pumps, self._rule_pumps, self._stream_pumps, self._reader = [], [], [], None
        self._schedule_pumps = []
        if self._journal is not None:
            assert self.resources is not None
            self._journal.close()
            self._journal = None
            if save and data_dir is not None:
                persistence.save_users(self._users(), data_dir)
                folded = persistence.compact(data_dir)
                logs.log(
                    "runtime",
                    "saved",
                    items=len(folded.items),
                    events_to_redrive=len(folded.redrive),
                    data_dir=str(data_dir),
                )
        phase("saved")
        self.resources = None
        if self._control is not None:
            self._control.stop()
            self._control = None
        # moto's process exits once its stdin is closed: PostgreSQL is stopped meanwhile.
        moto_stopping = None
        if self._moto is not None:
            traces.look_up_event_traces(None)
            moto_stopping = threading.Thread(target=self._moto.stop, name="moto-stop")
            moto_stopping.start()
            self._moto = None
        self._stack.close()
        phase("postgres")
        if moto_stopping is not None:
            moto_stopping.join()
        phase("moto")
        if self.state is not None:
            state.remove(self.options.state_file, self.state.pid)
            self.state = None
        if running:
            logs.log("runtime", "stopped", seconds=round(sum(timings.values()), 3), phases=timings)


def _table_of(resources: Resources) -> tuple[str, str, str]:
    """The table, as moto's backends know it (the journal hooks them in moto's process)."""
    return resources.account_id, resources.region, resources.table_name


def _send_json(sqs: Any, url: str, body: dict[str, Any]) -> None:
    import json

    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))
