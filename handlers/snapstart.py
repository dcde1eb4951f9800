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
Lambda is taking a snapshot (paid once per version), lazily on first use otherwise. The
generated models are built then too: they defer building their validators to first use
(`defer_build`, a cheaper cold start without SnapStart), which would otherwise be the first
request's cost in every restored sandbox.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from snapshot_restore_py import register_after_restore

from ordering import bootstrap

if TYPE_CHECKING:
    from pydantic import BaseModel


def prepare(*builders: Callable[[], Any]) -> None:
    """Build these, and every generated model, now if this init will be snapshotted; otherwise
    leave them to first use."""
    if bootstrap.settings().taking_snapshot:
        for build in builders:
            build()
        build_models()


def build_models() -> None:
    """Every generated model's validator and serializer, built now rather than on first use."""
    for model in generated_models():
        model.model_rebuild()


def generated_models() -> list[type[BaseModel]]:
    """The model classes generated/models.py defines (not those it imports)."""
    from pydantic import BaseModel

    from generated import models

    return [
        value
        for value in vars(models).values()
        if isinstance(value, type) and issubclass(value, BaseModel) and value.__module__ == models.__name__
    ]


@register_after_restore
def renew() -> None:
    """What no two restored sandboxes may share."""
    random.seed()  # from os.urandom
    bootstrap.after_restore()
