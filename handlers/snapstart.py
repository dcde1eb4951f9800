"""SnapStart on the API functions: work done before the snapshot, and renewed after each restore.

Lambda initialises a published version once, snapshots its memory, and starts every new
sandbox of that version from the snapshot. Whatever was built at init is then shared by every
restored sandbox, so what must be unique is renewed after restore (`renew`, registered with
the runtime's hooks): the seed of `random` (botocore's retry jitter draws from it: restored
sandboxes would otherwise back off in step) and the Postgres connection, if init opened one.
Ids (`uuid4`) come from `os.urandom` and differ anyway. Credentials: under SnapStart Lambda
serves them from its container credentials endpoint, which botocore refreshes by itself, so
the clients built at init stay valid.

A handler module calls `prepare(...)` with what it needs on every request: built at init when
Lambda is taking a snapshot (paid once per version), lazily on first use otherwise.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from snapshot_restore_py import register_after_restore

from ordering import bootstrap


def prepare(*builders: Callable[[], Any]) -> None:
    """Build these now if this init will be snapshotted; otherwise leave them to first use."""
    if bootstrap.settings().taking_snapshot:
        for build in builders:
            build()


@register_after_restore
def renew() -> None:
    """What no two restored sandboxes may share."""
    random.seed()  # from os.urandom
    bootstrap.after_restore()
