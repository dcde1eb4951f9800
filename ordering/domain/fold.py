"""One generic fold for every aggregate: replay events through the aggregate's evolve."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import reduce
from typing import TypeVar

from ordering.domain.recorded import Recorded

State = TypeVar("State")


def fold(
    evolve: Callable[[State | None, Recorded], State | None],
    events: Iterable[Recorded],
    state: State | None = None,
) -> State | None:
    """The state after `events`, starting from `state` (None: the aggregate does not exist yet)."""
    return reduce(evolve, events, state)
