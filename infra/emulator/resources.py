"""Create, in moto, every resource infra/topology.py names, and say where each one is.

This is the local interpreter's counterpart of the CDK app: the same table, queues with the
same redrive settings, the same event bus and rules, the SES sender and a Cognito user pool.
Where AWS would point a rule at a Lambda function, the local rule points at a delivery queue
per target, which the rule pump reads (see rule_pump.py): moto cannot invoke our functions.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from infra import topology
from infra.emulator.aws import ACCOUNT_ID, REGION, client
from ordering.adapters.dynamodb_table import create_table

TABLE_NAME = "orders"
SENDER_EMAIL = "orders@example.com"
USER_POOL_NAME = "orders-users"
APP_CLIENT_NAME = "orders-web"
MAX_RETENTION_SECONDS = 14 * 24 * 3600


@dataclass(frozen=True)
class RuleTargetQueue:
    """Where EventBridge leaves events for one target, and where they go when retries run out."""

    rule: str
    rule_arn: str
    function: str
    delivery_queue_url: str
    delivery_queue_arn: str
    dead_letter_url: str
    dead_letter_arn: str
    maximum_retry_attempts: int
    maximum_event_age_seconds: int


@dataclass(frozen=True)
class Resources:
    endpoint: str
    region: str
    account_id: str
    table_name: str
    stream_arn: str
    queue_urls: dict[str, str]
    queue_arns: dict[str, str]
    event_bus_name: str
    rule_targets: list[RuleTargetQueue]
    sender_email: str
    user_pool_id: str
    app_client_id: str
    admin_group: str

    @property
    def issuer(self) -> str:
        """What Cognito writes into `iss`: the AWS address, even though moto signs the token."""
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    @property
    def jwks_url(self) -> str:
        """moto serves the pool's public keys at the path Cognito uses, on its own address."""
        return f"{self.endpoint}/{self.user_pool_id}/.well-known/jwks.json"

    def function_arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Resources:
        fields = dict(data)
        fields["rule_targets"] = [RuleTargetQueue(**target) for target in data["rule_targets"]]
        return cls(**fields)


def create_resources(endpoint: str, *, region: str = REGION) -> Resources:
    """Everything the topology names, created empty in the moto server at `endpoint`."""
    stream_arn = create_table(client("dynamodb", endpoint, region=region), TABLE_NAME)
    urls, arns = _create_queues(client("sqs", endpoint, region=region))
    rule_targets = _create_rules(endpoint, region, urls, arns)
    client("ses", endpoint, region=region).verify_email_identity(EmailAddress=SENDER_EMAIL)
    pool_id, client_id = _create_user_pool(client("cognito-idp", endpoint, region=region), region)
    return Resources(
        endpoint=endpoint,
        region=region,
        account_id=ACCOUNT_ID,
        table_name=TABLE_NAME,
        stream_arn=stream_arn,
        queue_urls=urls,
        queue_arns=arns,
        event_bus_name=topology.EVENT_BUS,
        rule_targets=rule_targets,
        sender_email=SENDER_EMAIL,
        user_pool_id=pool_id,
        app_client_id=client_id,
        admin_group=topology.ADMIN_GROUP,
    )


def _create_queue(sqs: Any, name: str, attributes: dict[str, str]) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def _create_queues(sqs: Any) -> tuple[dict[str, str], dict[str, str]]:
    urls: dict[str, str] = {}
    arns: dict[str, str] = {}
    # Dead-letter queues first: a redrive policy names its DLQ by ARN.
    ordered = sorted(topology.QUEUES, key=lambda queue: queue.dead_letter is not None)
    for queue in ordered:
        attributes = {
            "VisibilityTimeout": str(queue.visibility_timeout_seconds),
            "MessageRetentionPeriod": str(min(queue.retention_days * 24 * 3600, MAX_RETENTION_SECONDS)),
        }
        if queue.dead_letter:
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": arns[queue.dead_letter], "maxReceiveCount": queue.max_receive_count}
            )
        urls[queue.name], arns[queue.name] = _create_queue(sqs, queue.name, attributes)
    return urls, arns


def delivery_queue_name(rule: str, function: str) -> str:
    return f"{rule}-{function}-delivery"


def _create_rules(
    endpoint: str, region: str, urls: dict[str, str], arns: dict[str, str]
) -> list[RuleTargetQueue]:
    events = client("events", endpoint, region=region)
    sqs = client("sqs", endpoint, region=region)
    events.create_event_bus(Name=topology.EVENT_BUS)
    created = []
    for rule in topology.EVENT_RULES:
        rule_arn = events.put_rule(
            Name=rule.name,
            EventBusName=topology.EVENT_BUS,
            EventPattern=json.dumps(rule.pattern),
            Description=rule.description,
            State="ENABLED",
        )["RuleArn"]
        targets = []
        for target in rule.targets:
            function = topology.function(target.function)
            name = delivery_queue_name(rule.name, target.function)
            # An event stays invisible while its function runs: the same rule as for SQS triggers.
            hidden = topology.visibility_timeout_for(function.timeout_seconds, batching_window_seconds=0)
            url, arn = _create_queue(sqs, name, {"VisibilityTimeout": str(hidden)})
            targets.append(
                {
                    "Id": target.function,
                    "Arn": arn,
                    "RetryPolicy": {
                        "MaximumRetryAttempts": target.maximum_retry_attempts,
                        "MaximumEventAgeInSeconds": target.maximum_event_age_seconds,
                    },
                    "DeadLetterConfig": {"Arn": arns[target.dead_letter]},
                }
            )
            created.append(
                RuleTargetQueue(
                    rule=rule.name,
                    rule_arn=rule_arn,
                    function=target.function,
                    delivery_queue_url=url,
                    delivery_queue_arn=arn,
                    dead_letter_url=urls[target.dead_letter],
                    dead_letter_arn=arns[target.dead_letter],
                    maximum_retry_attempts=target.maximum_retry_attempts,
                    maximum_event_age_seconds=target.maximum_event_age_seconds,
                )
            )
        events.put_targets(Rule=rule.name, EventBusName=topology.EVENT_BUS, Targets=targets)
    return created


def _create_user_pool(cognito: Any, region: str) -> tuple[str, str]:
    register = next(f for f in topology.FUNCTIONS if f.trigger == "cognito")
    # As infra/aws/auth.py: users sign in with their e-mail (their username is their `sub`).
    pool_id = cognito.create_user_pool(
        PoolName=USER_POOL_NAME,
        UsernameAttributes=["email"],
        AutoVerifiedAttributes=["email"],
        Policies={
            "PasswordPolicy": {
                "MinimumLength": 12,
                "RequireUppercase": True,
                "RequireLowercase": True,
                "RequireNumbers": True,
                "RequireSymbols": True,
            }
        },
        Schema=[{"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True}],
        LambdaConfig={"PostConfirmation": f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{register.name}"},
    )["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName=APP_CLIENT_NAME,
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        ReadAttributes=["email", "email_verified"],
    )["UserPoolClient"]["ClientId"]
    cognito.create_group(GroupName=topology.ADMIN_GROUP, UserPoolId=pool_id, Description="May restock")
    return pool_id, client_id
