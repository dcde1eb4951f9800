"""While `orders dev --data-dir` runs: note when the pipeline has finished with the journal so far,
fold a long journal into a new snapshot, and save the Cognito users when they change.

The first keeps a restart from re-driving events that were handled long ago; the second keeps
a restart's replay of the journal short; the third keeps a kill from losing a sign-up.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from infra.dev import persistence
from infra.emulator import logs
from infra.emulator.background import Background

INTERVAL_SECONDS = 1.0
SNAPSHOT_AFTER_LINES = 20_000  # a snapshot rewrites the whole table: not for every few writes


class Journal(Protocol):
    """The journal of moto's process (moto_process.py), or one in this process (journal.py)."""

    @property
    def last(self) -> int: ...

    def seal(self, sealed: Path) -> int: ...


class Checkpointer(Background):
    def __init__(
        self,
        data_dir: Path,
        journal: Journal,
        *,
        settled_up_to: Callable[[], int | None],
        users: Callable[[], list[dict[str, Any]]],
        snapshot_after: int = SNAPSHOT_AFTER_LINES,
    ) -> None:
        self.data_dir = data_dir
        self.journal = journal
        self._settled_up_to = settled_up_to
        self._users_now = users
        self.snapshot_after = snapshot_after
        self.settled = 0
        self._folded_up_to = 0  # the journal's last line in the last snapshot
        self._users_saved = json.dumps(persistence.load_users(data_dir), sort_keys=True)
        super().__init__(name="checkpoint")

    def _run(self) -> None:
        while not self._stopping.wait(INTERVAL_SECONDS):
            try:
                self.look()
            except Exception as error:  # the next look tries again; the journal is on disk anyway
                logs.log("runtime", "checkpoint failed", level="WARNING", error=repr(error))

    def look(self) -> None:
        if self.journal.last > self.settled:
            point = self._settled_up_to()
            if point is not None:
                persistence.mark_settled(self.data_dir, point)
                self.settled = point
        if self.journal.last - self._folded_up_to >= self.snapshot_after:
            self.snapshot()
        users = self._users_now()
        saved = json.dumps(users, sort_keys=True)
        if saved != self._users_saved:
            persistence.save_users(users, self.data_dir)
            self._users_saved = saved

    def snapshot(self) -> None:
        """Seal the journal so far (holding the write lock only for a rename) and fold it in."""
        sealed = self.data_dir / persistence.SEALED_FILE
        self._folded_up_to = self.journal.seal(sealed)
        folded = persistence.fold(self.data_dir, journals=(persistence.SEALED_FILE,))
        persistence.snapshot(self.data_dir, folded, journals=(persistence.SEALED_FILE,))
        logs.log("runtime", "snapshot written", items=len(folded.items), journal_lines=self._folded_up_to)
