"""Stream consumer 1 of 2: keep the Postgres read model in step with the event log.

Each event is applied in its own read-model transaction, under the version guard with gap
healing (ordering/services/projection.py). When the read model cannot be reached at all, the
rest of the batch is reported failed at once, and Lambda retries it. An event that fails for
any other reason is tried ATTEMPTS times, then parked (its key and the error, in the read
model's parked_events) and counted in the EventsParked metric, which an alarm watches: the
batch and the shard go on, so one poison event never holds up other aggregates. Later events
of a parked aggregate are parked behind it, in order. `{"action": "redrive"}` projects the
parked aggregates again, once the cause is fixed.

The event store (and with it the function's DynamoDB client) is built on first need: only a
gap to heal or a redrive reads the log, so a cold start on an ordinary batch makes no AWS
client, as the bare projector it is measured against makes none.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from ordering import bootstrap
from ordering.domain.recorded import Recorded
from ordering.ports.read_model import ParkedEvent, ReadModelUnavailable, printable_error
from ordering.services.projection import Outcome, project, redrive
from streams.records import StreamRecord, batch_response, decode

logger = Logger(service="orders")
metrics = Metrics()
ATTEMPTS = 3  # a failure that is not the read model being away gets this many tries, then is parked


@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    read_model = bootstrap.read_model()
    if event.get("action") == "redrive":
        report = redrive(read_model, bootstrap.event_store())
        logger.info("redrive", extra=report)
        return report
    records = decode(event)
    failed, outcomes = project_records(
        records, lambda recorded: project(read_model, _read_log, recorded), read_model.park
    )
    if outcomes.get("parked"):
        metrics.add_metric(name="EventsParked", unit=MetricUnit.Count, value=outcomes["parked"])
    logger.info("projected", extra={"records": len(records), "failed": len(failed), **outcomes})
    return batch_response(failed)


def _read_log(stream: str, from_version: int) -> list[Recorded]:
    return bootstrap.event_store().read(stream, from_version)


def project_records(
    records: Sequence[StreamRecord],
    apply: Callable[[Recorded], Outcome],
    park: Callable[[ParkedEvent], None],
) -> tuple[list[StreamRecord], dict[str, int]]:
    """Apply records in order; (the records to report failed, how many of each outcome)."""
    parked_streams: set[str] = set()
    outcomes: Counter[str] = Counter()
    for position, record in enumerate(records):
        try:
            if record.event is None:
                problem: str | None = f"not an event: {record.problem}"
            elif record.stream in parked_streams:
                problem = "an earlier event of this stream is parked"
            else:
                outcome, problem = _attempt(apply, record.event)
                if outcome is not None:
                    outcomes[outcome.value] += 1
                    continue
            park(_parked(record, problem or "unknown"))
        except ReadModelUnavailable:
            logger.exception("read model unavailable; the rest of the batch will be retried")
            return list(records[position:]), dict(outcomes)
        parked_streams.add(record.stream)
        outcomes["parked"] += 1
        logger.error(
            "event parked",
            extra={"stream": record.stream, "sequence_number": record.sequence_number, "problem": problem},
        )
    return [], dict(outcomes)


def _attempt(apply: Callable[[Recorded], Outcome], event: Recorded) -> tuple[Outcome | None, str | None]:
    """(the outcome, None), or after ATTEMPTS failures (None, the last error). The read model
    being away is not the event's fault: it leaves at once, for the batch to be retried."""
    problem = None
    for _ in range(ATTEMPTS):
        try:
            return apply(event), None
        except ReadModelUnavailable:
            raise
        except Exception as error:
            logger.exception("projection failed", extra={"stream": event.stream, "version": event.version})
            problem = f"{type(error).__name__}: {error}"
    return None, problem


def _parked(record: StreamRecord, problem: str) -> ParkedEvent:
    event = record.event
    version = event.version if event is not None else _version_of(record)
    return ParkedEvent(
        record.stream, version, event.event_id if event is not None else None, printable_error(problem)
    )


def _version_of(record: StreamRecord) -> int:
    """The version in an undecodable record's key, if it has one (EV#0000000007 -> 7), else 0."""
    digits = record.sort_key.rpartition("#")[2] if record.sort_key else ""
    return int(digits) if digits.isdigit() else 0
