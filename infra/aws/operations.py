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

PERIOD = Duration.seconds(topology.ALARM_PERIOD_SECONDS)
# The topology's settings by their CloudFormation names, as CDK's enums spell them.
_COMPARISONS = {"GreaterThanThreshold": cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD}
_MISSING_DATA = {"notBreaching": cloudwatch.TreatMissingData.NOT_BREACHING}


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
                comparison_operator=_COMPARISONS[topology.ALARM_COMPARISON],
                evaluation_periods=topology.ALARM_EVALUATION_PERIODS,
                treat_missing_data=_MISSING_DATA[topology.ALARM_MISSING_DATA],
            )
            alarm.add_alarm_action(actions.SnsAction(self.topic))
            self.alarms[spec.name] = alarm
        self.dashboard = self._dashboard(name_prefix)

    def metric_for(self, spec: topology.Alarm) -> cloudwatch.IMetric:
        """The metric topology.ALARM_METRICS names for the alarm's kind, on its subject's physical name."""
        metric = spec.metric
        return cloudwatch.Metric(
            namespace=metric.namespace,
            metric_name=metric.name,
            dimensions_map={metric.dimension: self._physical_name(spec)},
            period=PERIOD,
            statistic=metric.statistic,
        )

    def _physical_name(self, spec: topology.Alarm) -> str:
        dimension = spec.metric.dimension
        if dimension == "QueueName":
            return self.queues[spec.subject].queue_name
        if dimension == "FunctionName":
            return self.functions[spec.subject].function_name
        if dimension == "ApiName":
            return self.api.rest_api_name
        return spec.dimension_value  # the Powertools service: the same name everywhere

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
