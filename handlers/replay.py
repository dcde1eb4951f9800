"""Rebuild the read model from the event log: a one-off function, invoked by hand.

  {}                                                  the whole replay here (default 4 segments)
  {"action": "run", "segments": 8, "dry_run": true}   same, with options; a dry run swaps nothing
  {"allow_parked": true}                              swap even with events it could not project
"run" loads its segments in threads of this one invocation (Lambda has no /dev/shm, so no
worker processes; threads add no speed). To scale, one invocation per step, so that each
segment has its own 15 minutes and its own worker (see docs/replay.md):
  {"action": "prepare"}                                 -> {"replay_id": ...}
  {"action": "segment", "replay_id": ..., "segment": 3, "segments": 16}   (16 invocations, in parallel)
  {"action": "finish", "replay_id": ..., "segments": 16, "dry_run": false}
  {"action": "discard", "replay_id": ...}               give up: drop the rebuilt model

It reads the log and writes the read model, nothing else: no queue, bus or e-mail is touched.
"""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from ordering import bootstrap
from ordering.ports.read_model import REPLAY_ID
from ordering.services import replay as replaying

logger = Logger()


class ReplayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Literal["run", "prepare", "segment", "finish", "discard"] = "run"
    replay_id: str | None = Field(default=None, pattern=REPLAY_ID.pattern)
    segments: int = Field(default=4, ge=1, le=1000)
    segment: int | None = Field(default=None, ge=0)
    dry_run: bool = False
    allow_parked: bool = False  # swap even if some events could not be projected (they are parked)

    def require_id(self) -> str:
        if self.replay_id is None:
            raise ValueError(f'"{self.action}" needs the replay_id that "prepare" returned')
        return self.replay_id


class _LogProgress(replaying.ReplayProgress):
    def phase(self, name: str) -> None:
        logger.info("replay phase", extra={"phase": name})


def replay_request(request: ReplayRequest) -> dict[str, Any]:
    store, rebuilds = bootstrap.event_store(), bootstrap.rebuilds()
    match request.action:
        case "run":
            report = replaying.replay(
                store,
                rebuilds,
                segments=request.segments,
                dry_run=request.dry_run,
                allow_parked=request.allow_parked,
                replay_id=request.replay_id,
                progress=_LogProgress(),
            )
            return report.to_json()
        case "prepare":
            replay_id = request.replay_id or replaying.new_replay_id()
            replaying.prepare(rebuilds, replay_id)
            return {"replay_id": replay_id}
        case "segment":
            if request.segment is None or request.segment >= request.segments:
                raise ValueError(f'"segment" needs a segment from 0 to {request.segments - 1}')
            loaded = replaying.load_segment(
                store, rebuilds, request.require_id(), request.segment, request.segments
            )
            return {"replay_id": request.replay_id, "segment": loaded.segment, "events": loaded.events}
        case "finish":
            report = replaying.finish(
                store,
                rebuilds,
                request.require_id(),
                request.segments,
                dry_run=request.dry_run,
                allow_parked=request.allow_parked,
                progress=_LogProgress(),
            )
            return report.to_json()
        case "discard":
            rebuilds.discard(request.require_id())
            return {"replay_id": request.replay_id, "discarded": True}
    raise AssertionError(request.action)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = ReplayRequest.model_validate(event or {})
    logger.info("replay requested", extra=request.model_dump())
    result = replay_request(request)
    logger.info("replay step done", extra={"result": result})
    return result
