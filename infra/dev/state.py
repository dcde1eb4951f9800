"""The state file: where a running `orders dev` listens, for the other `orders` commands.

`orders dev` writes it once everything is ready and removes it on the way out; `orders
token`, `seed`, `dlq` (and tests) read it. Its presence with a live pid means "ready".
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from infra.dev.watchdog import alive
from infra.emulator.resources import Resources

DEFAULT_PATH = Path(".orders") / "dev.json"


class NotRunning(RuntimeError):
    pass


@dataclass(frozen=True)
class DevState:
    pid: int
    api_url: str  # with the stage: http://127.0.0.1:8000/v1
    control_url: str  # the local Lambda invoke API and the runtime's status
    moto_url: str
    database_url: str
    resources: Resources

    @property
    def console_url(self) -> str:
        """The web console, on the API's port (infra/dev/console.py)."""
        return self.api_url.rsplit("/", 1)[0] + "/_console/"

    @property
    def docs_url(self) -> str:
        return self.api_url.rsplit("/", 1)[0] + "/_docs/"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["resources"] = self.resources.to_json()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DevState:
        return cls(**{**data, "resources": Resources.from_json(data["resources"])})


def write(path: Path, state: DevState) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_suffix(path.suffix + ".tmp")
    scratch.write_text(json.dumps(state.to_json(), indent=2), encoding="utf-8")
    os.replace(scratch, path)  # readers never see half a file


def read(path: Path) -> DevState:
    try:
        state = DevState.from_json(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise NotRunning(f"no {path}: start the system first with `orders dev`") from None
    if not alive(state.pid):
        raise NotRunning(f"{path} names pid {state.pid}, which is not running: start `orders dev` again")
    return state


def remove(path: Path, pid: int) -> None:
    """Remove the file if it is still ours (another `orders dev` may have replaced it)."""
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == pid:
            path.unlink()
    except (FileNotFoundError, ValueError):
        pass
