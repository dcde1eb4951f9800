"""Alarms from topology.alarms(), a topic they notify, and one dashboard."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import topology

PERIOD = Duration.minutes(1)


class Operations(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        alarms: Sequence[topology.Alarm],
        queues: Mapping[str, sqs.IQueue],
        functions: Mapping[str, lambda_.IFunction],
        api: apigw.RestApi,
        name_prefix: str,
        alarm_email: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.queues, self.functions, self.api, self.specs = queues, functions, api, alarms
        # CloudWatch can publish only to a topic whose key lets it: AWS's aws/sns key does not.
        key = kms.Key(
            self,
            "AlarmTopicKey",
            description="Encrypts alarm notifications",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,  # scheduled for deletion with the stack
            pending_window=Duration.days(7),
        )
        key.grant(iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*")
        self.topic = sns.Topic(
            self, "AlarmTopic", topic_name=f"{name_prefix}-alarms", master_key=key, enforce_ssl=True
        )
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for spec in alarms:
            alarm = cloudwatch.Alarm(
                self,
                spec.name,
                alarm_name=f"{name_prefix}-{spec.name}",
                alarm_description=spec.description,
                metric=self.metric_for(spec),
                threshold=spec.threshold,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(actions.SnsAction(self.topic))
            self.alarms[spec.name] = alarm
        self.dashboard = self._dashboard(name_prefix)

    def metric_for(self, spec: topology.Alarm) -> cloudwatch.IMetric:
        if spec.kind == "dlq_depth":
            return self.queues[spec.subject].metric_approximate_number_of_messages_visible(
                period=PERIOD, statistic="Maximum"
            )
        if spec.kind == "oldest_message_age":
            return self.queues[spec.subject].metric_approximate_age_of_oldest_message(
                period=PERIOD, statistic="Maximum"
            )
        if spec.kind == "iterator_age":
            return self.functions[spec.subject].metric("IteratorAge", period=PERIOD, statistic="Maximum")
        if spec.kind == "api_5xx":
            return self.api.metric_server_error(period=PERIOD, statistic="Sum")
        if spec.kind == "errors":
            return self.functions[spec.subject].metric_errors(period=PERIOD, statistic="Sum")
        if spec.kind == "throttles":
            return self.functions[spec.subject].metric_throttles(period=PERIOD, statistic="Sum")
        if spec.kind == "events_parked":  # the projector's EMF metric (streams/projector.py)
            return cloudwatch.Metric(
                namespace=topology.COMMON_ENVIRONMENT["POWERTOOLS_METRICS_NAMESPACE"],
                metric_name="EventsParked",
                dimensions_map={"service": topology.SERVICE},
                period=PERIOD,
                statistic="Sum",
            )
        raise ValueError(f"alarm {spec.name}: no metric for kind {spec.kind!r}")

    def _dashboard(self, name_prefix: str) -> cloudwatch.Dashboard:
        functions = sorted(self.functions.items())
        dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=f"{name_prefix}-overview")
        # Every alarm's state at the top: what is wrong now, before the graphs that say why.
        dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(
                title="Alarms",
                alarms=[self.alarms[spec.name] for spec in self.specs],
                width=24,
                height=6,
            )
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="API requests and errors",
                left=[self.api.metric_count(period=PERIOD, statistic="Sum")],
                right=[
                    self.api.metric_client_error(period=PERIOD, statistic="Sum"),
                    self.api.metric_server_error(period=PERIOD, statistic="Sum"),
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="API latency p99 (ms)",
                left=[self.api.metric_latency(period=PERIOD, statistic="p99")],
                width=12,
            ),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Function errors",
                left=[f.metric_errors(period=PERIOD, statistic="Sum", label=name) for name, f in functions],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Function throttles",
                left=[
                    f.metric_throttles(period=PERIOD, statistic="Sum", label=name) for name, f in functions
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Function duration p99 (ms)",
                left=[f.metric_duration(period=PERIOD, statistic="p99", label=name) for name, f in functions],
                width=8,
            ),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Messages waiting (dead-letter queues should stay at 0)",
                left=[
                    q.metric_approximate_number_of_messages_visible(
                        period=PERIOD, statistic="Maximum", label=name
                    )
                    for name, q in sorted(self.queues.items())
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Stream iterator age (ms)",
                left=[
                    self.functions[a.subject].metric(
                        "IteratorAge", period=PERIOD, statistic="Maximum", label=a.subject
                    )
                    for a in self.specs
                    if a.kind == "iterator_age"
                ],
                width=12,
            ),
        )
        return dashboard
