"""One EventBridge rule with a rate per entry of topology.SCHEDULES, invoking its function.

A scheduled run is a tick, not a message: one that could not be delivered or that failed is not
parked anywhere, because the next tick does the same work. EventBridge retries delivery within
one period only, so that late ticks do not pile up behind a throttled function; the function's
Errors alarm (operations.py) says when runs fail.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import topology

DELIVERY_RETRIES = 2


class Schedules(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        schedules: Sequence[topology.Schedule],
        functions: Mapping[str, lambda_.IFunction],
        name_prefix: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.rules: dict[str, events.Rule] = {}
        for spec in schedules:
            period = Duration.minutes(spec.rate_minutes)
            self.rules[spec.name] = events.Rule(
                self,
                spec.name,
                rule_name=f"{name_prefix}-{spec.name}",
                description=spec.description,
                schedule=events.Schedule.rate(period),
                targets=[
                    targets.LambdaFunction(
                        functions[spec.function], retry_attempts=DELIVERY_RETRIES, max_event_age=period
                    )
                ],
            )
