"""What the template does about faults: the revocation window of tokens, the parked-event alarm."""

from __future__ import annotations

import pytest

from tests.infra.conftest import Synthesized

pytestmark = pytest.mark.infra


def test_id_tokens_are_valid_for_15_minutes_the_revocation_window(synthesized: Synthesized):
    (client,) = synthesized.of_type("AWS::Cognito::UserPoolClient").values()
    props = client["Properties"]
    assert props["IdTokenValidity"] == 15
    assert props["AccessTokenValidity"] == 15
    assert props["TokenValidityUnits"]["IdToken"] == "minutes"
    assert props["EnableTokenRevocation"] is True


def test_a_parked_event_raises_an_alarm(synthesized: Synthesized):
    alarms = {
        r["Properties"]["AlarmName"]: r["Properties"]
        for r in synthesized.of_type("AWS::CloudWatch::Alarm").values()
    }
    parked = alarms[f"{synthesized.stack_name}-projector-events-parked"]
    assert parked["MetricName"] == "EventsParked"
    assert parked["Namespace"] == "Orders"
    assert parked["Threshold"] == 0
    assert parked["ComparisonOperator"] == "GreaterThanThreshold"
    assert parked["AlarmActions"]
