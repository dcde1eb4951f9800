"""Queues, the event bus with its rules, and the SES sender: how work moves between functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import topology
from infra.aws.nag import acknowledge


class Messaging(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        queues: Sequence[topology.Queue],
        name_prefix: str,
        sender_email: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.name_prefix = name_prefix
        self.queues: dict[str, sqs.Queue] = {}
        # Dead-letter queues first, so that a queue can name its own.
        for spec in sorted(queues, key=lambda q: q.dead_letter is not None):
            self.queues[spec.name] = self._queue(spec)
        self.event_bus = events.EventBus(self, "Bus", event_bus_name=f"{name_prefix}-{topology.EVENT_BUS}")
        # SES sends only from a verified identity: deploying sends a verification e-mail to it.
        self.sender = ses.EmailIdentity(self, "Sender", identity=ses.Identity.email(sender_email))
        self.sender_email = sender_email

    def _queue(self, spec: topology.Queue) -> sqs.Queue:
        dead_letter = None
        if spec.dead_letter:
            dead_letter = sqs.DeadLetterQueue(
                queue=self.queues[spec.dead_letter], max_receive_count=spec.max_receive_count
            )
        queue = sqs.Queue(
            self,
            spec.name,
            queue_name=f"{self.name_prefix}-{spec.name}",
            visibility_timeout=Duration.seconds(spec.visibility_timeout_seconds),
            retention_period=Duration.days(spec.retention_days),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=dead_letter,
        )
        if spec.dead_letter is None:
            acknowledge(
                queue,
                "AwsSolutions-SQS3",
                "This queue is itself where failures are parked (a dead-letter queue, a stream on-failure "
                "destination or an EventBridge target DLQ); an alarm fires as soon as it holds a message.",
            )
        return queue

    def add_rule(self, rule: topology.EventRule, functions: Mapping[str, lambda_.IFunction]) -> events.Rule:
        """Route the rule's events to its functions.

        Each target has two safety nets, both the rule's dead-letter queue: EventBridge's retry
        policy and DLQ catch events it could not deliver to Lambda; Lambda's own asynchronous
        retries and DLQ (set in functions.py) catch events the function failed on.
        """
        return events.Rule(
            self,
            rule.name,
            rule_name=f"{self.name_prefix}-{rule.name}",
            description=rule.description,
            event_bus=self.event_bus,
            event_pattern=events.EventPattern(source=[rule.source], detail_type=list(rule.detail_types)),
            targets=[
                targets.LambdaFunction(
                    functions[target.function],
                    dead_letter_queue=self.queues[target.dead_letter],
                    retry_attempts=target.maximum_retry_attempts,
                    max_event_age=Duration.seconds(target.maximum_event_age_seconds),
                )
                for target in rule.targets
            ],
        )
