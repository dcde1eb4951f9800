"""The events AWS hands each function, made the way the local runtime makes them.

API requests go through infra/emulator/proxy_event.py (the gateway's own builder), SQS messages
and EventBridge events are received from moto's real queues and shaped by the local pumps'
functions, stream records are read from moto's DynamoDB stream. So a benchmark's function
gets exactly what it would get from `orders dev`, and no fixture of tests/ is needed.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from infra import topology
from infra.emulator.aws import client
from infra.emulator.proxy_event import proxy_event
from infra.emulator.queue_pump import lambda_message
from infra.emulator.resources import Resources
from infra.emulator.rule_pump import eventbridge_event
from infra.emulator.stream_pump import StreamReader, lambda_record
from ordering.adapters.dynamodb_table import EVENT_PREFIX


def claims(user_id: str, email: str, *, admin: bool = False) -> dict[str, Any]:
    """An ID token's claims, as the local gateway passes them after verifying the token."""
    now = int(time.time())
    found: dict[str, Any] = {
        "sub": user_id,
        "email": email,
        "email_verified": True,
        "cognito:username": user_id,
        "token_use": "id",
        "aud": "bench-client",
        "iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_bench",
        "auth_time": now,
        "iat": now,
        "exp": now + 3600,
    }
    if admin:
        found["cognito:groups"] = [topology.ADMIN_GROUP]
    return found


def api_event(
    method: str,
    path: str,
    *,
    resource: str,
    path_parameters: dict[str, str] | None = None,
    body: Any = None,
    token_claims: dict[str, Any],
) -> dict[str, Any]:
    """A REST API proxy event for `method path` (path without the stage), as the gateway builds it."""
    stage = topology.API.stage
    raw = b"" if body is None else json.dumps(body).encode()
    environ = EnvironBuilder(
        method=method,
        path=f"/{stage}{path}",
        base_url="http://127.0.0.1:8000",
        data=raw,
        headers={"Content-Type": "application/json", "Authorization": "token", "User-Agent": "bench"},
    ).get_environ()
    return proxy_event(
        Request(environ),
        raw_body=raw,
        stage=stage,
        resource=resource,
        path=path,
        path_parameters=path_parameters or {},
        claims=token_claims,
        request_id=str(uuid.uuid4()),
        received_at=datetime.now(UTC),
    )


def cognito_confirmation(resources: Resources, user_id: str, email: str) -> dict[str, Any]:
    """Cognito's post-confirmation trigger event for a user who just confirmed their sign-up."""
    return {
        "version": "1",
        "region": resources.region,
        "userPoolId": resources.user_pool_id,
        "userName": user_id,
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": resources.app_client_id},
        "triggerSource": "PostConfirmation_ConfirmSignUp",
        "request": {
            "userAttributes": {
                "sub": user_id,
                "email": email,
                "email_verified": "true",
                "cognito:user_status": "CONFIRMED",
            }
        },
        "response": {},
    }


def _receive_matching(sqs: Any, url: str, wanted: str) -> dict[str, Any]:
    """The message whose body mentions `wanted` (an event id); others found first are deleted."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        answer = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=1,
        )
        found = None
        for message in answer.get("Messages", []):
            if found is None and wanted in message["Body"]:
                found = message
            else:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        if found is not None:
            return found
    raise RuntimeError(f"no message about {wanted} arrived in {url}")


def sqs_event(resources: Resources, queue: str, event_id: str) -> dict[str, Any]:
    """Lambda's SQS event holding the queue's message about `event_id`."""
    sqs = client("sqs", resources.endpoint)
    message = _receive_matching(sqs, resources.queue_urls[queue], event_id)
    record = lambda_message(message, queue_arn=resources.queue_arns[queue], region=resources.region)
    return {"Records": [record]}


def eventbridge_target_event(resources: Resources, function: str, event_id: str) -> dict[str, Any]:
    """What EventBridge hands `function` (a rule target) for the bus event carrying `event_id`."""
    target = next(t for t in resources.rule_targets if t.function == function)
    sqs = client("sqs", resources.endpoint)
    message = _receive_matching(sqs, target.delivery_queue_url, event_id)
    sqs.delete_message(QueueUrl=target.delivery_queue_url, ReceiptHandle=message["ReceiptHandle"])
    event = eventbridge_event(message["Body"], account_id=resources.account_id)
    if event is None:
        raise RuntimeError(f"unreadable EventBridge event: {message['Body'][:200]}")
    return event


class StreamFollower:
    """Reads the table's stream from the start, and hands out the records of one item key."""

    def __init__(self, resources: Resources) -> None:
        self.resources = resources
        self.client = client("dynamodbstreams", resources.endpoint)
        shard = StreamReader.shard_of(self.client, resources.stream_arn)
        self.iterator = self.client.get_shard_iterator(
            StreamArn=resources.stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        self.unclaimed: list[dict[str, Any]] = []

    def _read_all(self) -> None:
        while True:
            answer = self.client.get_records(ShardIterator=self.iterator, Limit=1000)
            self.iterator = answer["NextShardIterator"]
            self.unclaimed += answer["Records"]
            if not answer["Records"]:
                return

    def event_records(self, partition_key: str) -> dict[str, Any]:
        """Lambda's DynamoDB Streams event with the INSERTs of `partition_key`'s events, in order."""
        self._read_all()
        mine = [
            r
            for r in self.unclaimed
            if r["eventName"] == "INSERT"
            and r["dynamodb"]["Keys"]["PK"]["S"] == partition_key
            and r["dynamodb"]["Keys"]["SK"]["S"].startswith(EVENT_PREFIX)
        ]
        self.unclaimed = []  # each run asks right after its own write: the rest is someone else's
        if not mine:
            raise RuntimeError(f"no stream record of {partition_key}")
        shaped = [
            lambda_record(r, stream_arn=self.resources.stream_arn, region=self.resources.region) for r in mine
        ]
        return {"Records": shaped}
