"""The whole system as one stack: the constructs of each concern, and the wiring between them.

The constructs know nothing of each other; this stack connects them, reading the topology:
each function gets the environment variables and IAM grants of the resources it `uses`
(and nothing else), its triggers (API routes, queue, stream, rules, schedules, Cognito, deploy) and
its alarms. Grants are written here, in one place, so least privilege can be read at once.
"""

from __future__ import annotations

from collections.abc import Callable

from aws_cdk import Aws, CfnOutput, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra import topology
from infra.aws import bundling
from infra.aws.api import Api
from infra.aws.auth import Auth
from infra.aws.event_store import EventStore
from infra.aws.functions import Functions
from infra.aws.messaging import Messaging
from infra.aws.nag import acknowledge
from infra.aws.operations import Operations
from infra.aws.read_model import DATABASE_NAME, DATABASE_PORT, DATABASE_USER, ReadModel
from infra.aws.schedules import Schedules
from ordering.config import variables

# What each topology.TableAccess may do to the table: explicit actions, never a wildcard.
_READ = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:DescribeTable")
# Writes go through conditional PutItem/UpdateItem (TransactWriteItems is authorised item by
# item with these); Powertools' idempotency layer also deletes its record when a call fails.
_WRITE = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem")
SES_RECIPIENTS_FINDING = (
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/*]"
)
# The queues a function may send to, by the topology resource, with the setting carrying the URL.
QUEUE_RESOURCES: dict[str, tuple[str, str]] = {
    "payment_queue": ("payment", "payment_queue_url"),
    "deadline_queue": ("payment-deadline", "deadline_queue_url"),
    "refund_queue": ("refund", "refund_queue_url"),
}
TABLE_ACTIONS: dict[str, tuple[str, ...]] = {
    "read": _READ,
    "read_write": _READ + _WRITE,
    "read_scan": (*_READ, "dynamodb:Scan"),
}


class OrdersStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        sender_email: str,
        alarm_email: str | None = None,
        stripe_secret_arn: str | None = None,
        code: Callable[[topology.Function], lambda_.Code] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        prefix = self.stack_name
        self.event_store = EventStore(self, "EventStore")
        self.read_model = ReadModel(self, "ReadModel", name_prefix=prefix)
        self.messaging = Messaging(
            self, "Messaging", queues=topology.QUEUES, name_prefix=prefix, sender_email=sender_email
        )
        self.functions = Functions(
            self,
            "Functions",
            specs=topology.FUNCTIONS,
            code=code or bundling.Packager().code_for,
            network=self.read_model.network,
            name_prefix=prefix,
            async_failure_queues={
                target.function: self.messaging.queues[target.dead_letter]
                for rule in topology.EVENT_RULES
                for target in rule.targets
            },
        )
        self.auth = Auth(self, "Auth", post_confirmation=self.functions["register_user"], name_prefix=prefix)
        self.api = Api(
            self,
            "Api",
            settings=topology.API,
            routes=topology.routes(),
            functions=self.functions.invocable,
            user_pool=self.auth.user_pool,
            name_prefix=prefix,
        )
        for rule in topology.EVENT_RULES:
            self.messaging.add_rule(rule, self.functions.by_name)
        self._connect_queue_consumers()
        self._connect_stream_consumers()
        self.schedules = Schedules(
            self,
            "Schedules",
            schedules=topology.SCHEDULES,
            functions=self.functions.by_name,
            name_prefix=prefix,
        )
        for spec in topology.FUNCTIONS:
            self._give_resources(spec)
        if stripe_secret_arn:
            self._use_stripe(stripe_secret_arn)
        self.read_model.run_migrations_on_deploy(self.functions["migrate"])
        self.operations = Operations(
            self,
            "Operations",
            alarms=topology.alarms(),
            queues=self.messaging.queues,
            functions=self.functions.by_name,
            api=self.api.rest_api,
            name_prefix=prefix,
            alarm_email=alarm_email,
        )
        self._outputs()

    # --- triggers ---------------------------------------------------------------------------

    def _connect_queue_consumers(self) -> None:
        for consumer in topology.QUEUE_CONSUMERS:
            self.functions[consumer.function].add_event_source(
                sources.SqsEventSource(
                    self.messaging.queues[consumer.queue],
                    batch_size=consumer.batch_size,
                    max_batching_window=Duration.seconds(consumer.max_batching_window_seconds),
                    report_batch_item_failures=True,
                )
            )

    def _connect_stream_consumers(self) -> None:
        for consumer in topology.STREAM_CONSUMERS:
            self.functions[consumer.function].add_event_source(
                sources.DynamoEventSource(
                    self.event_store.table,
                    starting_position=lambda_.StartingPosition[consumer.starting_position],
                    batch_size=consumer.batch_size,
                    bisect_batch_on_error=consumer.bisect_on_error,
                    retry_attempts=consumer.maximum_retry_attempts,
                    max_record_age=Duration.seconds(consumer.maximum_record_age_seconds),
                    parallelization_factor=consumer.parallelization_factor,
                    on_failure=sources.SqsDlq(self.messaging.queues[consumer.on_failure]),
                    report_batch_item_failures=True,
                    filters=[lambda_.FilterCriteria.filter(consumer.filter_pattern)],
                )
            )

    # --- what each function may use ---------------------------------------------------------

    def _give_resources(self, spec: topology.Function) -> None:
        """Environment variables (ordering/config.py's contract, our values) and grants, per resource used."""
        function = self.functions[spec.name]
        for resource in sorted(spec.uses):
            if resource == "table":
                table = self.event_store.table
                values = {"table_name": table.table_name}
                table.grant(function, *TABLE_ACTIONS[spec.table_access])
            elif resource in QUEUE_RESOURCES:
                queue_name, setting = QUEUE_RESOURCES[resource]
                queue = self.messaging.queues[queue_name]
                values = {setting: queue.queue_url}
                queue.grant_send_messages(function)
            elif resource == "event_bus":
                values = {"event_bus_name": self.messaging.event_bus.event_bus_name}
                self.messaging.event_bus.grant_put_events_to(function)
            elif resource == "database":
                proxy = self.read_model.proxy
                values = {
                    "db_host": proxy.endpoint,
                    "db_port": str(DATABASE_PORT),
                    "db_name": DATABASE_NAME,
                    "db_user": DATABASE_USER,
                    "db_iam_auth": "true",
                    # RDS Proxy's certificate, and its name, checked against certifi's Amazon Root CAs.
                    "db_sslmode": "verify-full",
                }
                proxy.grant_connect(function, DATABASE_USER)
            elif resource == "mailer":
                values = {"sender_email": self.messaging.sender_email}
                self._grant_send_email(function)
            elif resource == "payment_gateway":
                values = {"payment_gateway": "fake"}  # `-c stripeSecretArn` switches it
            else:
                raise ValueError(f"function {spec.name} uses {resource!r}, which this stack does not provide")
            for name, value in variables(resource, **values).items():
                function.add_environment(name, value)

    def _grant_send_email(self, function: lambda_.Function) -> None:
        """ses:SendEmail from our sender address only, to any verified identity.

        In the SES sandbox (every new account) IAM also checks the recipient's identity ARN, so a
        grant on the sender identity alone is refused for every message. The condition keeps the
        wider resource to one From address.
        """
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["ses:SendEmail", "ses:SendRawEmail"],
                resources=[self.format_arn(service="ses", resource="identity", resource_name="*")],
                conditions={"StringEquals": {"ses:FromAddress": self.messaging.sender_email}},
            )
        )
        acknowledge(
            function,
            SES_RECIPIENTS_FINDING,
            "In the SES sandbox IAM checks each recipient identity too; ses:FromAddress pins the sender.",
        )

    def _use_stripe(self, secret_arn: str) -> None:
        """`-c stripeSecretArn=...`: charge and refund through Stripe with the API key kept in that secret."""
        secret = secretsmanager.Secret.from_secret_complete_arn(self, "StripeSecret", secret_arn)
        for spec in topology.FUNCTIONS:
            if "payment_gateway" not in spec.uses:
                continue
            function = self.functions[spec.name]
            for name, value in variables(
                "payment_gateway", payment_gateway="stripe", stripe_secret_arn=secret.secret_arn
            ).items():
                function.add_environment(name, value)
            secret.grant_read(function)

    # --- what `cdk deploy` prints -----------------------------------------------------------

    def _outputs(self) -> None:
        outputs = {
            "ApiUrl": self.api.rest_api.url,
            "UserPoolId": self.auth.user_pool.user_pool_id,
            "UserPoolClientId": self.auth.client.user_pool_client_id,
            "Region": Aws.REGION,
            "TableName": self.event_store.table.table_name,
            "EventBusName": self.messaging.event_bus.event_bus_name,
            "PaymentQueueUrl": self.messaging.queues["payment"].queue_url,
            "AlarmTopicArn": self.operations.topic.topic_arn,
            "DashboardName": self.operations.dashboard.dashboard_name,
        }
        for name, value in outputs.items():
            CfnOutput(self, name, value=value)
