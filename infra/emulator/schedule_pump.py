"""The local stand-in for an EventBridge rule with a rate: the function invoked every period.

The event is the one EventBridge sends for a scheduled rule ("Scheduled Event", source
aws.events, the rule's ARN in `resources`). `period_seconds` is the topology's rate, or what
`orders dev --schedule-every` sets, so that tests and demos do not wait minutes. As on AWS, a
failed run is only logged: the next tick does the same work.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from infra import topology
from infra.emulator import logs
from infra.emulator.background import Background


def scheduled_event(rule_arn: str, region: str, account_id: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


class SchedulePump(Background):
    def __init__(
        self,
        schedule: topology.Schedule,
        *,
        invoke: Callable[[str, dict[str, Any]], Any],
        rule_arn: str,
        region: str,
        account_id: str,
        period_seconds: float,
    ) -> None:
        super().__init__(f"schedule-{schedule.name}")
        self.schedule, self._invoke = schedule, invoke
        self.rule_arn, self.region, self.account_id = rule_arn, region, account_id
        self.period_seconds = period_seconds
        self.runs = 0

    def _wake(self) -> None:
        pass  # the loop waits on the stop event itself

    def _run(self) -> None:
        while not self._stopping.wait(self.period_seconds):
            if not self._hold():
                break
            self._busy = True
            try:
                invocation = self._invoke(
                    self.schedule.function, scheduled_event(self.rule_arn, self.region, self.account_id)
                )
                if not getattr(invocation, "ok", True):
                    logs.log(
                        "schedule",
                        "run failed; the next tick runs again",
                        level="WARNING",
                        schedule=self.schedule.name,
                        error=invocation.error,
                    )
            except Exception as error:  # a dying container: the next tick tries again
                logs.log(
                    "schedule",
                    "run failed; the next tick runs again",
                    level="WARNING",
                    schedule=self.schedule.name,
                    error=str(error),
                )
            finally:
                self._busy = False
                self.runs += 1
