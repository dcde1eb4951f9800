"""Scheduled: bring the read model's unfinished and recent orders up to the event log
(ordering/services/reconciliation.py).

The schedule (infra/topology.py) invokes it every few minutes with an empty event. It fails
(and its Errors alarm fires) only when the read model or the log cannot be reached; an order
that cannot be healed is parked and counted in EventsParked, like the projector's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from ordering import bootstrap
from ordering.services.reconciliation import reconcile

logger = Logger()
metrics = Metrics()


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    config = bootstrap.settings()
    report = reconcile(
        bootstrap.read_model(),
        bootstrap.event_store(),
        window=timedelta(minutes=config.reconcile_window_minutes),
        limit=config.reconcile_max_orders,
        clock=lambda: datetime.now(UTC),
        page_size=config.reconcile_page_size,
        settle=timedelta(seconds=config.reconcile_settle_seconds),
        budget=timedelta(seconds=config.reconcile_budget_seconds),
    )
    metrics.add_metric(name="OrdersHealed", unit=MetricUnit.Count, value=len(report.healed))
    if report.parked:
        metrics.add_metric(name="EventsParked", unit=MetricUnit.Count, value=len(report.parked))
    if not report.sweep_done:
        logger.warning(
            "the unfinished orders outlasted the run's budget: the next run goes on",
            extra=report.summary(),
        )
    if report.window_full:
        logger.warning("the window held more orders than one run checks", extra=report.summary())
    logger.info("reconciled", extra={**report.summary(), "healed_streams": report.healed[:20]})
    return report.summary()
