"""Stream consumer 1 of 2: keep the Postgres read model in step with the event log.

Each event is applied in its own read-model transaction, under the version guard with gap
healing (ordering/services/projection.py). A record that fails is reported with every later
record of its aggregate, which is not applied in this invocation; other aggregates go on.
When the read model cannot be reached at all, the rest of the batch is reported at once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from aws_lambda_powertools import Logger

from ordering import bootstrap
from ordering.domain.recorded import Recorded
from ordering.ports.read_model import ReadModelUnavailable
from ordering.services.projection import Outcome, project
from streams.records import StreamRecord, batch_response, decode

logger = Logger(service="orders")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    read_model, store = bootstrap.read_model(), bootstrap.event_store()
    records = decode(event)
    failed, outcomes = project_records(records, lambda recorded: project(read_model, store, recorded))
    logger.info("projected", extra={"records": len(records), "failed": len(failed), **outcomes})
    return batch_response(failed)


def project_records(
    records: Sequence[StreamRecord], apply: Callable[[Recorded], Outcome]
) -> tuple[list[StreamRecord], dict[str, int]]:
    """Apply records in order; (the records to report failed, how many of each outcome)."""
    failed: list[StreamRecord] = []
    blocked: set[str] = set()
    outcomes: Counter[str] = Counter()
    for position, record in enumerate(records):
        if record.stream in blocked:
            failed.append(record)
            continue
        if record.event is None:
            logger.error(
                "poison record", extra={"sequence_number": record.sequence_number, "problem": record.problem}
            )
            blocked.add(record.stream)
            failed.append(record)
            continue
        try:
            outcomes[apply(record.event).value] += 1
        except ReadModelUnavailable:
            logger.exception("read model unavailable; the rest of the batch will be retried")
            failed += records[position:]
            break
        except Exception:
            logger.exception(
                "projection failed",
                extra={
                    "stream": record.stream,
                    "version": record.event.version,
                    "event_id": record.event.event_id,
                },
            )
            blocked.add(record.stream)
            failed.append(record)
    return failed, dict(outcomes)
