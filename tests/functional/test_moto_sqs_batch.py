"""moto's SendMessageBatch keeps each entry's AWSTraceHeader once infra/emulator/moto_sqs.py is on."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from infra.emulator.moto_sqs import keep_batch_system_attributes

pytestmark = pytest.mark.moto

HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


def test_a_batch_entry_s_trace_header_reaches_the_receiver():
    keep_batch_system_attributes()
    with mock_aws():
        sqs = boto3.client("sqs", region_name="eu-west-1")
        url = sqs.create_queue(QueueName="traced")["QueueUrl"]
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[
                {
                    "Id": "traced",
                    "MessageBody": "{}",
                    "MessageSystemAttributes": {
                        "AWSTraceHeader": {"StringValue": HEADER, "DataType": "String"}
                    },
                },
                {"Id": "plain", "MessageBody": "{}"},
            ],
        )
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
        )
        headers = sorted(m["Attributes"].get("AWSTraceHeader", "") for m in messages["Messages"])
    assert headers == ["", HEADER]
