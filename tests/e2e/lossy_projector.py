"""The real projector, except that the records of the event types in $LOSE_TYPES never reach
it: what the read model sees when those records' batches ended on the on-failure queue and
nobody redrove them. Only the transport is stood in for; the projection is the real one."""

from __future__ import annotations

import os
from typing import Any

from streams import projector


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    lost = set(os.environ["LOSE_TYPES"].split(","))
    kept = [
        record
        for record in event["Records"]
        if record["dynamodb"].get("NewImage", {}).get("type", {}).get("S") not in lost
    ]
    if not kept:
        return {"batchItemFailures": []}
    return projector.handler({**event, "Records": kept}, context)
